"""PyNN standard cell types, current sources and synapses mapped onto the
Myelin engine's models. Native parameter names are the field names of the
engine's model messages (myelin.proto), in engine units (see units.py)."""

import numpy as np
from pyNN import errors
from pyNN.standardmodels import cells, synapses, electrodes, build_translations, check_weights

from . import units

_C, _I = units.CAPACITANCE, units.CURRENT


# The receptor types of the models with a slow excitatory port: PyNN's
# two, then "slow_excitatory" (the engine's SLOW_EXCITATORY: NMDA-like, with
# its own time constant tau_syn_slow and, for conductances, e_rev_slow), as
# NEST's *_multisynapse models number their ports.
SLOW_RECEPTOR_TYPES = ("excitatory", "inhibitory", "slow_excitatory")


class IF_curr_exp(cells.IF_curr_exp):
    __doc__ = cells.IF_curr_exp.__doc__
    engine_model = "iaf_psc_exp"
    receptor_types = SLOW_RECEPTOR_TYPES
    default_parameters = dict(cells.IF_curr_exp.default_parameters, tau_syn_slow=100.0)
    units = dict(cells.IF_curr_exp.units, tau_syn_slow="ms")
    translations = build_translations(
        ('v_rest', 'e_l'),
        ('v_reset', 'v_reset'),
        ('cm', 'c_m', _C),
        ('tau_m', 'tau_m'),
        ('tau_refrac', 't_ref'),
        ('tau_syn_E', 'tau_syn_ex'),
        ('tau_syn_I', 'tau_syn_in'),
        ('tau_syn_slow', 'tau_syn_slow'),
        ('v_thresh', 'v_th'),
        ('i_offset', 'i_e', _I),
    )


class IF_curr_delta(cells.IF_curr_delta):
    __doc__ = cells.IF_curr_delta.__doc__
    engine_model = "iaf_psc_delta"
    translations = build_translations(
        ('v_rest', 'e_l'),
        ('v_reset', 'v_reset'),
        ('cm', 'c_m', _C),
        ('tau_m', 'tau_m'),
        ('tau_refrac', 't_ref'),
        ('v_thresh', 'v_th'),
        ('i_offset', 'i_e', _I),
    )


class IF_cond_exp(cells.IF_cond_exp):
    __doc__ = cells.IF_cond_exp.__doc__
    engine_model = "iaf_cond_exp"
    receptor_types = SLOW_RECEPTOR_TYPES
    default_parameters = dict(cells.IF_cond_exp.default_parameters, tau_syn_slow=100.0, e_rev_slow=0.0)
    units = dict(cells.IF_cond_exp.units, tau_syn_slow="ms", e_rev_slow="mV")
    translations = build_translations(
        ('v_rest', 'e_l'),
        ('v_reset', 'v_reset'),
        ('cm', 'c_m', _C),
        ('tau_m', 'g_l', "%r*cm/tau_m" % _C, "c_m/g_l"),
        ('tau_refrac', 't_ref'),
        ('tau_syn_E', 'tau_syn_ex'),
        ('tau_syn_I', 'tau_syn_in'),
        ('v_thresh', 'v_th'),
        ('i_offset', 'i_e', _I),
        ('e_rev_E', 'e_ex'),
        ('e_rev_I', 'e_in'),
        ('tau_syn_slow', 'tau_syn_slow'),
        ('e_rev_slow', 'e_slow'),
    )


class EIF_cond_exp_isfa_ista(cells.EIF_cond_exp_isfa_ista):
    __doc__ = cells.EIF_cond_exp_isfa_ista.__doc__
    engine_model = "aeif_cond_exp"
    translations = build_translations(
        ('cm', 'c_m', _C),
        ('tau_refrac', 't_ref'),
        ('v_spike', 'v_peak'),
        ('v_reset', 'v_reset'),
        ('v_rest', 'e_l'),
        ('tau_m', 'g_l', "%r*cm/tau_m" % _C, "c_m/g_l"),
        ('i_offset', 'i_e', _I),
        ('a', 'a'),
        ('b', 'b', _I),
        ('delta_T', 'delta_t'),
        ('tau_w', 'tau_w'),
        ('v_thresh', 'v_th'),
        ('e_rev_E', 'e_ex'),
        ('tau_syn_E', 'tau_syn_ex'),
        ('e_rev_I', 'e_in'),
        ('tau_syn_I', 'tau_syn_in'),
    )


class Izhikevich(cells.Izhikevich):
    __doc__ = cells.Izhikevich.__doc__
    engine_model = "izhikevich"
    # As in pyNN.nest: i_offset in nA becomes I_e in pA (it enters dV/dt in
    # mV/ms, as in NEST), and a weight w becomes a jump of 1000·w mV.
    translations = build_translations(
        ('a', 'a'),
        ('b', 'b'),
        ('c', 'c'),
        ('d', 'd'),
        ('i_offset', 'i_e', _I),
    )


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    engine_model = None
    translations = build_translations(
        ('start', 'start'),
        ('rate', 'rate'),
        ('duration', 'duration'),
    )


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    engine_model = None
    translations = build_translations(
        ('spike_times', 'spike_times'),
    )


