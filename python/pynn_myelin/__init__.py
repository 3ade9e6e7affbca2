"""pynn_myelin: a PyNN 0.10 backend on the Myelin engine.

    import pynn_myelin as sim
    sim.setup(timestep=0.1, backend="cpu")   # or backend="cuda"
    ...

The network is described through the PyNN API in this process; on the first
run() it becomes a Myelin spec that a long-lived `myelin serve` process
builds and runs. Later run() calls continue the same simulation; reset()
returns it to t = 0; parameter, Poisson-rate and DC-amplitude changes between
runs are sent to the engine. What the engine cannot do raises
NotImplementedError naming the feature. See python/README.md.
"""

import logging
import os

from pyNN import common
from pyNN.common.control import DEFAULT_MAX_DELAY, DEFAULT_TIMESTEP, DEFAULT_MIN_DELAY
from pyNN.connectors import *  # noqa: F401,F403
from pyNN.recording import *  # noqa: F401,F403
from pyNN.random import NumpyRNG, GSLRNG, RandomDistribution  # noqa: F401
from pyNN.space import Space, Grid2D, Grid3D, Line, RandomStructure, Sphere, Cuboid  # noqa: F401
from neo.io import get_io

from . import simulator
from .standardmodels import *  # noqa: F401,F403
from .standardmodels import StaticSynapse
from pyNN.standardmodels import StandardCellType
from .populations import Population, PopulationView, Assembly  # noqa: F401
from .projections import Projection
from .units import *  # noqa: F401,F403
from . import client as _client
from .client import EngineError  # noqa: F401

logger = logging.getLogger("PyNN")


def list_standard_models():
    """Return a list of all the StandardCellType classes available for this simulator."""
    out = []
    for obj in globals().values():
        if isinstance(obj, type) and issubclass(obj, StandardCellType) and obj is not StandardCellType:
            try:
                obj()
            except NotImplementedError:
                continue
            except Exception:
                pass
            out.append(obj.__name__)
    return out


#: The most CPU threads setup() takes (the limit of `myelin run --threads`).
MAX_THREADS = 1 << 16


def _whole(name, value, top):
    """A setup() parameter that must be a whole number from 0 to top."""
    try:
        n = int(value)
        ok = n == float(value) and 0 <= n <= top
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError("setup(%s=%r): want a whole number from 0 to %d" % (name, value, top))
    return n


def setup(timestep=DEFAULT_TIMESTEP, min_delay=DEFAULT_MIN_DELAY, **extra_params):
    """Start a simulation: forget any earlier network.

    Extra parameters: backend ('cpu', the default, or 'cuda'), threads (CPU
    threads, default all cores; PyNN's 'threads' setting maps onto it),
    seed (the engine's seed of connectivity, initial values and Poisson
    inputs; default $MYELIN_SEED, else 0), max_reply_bytes (the most
    recorded data, in bytes as sent, that one reply of the engine carries:
    a longer run() comes in several replies, which is invisible here but
    bounds the engine's memory; default 0, the engine's 256 MiB, at most
    1 GiB), max_delay.
    """
    max_delay = extra_params.get("max_delay", DEFAULT_MAX_DELAY)
    common.setup(timestep, min_delay, **extra_params)
    st = simulator.state
    if st.client is not None:
        st.end()
    st.clear()
    st.dt = timestep
    st.min_delay = timestep if min_delay == "auto" else min_delay
    st.max_delay = max_delay if max_delay != "auto" else 10.0
    backend = extra_params.get("backend", "cpu")
    if backend not in ("cpu", "cuda"):
        raise ValueError("backend %r: want 'cpu' or 'cuda'" % backend)
    st.backend = backend
    st.threads = _whole("threads", extra_params.get("threads", 0) or 0, MAX_THREADS)
    st.seed = _whole("seed", extra_params.get("seed", os.environ.get("MYELIN_SEED", 0)) or 0, 2**64 - 1)
    st.max_reply_bytes = _whole("max_reply_bytes", extra_params.get("max_reply_bytes", 0) or 0,
                                _client.MAX_REPLY_BYTES)
    if extra_params.get("rank", 0) != 0 or extra_params.get("num_processes", 1) != 1:
        raise NotImplementedError("pynn_myelin runs in one process (no MPI)")
    return rank()


def end(compatible_output=True):
    """Write data requested with write_on_end, stop the engine."""
    for (population, variables, filename) in simulator.state.write_on_end:
        io = get_io(filename)
        population.write_data(io, variables)
    simulator.state.write_on_end = []
    simulator.state.end()


run, run_until = common.build_run(simulator)
run_for = run

reset = common.build_reset(simulator)

initialize = common.initialize

get_current_time, get_time_step, get_min_delay, get_max_delay, \
    num_processes, rank = common.build_state_queries(simulator)

create = common.build_create(Population)

connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)  # noqa: F405

record = common.build_record(simulator)


def record_v(source, filename):
    return record(['v'], source, filename)


def record_gsyn(source, filename):
    raise NotImplementedError("pynn_myelin: recording gsyn is not supported (the engine samples v only)")
