// models.cuh: the one list of Myelin's neuron models on the device. The
// list drives the model codes, the parameter union of PopDesc
// (network.cuh), the size checks and the dispatch of myelin_update and
// myelin_rate_update; the Go side registers the same codes from each
// model's file (engine/neuron, neuron.Model.Code). Adding a model adds its
// #include and its entry here, nothing else on this side.
#ifndef MYELIN_MODELS_CUH
#define MYELIN_MODELS_CUH

#include "iaf_psc_delta.cuh"
#include "iaf_psc_exp.cuh"
#include "iaf_cond_exp.cuh"
#include "aeif_cond_exp.cuh"
#include "izhikevich.cuh"
#include "rate.cuh"

// MYELIN_SPIKING_MODELS(X) applies X(code, Type, channels, slow) to every
// spiking model: code is neuron.Model.Code, Type the coefficient struct
// (with Type_Update in its header), channels neuron.Model.Channels (1: the
// excitatory and inhibitory input arrive summed), slow 1 for a model with a
// slow excitatory port (neuron.Model.HasSlowPort), whose Type_Update takes
// the port's input after the inhibitory one.
#define MYELIN_SPIKING_MODELS(X) \
    X(1, IafPscDelta, 1, 0)      \
    X(2, IafPscExp, 2, 1)        \
    X(3, IafCondExp, 2, 1)       \
    X(5, AeifCondExp, 2, 0)      \
    X(6, Izhikevich, 1, 0)

// MYELIN_RATE_MODELS(X) applies X(code, Type) to every rate model (with
// Type_Step in its header).
#define MYELIN_RATE_MODELS(X) \
    X(4, Rate)

// MYELIN_MODEL_WORDS is the size of PopDesc's parameter union in 4-byte
// words (launch.ModelWords on the Go side); every model's struct must fit.
#define MYELIN_MODEL_WORDS 32

#define MYELIN_MODEL_FITS(code, T, ...) \
    static_assert(sizeof(T) <= 4 * MYELIN_MODEL_WORDS, #T " does not fit PopDesc's parameter union");
MYELIN_SPIKING_MODELS(MYELIN_MODEL_FITS)
MYELIN_RATE_MODELS(MYELIN_MODEL_FITS)
#undef MYELIN_MODEL_FITS

#endif // MYELIN_MODELS_CUH