def _not_available(base, why):
    class NotAvailable(base):
        def __init__(self, *args, **kwargs):
            raise NotImplementedError("pynn_myelin: %s is not supported: %s" % (base.__name__, why))
    NotAvailable.__name__ = base.__name__
    NotAvailable.__doc__ = base.__doc__
    return NotAvailable


_no_model = ("the Myelin engine has no such neuron model (it has iaf_psc_delta, iaf_psc_exp, iaf_cond_exp, "
             "aeif_cond_exp, izhikevich)")
IF_curr_alpha = _not_available(cells.IF_curr_alpha, _no_model)
IF_cond_alpha = _not_available(cells.IF_cond_alpha, _no_model)
IF_cond_exp_gsfa_grr = _not_available(cells.IF_cond_exp_gsfa_grr, _no_model)
HH_cond_exp = _not_available(cells.HH_cond_exp, _no_model)
EIF_cond_alpha_isfa_ista = _not_available(cells.EIF_cond_alpha_isfa_ista, _no_model)


class _Source:
    """Current source bookkeeping: the cells it feeds, registered with the
    simulator state so the network build turns it into engine DC inputs."""

    def inject_into(self, cells):
        from .simulator import state
        state.add_current_source(self, cells)

    inject_into.__doc__ = electrodes.StandardCurrentSource.inject_into.__doc__

    def set_native_parameters(self, parameters):
        parameters.shape = (1,)
        parameters.evaluate(simplify=True)
        for name, value in parameters.items():
            self._native[name] = value
        from .simulator import state
        state.current_source_changed(self, list(parameters.keys()))

    def get_native_parameters(self):
        from pyNN.parameters import ParameterSpace
        return ParameterSpace(dict(self._native), self.get_schema(), (1,))

    def _init_native(self, parameters):
        object.__setattr__(self, "_native", {})
        ps = self.translate(self.parameter_space if parameters is None else parameters)
        ps.shape = (1,)
        ps.evaluate(simplify=True)
        self._native.update(ps.as_dict())

    def _get_data(self):
        raise NotImplementedError("pynn_myelin: recording the current of a current source is not supported")

    def record(self):
        raise NotImplementedError("pynn_myelin: recording the current of a current source is not supported")


