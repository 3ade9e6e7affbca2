"""A simple network with current injection: three integrate-and-fire cells
(current-based exponential, conductance-based exponential, delta synapses)
driven by a DC pulse and a step current, one of them projecting onto a
fourth cell. Prints spike counts, the analytic count for the DC-driven
current-based cell, and the membrane potential at a few times.

    python3 current_injection.py

Plain PyNN 0.10: change the import line to run it on another backend.
"""

import math

import numpy as np

import pynn_myelin as sim

sim.setup(timestep=0.1, min_delay=0.1)
cells = sim.Population(1, sim.IF_curr_exp(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0,
                                          v_thresh=-55.0, tau_refrac=2.0), label="curr_exp")
cond = sim.Population(1, sim.IF_cond_exp(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0,
                                         v_thresh=-55.0, tau_refrac=2.0), label="cond_exp")
delta = sim.Population(1, sim.IF_curr_delta(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0,
                                            v_thresh=-55.0, tau_refrac=2.0), label="curr_delta")
target = sim.Population(1, sim.IF_curr_exp(tau_m=10.0, v_rest=-65.0), label="target")
for p in (cells, cond, delta, target):
    p.initialize(v=-65.0)

pulse = sim.DCSource(amplitude=0.5, start=50.0, stop=250.0)        # nA
steps = sim.StepCurrentSource(times=[50.0, 150.0, 250.0], amplitudes=[0.3, 0.6, 0.0])
cells.inject(pulse)
cond.inject(pulse)
delta.inject(steps)
sim.Projection(cells, target, sim.OneToOneConnector(), sim.StaticSynapse(weight=6.0, delay=1.0))

for p in (cells, cond, delta, target):
    p.record(["spikes", "v"])
sim.run(150.0)
sim.run(150.0)   # a second run continues the same simulation

# Analytic spike count of the current-based cell during the 200 ms pulse:
# first spike after tau ln(RI/(RI-dV)), then one every t_ref + that.
r_mohm, dv = 10.0 / 0.25, 10.0
t_isi = 10.0 * math.log(0.5 * r_mohm / (0.5 * r_mohm - dv))
expect = int((200.0 + 2.0) // (t_isi + 2.0))
for p in (cells, cond, delta, target):
    seg = p.get_data().segments[0]
    s = np.asarray(seg.spiketrains[0])
    v = seg.filter(name="v")[0]
    print("%-10s %3d spikes (first %s ms), v at 40/100/290 ms: %s mV" % (
        p.label, len(s), "%.1f" % s[0] if len(s) else "-",
        " ".join("%.2f" % float(v[int(t / 0.1), 0]) for t in (40, 100, 290))))
print("analytic count for curr_exp under the pulse: %d" % expect)
sim.end()
