"""Tests of pynn_myelin, the PyNN backend on `myelin serve`.

They need PyNN (Debian's python3-pynn) and a built myelin binary (bin/myelin
of this checkout, or $MYELIN_BIN); without them they are skipped.
"""

import math
import os
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

pytest.importorskip("pyNN")
pytest.importorskip("neo")

import pynn_myelin as sim  # noqa: E402
from pynn_myelin import build, client, units  # noqa: E402
from pyNN.random import RandomDistribution  # noqa: E402

try:
    client.find_binary()
    HAVE_BINARY = True
except RuntimeError:
    HAVE_BINARY = False

needs_engine = pytest.mark.skipif(not HAVE_BINARY, reason="no myelin binary (make build)")


@pytest.fixture
def fresh():
    sim.setup(timestep=0.1, min_delay=0.1)
    yield sim
    sim.end()


def spikes_of(pop, segment=-1):
    return [np.asarray(st.magnitude) for st in pop.get_data("spikes").segments[segment].spiketrains]


# ---- unit conversion (no engine needed) ----

def test_unit_constants():
    assert units.CAPACITANCE == 1000.0 and units.CURRENT == 1000.0 and units.CONDUCTANCE == 1000.0
    assert units.g_leak(0.2, 20.0) == pytest.approx(10.0)  # 0.2 nF / 20 ms = 10 nS
    assert units.tau_m(200.0, 10.0) == pytest.approx(20.0)
    assert units.weight_scale("iaf_psc_exp") == 1000.0
    assert units.weight_scale("iaf_cond_exp") == 1000.0
    assert units.weight_scale("iaf_psc_delta") == 1.0
    with pytest.raises(NotImplementedError):
        units.weight_scale("hh")


def test_scale_distribution():
    assert units.scale_distribution("uniform", {"low": 1, "high": 2}, 1000) == {"low": 1000, "high": 2000}
    p = units.scale_distribution("normal_clipped", {"mu": 1, "sigma": 0.5, "low": 0, "high": 3}, 10)
    assert p == {"mu": 10, "sigma": 5, "low": 0, "high": 30}
    p = units.scale_distribution("lognormal", {"mu": 0.0, "sigma": 1.0}, math.e)
    assert p["mu"] == pytest.approx(1.0) and p["sigma"] == 1.0


def test_spec_in_engine_units(fresh):
    exp = sim.Population(3, sim.IF_curr_exp(cm=0.25, tau_m=15.0, i_offset=0.1, v_rest=-65.0,
                                            tau_syn_E=3.0, tau_refrac=2.5), label="exp")
    cond = sim.Population(2, sim.IF_cond_exp(cm=0.2, tau_m=20.0, e_rev_I=-75.0), label="cond")
    delta = sim.Population(2, sim.IF_curr_delta(), label="delta")
    sim.Projection(exp, exp, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
    sim.Projection(exp, cond, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.004, delay=1.0),
                   receptor_type="inhibitory")
    sim.Projection(exp, delta, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=RandomDistribution("uniform", low=0.1, high=0.2), delay=2.0))
    lay = build.Layout(sim.simulator.state)
    pe = lay.network.populations[0].iaf_psc_exp
    assert (pe.c_m, pe.tau_m, pe.i_e, pe.e_l, pe.tau_syn_ex, pe.t_ref) == (250.0, 15.0, 100.0, -65.0, 3.0, 2.5)
    pc = lay.network.populations[1].iaf_cond_exp
    assert pc.c_m == pytest.approx(200.0) and pc.g_l == pytest.approx(10.0) and pc.e_in == -75.0
    assert lay.network.populations[2].HasField("iaf_psc_delta")
    w = [p.weight for p in lay.network.projections]
    assert w[0].constant == pytest.approx(500.0)  # 0.5 nA -> 500 pA
    assert w[1].constant == pytest.approx(4.0)  # 0.004 µS -> 4 nS
    assert lay.network.projections[1].receptor == build.pb.INHIBITORY
    assert (w[2].uniform.low, w[2].uniform.high) == (pytest.approx(0.1), pytest.approx(0.2))  # mV


def test_labels_the_engine_refuses_are_cleaned(fresh):
    a = sim.Population(2, sim.IF_curr_exp(), label="E,x@1\n")
    b = sim.Population(2, sim.IF_curr_exp(), label="  ")
    sim.Population(2, sim.IF_curr_exp(), label="E_x_1_")
    sim.Projection(a, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.0))
    names = [p.name for p in build.Layout(sim.simulator.state).network.populations]
    assert names == ["E_x_1_", "population", "E_x_1_#2"]
    sim.run(1.0)  # the engine accepts them


def test_run_needs_a_finite_time(fresh):
    sim.Population(2, sim.IF_curr_exp())
    for t in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number of ms"):
            sim.run(t)
    sim.run(1.0)
    assert sim.get_current_time() == pytest.approx(1.0)


def test_slow_receptor_in_engine_units(fresh):
    exp = sim.Population(2, sim.IF_curr_exp(tau_syn_slow=80.0), label="exp")
    cond = sim.Population(2, sim.IF_cond_exp(tau_syn_slow=60.0, e_rev_slow=-5.0), label="cond")
    src = sim.Population(2, sim.SpikeSourcePoisson(rate=20.0), label="src")
    sim.Projection(exp, cond, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.002, delay=1.0),
                   receptor_type="slow_excitatory")
    sim.Projection(exp, exp, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.0),
                   receptor_type="slow_excitatory")
    sim.Projection(src, exp, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.2, delay=0.1),
                   receptor_type="slow_excitatory")
    with pytest.raises(Exception):
        sim.Projection(exp, sim.Population(1, sim.IF_curr_delta()), sim.AllToAllConnector(),
                       receptor_type="slow_excitatory")
    lay = build.Layout(sim.simulator.state)
    pe, pc = lay.network.populations[0].iaf_psc_exp, lay.network.populations[1].iaf_cond_exp
    assert pe.tau_syn_slow == 80.0 and (pc.tau_syn_slow, pc.e_slow) == (60.0, -5.0)
    assert [p.receptor for p in lay.network.projections] == [build.pb.SLOW_EXCITATORY] * 2
    assert lay.network.projections[0].weight.constant == pytest.approx(2.0)  # 0.002 µS -> 2 nS
    assert [i.poisson.receptor for i in lay.network.inputs if i.target == "exp"] == [build.pb.SLOW_EXCITATORY]


# ---- running ----

def lif_rate(i_na, cm_nf, tau_m, v_th_rel, t_ref):
    """Firing rate (Hz) of a LIF neuron under constant current, reset to rest."""
    r_mohm = tau_m / cm_nf  # ms / nF = MΩ
    vinf = i_na * r_mohm  # mV
    if vinf <= v_th_rel:
        return 0.0
    return 1000.0 / (t_ref + tau_m * math.log(vinf / (vinf - v_th_rel)))


