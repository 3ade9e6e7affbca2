"""Turns the PyNN network held by the simulator state into a Myelin spec
(myelin_pb2.Network), and routes the engine's results and between-run
changes back and forth.

Mapping:
  * a neuron Population is one engine population (parameters must be equal
    across its neurons: the engine holds one parameter set per population);
  * a SpikeSourcePoisson population whose only projections are one-to-one,
    with constant weight and delay, onto whole populations, and whose spikes
    are not recorded, becomes Poisson inputs of the targets (no neurons, the
    statistics of independent trains are exact); any other spike source
    becomes a population of relay ("parrot") neurons driven by a Poisson or
    spike-time input, which fire once in a step when one or more input
    spikes arrive in it;
  * DCSource and StepCurrentSource become DC inputs with time windows.
"""

from collections import defaultdict
import warnings

import numpy as np

import myelin_pb2 as pb
from pyNN import connectors, random

from . import units
from .standardmodels import (SpikeSourcePoisson, SpikeSourceArray, DCSource, StepCurrentSource,
                             ACSource, NoisyCurrentSource)

MODEL_MESSAGES = {
    "iaf_psc_exp": pb.IafPscExp,
    "iaf_psc_delta": pb.IafPscDelta,
    "iaf_cond_exp": pb.IafCondExp,
    "aeif_cond_exp": pb.AeifCondExp,
    "izhikevich": pb.Izhikevich,
}

#: Relay neurons: iaf_psc_delta with no refractory period; one input of
#: PARROT_WEIGHT mV takes them over threshold in the step it arrives.
PARROT_PARAMS = dict(c_m=250.0, tau_m=10.0, t_ref=0.0, e_l=-70.0, v_reset=-70.0, v_th=-55.0)
PARROT_WEIGHT = 1000.0

#: Times at or beyond this (ms) mean "never" (PyNN's default stop is 1e12).
FOREVER = 1e11

#: Most inputs one heterogeneous source may turn into.
MAX_RUNS = 10000

#: Most constant pieces an AC or noisy current source may turn into.
MAX_SEGMENTS = 20000


def distribution(value, scale=1.0):
    """A PyNN value (number or RandomDistribution) as an engine
    Distribution, times scale (> 0)."""
    d = pb.Distribution()
    if isinstance(value, random.RandomDistribution):
        name, p = value.name, dict(value.parameters)
        if scale != 1.0:
            p = units.scale_distribution(name, p, scale)
        if name == "uniform":
            d.uniform.low, d.uniform.high = p["low"], p["high"]
        elif name == "normal":
            d.normal.mean, d.normal.std = p["mu"], p["sigma"]
        elif name == "normal_clipped":
            d.normal.mean, d.normal.std = p["mu"], p["sigma"]
            d.normal.min, d.normal.max = p["low"], p["high"]
        elif name == "lognormal":
            d.lognormal.mu, d.lognormal.sigma = p["mu"], p["sigma"]
        else:
            raise NotImplementedError(
                "pynn_myelin: RandomDistribution %r is not supported here (the engine draws "
                "uniform, normal, normal_clipped and lognormal)" % name)
        return d
    d.constant = float(value) * scale
    return d


def homogeneous(values, what):
    """The single value of an array that must be constant."""
    a = np.asarray(values)
    if a.ndim == 0:
        return float(a)
    if a.size == 0:
        return 0.0
    if np.all(_same(a, a.flat[0])):
        return float(a.flat[0])
    raise NotImplementedError(
        "pynn_myelin: %s differs between neurons; the engine holds one parameter set per "
        "population (use separate populations)" % what)


