// state.cuh: the state of every neuron as a model's update sees it (the
// twin of neuron.State in engine/neuron/model.go). Models use v, a, b and c
// as their state names say; ref holds the remaining refractory steps.
#ifndef MYELIN_STATE_CUH
#define MYELIN_STATE_CUH

// MyelinState points into the network's state arrays, indexed by global id.
struct MyelinState {
    float *v, *a, *b, *c;
    int *ref;
};

#endif // MYELIN_STATE_CUH