@needs_engine
def test_current_injection_rate(fresh):
    p = sim.Population(1, sim.IF_curr_exp(cm=0.25, tau_m=10.0, v_rest=-65.0, v_reset=-65.0,
                                          v_thresh=-50.0, tau_refrac=2.0), label="cell")
    p.initialize(v=-65.0)
    sim.DCSource(amplitude=2.0, start=0.0, stop=1e12).inject_into(p)
    p.record(["spikes", "v"])
    sim.run(500.0)
    n = len(spikes_of(p)[0])
    want = lif_rate(2.0, 0.25, 10.0, 15.0, 2.0) * 0.5
    assert abs(n - want) <= 2, (n, want)
    v = p.get_data("v").segments[0].filter(name="v")[0]
    assert v.shape == (5001, 1)  # t = 0, 0.1, ..., 500 ms
    assert float(v.max()) < -50.0 + 1e-3 and float(v.min()) >= -65.0 - 1e-3


@needs_engine
def test_adaptive_and_izhikevich_cells(fresh):
    # Izhikevich (NEST's d = 8) with I_e = 10 (pyNN.nest's i_offset 0.01 nA) fires tonically
    # at about 22 Hz (the exact equations give 22.0 Hz); the adaptive
    # exponential cell under 1 nA fires, and adapts: its later intervals
    # are longer than its first.
    iz = sim.Population(1, sim.Izhikevich(d=8.0, i_offset=0.01), label="iz")
    iz.initialize(v=-65.0, u=0.0)  # the engine starts u at 0, as NEST does
    ad = sim.Population(1, sim.EIF_cond_exp_isfa_ista(i_offset=1.0), label="ad")
    iz.record("spikes")
    ad.record("spikes")
    sim.run(1000.0)
    n = len(spikes_of(iz)[0])
    assert 18 <= n <= 26, n
    t = np.asarray(spikes_of(ad)[0])
    assert len(t) >= 5, t
    isi = np.diff(t)
    assert isi[-1] > isi[0], isi


@needs_engine
def test_spike_source_array_and_delay(fresh):
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 30.0]), label="src")
    tgt = sim.Population(1, sim.IF_curr_delta(v_thresh=-50.0, v_rest=-65.0, v_reset=-65.0, tau_refrac=1.0),
                         label="tgt")
    tgt.initialize(v=-65.0)
    sim.Projection(src, tgt, sim.OneToOneConnector(), sim.StaticSynapse(weight=20.0, delay=1.5))
    src.record("spikes")
    tgt.record("spikes")
    sim.run(50.0)
    assert np.allclose(spikes_of(src)[0], [10.0, 30.0])
    # Arrives 1.5 ms later and fires in that step (stamped at its end).
    assert np.allclose(spikes_of(tgt)[0], [11.6, 31.6])


def poisson_net(record_v=False):
    exc = sim.Population(80, sim.IF_curr_exp(tau_m=20.0, i_offset=0.0), label="exc")
    inh = sim.Population(20, sim.IF_curr_exp(tau_m=20.0), label="inh")
    exc.initialize(v=RandomDistribution("uniform", low=-65.0, high=-52.0))
    drive_e = sim.Population(80, sim.SpikeSourcePoisson(rate=9000.0), label="drive_e")
    drive_i = sim.Population(20, sim.SpikeSourcePoisson(rate=9000.0), label="drive_i")
    sim.Projection(drive_e, exc, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.03, delay=0.1))
    sim.Projection(drive_i, inh, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.03, delay=0.1))
    sim.Projection(exc, inh, sim.FixedProbabilityConnector(0.2), sim.StaticSynapse(weight=0.1, delay=1.0))
    sim.Projection(inh, exc, sim.FixedNumberPreConnector(4), sim.StaticSynapse(weight=-0.2, delay=1.5),
                   receptor_type="inhibitory")
    sim.Projection(exc, exc, sim.FixedProbabilityConnector(0.1), sim.StaticSynapse(weight=0.05, delay=2.0))
    exc.record("spikes")
    inh.record("spikes")
    if record_v:
        exc[2:5].record("v")
    return exc, inh


