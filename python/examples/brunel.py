"""Brunel (2000) model A, asynchronous irregular regime (g = 5, eta = 2):
N_E = 0.8 N and N_I = 0.2 N leaky integrate-and-fire neurons with delta
synapses (IF_curr_delta, J = 0.1 mV), fixed in-degree C_E = 0.1 N_E and
C_I = 0.1 N_I, delay 1.5 ms, and an independent Poisson train per neuron at
C_E · eta · nu_thr with weight J. Brunel N (2000) J Comput Neurosci
8:183-208.

    python3 brunel.py [--n 12500] [--duration 1000] [--g 5] [--eta 2]

Plain PyNN 0.10: change the import line to run it on another backend.
Prints the rates, and the wall time of describing the network through the
PyNN API, of its first run (build + load + simulate) and of the runs.
"""

import argparse
import time

import pynn_myelin as sim
from pyNN.random import RandomDistribution

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=12500)
ap.add_argument("--duration", type=float, default=1000.0)
ap.add_argument("--g", type=float, default=5.0)
ap.add_argument("--eta", type=float, default=2.0)
ap.add_argument("--threads", type=int, default=0)
args = ap.parse_args()

n_e = args.n * 4 // 5
n_i = args.n - n_e
c_e, c_i = max(1, n_e // 10), max(1, n_i // 10)
J, tau_m, theta, delay, dt = 0.1, 20.0, 20.0, 1.5, 0.1
nu_thr = theta / (J * c_e * tau_m)            # spikes/ms per synapse
p_rate = 1000.0 * c_e * args.eta * nu_thr     # Hz per neuron

t0 = time.perf_counter()
sim.setup(timestep=dt, min_delay=0.1, max_delay=delay, threads=args.threads)
params = dict(tau_m=tau_m, cm=1.0, v_rest=0.0, v_reset=10.0, v_thresh=theta, tau_refrac=2.0, i_offset=0.0)
E = sim.Population(n_e, sim.IF_curr_delta(**params), label="E")
I = sim.Population(n_i, sim.IF_curr_delta(**params), label="I")
for pop in (E, I):
    pop.initialize(v=RandomDistribution("uniform", low=0.0, high=theta))
exc = sim.StaticSynapse(weight=J, delay=delay)
inh = sim.StaticSynapse(weight=-args.g * J, delay=delay)
for post in (E, I):
    sim.Projection(E, post, sim.FixedNumberPreConnector(c_e, with_replacement=False), exc,
                   receptor_type="excitatory")
    sim.Projection(I, post, sim.FixedNumberPreConnector(c_i, with_replacement=False), inh,
                   receptor_type="inhibitory")
    drive = sim.Population(post.size, sim.SpikeSourcePoisson(rate=p_rate), label="drive_" + post.label)
    sim.Projection(drive, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=J, delay=dt),
                   receptor_type="excitatory")
E.record("spikes")
I.record("spikes")
t1 = time.perf_counter()
sim.run(0.0)          # builds and loads the network
t2 = time.perf_counter()
sim.run(args.duration)
t3 = time.perf_counter()

rate_e = E.mean_spike_count() * 1000.0 / args.duration
rate_i = I.mean_spike_count() * 1000.0 / args.duration
print("Brunel A, N = %d (C_E = %d, C_I = %d), g = %g, eta = %g, %g ms" % (args.n, c_e, c_i, args.g, args.eta, args.duration))
print("excitatory rate %.2f Hz, inhibitory rate %.2f Hz" % (rate_e, rate_i))
print("describe %.3f s, build+load %.3f s, simulate %.3f s (wall)" % (t1 - t0, t2 - t1, t3 - t2))
sim.end()
