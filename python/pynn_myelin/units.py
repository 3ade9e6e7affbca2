"""Unit conversion between PyNN and the Myelin engine: the one place.

PyNN's standard units are mV, ms, nA, nF and µS; the engine follows NEST
(mV, ms, pA, pF, nS, Hz). Every value that crosses between the two passes
through the functions and tables here.
"""

import math

#: PyNN nF -> engine pF.
CAPACITANCE = 1000.0
#: PyNN nA -> engine pA.
CURRENT = 1000.0
#: PyNN µS -> engine nS.
CONDUCTANCE = 1000.0

#: Scale of a synaptic weight onto each engine model: nA -> pA for
#: current-based exponential synapses, µS -> nS for conductance-based ones,
#: and mV (already the engine's unit) for delta synapses.
WEIGHT_SCALE = {
    "iaf_psc_exp": CURRENT,
    "iaf_cond_exp": CONDUCTANCE,
    "iaf_psc_delta": 1.0,
    "aeif_cond_exp": CONDUCTANCE,
    "izhikevich": CURRENT,  # as pyNN.nest: nA -> a jump of 1000·w mV
}


def weight_scale(engine_model):
    """Factor taking a PyNN weight onto `engine_model` to engine units."""
    try:
        return WEIGHT_SCALE[engine_model]
    except KeyError:
        raise NotImplementedError(
            "pynn_myelin has no weight units for engine model %r" % engine_model)


def g_leak(cm_nf, tau_m_ms):
    """Leak conductance in nS of a membrane with capacitance cm (nF) and
    time constant tau_m (ms): g = C/tau."""
    return CAPACITANCE * cm_nf / tau_m_ms


def tau_m(c_m_pf, g_l_ns):
    """Membrane time constant in ms from C_m (pF) and g_L (nS)."""
    return c_m_pf / g_l_ns


def scale_distribution(name, params, k):
    """Scale a PyNN RandomDistribution's parameters by k > 0 (the
    distribution of k·X). Returns the new parameter dict."""
    p = dict(params)
    if name == "uniform":
        p["low"], p["high"] = p["low"] * k, p["high"] * k
    elif name in ("normal", "normal_clipped"):
        p["mu"], p["sigma"] = p["mu"] * k, p["sigma"] * k
        if name == "normal_clipped":
            p["low"], p["high"] = p["low"] * k, p["high"] * k
    elif name == "lognormal":
        p["mu"] = p["mu"] + math.log(k)
    else:
        raise NotImplementedError("RandomDistribution %r cannot be scaled" % name)
    return p
