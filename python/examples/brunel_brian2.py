"""Brunel (2000) model A (g = 5, eta = 2), written directly in Brian2 (no
PyNN), as a reference for pynn_myelin's examples/brunel.py: fixed in-degree
C_E = 0.1 N_E, C_I = 0.1 N_I without multapses, delay 1.5 ms, input during
the refractory period discarded (as NEST's iaf_psc_delta), Poisson drive
C_E·eta·nu_thr per neuron with weight J. Needs Brian2 (Debian's
python3-brian); not part of the tests.

    python3 brunel_brian2.py [N] [SEED]
"""
import sys
import time
import numpy as np
from brian2 import (NeuronGroup, Synapses, PoissonInput, SpikeMonitor, run, defaultclock, prefs, seed,
                    mV, ms, second)

prefs.codegen.target = "cython"
N = int(sys.argv[1]) if len(sys.argv) > 1 else 12500
NE, NI = N * 4 // 5, N - N * 4 // 5
CE, CI = NE // 10, NI // 10
J, g, eta = 0.1 * mV, 5.0, 2.0
tau, theta, Vr, tref = 20 * ms, 20 * mV, 10 * mV, 2 * ms
nu_thr = theta / (J * CE * tau)
defaultclock.dt = 0.1 * ms
seed(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
t0 = time.time()
P = NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)", threshold="v >= theta",
                reset="v = Vr", refractory=tref, method="exact")
P.v = "rand() * theta"


def fixed_in(n_pre, k):
    pre = np.concatenate([rng.choice(n_pre, k, replace=False) for _ in range(N)])
    return pre, np.repeat(np.arange(N), k)


SE = Synapses(P[:NE], P, on_pre="v_post += J * int(not_refractory_post)", delay=1.5 * ms)
SE.connect(i=fixed_in(NE, CE)[0], j=np.repeat(np.arange(N), CE))
SI = Synapses(P[NE:], P, on_pre="v_post += -g * J * int(not_refractory_post)", delay=1.5 * ms)
SI.connect(i=fixed_in(NI, CI)[0], j=np.repeat(np.arange(N), CI))
drive = PoissonInput(P, "v", CE, eta * nu_thr, weight="J * int(not_refractory)")
M = SpikeMonitor(P)
t1 = time.time()
run(1 * second)
t2 = time.time()
counts = np.bincount(np.asarray(M.i), minlength=N)
print("Brian2 native Brunel A, N = %d: E %.2f Hz, I %.2f Hz (build %.0f s, run %.0f s)"
      % (N, counts[:NE].mean(), counts[NE:].mean(), t1 - t0, t2 - t1))
