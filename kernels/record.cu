// record.cu: state samples (cpu.Backend.record in engine/cpu/cpu.go).
#include "network.cuh"

// myelin_record(net, s, -): after step t, for every probe with
// t % every == 0, write its neurons' state into sample row s: V + E_L for
// spiking neurons (iaf_cond_exp keeps absolute V, with E_L = 0), the rate
// of step t+1 for rate neurons. One thread per sample column.
extern "C" __global__ void myelin_record(const MyelinNet *__restrict__ net, unsigned s, unsigned unused)
{
    unsigned long long w = myelin_gid();
    if (w >= net->sample_width) {
        return;
    }
    const ProbeDesc *pr = net->probes;
    for (unsigned k = 0; k < net->n_probes; k++) {
        if (w >= net->probes[k].out && w < net->probes[k].out + net->probes[k].count) {
            pr = &net->probes[k];
            break;
        }
    }
    unsigned long long t = *net->step + s;
    if (t % pr->every != 0) {
        return;
    }
    unsigned g = pr->first + (unsigned)(w - pr->out);
    float x;
    if (pr->spiking) {
        x = net->v[g] + pr->el;
    } else {
        x = net->rhist[((t + 1) % net->rate_slots) * (unsigned long long)net->n + g];
    }
    net->samples[(unsigned long long)s * net->sample_width + w] = x;
}