def _same(a, b):
    """a == b elementwise, NaN equal to NaN: a NaN parameter is one value
    (that the engine refuses, naming it), not values that differ."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return (a == b) | (np.isnan(a) & np.isnan(b))
    return a == b


def initial_distribution(lazy, what):
    """An initial value (PyNN LazyArray) as an engine Distribution."""
    base = lazy.base_value
    if not lazy.operations:
        if isinstance(base, random.RandomDistribution):
            return distribution(base)
        if np.isscalar(base):
            return distribution(float(base))
    return distribution(homogeneous(lazy.evaluate(simplify=True), what))


def runs(n, *arrays):
    """Contiguous index ranges [a, b) over which all arrays are constant."""
    cols = [np.broadcast_to(np.asarray(a, dtype=float), (n,)) for a in arrays]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for c in cols:
        change[1:] |= ~_same(c[1:], c[:-1])
    starts = np.flatnonzero(change)
    if starts.size > MAX_RUNS:
        raise NotImplementedError("pynn_myelin: more than %d distinct runs of source parameters" % MAX_RUNS)
    ends = np.append(starts[1:], n)
    return [(int(a), int(b), tuple(float(c[a]) for c in cols)) for a, b in zip(starts, ends)]


def populations_of(x):
    """The Populations behind a Population, PopulationView or Assembly."""
    from .populations import Population, PopulationView, Assembly
    if isinstance(x, Population):
        return [x]
    if isinstance(x, PopulationView):
        return populations_of(x.grandparent if hasattr(x, "grandparent") else x.parent)
    if isinstance(x, Assembly):
        return [p for q in x.populations for p in populations_of(q)]
    raise TypeError("not a population: %r" % (x,))


def direct_targets(post):
    """The Populations a one-to-one projection onto post reaches, in order,
    where a Poisson source can drive them as an input of theirs: post
    itself, or the populations of an Assembly of whole Populations (each
    once); None otherwise (a view, an assembly of views)."""
    from .populations import Population, Assembly
    if isinstance(post, Population):
        return [post]
    if isinstance(post, Assembly) and all(type(p) is Population for p in post.populations) and \
            len({id(p) for p in post.populations}) == len(post.populations):
        return list(post.populations)
    return None


def receptor(prj):
    """The engine's receptor of a projection's PyNN receptor_type."""
    return {"inhibitory": pb.INHIBITORY, "slow_excitatory": pb.SLOW_EXCITATORY}.get(prj.receptor_type, pb.EXCITATORY)


def stp(prj):
    """The engine's stp message of a projection, or None for static synapses."""
    from .standardmodels import TsodyksMarkramSynapse
    if not isinstance(prj.synapse_type, TsodyksMarkramSynapse):
        return None
    ps = prj.synapse_type.parameter_space
    return pb.TsodyksMarkram(u=float(ps["U"].base_value), tau_rec_ms=float(ps["tau_rec"].base_value),
                             tau_fac_ms=float(ps["tau_facil"].base_value))


