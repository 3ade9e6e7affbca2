"""Population, PopulationView and Assembly of pynn_myelin. Parameters are
kept here in engine units; the network build reads them."""

import numpy as np

from pyNN import common, errors
from pyNN.parameters import ParameterSpace, simplify
from pyNN.standardmodels import StandardCellType

from . import simulator
from .recording import Recorder

#: The most neurons a network may have (spec.MaxNeurons of the engine).
MAX_NEURONS = 1 << 31


class Assembly(common.Assembly):
    __doc__ = common.Assembly.__doc__
    _simulator = simulator

    @property
    def receptor_types(self):
        """The receptor types common to all populations of the assembly, in
        the order of the first population's cell type. (PyNN's own returns
        a set, whose order changes with the process's string hashing, so a
        Projection onto an assembly without a receptor_type would sometimes
        be inhibitory and refuse a positive weight.)"""
        first = list(self.populations[0].celltype.receptor_types)
        shared = set(first).intersection(*(set(p.celltype.receptor_types) for p in self.populations[1:]))
        return [r for r in first if r in shared]


class PopulationView(common.PopulationView):
    __doc__ = common.PopulationView.__doc__
    _assembly_class = Assembly
    _simulator = simulator

    def _get_parameters(self, *names):
        parameter_dict = {}
        for name in names:
            value = self.parent._parameters[name]
            if isinstance(value, np.ndarray):
                value = value[self.mask]
            parameter_dict[name] = simplify(value)
        return ParameterSpace(parameter_dict, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        names = list(parameter_space.keys())
        parameter_space.evaluate(simplify=False)
        for name, value in parameter_space.items():
            arr = self.parent._parameters[name]
            try:
                arr[self.mask] = value
            except (ValueError, TypeError):
                raise errors.InvalidParameterValueError(f"{name} should not be of type {type(value)}")
        simulator.state.parameters_changed(self.parent, names)

    def _set_initial_value_array(self, variable, initial_values):
        if self.size != self.parent.size:
            raise NotImplementedError(
                "pynn_myelin: initialize() on part of a population is not supported; "
                "the engine draws initial values per population")
        self.parent._set_initial_value_array(variable, initial_values)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def _create_cells(self):
        st = simulator.state
        st.check_structure("creating a Population")
        if not 1 <= self.size <= MAX_NEURONS - st.id_counter:
            raise ValueError("pynn_myelin: Population size %d: want 1 to %d (the engine holds at most %d neurons, "
                             "%d of them in populations so far)"
                             % (self.size, max(1, MAX_NEURONS - st.id_counter), MAX_NEURONS, st.id_counter))
        self._generation = st.generation
        self.all_cells = np.array([simulator.ID(i) for i in range(st.id_counter, st.id_counter + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones(self.size, dtype=bool)
        if not isinstance(self.celltype, StandardCellType):
            raise NotImplementedError("pynn_myelin supports standard cell types only, not %r" % self.celltype)
        if not hasattr(self.celltype, "engine_model"):
            # PyNN's abstract cell types, or another simulator's.
            kind = type(self.celltype)
            raise TypeError("pynn_myelin: cell type %s.%s is not one of pynn_myelin's; use pynn_myelin.%s"
                            % (kind.__module__, kind.__name__, kind.__name__))
        ps = self.celltype.native_parameters
        ps.shape = (self.size,)
        ps.evaluate(mask=self._mask_local, simplify=False)
        self._parameters = ps.as_dict()
        for id in self.all_cells:
            id.parent = self
        st.id_counter += self.size
        st.add_population(self)

    def _set_initial_value_array(self, variable, initial_values):
        simulator.state.initial_values_changed(self)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def _get_parameters(self, *names):
        return ParameterSpace({name: simplify(self._parameters[name]) for name in names},
                              shape=(self.local_size,))

    def _set_parameters(self, parameter_space):
        names = list(parameter_space.keys())
        parameter_space.evaluate(simplify=False, mask=self._mask_local)
        for name, value in parameter_space.items():
            self._parameters[name] = value
        simulator.state.parameters_changed(self, names)