@needs_engine
def test_slow_receptor_psp(fresh):
    # One spike through each receptor type: the slow port's PSP decays with
    # tau_syn_slow (80 ms), the fast one's with tau_syn_E (2 ms).
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]), label="src")
    cells = sim.Population(2, sim.IF_curr_exp(tau_m=10.0, tau_syn_E=2.0, tau_syn_slow=80.0, v_thresh=1000.0),
                           label="cells")
    sim.Projection(src, cells[0:1], sim.AllToAllConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    sim.Projection(src, cells[1:2], sim.AllToAllConnector(), sim.StaticSynapse(weight=0.2, delay=1.0),
                   receptor_type="slow_excitatory")
    cells.record("v")
    sim.run(200.0)
    v = np.asarray(cells.get_data("v").segments[0].filter(name="v")[0]) + 65.0
    dt = sim.get_time_step()
    late = int(round(100.0 / dt))
    fast, slow = v[:, 0], v[:, 1]
    assert fast.max() > 1.0 and slow.max() > 1.0
    assert abs(fast[late]) < 1e-3 * fast.max()
    # Past the membrane's decay the slow PSP falls as exp(-t/80 ms).
    ratio = slow[late + int(round(40.0 / dt))] / slow[late]
    assert ratio == pytest.approx(math.exp(-40.0 / 80.0), rel=1e-2)


@needs_engine
def test_multiple_runs_equal_one_run(fresh):
    exc, inh = poisson_net(record_v=True)
    sim.run(100.0)
    one = spikes_of(exc), spikes_of(inh)
    v_one = np.asarray(exc.get_data("v").segments[0].filter(name="v")[0])
    assert sum(len(s) for s in one[0]) > 50, "the test network should fire"
    sim.reset()
    for t in (10.0, 0.3, 39.7, 50.0):
        sim.run(t)
    assert sim.get_current_time() == pytest.approx(100.0)
    two = spikes_of(exc), spikes_of(inh)
    v_two = np.asarray(exc.get_data("v").segments[1].filter(name="v")[0])
    for a, b in zip(one[0] + one[1], two[0] + two[1]):
        assert np.array_equal(a, b)
    assert np.array_equal(v_one, v_two) and v_one.shape == (1001, 3)
    assert len(exc.get_data().segments) == 2


@needs_engine
def test_small_reply_bound_gives_the_same_run(fresh):
    """The engine bounds each reply's recorded data (max_reply_bytes) and
    stops a run that reaches the bound early; run() goes on until the time
    asked for, so that a run over many small replies gives the spikes and v
    of one reply (before: one reply held all, and a long run of a large
    network passed the 2 GiB that protobuf for Python decodes)."""
    results = []
    for bound in (client.MAX_REPLY_BYTES, 600):
        sim.setup(timestep=0.1, min_delay=0.1, max_reply_bytes=bound)
        exc, inh = poisson_net(record_v=True)
        sim.run(10.0)  # loads the network
        c = sim.simulator.state.client
        first = c._id
        sim.run(90.0)
        assert sim.get_current_time() == pytest.approx(100.0)
        v = np.asarray(exc.get_data("v").segments[0].filter(name="v")[0])
        results.append((spikes_of(exc) + spikes_of(inh), v, c._id - first))
    (one, v_one, n_one), (many, v_many, n_many) = results
    assert n_one == 1 and n_many >= 5, "commands per run(90): %d and %d" % (n_one, n_many)
    assert sum(len(s) for s in one) > 50, "the test network should fire"
    assert all(np.array_equal(a, b) for a, b in zip(one, many)) and len(one) == len(many) == 100
    assert v_one.shape == (1001, 3) and np.array_equal(v_one, v_many)
    for bad in (-1, client.MAX_REPLY_BYTES + 1):
        with pytest.raises(ValueError, match=r"setup\(max_reply_bytes="):
            sim.setup(max_reply_bytes=bad)


@needs_engine
def test_run_until_and_mean_spike_count(fresh):
    exc, inh = poisson_net()
    sim.run_until(40.0)
    sim.run_until(80.0)
    assert sim.get_current_time() == pytest.approx(80.0)
    counts = exc.get_spike_counts()
    assert sum(counts.values()) == sum(len(s) for s in spikes_of(exc))
    assert exc.mean_spike_count() == pytest.approx(sum(counts.values()) / 80.0)
    with pytest.raises(ValueError):
        sim.run_until(10.0)


@needs_engine
def test_parameter_change_between_runs(fresh):
    p = sim.Population(10, sim.IF_curr_exp(i_offset=0.0), label="p")
    p.record("spikes")
    sim.run(100.0)
    assert sum(len(s) for s in spikes_of(p)) == 0
    p.set(i_offset=2.0)  # nA: well above rheobase (0.75 nA for 15 mV over 20 MΩ)
    sim.run(100.0)
    trains = spikes_of(p)
    assert all(len(s) > 5 and s.min() > 100.0 for s in trains)
    # After reset the changed parameter applies from t = 0.
    sim.reset()
    sim.run(50.0)
    assert all(len(s) > 2 for s in spikes_of(p))


@needs_engine
def test_poisson_rate_and_dc_change(fresh):
    exc, inh = poisson_net()
    drive = [q for q in sim.simulator.state.populations if q.label == "drive_e"][0]
    sim.run(100.0)
    before = sum(len(s) for s in spikes_of(exc))
    drive.set(rate=0.0)
    sim.run(100.0)
    after = sum(((s > 110.0) & (s <= 200.0)).sum() for s in spikes_of(exc))
    assert before > 50 and after == 0, (before, after)
    # DC amplitude change during the run.
    sim.setup(timestep=0.1)
    p = sim.Population(1, sim.IF_curr_exp(), label="p")
    dc = sim.DCSource(amplitude=0.0)
    p.inject(dc)
    p.record("spikes")
    sim.run(50.0)
    dc.amplitude = 2.0
    sim.run(50.0)
    s = spikes_of(p)[0]
    assert len(s) > 3 and s.min() > 50.0


@needs_engine
def test_views_assembly_fromlist_distance(fresh, tmp_path):
    a = sim.Population(20, sim.IF_curr_exp(), label="a", structure=sim.Line(dx=1.0))
    b = sim.Population(10, sim.IF_cond_exp(), label="b")
    asm = a + b
    assert isinstance(asm, sim.Assembly) and asm.size == 30
    view = a[5:15]
    assert isinstance(view, sim.PopulationView) and view.size == 10
    conns = [(0, 1, 0.5, 1.0), (3, 2, 0.25, 2.0), (3, 4, 0.125, 0.5)]
    prj = sim.Projection(a, b, sim.FromListConnector(conns, column_names=["weight", "delay"]))
    assert len(prj) == 3
    got = sorted(prj.get(["weight", "delay"], format="list"))
    assert got == [(0, 1, 0.5, 1.0), (3, 2, 0.25, 2.0), (3, 4, 0.125, 0.5)]
    w = prj.get("weight", format="array")
    assert w.shape == (20, 10) and w[3, 2] == 0.25 and np.isnan(w[0, 0])
    dd = sim.Projection(a, a, sim.DistanceDependentProbabilityConnector("d < 2.5"),
                        sim.StaticSynapse(weight=0.1, delay=1.0))
    assert len(dd) == 20 + 2 * (19 + 18)  # |i - j| <= 2 on a line, self included
    sim.Projection(view, b, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.001, delay=1.0))
    asm.record("spikes")
    sim.DCSource(amplitude=1.0).inject_into(view)
    sim.run(30.0)
    data = asm.get_data()
    assert len(data.segments[0].spiketrains) == 30
    fired = [len(st) for st in a.get_data().segments[0].spiketrains]
    assert all(fired[i] > 0 for i in range(5, 15)) and fired[0] == 0
    out = tmp_path / "a.pkl"
    a.write_data(str(out))
    assert out.exists() and out.stat().st_size > 0


# ---- errors ----

def test_unsupported_models_raise():
    for make in (lambda: sim.IF_curr_alpha(),
                 lambda: sim.STDPMechanism(), lambda: sim.IF_cond_exp_gsfa_grr(), lambda: sim.HH_cond_exp()):
        with pytest.raises(NotImplementedError, match="pynn_myelin"):
            make()


@needs_engine
def test_unsupported_features_raise(fresh):
    p = sim.Population(4, sim.IF_curr_exp(tau_m=RandomDistribution("uniform", low=10.0, high=20.0)), label="p")
    with pytest.raises(NotImplementedError, match="tau_m"):
        sim.run(1.0)
    sim.setup()
    p = sim.Population(4, sim.IF_cond_exp(), label="p")
    with pytest.raises(NotImplementedError, match="gsyn_exc"):
        p.record("gsyn_exc")
    with pytest.raises(NotImplementedError, match="part of a population"):
        p[0:2].initialize(v=-60.0)
    sim.run(5.0)
    with pytest.raises(NotImplementedError, match="reset"):
        sim.Population(2, sim.IF_cond_exp())
    with pytest.raises(ValueError):
        sim.setup(backend="tpu")


@needs_engine
def test_engine_errors_name_the_field(fresh):
    p = sim.Population(2, sim.IF_curr_exp(tau_m=-5.0, i_offset=2.0), label="bad")
    p.record("spikes")
    with pytest.raises(sim.EngineError, match="tau_m"):
        sim.run(1.0)
    pid = sim.simulator.state.client.proc.pid
    # The engine survives: the corrected network runs in the same process.
    p.set(tau_m=20.0)
    sim.run(20.0)
    assert sim.simulator.state.client.proc.pid == pid
    assert sum(len(s) for s in spikes_of(p)) > 0


