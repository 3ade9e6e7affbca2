"""Vogels-Abbott balanced network: benchmarks 1 (COBA) and 2 (CUBA) of
Brette et al. (2007), J Comput Neurosci 23:349-398, with the parameters that
PyNN's examples/VAbenchmarks.py uses (4,000 cells, 80 % excitatory,
connection probability 0.02, delay 0.2 ms; COBA kick-started by 20 Poisson
sources at 100 Hz for 50 ms).

    python3 va_benchmark.py CUBA|COBA [--duration MS]

Written for pynn_myelin; it is plain PyNN 0.10: change the import line to
run it on another backend (e.g. `import pyNN.brian2 as sim`).
"""

import argparse
import time

import pynn_myelin as sim
from pyNN.random import NumpyRNG, RandomDistribution

parser = argparse.ArgumentParser()
parser.add_argument("benchmark", choices=["CUBA", "COBA"])
parser.add_argument("--duration", type=float, default=1000.0)
args = parser.parse_args()

n, n_exc = 4000, 3200
p_conn, delay, dt = 0.02, 0.2, 0.1
area = 20000e-8                        # cm²
cm = 1.0 * area * 1000                 # µF/cm² -> nF (0.2 nF)
tau_m = 20.0
v_rest = -60.0 if args.benchmark == "COBA" else -49.0
params = dict(tau_m=tau_m, cm=cm, v_rest=v_rest, v_reset=-60.0, v_thresh=-50.0,
              tau_refrac=5.0, tau_syn_E=5.0, tau_syn_I=10.0)
if args.benchmark == "COBA":
    celltype = sim.IF_cond_exp
    params.update(e_rev_E=0.0, e_rev_I=-80.0)
    w_exc, w_inh = 4e-3, 51e-3         # µS
else:
    celltype = sim.IF_curr_exp
    v_mean = -60.0
    w_exc = 1e-3 * 0.27 * (0.0 - v_mean)    # nA
    w_inh = 1e-3 * 4.5 * (-80.0 - v_mean)   # nA (negative: inhibitory current)

t0 = time.perf_counter()
sim.setup(timestep=dt, min_delay=delay, max_delay=1.0)
exc = sim.Population(n_exc, celltype(**params), label="exc")
inh = sim.Population(n - n_exc, celltype(**params), label="inh")
rng = NumpyRNG(seed=98765)
for pop in (exc, inh):
    pop.initialize(v=RandomDistribution("uniform", low=-60.0, high=-50.0, rng=rng))
conn = sim.FixedProbabilityConnector(p_conn, rng=rng)
exc_syn = sim.StaticSynapse(weight=w_exc, delay=delay)
inh_syn = sim.StaticSynapse(weight=w_inh, delay=delay)
prj = {}
for name, pre, post, syn, rec in (("e2e", exc, exc, exc_syn, "excitatory"), ("e2i", exc, inh, exc_syn, "excitatory"),
                                  ("i2e", inh, exc, inh_syn, "inhibitory"), ("i2i", inh, inh, inh_syn, "inhibitory")):
    prj[name] = sim.Projection(pre, post, conn, syn, receptor_type=rec)
if args.benchmark == "COBA":
    kick = sim.Population(20, sim.SpikeSourcePoisson(rate=100.0, duration=50.0), label="kick")
    for post in (exc, inh):
        sim.Projection(kick, post, sim.FixedProbabilityConnector(0.01), sim.StaticSynapse(weight=0.1),
                       receptor_type="excitatory")
exc.record("spikes")
inh.record("spikes")
exc[0:2].record("v")
t1 = time.perf_counter()
sim.run(args.duration)
t2 = time.perf_counter()

e_rate = exc.mean_spike_count() * 1000.0 / args.duration
i_rate = inh.mean_spike_count() * 1000.0 / args.duration
print("benchmark %s: %d cells, synapses e2e %d e2i %d i2e %d i2i %d" % (
    args.benchmark, n, prj["e2e"].size(), prj["e2i"].size(), prj["i2e"].size(), prj["i2i"].size()))
print("excitatory rate %.2f Hz, inhibitory rate %.2f Hz" % (e_rate, i_rate))
print("describe %.2f s, build+run %.2f s (wall, through the PyNN API)" % (t1 - t0, t2 - t1))
sim.end()
