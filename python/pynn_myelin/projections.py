"""Projection of pynn_myelin. Connectors that the engine implements itself
(all-to-all, one-to-one, fixed probability, fixed number pre/post) between
whole populations, with constant or supported random weights and delays, are
handed to the engine as rules: it draws the connectivity from its seed.
Every other connector runs PyNN's own algorithm here and is sent as an
explicit list."""


import numpy as np

from pyNN import common, connectors, random
from pyNN.space import Space

from . import simulator
from .standardmodels import StaticSynapse, STDPMechanism, TsodyksMarkramSynapse

#: Connectors the engine draws itself (pre and post whole populations).
ENGINE_RULES = (connectors.AllToAllConnector, connectors.OneToOneConnector,
                connectors.FixedProbabilityConnector, connectors.FixedNumberPreConnector,
                connectors.FixedNumberPostConnector)

#: RandomDistribution names the engine draws itself.
ENGINE_DISTRIBUTIONS = ("uniform", "normal", "normal_clipped", "lognormal")


def engine_value(v):
    """True if a weight/delay value can go to the engine as a distribution."""
    if isinstance(v, random.RandomDistribution):
        return v.name in ENGINE_DISTRIBUTIONS
    return np.isscalar(v) or v is None


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    def __init__(self, presynaptic_population, postsynaptic_population,
                 connector, synapse_type=None, source=None, receptor_type=None,
                 space=Space(), label=None):
        simulator.state.check_structure("creating a Projection")
        for p in (presynaptic_population, postsynaptic_population):
            simulator.state.check_member(p, "creating a Projection")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population,
                                   connector, synapse_type, source, receptor_type,
                                   space, label)
        if not isinstance(self.synapse_type, (StaticSynapse, TsodyksMarkramSynapse, STDPMechanism)):
            raise NotImplementedError(
                "pynn_myelin: only StaticSynapse, TsodyksMarkramSynapse and STDPMechanism are supported, not %s"
                % type(self.synapse_type).__name__)
        if isinstance(self.synapse_type, STDPMechanism):
            for name in ("tau_plus", "tau_minus", "A_plus", "A_minus", "w_max", "w_min"):
                la = self.synapse_type.parameter_space[name]
                if la.operations or not np.isscalar(la.base_value):
                    raise NotImplementedError(
                        "pynn_myelin: STDPMechanism %s must be one value for the whole projection "
                        "(the engine keeps one STDP parameter set per pair of populations)" % name)
            ps = self.synapse_type.parameter_space
            if float(ps["A_plus"].base_value) == 0 and float(ps["A_minus"].base_value) != 0:
                # The engine's depression is alpha * lambda with lambda = A_plus.
                raise NotImplementedError(
                    "pynn_myelin: STDPMechanism A_plus = 0 with A_minus = %g: depression alone is not supported "
                    "(the engine scales depression by A_plus, as NEST's stdp_synapse does)" % float(ps["A_minus"].base_value))
        if isinstance(self.synapse_type, TsodyksMarkramSynapse):
            for name in ("U", "tau_rec", "tau_facil"):
                la = self.synapse_type.parameter_space[name]
                if la.operations or not np.isscalar(la.base_value):
                    raise NotImplementedError(
                        "pynn_myelin: TsodyksMarkramSynapse %s must be one value for the whole projection "
                        "(the engine keeps short-term plasticity state per presynaptic neuron)" % name)
        if receptor_type not in (None, "default", "excitatory", "inhibitory", "slow_excitatory"):
            raise NotImplementedError("pynn_myelin: receptor_type %r is not supported" % receptor_type)
        self._explicit = None  # (pre indices, post indices, {name: values})
        if not self.engine_rule():
            self._connect_here()
        simulator.state.add_projection(self)

    def engine_rule(self):
        """True if the engine draws this projection's connectivity."""
        from .populations import Population
        if not isinstance(self._connector, ENGINE_RULES):
            return False
        if not (isinstance(self.pre, Population) and isinstance(self.post, Population)):
            return False
        if getattr(self._connector, "allow_self_connections", True) not in (True, False):
            return False  # e.g. 'NoMutual': PyNN's own algorithm
        params = self.synapse_type.parameter_space
        for name in ("weight", "delay"):
            if not engine_value(params[name].base_value) or params[name].operations:
                return False
        if isinstance(self._connector, connectors.FixedNumberPreConnector):
            if not np.isscalar(self._connector.n) or isinstance(self._connector.n, random.RandomDistribution):
                return False
        if isinstance(self._connector, connectors.FixedNumberPostConnector):
            if not np.isscalar(self._connector.n):
                return False
        if isinstance(self._connector, connectors.FixedProbabilityConnector):
            if not np.isscalar(self._connector.p_connect):
                return False
        return True

    def _connect_here(self):
        self._pre_idx, self._post_idx, self._attrs = [], [], {}
        self._connector.connect(self)
        pre = np.concatenate(self._pre_idx) if self._pre_idx else np.zeros(0, dtype=int)
        post = np.concatenate(self._post_idx) if self._post_idx else np.zeros(0, dtype=int)
        attrs = {k: np.concatenate(v) for k, v in self._attrs.items()}
        self._explicit = (pre, post, attrs)
        del self._pre_idx, self._post_idx, self._attrs

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, **connection_parameters):
        pre = np.asarray(presynaptic_indices, dtype=int)
        self._pre_idx.append(pre)
        self._post_idx.append(np.full(pre.size, postsynaptic_index, dtype=int))
        for name, value in connection_parameters.items():
            v = np.broadcast_to(np.asarray(value, dtype=float), pre.shape).copy()
            self._attrs.setdefault(name, []).append(v)

    def __len__(self):
        if self._explicit is not None:
            return int(self._explicit[0].size)
        st = simulator.state
        n = st.synapse_count(self)
        if n is None and st.t == 0 and (st.dirty or not st.loaded):
            # Drawn by the engine: build the network as it is now to count
            # them (connectivity depends only on the seed and the
            # projection's place, so a later rebuild draws the same).
            st.ensure_loaded()
            n = st.synapse_count(self)
        if n is None:
            raise NotImplementedError(
                "pynn_myelin: the number of connections of %s drawn by the engine is known only "
                "when no other projection links the same populations through the same receptor"
                % self.label)
        return n

    def set(self, **attributes):
        raise NotImplementedError("pynn_myelin: changing synaptic parameters is not supported")

    def _explicit_or_raise(self):
        if self._explicit is None:
            raise NotImplementedError(
                "pynn_myelin: the connections of %s were drawn by the engine and cannot be read "
                "back; use FromListConnector (or another connector the engine does not draw) "
                "to inspect them" % self.label)
        return self._explicit

    def _no_learned_weights(self, names):
        if isinstance(self.synapse_type, STDPMechanism) and any(n in ("weight", "weights") for n in names):
            raise NotImplementedError(
                "pynn_myelin: the weights of %s change under STDP; the engine writes the final ones to its "
                "stream (docs/plasticity.md) but cannot hand them back to PyNN yet" % self.label)

    def _get_attributes_as_arrays(self, names, multiple_synapses='sum'):
        self._no_learned_weights(names)
        pre, post, attrs = self._explicit_or_raise()
        op = common.Projection.MULTI_SYNAPSE_OPERATIONS[multiple_synapses]
        out = []
        for name in names:
            if name.endswith("s"):
                name = name[:-1]
            if name not in attrs:
                raise NotImplementedError("pynn_myelin: connection attribute %r" % name)
            m = np.full((self.pre.size, self.post.size), np.nan)
            for i, j, v in zip(pre, post, attrs[name]):
                m[i, j] = v if np.isnan(m[i, j]) else op(m[i, j], v)
            out.append(m)
        return out

    def _get_attributes_as_list(self, names):
        self._no_learned_weights(names)
        pre, post, attrs = self._explicit_or_raise()
        cols = []
        for name in names:
            if name == "presynaptic_index":
                cols.append(pre)
            elif name == "postsynaptic_index":
                cols.append(post)
            elif name in attrs:
                cols.append(attrs[name])
            else:
                raise NotImplementedError("pynn_myelin: connection attribute %r" % name)
        return list(zip(*cols))