@needs_engine
def test_brunel_through_pynn_equals_cli(fresh, tmp_path):
    """Brunel A described through PyNN (in the built-in model's order, same
    seed) gives the spikes of `myelin run` of the built-in spec, spike for
    spike: the mapping of cells, units, connectors, Poisson sources and
    initial values is exact. The one-to-one Poisson sources reach their
    targets after the projection's delay (one step), so the CLI spec starts
    its Poisson inputs one step late."""
    import subprocess
    from google.protobuf import text_format
    import myelin_pb2
    import myelin_stream

    exe = client.find_binary()
    spec_text = subprocess.run([exe, "spec", "brunel", "--set", "n=1000,duration_ms=200"],
                               capture_output=True, text=True, check=True).stdout
    net = text_format.Parse(spec_text, myelin_pb2.Network())
    for inp in net.inputs:
        inp.poisson.start_ms = 0.1
    spec_file, out = tmp_path / "brunel.textproto", tmp_path / "brunel.myelin"
    spec_file.write_text(text_format.MessageToString(net))
    subprocess.run([exe, "run", str(spec_file), "--backend", "cpu", "-o", str(out), "-q"], check=True)
    ref = myelin_stream.read_stream(str(out))

    sim.setup(timestep=0.1, seed=net.seed)
    params = dict(tau_m=20.0, cm=0.001, v_rest=0.0, v_reset=10.0, v_thresh=20.0, tau_refrac=2.0, i_offset=0.0)
    E = sim.Population(800, sim.IF_curr_delta(**params), label="E")
    I = sim.Population(200, sim.IF_curr_delta(**params), label="I")
    for pop in (E, I):
        pop.initialize(v=RandomDistribution("uniform", low=0.0, high=20.0))
    for pre, k, w in ((E, 80, 0.1), (I, 20, -0.5)):
        for post in (E, I):
            sim.Projection(pre, post, sim.FixedNumberPreConnector(k), sim.StaticSynapse(weight=w, delay=1.5),
                           receptor_type="excitatory" if w > 0 else "inhibitory")
    for post in (E, I):
        src = sim.Population(post.size, sim.SpikeSourcePoisson(rate=20000.0))
        sim.Projection(src, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.1, delay=0.1))
    E.record("spikes")
    I.record("spikes")
    sim.run(120.0)
    sim.run(80.0)
    got = []
    for pop in (E, I):
        for st in pop.get_data("spikes").segments[0].spiketrains:
            gid = int(pop.first_id) + pop.id_to_index(int(st.annotations["channel_id"]))
            got.extend((gid, round(float(t), 1)) for t in st.magnitude)
    want = [(int(i), round((int(s) + 1) * 0.1, 1)) for s, i in zip(ref.spikes_steps, ref.spikes_ids)]
    assert len(want) > 1000
    assert sorted(got) == sorted(want)


@needs_engine
def test_step_current_and_recorded_poisson(fresh):
    p = sim.Population(1, sim.IF_curr_exp(tau_m=10.0, cm=0.25, v_rest=-65.0, v_reset=-65.0, v_thresh=-55.0),
                       label="p")
    p.initialize(v=-65.0)
    sim.StepCurrentSource(times=[20.0, 60.0], amplitudes=[1.0, 0.0]).inject_into(p)
    src = sim.Population(200, sim.SpikeSourcePoisson(rate=50.0, start=100.0, duration=400.0), label="src")
    p.record("spikes")
    src.record("spikes")
    sim.run(600.0)
    s = spikes_of(p)[0]
    assert len(s) > 3 and s.min() > 20.0 and s.max() <= 61.0
    trains = spikes_of(src)
    allspikes = np.concatenate(trains)
    assert allspikes.min() >= 100.0 and allspikes.max() < 500.0
    # 200 sources × 50 Hz × 0.4 s = 4,000 spikes expected (sd 63).
    assert abs(allspikes.size - 4000) < 300, allspikes.size


@needs_engine
def test_cuda_without_gpu_is_a_clear_error(fresh):
    if os.path.exists("/dev/nvidia0"):
        pytest.skip("a GPU is present")
    sim.setup(backend="cuda")
    sim.Population(2, sim.IF_curr_exp(), label="p")
    with pytest.raises(sim.EngineError, match="cuda"):
        sim.run(1.0)


