"""Simulator state of pynn_myelin: the network being described, the engine
session (`myelin serve`) that runs it, and the routing of recorded data and
between-run changes to the engine."""

import math

import numpy as np
from pyNN import common

from . import client as _client

name = "Myelin"


class ID(int, common.IDMixin):
    """A cell's id: its global index in creation order."""

    def __init__(self, n):
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Everything pynn_myelin knows about the current simulation."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = 0.1
        self.max_delay = 10.0
        self.backend = "cpu"
        self.threads = 0
        self.seed = 0
        self.max_reply_bytes = 0  # the engine's default
        self.client = None
        self.segment_counter = -1
        self.generation = 0
        self.clear()

    # ---- network registry ----

    def clear(self):
        """Forget the network (setup() and end())."""
        self.generation += 1  # populations made before belong to no network now
        self.recorders = set()
        self.id_counter = 0
        self.populations = []
        self.projections = []
        self.current_sources = []  # (source, cells)
        self.layout = None  # build.Layout of the loaded network
        self.loaded = False
        self.dirty = True
        self.lost = False  # the engine dropped the network mid-simulation
        self.segment_counter = -1
        self.reset_state()

    def check_member(self, obj, what):
        """Raise unless obj (a Population, PopulationView, Assembly, ID or
        list of IDs) belongs to the network being described now, not to one
        before the last setup() or to another simulator."""
        from .populations import Population, PopulationView, Assembly
        if isinstance(obj, Assembly):
            for p in obj.populations:
                self.check_member(p, what)
        elif isinstance(obj, PopulationView):
            self.check_member(obj.grandparent if hasattr(obj, "grandparent") else obj.parent, what)
        elif isinstance(obj, Population):
            if getattr(obj, "_generation", None) != self.generation:
                raise ValueError("pynn_myelin: %s: population %r was created before the last setup() and is not "
                                 "part of this network; create it again" % (what, obj.label))
        elif isinstance(obj, ID):
            if getattr(obj, "parent", None) is not None:
                self.check_member(obj.parent, what)
        elif isinstance(obj, (list, tuple, np.ndarray)):
            parents = {}
            for x in obj:
                if not isinstance(x, (int, np.integer)):
                    raise TypeError("pynn_myelin: %s: %r is not a cell of a pynn_myelin population" % (what, x))
                p = getattr(x, "parent", None)
                parents[id(p)] = p
            for p in parents.values():
                if p is not None:
                    self.check_member(p, what)
        elif not isinstance(obj, (int, np.integer)):
            raise TypeError("pynn_myelin: %s: %r is not a pynn_myelin population (one of another simulator?)"
                            % (what, obj))

    def check_structure(self, what):
        """Raise if the network's structure cannot change now."""
        if self.loaded and self.t > 0:
            raise NotImplementedError(
                "pynn_myelin: %s after the simulation has started is not supported; "
                "call reset() first" % what)

    def _structure_changed(self, what):
        self.check_structure(what)
        self.dirty = True

    def add_population(self, pop):
        self._structure_changed("creating a Population")
        self.populations.append(pop)

    def add_projection(self, prj):
        self._structure_changed("creating a Projection")
        self.projections.append(prj)

    def add_current_source(self, source, cells):
        self.check_member(cells, "injecting a current source")
        self._structure_changed("injecting a current source")
        self.current_sources.append((source, cells))

    def recording_changed(self):
        self._structure_changed("changing what is recorded")

    def initial_values_changed(self, pop):
        self.check_member(pop, "initialize()")
        if self.loaded and self.t > 0:
            raise NotImplementedError(
                "pynn_myelin: initialize() during a simulation is not supported; call reset() first")
        self.dirty = True

    def parameters_changed(self, pop, names):
        """Population parameters changed: at t = 0 rebuild before the next
        run; during a simulation send them to the engine."""
        self.check_member(pop, "setting parameters")
        if not self.loaded or self.dirty or self.t == 0:
            self.dirty = True
            return
        self.layout.update_population(self.client, pop, names)

    def current_source_changed(self, source, names):
        if not self.loaded or self.dirty or self.t == 0:
            self.dirty = True
            return
        self.layout.update_current_source(self.client, source, names)

    def synapse_count(self, prj):
        """Connections of a projection the engine drew, or None if unknown."""
        if self.layout is None or self.dirty:
            return None
        return self.layout.synapse_count(prj)

    # ---- running ----

    def ensure_loaded(self):
        """Build the spec and load it into the engine if anything changed."""
        if self.loaded and not self.dirty:
            return
        from . import build
        layout = build.Layout(self)
        if self.client is not None and not self.client.alive:
            self._drop_engine()
        if self.client is None:
            self.client = _client.Client(backend=self.backend)
        layout.loaded = self.client.load(layout.network, backend=self.backend, threads=self.threads)
        layout.bind()
        self.layout = layout
        self.loaded, self.dirty = True, False

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        if not math.isfinite(tstop):
            raise ValueError("run until %r ms: the time must be a finite number of ms" % (tstop,))
        if self.lost:
            raise _client.EngineError(
                "the engine lost the simulation at t = %g ms (see the error before); call reset() to start again"
                % self.t)
        self.ensure_loaded()
        target = int(round(tstop / self.dt))
        now = int(round(self.t / self.dt))
        try:
            if target > now:
                # The engine bounds each reply (max_reply_bytes): a long run
                # comes in pieces, each kept as it arrives.
                for ran in self.client.run_through((target - now) * self.dt, self.max_reply_bytes):
                    self.t = ran.time_ms
                    self.layout.distribute(ran.data)
                    self.running = True
            else:
                self.layout.distribute(self.client.read())
        except (_client.EngineError, KeyboardInterrupt) as err:
            rep = getattr(err, "reply", None)
            if rep is not None and rep.HasField("ran"):
                # Cut short by Ctrl-C: keep what ran.
                self.t = rep.ran.time_ms
                self.layout.distribute(rep.ran.data)
                self.running = True
            if "unloaded" in str(err) or not self.client.alive:
                self.loaded, self.dirty, self.lost = False, True, self.t > 0
            raise
        self.running = True

    def reset_state(self):
        self.running = False
        self.t = 0.0
        self.t_start = 0
        self.segment_counter += 1

    def reset(self):
        """Back to t = 0 (PyNN's reset, after the recorders stored their
        segment)."""
        self.reset_state()
        self.lost = False
        for r in self.recorders:
            r._restart()
        if self.client is not None and not self.client.alive:
            self._drop_engine()  # the next run starts a new one
        if self.loaded and not self.dirty:
            self.client.reset()

    def _drop_engine(self):
        """Let go of an engine process that ended."""
        self.client.close()
        self.client = None
        self.loaded, self.dirty = False, True

    def end(self):
        if self.client is not None:
            self.client.close()
            self.client = None
        self.loaded = False
        self.dirty = True


state = State()