class DCSource(_Source, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = build_translations(
        ('amplitude', 'amplitude', _I),
        ('start', 'start'),
        ('stop', 'stop'),
    )

    def __init__(self, **parameters):
        electrodes.DCSource.__init__(self, **parameters)
        self._init_native(None)


class StepCurrentSource(_Source, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = build_translations(
        ('amplitudes', 'amplitudes', _I),
        ('times', 'times'),
    )

    def __init__(self, **parameters):
        electrodes.StepCurrentSource.__init__(self, **parameters)
        self._init_native(None)


class ACSource(_Source, electrodes.ACSource):
    __doc__ = electrodes.ACSource.__doc__ + """
    On Myelin: the sinusoid (phase counted from `start`, as PyNN's brian2
    and neuron backends do) is held constant within each time step at its
    value at the step's start, as step-wise DC inputs; it needs a finite
    stop (at most build.MAX_SEGMENTS steps long)."""
    translations = build_translations(
        ('amplitude', 'amplitude', _I),
        ('offset', 'offset', _I),
        ('frequency', 'frequency'),
        ('phase', 'phase'),
        ('start', 'start'),
        ('stop', 'stop'),
    )

    def __init__(self, **parameters):
        electrodes.ACSource.__init__(self, **parameters)
        self._init_native(None)


class NoisyCurrentSource(_Source, electrodes.NoisyCurrentSource):
    __doc__ = electrodes.NoisyCurrentSource.__doc__ + """
    On Myelin: a new normal value every `dt` ms, drawn in Python from the
    engine seed, as step-wise DC inputs; it needs a finite stop (at most
    build.MAX_SEGMENTS intervals)."""
    translations = build_translations(
        ('mean', 'mean', _I),
        ('stdev', 'stdev', _I),
        ('dt', 'dt'),
        ('start', 'start'),
        ('stop', 'stop'),
    )

    def __init__(self, **parameters):
        electrodes.NoisyCurrentSource.__init__(self, **parameters)
        self._init_native(None)


def _check_weights(weights, projection):
    """PyNN's weight check, which knows only "excitatory" and "inhibitory";
    the slow excitatory port takes positive weights, as "excitatory" does."""
    if projection.receptor_type == "slow_excitatory":
        if not (np.asarray(weights) >= 0).all():
            raise errors.ConnectionError("Weights must be positive for the slow_excitatory receptor")
        return
    check_weights(weights, projection)


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    parameter_checks = {'weight': _check_weights}
    translations = build_translations(
        ('weight', 'weight'),
        ('delay', 'delay'),
    )

    def _get_minimum_delay(self):
        from .simulator import state
        return state.min_delay


class TsodyksMarkramSynapse(synapses.TsodyksMarkramSynapse):
    __doc__ = synapses.TsodyksMarkramSynapse.__doc__ + """
    On Myelin: the engine's short-term plasticity is NEST's tsodyks2_synapse
    (at each presynaptic spike x and then u are advanced, and the weight is
    scaled by u·x). U, tau_rec and tau_facil must be single values, the same
    for every projection between the same two populations, because the
    engine keeps the state (u, x) per presynaptic neuron. u starts at U and
    x at 1 (tsodyks2_synapse's defaults), not at PyNN's initial u = 0: the
    first spike differs only when it comes within about tau_rec or tau_facil
    of the start."""
    parameter_checks = {'weight': _check_weights}
    translations = build_translations(
        ('weight', 'weight'),
        ('delay', 'delay'),
        ('U', 'U'),
        ('tau_rec', 'tau_rec'),
        ('tau_facil', 'tau_facil'),
    )

    def _get_minimum_delay(self):
        from .simulator import state
        return state.min_delay


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__ + """
    On Myelin: the engine's STDP is NEST's stdp_synapse (pair-based, all-to-all
    traces; docs/plasticity.md). Every parameter but weight and delay must
    be one value, the same for every projection between the same two
    populations. The engine times spike pairs at the somata (the delay plays
    no part), which is dendritic_delay_fraction = 0.5 in PyNN's terms; other
    values are taken as 0.5, with a warning. The final weights are written
    to the engine's stream; Projection.get cannot read them back yet."""
    base_translations = build_translations(
        ('weight', 'weight'),
        ('delay', 'delay'),
        ('dendritic_delay_fraction', 'dendritic_delay_fraction'),
    )

    def __init__(self, timing_dependence=None, weight_dependence=None, voltage_dependence=None,
                 dendritic_delay_fraction=0.5, weight=0.0, delay=None):
        if voltage_dependence is not None:
            raise NotImplementedError("pynn_myelin: voltage-dependent STDP is not supported")
        if not isinstance(timing_dependence, SpikePairRule):
            raise NotImplementedError("pynn_myelin: STDPMechanism needs a SpikePairRule timing dependence, not %s"
                                      % type(timing_dependence).__name__)
        if not isinstance(weight_dependence, (AdditiveWeightDependence, MultiplicativeWeightDependence,
                                              AdditivePotentiationMultiplicativeDepression)):
            raise NotImplementedError(
                "pynn_myelin: STDPMechanism needs an Additive, Multiplicative or "
                "AdditivePotentiationMultiplicativeDepression weight dependence, not %s" % type(weight_dependence).__name__)
        if dendritic_delay_fraction != 0.5:
            import warnings
            warnings.warn("pynn_myelin: dendritic_delay_fraction %r is taken as 0.5: the engine times spike pairs "
                          "at the somata" % (dendritic_delay_fraction,))
        synapses.STDPMechanism.__init__(self, timing_dependence, weight_dependence, voltage_dependence,
                                        dendritic_delay_fraction, weight, delay)

    def _get_minimum_delay(self):
        from .simulator import state
        return state.min_delay


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__ + """
    On Myelin: A_plus is the engine's lambda and A_minus / A_plus its alpha
    (as pyNN.nest maps them onto stdp_synapse)."""
    translations = build_translations(
        ('tau_plus', 'tau_plus'),
        ('tau_minus', 'tau_minus'),
        ('A_plus', 'A_plus'),
        ('A_minus', 'A_minus'),
    )
    possible_models = set(['stdp'])


class _WeightDependence:
    """The engine's weight dependence: w_min must be 0 (weights lie in
    [0, w_max]); mu_plus and mu_minus are the Gütig exponents, 0 or 1."""
    possible_models = set(['stdp'])

    def __init__(self, w_min=0.0, w_max=1.0):
        if w_min != 0:
            raise NotImplementedError("pynn_myelin: w_min = %r: the engine's STDP weights lie in [0, w_max]" % (w_min,))
        super().__init__(w_min, w_max)


class AdditiveWeightDependence(_WeightDependence, synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = build_translations(('w_max', 'w_max'), ('w_min', 'w_min'))
    mu = (0.0, 0.0)


class MultiplicativeWeightDependence(_WeightDependence, synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = build_translations(('w_max', 'w_max'), ('w_min', 'w_min'))
    mu = (1.0, 1.0)


class AdditivePotentiationMultiplicativeDepression(_WeightDependence,
                                                   synapses.AdditivePotentiationMultiplicativeDepression):
    __doc__ = synapses.AdditivePotentiationMultiplicativeDepression.__doc__
    translations = build_translations(('w_max', 'w_max'), ('w_min', 'w_min'))
    mu = (0.0, 1.0)


GutigWeightDependence = _not_available(
    synapses.GutigWeightDependence,
    "the engine's STDP takes mu_plus and mu_minus of 0 or 1 only: use AdditiveWeightDependence, "
    "MultiplicativeWeightDependence or AdditivePotentiationMultiplicativeDepression")