@needs_engine
def test_unchanged_script_through_runner(tmp_path):
    """A script that picks its simulator with get_simulator() runs
    unchanged under `python3 -m pynn_myelin SCRIPT myelin`."""
    import subprocess
    script = tmp_path / "script.py"
    script.write_text(
        "from pyNN.utility import get_simulator\n"
        "sim, options = get_simulator()\n"
        "sim.setup(timestep=0.1)\n"
        "p = sim.Population(3, sim.IF_curr_exp(i_offset=2.0))\n"
        "p.record('spikes')\n"
        "sim.run(100.0)\n"
        "print('mean count', p.mean_spike_count())\n"
        "sim.end()\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    out = subprocess.run([sys.executable, "-m", "pynn_myelin", str(script), "myelin"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    count = float(out.stdout.split("mean count")[1])
    assert count == pytest.approx(1000.0 / (0.1 + 20.0 * math.log(40.0 / 25.0)) * 0.1, abs=1.0)


def test_spec_rules_and_distributions(fresh):
    a = sim.Population(10, sim.IF_curr_exp(), label="a")
    b = sim.Population(20, sim.IF_cond_exp(), label="b")
    sim.Projection(a, b, sim.FixedNumberPostConnector(3, with_replacement=True),
                   sim.StaticSynapse(weight=RandomDistribution("lognormal", mu=math.log(0.002), sigma=0.5),
                                     delay=RandomDistribution("normal_clipped", mu=2.0, sigma=0.5, low=1.0, high=3.0)))
    sim.Projection(b, a, sim.FixedProbabilityConnector(0.3, allow_self_connections=False),
                   sim.StaticSynapse(weight=RandomDistribution("normal", mu=0.5, sigma=0.1), delay=1.0),
                   receptor_type="inhibitory")
    sim.Projection(a, a, sim.FixedProbabilityConnector(1.0, allow_self_connections="NoMutual"),
                   sim.StaticSynapse(weight=0.1, delay=1.0))
    lay = build.Layout(sim.simulator.state)
    p0, p1, p2 = lay.network.projections
    assert p0.fixed_out_degree.outdegree == 3 and p0.allow_multapses
    assert p0.weight.lognormal.mu == pytest.approx(math.log(2.0))  # 0.002 µS = 2 nS
    assert p0.weight.lognormal.sigma == 0.5
    d = p0.delay.normal
    assert (d.mean, d.std, d.min, d.max) == (2.0, 0.5, 1.0, 3.0)
    assert p1.pairwise_bernoulli.p == pytest.approx(0.3) and not p1.allow_autapses
    assert p1.weight.normal.mean == pytest.approx(500.0) and p1.weight.normal.std == pytest.approx(100.0)
    # 'NoMutual' is PyNN's own algorithm, sent as an explicit list: 10·9/2 pairs.
    assert p2.HasField("explicit") and len(p2.explicit.pre_index) == 45
    # A distribution the engine does not draw: PyNN draws it, explicit list.
    sim.Projection(a, b, sim.AllToAllConnector(),
                   sim.StaticSynapse(weight=RandomDistribution("exponential", beta=0.1), delay=1.0))
    p3 = build.Layout(sim.simulator.state).network.projections[3]
    w = np.array(p3.explicit.weight_values)
    assert w.size == 200 and w.min() > 0 and 50 < w.mean() < 150  # mean 0.1 µS = 100 nS


@needs_engine
def test_ac_and_noisy_sources(fresh):
    cells = sim.Population(2, sim.IF_curr_exp(tau_m=10.0, cm=1.0, v_rest=-65.0, v_thresh=0.0), label="c")
    cells.initialize(v=-65.0)
    cells[0:1].inject(sim.ACSource(amplitude=0.5, offset=0.1, frequency=20.0, phase=0.0, start=0.0, stop=500.0))
    cells[1:2].inject(sim.NoisyCurrentSource(mean=0.2, stdev=0.5, dt=1.0, start=0.0, stop=500.0))
    cells.record("v")
    sim.run(500.0)
    v = np.asarray(cells.get_data().segments[0].filter(name="v")[0])
    ac, noisy = v[1000:, 0], v[1000:, 1]   # after 100 ms
    spectrum = np.abs(np.fft.rfft(ac - ac.mean()))
    freqs = np.fft.rfftfreq(ac.size, d=0.1e-3)
    assert freqs[spectrum.argmax()] == pytest.approx(20.0, abs=2.5)
    # Mean depolarization: offset · R = 0.1 nA · 10 MΩ = 1 mV, and 0.2 nA · 10 MΩ = 2 mV.
    assert ac.mean() + 65.0 == pytest.approx(1.0, abs=0.2)
    assert noisy.mean() + 65.0 == pytest.approx(2.0, abs=1.0) and noisy.std() > 0.5
    sim.setup()
    p = sim.Population(1, sim.IF_curr_exp(), label="p")
    p.inject(sim.ACSource(amplitude=0.5))   # never stops
    with pytest.raises(NotImplementedError, match="stop"):
        sim.run(10.0)


@needs_engine
def test_len_before_run_is_stable(fresh):
    """len() of a projection the engine draws, asked before run(), builds
    the network so far; later projections do not change its draw."""
    a = sim.Population(100, sim.IF_curr_exp(), label="a")
    b = sim.Population(50, sim.IF_curr_exp(), label="b")
    p1 = sim.Projection(a, b, sim.FixedProbabilityConnector(0.1), sim.StaticSynapse(weight=0.1, delay=1.0))
    n1 = len(p1)
    p2 = sim.Projection(b, a, sim.FixedProbabilityConnector(0.2), sim.StaticSynapse(weight=0.1, delay=1.0))
    sim.run(5.0)
    assert len(p1) == n1 and 300 < n1 < 700
    assert 700 < len(p2) < 1300


@needs_engine
def test_per_neuron_offset_current(fresh):
    p = sim.Population(4, sim.IF_curr_exp(tau_m=20.0, cm=1.0, v_rest=-65.0, v_thresh=-50.0), label="p")
    p.initialize(v=-65.0)
    p.set(i_offset=np.array([0.0, 0.5, 1.0, 2.0]))   # nA: 20 MΩ -> 0, 10, 20, 40 mV
    p[0:1].set(i_offset=0.25)
    p.record(["spikes", "v"])
    sim.run(300.0)
    v = np.asarray(p.get_data().segments[0].filter(name="v")[0])
    assert v[-1, 0] + 65.0 == pytest.approx(5.0, abs=0.01)   # 0.25 nA · 20 MΩ
    assert v[-1, 1] + 65.0 == pytest.approx(10.0, abs=0.01)
    counts = [len(s) for s in spikes_of(p)]
    assert counts[:2] == [0, 0] and 0 < counts[2] < counts[3]
    # During the run, runs of equal values can change.
    p[1:2].set(i_offset=1.0)
    sim.run(300.0)
    assert len(spikes_of(p)[1]) > 0
    # A change that splits a run of equal values needs a reset.
    sim.setup()
    q = sim.Population(4, sim.IF_curr_exp(i_offset=[0.0, 0.0, 1.0, 1.0]), label="q")
    sim.run(10.0)
    with pytest.raises(NotImplementedError, match="i_offset"):
        q[0:1].set(i_offset=0.5)


@needs_engine
def test_v_sample_times(fresh):
    """v at t = 0 is the initial value, v at k·dt the state after k steps,
    and a sampling interval keeps every interval/dt-th of those."""
    a = sim.Population(1, sim.IF_curr_exp(tau_m=20.0, v_rest=-65.0), label="a")
    b = sim.Population(1, sim.IF_curr_exp(tau_m=20.0, v_rest=-65.0), label="b")
    for p in (a, b):
        p.initialize(v=-70.0)
    a.record("v")
    b.record("v", sampling_interval=1.0)
    sim.run(50.0)
    sim.run(50.0)
    va = a.get_data().segments[0].filter(name="v")[0]
    vb = b.get_data().segments[0].filter(name="v")[0]
    x = np.asarray(va)[:, 0]
    assert x.shape == (1001,) and x[0] == -70.0
    for k in (1, 10, 1000):
        assert x[k] == pytest.approx(-65.0 - 5.0 * math.exp(-0.1 * k / 20.0), abs=2e-4)
    assert float(va.sampling_period.rescale("ms")) == pytest.approx(0.1)
    assert float(vb.sampling_period.rescale("ms")) == pytest.approx(1.0)
    assert np.array_equal(np.asarray(vb)[:, 0], x[::10]) and vb.shape == (101, 1)
    sim.reset()
    sim.run(1.0)
    assert np.asarray(a.get_data().segments[1].filter(name="v")[0])[0, 0] == -70.0


@needs_engine
def test_tsodyks_markram_synapse(fresh):
    """A depressing TsodyksMarkramSynapse from a spike source onto a
    non-leaky, never-firing neuron: each jump of v is weight × u·x of
    tsodyks2_synapse's recursion (u from U, x from 1, the previous spike at
    time 0 for the first), and a static projection's jumps stay at weight."""
    times = [20.0, 40.0, 45.0, 50.0, 55.0, 150.0]
    src = sim.Population(1, sim.SpikeSourceArray(spike_times=times), label="src")
    cell = dict(v_thresh=1e6, v_rest=0.0, v_reset=0.0, tau_m=1e7, tau_refrac=0.1)
    dep = sim.Population(1, sim.IF_curr_delta(**cell), label="dep")
    ref = sim.Population(1, sim.IF_curr_delta(**cell), label="ref")
    for p in (dep, ref):
        p.initialize(v=0.0)
        p.record("v")
    src.record("spikes")
    U, tau_rec = 0.5, 100.0
    sim.Projection(src, dep, sim.OneToOneConnector(),
                   sim.TsodyksMarkramSynapse(weight=1.0, delay=1.0, U=U, tau_rec=tau_rec, tau_facil=0.0))
    sim.Projection(src, ref, sim.OneToOneConnector(), sim.StaticSynapse(weight=1.0, delay=1.0))
    sim.run(200.0)
    fired = spikes_of(src)[0]
    assert len(fired) == len(times)

    def jumps(pop):
        v = np.asarray(pop.get_data("v").segments[-1].analogsignals[0].magnitude[:, 0], dtype=float)
        d = np.diff(v)
        return d[d > 1e-3]

    got, static = jumps(dep), jumps(ref)
    assert len(got) == len(times) and len(static) == len(times)
    u, x, last = U, 1.0, 0.0
    want = []
    for t in fired:
        h = t - last  # spike times are stamped at their step's end, as the engine's STP counts them
        x = 1 + (x - x * u - 1) * math.exp(-h / tau_rec)
        u = U
        last = t
        want.append(u * x)
    assert np.allclose(got, want, atol=2e-3), (got, want)
    assert np.allclose(static, 1.0, atol=2e-3)
    assert got[3] < 0.7 * got[0]  # 5 ms apart: depressed


@needs_engine
def test_tsodyks_markram_needs_one_value(fresh):
    a = sim.Population(5, sim.IF_curr_exp(), label="a")
    b = sim.Population(5, sim.IF_curr_exp(), label="b")
    with pytest.raises(NotImplementedError, match="U must be one value"):
        sim.Projection(a, b, sim.AllToAllConnector(),
                       sim.TsodyksMarkramSynapse(weight=0.1, U=RandomDistribution("uniform", low=0.1, high=0.5)))


# ---- STDP ----

def _stdp(wd, **kw):
    return sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=16.8, tau_minus=33.7, A_plus=0.05, A_minus=0.065),
                             weight_dependence=wd, **kw)