def stdp(prj, scale):
    """The engine's stdp message of a projection (w_max times the target's
    weight scale), or None for other synapses."""
    from .standardmodels import STDPMechanism
    if not isinstance(prj.synapse_type, STDPMechanism):
        return None
    ps = prj.synapse_type.parameter_space
    v = {k: float(ps[k].base_value) for k in ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_max")}
    mu_plus, mu_minus = prj.synapse_type.weight_dependence.mu
    # pyNN.nest's mapping onto stdp_synapse: lambda = A_plus, alpha = A_minus / A_plus.
    if v["A_plus"] == 0 and v["A_minus"] != 0:
        # The engine's depression is alpha * lambda with lambda = A_plus:
        # it cannot depress without potentiating.
        raise NotImplementedError("STDPMechanism: A_plus = 0 with A_minus = %g: depression alone is not supported "
                                  "(the engine scales depression by A_plus, as NEST's stdp_synapse does)" % v["A_minus"])
    alpha = v["A_minus"] / v["A_plus"] if v["A_plus"] != 0 else 0.0
    return pb.STDP(**{"tau_plus_ms": v["tau_plus"], "tau_minus_ms": v["tau_minus"], "lambda": v["A_plus"],
                      "alpha": alpha, "mu_plus": mu_plus, "mu_minus": mu_minus, "w_max": v["w_max"] * scale})


def scalar_param(prj, name):
    la = prj.synapse_type.parameter_space[name]
    if la.operations or not (np.isscalar(la.base_value) or la.base_value is None):
        return None
    return la.base_value


def window(start, duration_or_stop, is_duration):
    stop = start + duration_or_stop if is_duration else duration_or_stop
    return start, (stop if stop < FOREVER else None)


class Layout:
    """The spec of the PyNN network and the maps between the two sides."""

    def __init__(self, state):
        self.state = state
        self.dt = state.dt
        self.network = pb.Network(name="pynn_myelin", dt_ms=state.dt, duration_ms=0, seed=state.seed)
        self.name = {}  # id(pop) -> engine population name
        self.inputs = defaultdict(list)  # id(pop or current source) -> [(input name, a, b)]
        self.offset_inputs = defaultdict(list)  # id(pop) -> DC inputs of a per-neuron i_offset
        self.probes = []  # (pop, first index, count) per state series
        self.rule_projections = []  # (projection, spec index)
        self._used = set()
        self._last = {}  # id(set of names) -> {name: the last k of "name#k" given}
        self._input_names = set()
        self.direct = self._direct_poisson()
        for i, pop in enumerate(state.populations):
            if id(pop) not in self.direct:
                self._population(pop, i)
        for pop in state.populations:
            if id(pop) in self.direct:
                self._direct_inputs(pop)
        for prj in state.projections:
            self._projection(prj)
        for k, (src, cells) in enumerate(state.current_sources):
            self._current(k, src, cells)
        self._recording()
        self.loaded = None

    def _unique(self, label):
        # The engine refuses population names with a comma or an "@" (the
        # separators of its --record and --sample flags), control
        # characters or nothing but blanks: such labels get "_" instead.
        name = "".join("_" if c in ",@" or not c.isprintable() else c for c in str(label or ""))
        if not name.strip():
            name = "population"
        return self._dedup(name, self._used)

    def _dedup(self, name, used):
        """name if used does not hold it, else name#k, k counting on from
        the last k given for name (many equal labels take linear time, not
        quadratic); added to used."""
        last = self._last.setdefault(id(used), {})
        base, k = name, last.get(name, 1)
        while name in used:
            k += 1
            name = "%s#%d" % (base, k)
        last[base] = k
        used.add(name)
        return name

    def _input(self, name):
        """A unique, printable input name: the engine changes an input by
        its name (two SpikeSourcePoisson of one label feeding one population
        would otherwise make two inputs of one name)."""
        return self._dedup("".join(c if c.isprintable() else "_" for c in name), self._input_names)

    def _engine_model(self, pop):
        return getattr(pop.celltype, "engine_model", None)

    # ---- populations ----

    def _direct_poisson(self):
        by_pre = defaultdict(list)
        for prj in self.state.projections:
            for p in populations_of(prj.pre):
                by_pre[id(p)].append(prj)
        out = set()
        for pop in self.state.populations:
            if not isinstance(pop.celltype, SpikeSourcePoisson) or pop.recorder.recorded.get("spikes"):
                continue
            prjs = by_pre[id(pop)]
            if prjs and all(self._direct_ok(prj, pop) for prj in prjs):
                out.add(id(pop))
        return out

    def _direct_ok(self, prj, pop):
        from .populations import Assembly
        targets = direct_targets(prj.post)
        if prj.pre is not pop or targets is None:
            return False
        # A projection onto an assembly is connected here, explicitly; a
        # one-to-one one, with the constant weight and delay checked below,
        # needs none of it.
        if prj._explicit is not None and not isinstance(prj.post, Assembly):
            return False
        if not isinstance(prj._connector, connectors.OneToOneConnector) or \
                any(self._engine_model(t) is None for t in targets):
            return False
        if stp(prj) is not None or stdp(prj, 1) is not None:
            return False  # plastic synapses need the source's spikes, not a direct Poisson input
        d = prj.synapse_type.parameter_space["delay"]
        if d.operations or not (d.base_value is None or np.isscalar(d.base_value)):
            return False
        return scalar_param(prj, "weight") is not None

    def _population(self, pop, i):
        name = self._unique(pop.label or "population%d" % i)
        self.name[id(pop)] = name
        p = self.network.populations.add(name=name, size=pop.size)
        model = self._engine_model(pop)
        if model is None:
            p.iaf_psc_delta.CopyFrom(pb.IafPscDelta(**PARROT_PARAMS))
            self._source_inputs(pop, name)
            return
        msg = MODEL_MESSAGES[model]()
        for pname, values in pop._parameters.items():
            if pname == "i_e" and np.ndim(values) == 1 and not np.all(_same(values, np.asarray(values)[0])):
                # A per-neuron offset current: DC inputs over runs of equal values.
                msg.i_e = 0.0
                for a, b, (amp,) in runs(pop.size, values):
                    iname = self._input("%s:i_offset@%d" % (name, a))
                    self.network.inputs.add(name=iname, target=name, dc=pb.DCInput(amplitude=amp, first=a, count=b - a))
                    self.offset_inputs[id(pop)].append((iname, a, b))
                continue
            setattr(msg, pname, homogeneous(values, "parameter %s of population %r" % (pname, pop.label)))
        getattr(p, model).CopyFrom(msg)
        for var, lazy in pop.initial_values.items():
            what = "initial value of %s in population %r" % (var, pop.label)
            if var == "v":
                p.initial.CopyFrom(initial_distribution(lazy, what))
            elif not (lazy.base_value is None or (np.isscalar(lazy.base_value) and lazy.base_value == 0
                                                  and not lazy.operations)):
                raise NotImplementedError("pynn_myelin: %s: the engine starts every state variable but v at 0 "
                                          "(as NEST's izhikevich does for u): initialize(%s=0.0)" % (what, var))

    def _source_inputs(self, pop, name):
        """Drive of a relay population: a Poisson or spike-time input."""
        if isinstance(pop.celltype, SpikeSourcePoisson):
            par = pop._parameters
            self._warn_relay_rate(pop, np.max(np.asarray(par["rate"], dtype=float), initial=0.0), name)
            for a, b, (rate, start, duration) in runs(pop.size, par["rate"], par["start"], par["duration"]):
                iname = self._input("%s:poisson@%d" % (name, a))
                start, stop = window(start, duration, True)
                pin = pb.PoissonInput(rate_hz=rate, weight=PARROT_WEIGHT, receptor=pb.EXCITATORY,
                                      start_ms=start, first=a, count=b - a)
                if stop is not None:
                    pin.stop_ms = stop
                self.network.inputs.add(name=iname, target=name, poisson=pin)
                self.inputs[id(pop)].append((iname, a, b))
        elif isinstance(pop.celltype, SpikeSourceArray):
            neurons, times = [], []
            merged = 0
            for i, seq in enumerate(pop._parameters["spike_times"]):
                t = np.asarray(seq.value if hasattr(seq, "value") else seq, dtype=float)
                neurons.extend([i] * t.size)
                times.extend(t.tolist())
                merged += t.size - np.unique(np.floor(t / self.dt + 0.5)).size
            if merged:
                warnings.warn("pynn_myelin: SpikeSourceArray %r has %d spike times that share a step (%g ms) with "
                              "another of the same neuron: its relay neurons fire once in a step, so those spikes "
                              "are merged" % (pop.label, merged, self.dt), stacklevel=2)
            if neurons:
                self.network.inputs.add(
                    name=self._input("%s:spike_times" % name), target=name, spike_times=pb.SpikeSourceArray(
                        neuron=neurons, time_ms=times, weight=PARROT_WEIGHT, receptor=pb.EXCITATORY))
        else:
            raise NotImplementedError("pynn_myelin: cell type %s is not supported" % type(pop.celltype).__name__)

    #: The share of a relay's Poisson spikes lost to merging in one step
    #: from which _warn_relay_rate warns.
    RELAY_LOSS_WARN = 0.01

    def _warn_relay_rate(self, pop, rate_hz, name):
        """Warn when a SpikeSourcePoisson that feeds its targets (or its
        recording) through relay neurons (which fire at most once a step)
        loses more than RELAY_LOSS_WARN of its spikes: a Poisson count of
        mean x = rate·dt in a step becomes one spike with probability
        1 - exp(-x). A source that reaches nothing is not warned of."""
        recorded = bool(pop.recorder.recorded.get("spikes"))
        if not recorded and not any(pop in populations_of(prj.pre) for prj in self.state.projections):
            return
        x = rate_hz * self.dt * 1e-3
        if not x > 0:
            return
        passed = -np.expm1(-x) / x
        if 1 - passed <= self.RELAY_LOSS_WARN:
            return
        why = ("it is recorded, so its spikes are made by relay neurons" if recorded else
               "it reaches its targets through relay neurons")
        how = ("do not record it" if recorded else
               "project it one-to-one onto a population or an assembly of populations, with a constant weight "
               "and delay")
        warnings.warn(
            "pynn_myelin: SpikeSourcePoisson %r at %g Hz: %s, which fire at most once a step (%g ms), so they "
            "pass about %.0f Hz (%.1f %% of its spikes are lost). To give the targets the full rate as a direct "
            "Poisson input, %s; or use a smaller timestep"
            % (pop.label or name, rate_hz, why, self.dt, rate_hz * passed, 100 * (1 - passed), how), stacklevel=2)

    def _direct_inputs(self, pop):
        """Poisson sources feeding one-to-one: inputs of their targets (of
        each population of an assembly, for the sources in its range)."""
        par = pop._parameters
        for prj in self.state.projections:
            if prj.pre is not pop:
                continue
            delay = scalar_param(prj, "delay")
            delay = self.state.min_delay if delay is None else float(delay)
            lo = 0
            for post in direct_targets(prj.post):
                hi = lo + post.size
                w = float(scalar_param(prj, "weight")) * units.weight_scale(self._engine_model(post))
                for a, b, (rate, start, duration) in runs(pop.size, par["rate"], par["start"], par["duration"]):
                    a, b = max(a, lo), min(b, hi)
                    if a >= b:
                        continue
                    iname = self._input("%s->%s@%d" % (pop.label or "poisson", self.name[id(post)], a - lo))
                    start, stop = window(start + delay, duration, True)
                    pin = pb.PoissonInput(rate_hz=rate, weight=w, receptor=receptor(prj), start_ms=start,
                                          first=a - lo, count=b - a)
                    if stop is not None:
                        pin.stop_ms = stop
                    self.network.inputs.add(name=iname, target=self.name[id(post)], poisson=pin)
                    self.inputs[id(pop)].append((iname, a, b))
                lo = hi

    # ---- projections ----

    def _projection(self, prj):
        if any(id(p) in self.direct for p in populations_of(prj.pre)):
            return
        for p in populations_of(prj.post):
            if self._engine_model(p) is None:
                raise NotImplementedError("pynn_myelin: projections onto spike sources are not supported")
        if prj._explicit is None:
            self._rule(prj)
        else:
            self._explicit(prj)

    def _rule(self, prj):
        c = prj._connector
        post_model = self._engine_model(prj.post)
        pr = self.network.projections.add(name=self._unique(prj.label or "projection"),
                                          pre=self.name[id(prj.pre)], post=self.name[id(prj.post)])
        self_conn = getattr(c, "allow_self_connections", True)
        if isinstance(c, connectors.OneToOneConnector):
            pr.one_to_one.SetInParent()
        elif isinstance(c, connectors.AllToAllConnector):
            pr.all_to_all.SetInParent()
            pr.allow_autapses = bool(self_conn is True)
        elif isinstance(c, connectors.FixedProbabilityConnector):
            pr.pairwise_bernoulli.p = float(c.p_connect)
            pr.allow_autapses = bool(self_conn is True)
        elif isinstance(c, connectors.FixedNumberPreConnector):
            pr.fixed_in_degree.indegree = int(c.n)
            pr.allow_autapses = bool(self_conn is True)
            pr.allow_multapses = bool(c.with_replacement)
        elif isinstance(c, connectors.FixedNumberPostConnector):
            pr.fixed_out_degree.outdegree = int(c.n)
            pr.allow_autapses = bool(self_conn is True)
            pr.allow_multapses = bool(c.with_replacement)
        ps = prj.synapse_type.parameter_space
        pr.weight.CopyFrom(distribution(ps["weight"].base_value, units.weight_scale(post_model)))
        d = ps["delay"].base_value
        pr.delay.CopyFrom(distribution(self.state.min_delay if d is None else d))
        pr.receptor = receptor(prj)
        if stp(prj) is not None:
            pr.stp.CopyFrom(stp(prj))
        if stdp(prj, 1) is not None:
            pr.stdp.CopyFrom(stdp(prj, units.weight_scale(post_model)))
        self.rule_projections.append((prj, len(self.network.projections) - 1))

    def _explicit(self, prj):
        pre_idx, post_idx, attrs = prj._explicit
        pre_ids = np.asarray(prj.pre.all_cells, dtype=np.int64)[pre_idx]
        post_ids = np.asarray(prj.post.all_cells, dtype=np.int64)[post_idx]
        pops = self.state.populations
        firsts = np.array([int(p.first_id) for p in pops], dtype=np.int64)
        pre_pop = np.searchsorted(firsts, pre_ids, side="right") - 1
        post_pop = np.searchsorted(firsts, post_ids, side="right") - 1
        w = attrs.get("weight", np.zeros(pre_idx.size))
        d = attrs.get("delay", np.full(pre_idx.size, self.state.min_delay))
        for a in np.unique(pre_pop):
            for b in np.unique(post_pop[pre_pop == a]):
                sel = (pre_pop == a) & (post_pop == b)
                pa, pb_ = pops[a], pops[b]
                scale = units.weight_scale(self._engine_model(pb_))
                pr = self.network.projections.add(
                    name=self._unique(prj.label or "projection"),
                    pre=self.name[id(pa)], post=self.name[id(pb_)], receptor=receptor(prj),
                    allow_autapses=True, allow_multapses=True)
                if stp(prj) is not None:
                    pr.stp.CopyFrom(stp(prj))
                if stdp(prj, 1) is not None:
                    pr.stdp.CopyFrom(stdp(prj, scale))
                pr.explicit.pre_index.extend((pre_ids[sel] - int(pa.first_id)).tolist())
                pr.explicit.post_index.extend((post_ids[sel] - int(pb_.first_id)).tolist())
                pr.explicit.weight_values.extend((w[sel] * scale).tolist())
                pr.explicit.delay_ms.extend(np.where(np.isnan(d[sel]), self.state.min_delay, d[sel]).tolist())

    # ---- current sources ----

    def _current(self, k, src, cells):
        if hasattr(cells, "all_cells"):
            ids = np.asarray(cells.all_cells, dtype=np.int64)
        else:
            ids = np.asarray([int(c) for c in cells], dtype=np.int64)
        pops = self.state.populations
        firsts = np.array([int(p.first_id) for p in pops], dtype=np.int64)
        which = np.searchsorted(firsts, ids, side="right") - 1
        nat = src._native
        if isinstance(src, DCSource):
            segments = [(float(nat["start"]), float(nat["stop"]), float(nat["amplitude"]))]
        elif isinstance(src, StepCurrentSource):
            times = np.asarray(getattr(nat["times"], "value", nat["times"]), dtype=float)
            amps = np.asarray(getattr(nat["amplitudes"], "value", nat["amplitudes"]), dtype=float)
            segments = [(t, times[i + 1] if i + 1 < times.size else FOREVER, amps[i]) for i, t in enumerate(times)]
        elif isinstance(src, (ACSource, NoisyCurrentSource)):
            segments = self._waveform(k, src, nat)
        else:
            raise NotImplementedError("pynn_myelin: current source %s" % type(src).__name__)
        for pi in np.unique(which):
            pop = pops[pi]
            if self._engine_model(pop) is None:
                raise NotImplementedError("pynn_myelin: current injection into spike sources is not supported")
            idx = np.sort(ids[which == pi] - int(pop.first_id))
            breaks = np.flatnonzero(np.diff(idx) != 1) + 1
            for chunk in np.split(idx, breaks):
                a, b = int(chunk[0]), int(chunk[-1]) + 1
                for s, (t0, t1, amp) in enumerate(segments):
                    iname = self._input("current%d:%s@%d:%d" % (k, self.name[id(pop)], a, s))
                    dc = pb.DCInput(amplitude=amp, start_ms=t0, first=a, count=b - a)
                    if t1 < FOREVER:
                        dc.stop_ms = t1
                    self.network.inputs.add(name=iname, target=self.name[id(pop)], dc=dc)
                    self.inputs[id(src)].append((iname, a, b))

    def _waveform(self, k, src, nat):
        """Constant pieces (start, stop, amplitude in pA) of an AC or noisy
        current source."""
        start, stop = float(nat["start"]), float(nat["stop"])
        width = self.dt if isinstance(src, ACSource) else float(nat["dt"])
        if not width > 0:
            raise ValueError("%s: dt must be > 0" % type(src).__name__)
        n = int(np.ceil((stop - start) / width - 1e-9)) if stop > start else 0
        if stop >= FOREVER or n > MAX_SEGMENTS:
            raise NotImplementedError(
                "pynn_myelin: %s becomes one DC input per %g ms; give it a stop at most %d pieces after "
                "its start" % (type(src).__name__, width, MAX_SEGMENTS))
        t = start + width * np.arange(n)
        if isinstance(src, ACSource):
            # Phase at the source's start, as PyNN's brian2 and neuron backends.
            amp = float(nat["offset"]) + float(nat["amplitude"]) * np.sin(
                2 * np.pi * float(nat["frequency"]) * (t - start) / 1000.0 + np.deg2rad(float(nat["phase"])))
        else:
            rng = np.random.default_rng([int(self.state.seed), 0x6E6F697365, k])
            amp = rng.normal(float(nat["mean"]), float(nat["stdev"]), n)
        ends = np.minimum(t + width, stop)
        return list(zip(t.tolist(), ends.tolist(), amp.tolist()))

    # ---- recording ----

    def _recording(self):
        rec = self.network.recording
        for pop in self.state.populations:
            if id(pop) in self.direct:
                continue
            r = pop.recorder.recorded
            if r.get("spikes"):
                rec.spikes.append(self.name[id(pop)])
            if r.get("v"):
                # Sampled after every step; the recorder adds the value at
                # t = 0 and keeps every sampling_interval (see Recorder).
                idx = sorted(pop.id_to_index(int(i)) for i in r["v"])
                rec.state.add(population=self.name[id(pop)], first=idx[0], count=idx[-1] - idx[0] + 1, every=1)
                self.probes.append((pop, idx[0], idx[-1] - idx[0] + 1))
        if not rec.spikes:
            # An empty list would record every population; record the
            # smallest spiking one instead and drop its spikes.
            spiking = [p for p in self.network.populations]
            if spiking:
                rec.spikes.append(min(spiking, key=lambda p: p.size).name)

    # ---- after load ----

    def bind(self):
        """Map engine ids to PyNN ids once the engine reported its layout."""
        first = {p.name: p.first_id for p in self.loaded.populations}
        for (pop, first_index, count), series in zip(self.probes, self.loaded.state_series):
            every = int(round(pop.recorder.sampling_interval / self.dt))
            pop.recorder._set_probe(first_index, max(1, every), np.asarray(series.initial, dtype=np.float32))
        self.recorded = []
        for pop in self.state.populations:
            if id(pop) in self.direct:
                continue
            if pop.recorder.recorded.get("spikes"):
                # Neurons are stamped at the end of their step, as NEST does;
                # spike sources at the time they were asked to fire.
                stamp = 0 if self._engine_model(pop) is None else 1
                self.recorded.append((first[self.name[id(pop)]], pop, stamp))

    def distribute(self, data):
        """Hand what the engine recorded to the populations' recorders."""
        if self.recorded:
            steps = np.array(data.spike_steps, dtype=np.int64)
            gids = np.array(data.spike_ids, dtype=np.int64)
            for first, pop, stamp in self.recorded:
                m = (gids >= first) & (gids < first + pop.size)
                pop.recorder._add_spikes(gids[m] - first + int(pop.first_id), (steps[m] + stamp) * self.dt)
        for s in data.samples:
            pop, first, count = self.probes[s.series]
            pop.recorder._add_samples(np.asarray(s.values, dtype=np.float32).reshape(s.num_samples, count))

    def synapse_count(self, prj):
        """Connections of a projection the engine drew, when known exactly."""
        c = prj._connector
        n_pre, n_post = prj.pre.size, prj.post.size
        self_ok = getattr(c, "allow_self_connections", True) is True or prj.pre is not prj.post
        if isinstance(c, connectors.OneToOneConnector):
            return n_pre
        if isinstance(c, connectors.AllToAllConnector):
            return n_pre * n_post - (0 if self_ok else n_pre)
        if isinstance(c, connectors.FixedNumberPreConnector):
            return int(c.n) * n_post
        if isinstance(c, connectors.FixedNumberPostConnector):
            return int(c.n) * n_pre
        counts, shared = self.loaded.projection_synapses, self.loaded.projection_shared
        for p, k in self.rule_projections:
            if p is prj and k < len(counts) and not shared[k]:
                return int(counts[k])
        return None

    def update_population(self, client, pop, names):
        """Send parameter changes made during a simulation."""
        if id(pop) in self.direct or self._engine_model(pop) is None:
            if not isinstance(pop.celltype, SpikeSourcePoisson) or set(names) - {"rate"}:
                raise NotImplementedError(
                    "pynn_myelin: during a simulation only the rate of a SpikeSourcePoisson can change "
                    "among spike-source parameters; call reset() first")
            rates = pop._parameters["rate"]
            for iname, a, b in self.inputs[id(pop)]:
                client.set_input(iname, rate_hz=homogeneous(
                    np.asarray(rates)[a:b], "rate of neurons %d..%d of %r" % (a, b - 1, pop.label)))
            return
        names = list(names)
        if "i_e" in names and id(pop) in self.offset_inputs:
            names.remove("i_e")
            offsets = np.broadcast_to(np.asarray(pop._parameters["i_e"], dtype=float), (pop.size,))
            for iname, a, b in self.offset_inputs[id(pop)]:
                client.set_input(iname, amplitude=homogeneous(
                    offsets[a:b], "i_offset of neurons %d..%d of %r (set at the start as runs of equal values; "
                    "reset() to change them otherwise)" % (a, b - 1, pop.label)))
        values = {n: homogeneous(pop._parameters[n], "parameter %s of population %r" % (n, pop.label))
                  for n in names}
        if values:
            client.set_params(self.name[id(pop)], values)

    def update_current_source(self, client, src, names):
        if not isinstance(src, DCSource) or set(names) - {"amplitude"}:
            raise NotImplementedError(
                "pynn_myelin: during a simulation only the amplitude of a DCSource can change; "
                "call reset() first")
        for iname, _, _ in self.inputs[id(src)]:
            client.set_input(iname, amplitude=float(src._native["amplitude"]))
