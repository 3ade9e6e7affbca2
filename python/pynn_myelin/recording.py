"""Recorder of pynn_myelin: keeps the spikes and samples the engine returns
after each run, per population, until PyNN asks for them."""

import math

import numpy as np

from pyNN import recording

from . import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        recording.Recorder.__init__(self, population, file)
        self._v_first, self._v_every, self._v_initial, self._v_start = 0, 1, None, None
        self._clear_simulator()

    def _record(self, variable, new_ids, sampling_interval=None):
        self._simulator.state.check_member(self.population, "recording")
        if variable not in ("spikes", "v"):
            raise NotImplementedError(
                "pynn_myelin: recording %r is not supported; the engine samples the membrane "
                "potential ('v') and spikes only" % variable)
        if sampling_interval is not None:
            steps = sampling_interval / self._simulator.state.dt
            if not math.isfinite(steps) or abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
                raise ValueError("sampling_interval %g ms is not a whole number (>= 1) of time steps (%g ms)"
                                 % (sampling_interval, self._simulator.state.dt))
            self.sampling_interval = sampling_interval
        if new_ids:
            self._simulator.state.recording_changed()

    # Data arriving from the engine (build.Layout.distribute). The engine
    # samples v after every step, so the sample after step s is v at time
    # (s+1)·dt; with the value at t = 0 in front, row k is v at k·dt, and
    # every `every`-th row is kept: v at 0, interval, 2·interval, ... as
    # PyNN's other backends report it.
    def _set_probe(self, first_index, every, initial):
        self._v_first, self._v_every = first_index, every
        self._v_initial = initial
        self._v_start = initial  # (re)loads happen at t = 0 only

    def _add_spikes(self, ids, times):
        self._spike_ids.append(ids)
        self._spike_times.append(times)

    def _add_samples(self, rows):
        self._v_rows.append(rows)

    def _spikes(self):
        if not self._spike_ids:
            return np.zeros(0, dtype=int), np.zeros(0)
        return np.concatenate(self._spike_ids), np.concatenate(self._spike_times)

    def _get_spiketimes(self, ids, clear=False):
        all_ids, times = self._spikes()
        wanted = np.fromiter((int(i) for i in ids), dtype=int, count=len(ids))
        mask = np.isin(all_ids, wanted)
        return all_ids[mask].copy(), times[mask].astype(float)

    def _get_all_signals(self, variable, ids, clear=False):
        if variable != "v":
            raise NotImplementedError("pynn_myelin: no samples of %r" % variable)
        if self._v_start is None:
            return np.zeros((0, len(ids))), None
        rows = np.concatenate([self._v_start[np.newaxis, :]] + self._v_rows, axis=0)[::self._v_every]
        cols = [self.population.id_to_index(int(i)) - self._v_first for i in ids]
        return rows[:, cols].astype(float), None

    def _local_count(self, variable, filter_ids=None):
        if variable != "spikes":
            raise Exception("Only implemented for spikes")
        all_ids, _ = self._spikes()
        counts = {}
        recorded = sorted(self.filter_recorded(variable, filter_ids))
        if recorded:
            uniq, n = np.unique(all_ids, return_counts=True)
            have = dict(zip(uniq.tolist(), n.tolist()))
            for id in recorded:
                counts[int(id)] = have.get(int(id), 0)
        return counts

    def _clear_simulator(self):
        """Forget the data read so far; v goes on from the last sample."""
        self._spike_ids, self._spike_times = [], []
        rows = getattr(self, "_v_rows", [])
        self._v_start = rows[-1][-1] if rows else getattr(self, "_v_start", None)
        self._v_rows = []

    def _restart(self):
        """Back to t = 0: v starts again from its initial values."""
        self._clear_simulator()
        self._v_start = getattr(self, "_v_initial", None)

    def _reset(self):
        self._clear_simulator()
        self._simulator.state.recording_changed()