def test_stdp_spec(fresh):
    """STDPMechanism maps onto the engine's stdp message as pyNN.nest maps it
    onto stdp_synapse: lambda = A_plus, alpha = A_minus / A_plus, mu from the
    weight dependence, w_max in the target's weight units."""
    a = sim.Population(4, sim.IF_curr_exp(), label="a")
    b = sim.Population(4, sim.IF_curr_delta(), label="b")
    sim.Projection(a, a, sim.AllToAllConnector(), _stdp(sim.MultiplicativeWeightDependence(w_max=0.5), weight=0.2, delay=1.0))
    sim.Projection(a, b, sim.FromListConnector([(0, 1, 0.3, 1.0), (2, 3, 0.1, 2.0)]),
                   _stdp(sim.AdditivePotentiationMultiplicativeDepression(w_max=0.4), weight=0.2, delay=1.0))
    sim.Projection(b, a, sim.OneToOneConnector(), _stdp(sim.AdditiveWeightDependence(w_max=0.3), weight=0.1, delay=1.0),
                   receptor_type="inhibitory")
    lay = build.Layout(sim.simulator.state)
    p0, p1, p2 = lay.network.projections
    s = p0.stdp
    assert (s.tau_plus_ms, s.tau_minus_ms) == (16.8, 33.7)
    assert getattr(s, "lambda") == pytest.approx(0.05) and s.alpha == pytest.approx(1.3)
    assert (s.mu_plus, s.mu_minus) == (1.0, 1.0)
    assert s.w_max == pytest.approx(500.0) and p0.weight.constant == pytest.approx(200.0)  # nA -> pA
    assert p1.HasField("explicit") and (p1.stdp.mu_plus, p1.stdp.mu_minus) == (0.0, 1.0)
    assert p1.stdp.w_max == pytest.approx(0.4)  # mV onto iaf_psc_delta
    assert (p2.stdp.mu_plus, p2.stdp.mu_minus) == (0.0, 0.0) and p2.receptor == build.pb.INHIBITORY
    with pytest.raises(NotImplementedError, match="w_min"):
        sim.AdditiveWeightDependence(w_min=0.1, w_max=1.0)
    with pytest.raises(NotImplementedError, match="mu_plus and mu_minus of 0 or 1"):
        sim.GutigWeightDependence()
    with pytest.raises(NotImplementedError, match="A_plus must be one value"):
        sim.Projection(a, a, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(A_plus=RandomDistribution("uniform", low=0.01, high=0.02)),
            weight_dependence=sim.AdditiveWeightDependence(w_max=1.0), weight=0.5))
    with pytest.raises(NotImplementedError, match="depression alone is not supported"):
        sim.Projection(a, a, sim.AllToAllConnector(), sim.STDPMechanism(
            timing_dependence=sim.SpikePairRule(A_plus=0.0, A_minus=0.01),
            weight_dependence=sim.AdditiveWeightDependence(w_max=1.0), weight=0.5))


@needs_engine
def test_stdp_pair(fresh):
    """One pre spike at 20 ms and a post spike forced at 30 ms potentiate a
    multiplicative synapse by A_plus (w_max − w0) exp(−10/tau_plus): a probe
    spike at 400 ms (the post trace long decayed) moves v by the learned
    weight. The reverse order depresses it by A_minus w0 exp(−10/tau_minus)."""
    cell = dict(v_thresh=-50.0, v_rest=-65.0, v_reset=-65.0, tau_m=1e7, tau_refrac=0.1)
    w0, wmax = 0.2, 0.5
    got = {}
    for name, pre_t, post_t in (("ltp", 20.0, 30.0), ("ltd", 30.0, 20.0)):
        sim.setup(timestep=0.1, min_delay=0.1)
        pre = sim.Population(1, sim.SpikeSourceArray(spike_times=[pre_t, 400.0]), label="pre")
        kick = sim.Population(1, sim.SpikeSourceArray(spike_times=[post_t - 0.1]), label="kick")
        post = sim.Population(1, sim.IF_curr_delta(**cell), label="post")
        post.initialize(v=-65.0)
        post.record(["v", "spikes"])
        sim.Projection(kick, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=100.0, delay=0.1))
        sim.Projection(pre, post, sim.OneToOneConnector(),
                       _stdp(sim.MultiplicativeWeightDependence(w_max=wmax), weight=w0, delay=0.1))
        sim.run(450.0)
        fired = spikes_of(post)[0]
        assert len(fired) == 1 and abs(fired[0] - post_t) < 0.15, fired
        v = np.asarray(post.get_data("v").segments[-1].analogsignals[0].magnitude[:, 0], dtype=float)
        got[name] = v[4100] - v[3900]  # the probe's jump, between 390 and 410 ms
        sim.end()
    ltp = w0 + 0.05 * (wmax - w0) * math.exp(-10.0 / 16.8)
    ltd = w0 - 0.065 * w0 * math.exp(-10.0 / 33.7)
    assert got["ltp"] == pytest.approx(ltp, abs=1e-5), got
    assert got["ltd"] == pytest.approx(ltd, abs=1e-5), got


# ---- hostile and careless use (docs/hostile-input.md) ----

@needs_engine
def test_poisson_sources_of_one_label_change_apart(fresh):
    """Two SpikeSourcePoisson of one label feeding a population one-to-one
    become two inputs of their own names: setting the rate of one changes
    that one (before, both inputs had one name and the engine changed the
    other one, so that E went on firing)."""
    E = sim.Population(50, sim.IF_curr_exp(), label="E")
    exc = sim.Population(50, sim.SpikeSourcePoisson(rate=5000.0), label="noise")
    inh = sim.Population(50, sim.SpikeSourcePoisson(rate=5000.0), label="noise")
    sim.Projection(exc, E, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5, delay=0.1))
    sim.Projection(inh, E, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5, delay=0.1),
                   receptor_type="inhibitory")
    E.record("spikes")
    sim.run(100.0)
    names = [i.name for i in sim.simulator.state.layout.network.inputs]
    assert len(set(names)) == len(names) == 2, names
    before = sum(len(s) for s in spikes_of(E))
    exc.set(rate=0.0)   # only inhibition is left: E falls silent
    sim.run(100.0)
    after = sum(len(s) for s in spikes_of(E)) - before
    assert before > 20 and after < 5, (before, after)


def test_many_equal_labels_build_in_linear_time(fresh):
    """Names for many populations of one label (made in a loop) are found
    in linear time (before: 33 s for 20,000, quadratic)."""
    import time
    lay = build.Layout(sim.simulator.state)
    t0 = time.monotonic()
    names = [lay._unique("cell") for _ in range(30000)]
    assert time.monotonic() - t0 < 3.0
    assert names[:3] == ["cell", "cell#2", "cell#3"] and len(set(names)) == 30000
    assert lay._unique("cell#2") == "cell#2#2" and lay._unique("cell") == "cell#30001"


@needs_engine
def test_nan_parameters_are_named(fresh):
    """A NaN parameter is one value that the engine refuses, naming it
    (before: "differs between neurons; use separate populations", and a
    NaN i_offset became one DC input per neuron)."""
    sim.Population(3, sim.IF_curr_exp(tau_m=float("nan")), label="p")
    with pytest.raises(sim.EngineError, match="tau_m = NaN"):
        sim.run(1.0)
    sim.setup()
    sim.Population(1000, sim.IF_curr_exp(i_offset=float("nan")), label="q")
    assert len(build.Layout(sim.simulator.state).network.inputs) == 0   # i_e of the model, not 1000 inputs
    with pytest.raises(sim.EngineError, match="i_e = NaN"):
        sim.run(1.0)
    assert build.runs(4, [1.0, float("nan"), float("nan"), 2.0]) == [
        (0, 1, (1.0,)), (1, 3, (pytest.approx(float("nan"), nan_ok=True),)), (3, 4, (2.0,))]


@needs_engine
def test_populations_of_an_earlier_setup(fresh):
    """A population made before the last setup() is part of no network: a
    projection from it, a current into it, recording, initialising or
    setting it raise, naming it (before: a projection by FromListConnector
    or a current source silently reached the new population with the same
    ids, and a rule projection failed in the build with a KeyError)."""
    old = sim.Population(3, sim.IF_curr_exp(), label="old")
    sim.setup()
    new = sim.Population(3, sim.IF_curr_exp(), label="new")
    for make in (lambda: sim.Projection(old, new, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=1.0)),
                 lambda: sim.Projection(old, new, sim.FromListConnector([(0, 0, 0.1, 1.0)])),
                 lambda: sim.Projection(new, old[0:2], sim.OneToOneConnector()),
                 lambda: sim.DCSource(amplitude=1.0).inject_into(old),
                 lambda: sim.DCSource(amplitude=1.0).inject_into([old[0]]),
                 lambda: old.record("spikes"),
                 lambda: old.initialize(v=-60.0),
                 lambda: old.set(tau_m=5.0)):
        with pytest.raises(ValueError, match="'old' was created before the last setup"):
            make()
    from pyNN.standardmodels import cells
    with pytest.raises(TypeError, match="not one of pynn_myelin's; use pynn_myelin.IF_curr_exp"):
        sim.Population(2, cells.IF_curr_exp())
    sim.DCSource(amplitude=1.0).inject_into(new.all_cells)
    sim.run(1.0)


def test_bad_sizes_and_setup_arguments(fresh):
    """Sizes and setup() arguments the engine cannot take are refused where
    they are given, naming them (before: numpy's "negative dimensions",
    an IndexError, protobuf's "Value out of range: -1" at the first run;
    a population of 10^10 neurons filled memory until killed)."""
    for n in (0, -1, 2**31 + 1):
        with pytest.raises(ValueError, match="Population size %d" % n):
            sim.Population(n, sim.IF_curr_exp())
    for kw in (dict(threads=-1), dict(threads=2**33), dict(seed=-1), dict(seed=2**64), dict(threads="x")):
        (name, value), = kw.items()
        with pytest.raises(ValueError, match=r"setup\(%s=" % name):
            sim.setup(**kw)
    sim.setup()
    for interval in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="sampling_interval"):
            sim.Population(2, sim.IF_curr_exp()).record("v", sampling_interval=interval)


def _long_run(label):
    """A network that a run of 10^7 ms keeps busy for minutes."""
    E = sim.Population(500, sim.IF_curr_exp(i_offset=1.0), label=label)
    E.record("spikes")
    return E


@needs_engine
def test_ctrl_c_keeps_what_ran(fresh):
    """Ctrl-C in Python alone (Jupyter's interrupt) during a run stops the
    engine's run too: the steps that ran are kept (time and spikes), later
    runs say the simulation was lost, and reset() starts a new engine
    (before: every later command read the reply of the one before, "reply
    3 to command 4", for the rest of the session)."""
    import signal
    import threading
    E = _long_run("E")
    sim.run(10.0)
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        sim.run(1e7)
    t = sim.get_current_time()
    assert 10.0 < t < 1e7
    kept = E.get_data("spikes").segments[0]
    assert sum(len(s) for s in kept.spiketrains) > 0
    assert max(float(s.max()) for s in kept.spiketrains if len(s)) <= t
    with pytest.raises(sim.EngineError, match="lost the simulation.*reset"):
        sim.run(10.0)
    sim.reset()
    sim.run(50.0)
    assert sim.get_current_time() == pytest.approx(50.0)
    assert sum(len(s) for s in E.get_data("spikes").segments[-1].spiketrains) > 0


@needs_engine
def test_engine_killed_then_reset(fresh):
    """An engine that dies mid-run (killed, out of memory) is an
    EngineError; reset() then starts a new one (before: reset() and every
    run raised "myelin serve ended unexpectedly" until setup())."""
    import signal
    import threading
    _long_run("E")
    sim.run(10.0)
    pid = sim.simulator.state.client.proc.pid
    threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(sim.EngineError, match="ended unexpectedly"):
        sim.run(1e7)
    with pytest.raises(sim.EngineError, match="lost the simulation"):
        sim.run(10.0)
    sim.reset()
    sim.run(10.0)
    assert sim.simulator.state.client.proc.pid != pid


def _fake_engine(tmp_path, replies):
    """A stand-in for `myelin serve` that reads one command and writes the
    given bytes, then waits for its input to end (or, with no bytes to
    write, exits)."""
    script = tmp_path / "fake-myelin"
    script.write_text("#!%s\nimport sys\nsys.stdin.buffer.read(1)\nsys.stdout.buffer.write(%r)\n"
                      "sys.stdout.buffer.flush()\nif %r:\n    sys.stdin.buffer.read()\n"
                      % (sys.executable, replies, bool(replies)))
    script.chmod(0o755)
    return client.Client(binary=str(script))


def _frame(msg):
    data = msg.SerializeToString()
    return client._varint(len(data)) + data


def test_client_unexpected_replies(tmp_path):
    """Replies that do not answer the command end the session with an
    EngineError saying so; the engine's own word on a command it could not
    read is passed on (before: "reply 0 to command 1"); a command over the
    engine's 1 GiB is refused before it is sent, and the session goes on."""
    import serve_pb2
    cases = [
        (_frame(serve_pb2.Reply(id=0, error="command stream: command 1 at byte 0: its length prefix says")),
         "myelin serve: command stream: command 1 at byte 0"),
        (_frame(serve_pb2.Reply(id=7, done=serve_pb2.Done())), "reply 7 to command 1"),
        (_frame(serve_pb2.Reply(id=1, done=serve_pb2.Done())), "kind done to command 1 .read.; want data"),
        (b"\x05\xff\xff\xff\xff\xff", "could not be decoded"),
        (b"", "ended unexpectedly"),
    ]
    for replies, want in cases:
        c = _fake_engine(tmp_path, replies)
        with pytest.raises(client.EngineError, match=want):
            c.read()
        assert not c.alive
        with pytest.raises(client.EngineError, match=want):
            c.read()  # and says so again, without waiting
        c.close()


@needs_engine
def test_client_command_too_large(monkeypatch):
    import myelin_pb2
    c = client.Client()
    try:
        monkeypatch.setattr(client, "MAX_COMMAND_BYTES", 1000, raising=False)
        with pytest.raises(client.EngineError, match="load: the command is .* bytes, more than the 1000"):
            c.load(myelin_pb2.Network(name="x" * 2000, dt_ms=0.1))
        assert c.alive
        with pytest.raises(client.EngineError, match="no network loaded"):
            c.read()
    finally:
        c.close()


def test_assembly_receptor_types_in_order(fresh):
    # PyNN's Assembly.receptor_types is a set, so a projection onto an
    # assembly without a receptor_type was inhibitory under some string
    # hashes and refused a positive weight. Ours keeps the cell type's order.
    exc = sim.Population(4, sim.IF_curr_exp())
    inh = sim.Population(2, sim.IF_curr_exp())
    asm = sim.Assembly(exc, inh)
    assert asm.receptor_types == list(exc.celltype.receptor_types)
    assert asm.receptor_types[:2] == ["excitatory", "inhibitory"]
    src = sim.Population(3, sim.SpikeSourcePoisson(rate=10.0))
    prj = sim.Projection(src, asm, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.5, delay=1.0))
    assert prj.receptor_type == "excitatory"


@pytest.mark.parametrize("seed", ["0", "1", "2", "3", "4", "5"])
def test_assembly_projection_under_any_hash_seed(seed):
    # The same in fresh interpreters with other string hashes.
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import pynn_myelin as sim\n"
        "sim.setup(timestep=0.1)\n"
        "a, b = sim.Population(2, sim.IF_curr_exp()), sim.Population(2, sim.IF_curr_exp())\n"
        "s = sim.Population(2, sim.SpikeSourcePoisson(rate=5.0))\n"
        "p = sim.Projection(s, sim.Assembly(a, b), sim.OneToOneConnector(), sim.StaticSynapse(weight=0.5))\n"
        "print(p.receptor_type)\n" % os.path.dirname(HERE))
    import subprocess
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONHASHSEED=seed),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("excitatory")


@needs_engine
def test_relay_losses_are_warned(fresh):
    # A SpikeSourcePoisson that is not a direct input reaches its targets
    # through relay neurons firing at most once a step: at 20 kHz and
    # dt 0.1 ms they pass (1 - e^-2)/0.2 ms = 8.6 kHz, which the user is
    # told; and the relays' spikes show it.
    post = sim.Population(2, sim.IF_curr_exp(), label="post")
    fast = sim.Population(50, sim.SpikeSourcePoisson(rate=20000.0), label="fast")
    fast.record("spikes")  # recorded: not a direct input
    sim.Projection(fast, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    sim.Population(5, sim.SpikeSourcePoisson(rate=50000.0), label="unused")  # reaches nothing: no warning
    slow = sim.Population(5, sim.SpikeSourcePoisson(rate=10.0), label="slow")
    sim.Projection(slow, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    arr = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0, 10.02, 10.04, 20.0]), label="arr")
    sim.Projection(arr, post, sim.AllToAllConnector(), sim.StaticSynapse(weight=0.01, delay=1.0))
    with pytest.warns(UserWarning) as got:
        sim.run(100.0)
    text = " ".join(str(w.message) for w in got)
    assert "SpikeSourcePoisson 'fast' at 20000 Hz: it is recorded" in text
    assert "pass about 8647 Hz (56.8 % of its spikes are lost)" in text
    assert "'slow'" not in text and "'unused'" not in text
    assert "SpikeSourceArray 'arr' has 2 spike times that share a step" in text
    rate = fast.mean_spike_count() * 1000.0 / 100.0
    assert 8000 < rate < 9300, rate


@needs_engine
def test_one_to_one_poisson_onto_an_assembly_is_direct(fresh):
    # One SpikeSourcePoisson one-to-one onto Assembly(E, I) becomes a Poisson
    # input of each population for its range (before: relay neurons, 8.6 kHz
    # of the 20 kHz asked, and a warning), with the spikes of the same
    # network driven population by population.
    def network(assembly):
        sim.setup(timestep=0.1, min_delay=0.1)
        params = dict(tau_m=20.0, cm=1.0, v_rest=0.0, v_reset=10.0, v_thresh=20.0, tau_refrac=2.0)
        E = sim.Population(80, sim.IF_curr_delta(**params), label="E")
        I = sim.Population(20, sim.IF_curr_delta(**params), label="I")
        if assembly:
            noise = sim.Population(100, sim.SpikeSourcePoisson(rate=20000.0), label="noise")
            sim.Projection(noise, sim.Assembly(E, I), sim.OneToOneConnector(),
                           sim.StaticSynapse(weight=0.1, delay=0.1), receptor_type="excitatory")
        else:
            for post in (E, I):
                noise = sim.Population(post.size, sim.SpikeSourcePoisson(rate=20000.0), label="noise")
                sim.Projection(noise, post, sim.OneToOneConnector(),
                               sim.StaticSynapse(weight=0.1, delay=0.1), receptor_type="excitatory")
        E.record("spikes")
        I.record("spikes")
        spec = build.Layout(sim.simulator.state).network
        sim.run(200.0)
        counts = (E.get_spike_counts(), I.get_spike_counts())
        sim.end()
        return spec, counts

    import warnings as w
    with w.catch_warnings():
        w.simplefilter("error")  # no relay warning
        spec, (ce, ci) = network(True)
    assert [p.name for p in spec.populations] == ["E", "I"]
    got = sorted((i.target, i.poisson.first, i.poisson.count, i.poisson.rate_hz) for i in spec.inputs)
    assert got == [("E", 0, 80, 20000.0), ("I", 0, 20, 20000.0)], got
    rate_e = sum(ce.values()) / 80 / 0.2
    assert rate_e > 20, rate_e  # 20 kHz × 0.1 mV over 20 ms: 40 mV of mean drive
    _, (se, si) = network(False)
    assert (list(ce.values()), list(ci.values())) == (list(se.values()), list(si.values()))
