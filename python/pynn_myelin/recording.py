"""Recorder of pynn_myelin: keeps the spikes and samples the engine returns
after each run, per population, until PyNN asks for them."""

import numpy as np

from pyNN import recording

from . import simulator


class Recorder(recording.Recorder):
    _simulator = simulator

    def __init__(self, population, file=None):
        recording.Recorder.__init__(self, population, file)
        self._clear_simulator()

    def _record(self, variable, new_ids, sampling_interval=None):
        if variable not in ("spikes", "v"):
            raise NotImplementedError(
                "pynn_myelin: recording %r is not supported; the engine samples the membrane "
                "potential ('v') and spikes only" % variable)
        if sampling_interval is not None:
            steps = sampling_interval / self._simulator.state.dt
            if abs(steps - round(steps)) > 1e-9 or round(steps) < 1:
                raise ValueError("sampling_interval %g ms is not a whole number of time steps (%g ms)"
                                 % (sampling_interval, self._simulator.state.dt))
            self.sampling_interval = sampling_interval
        if new_ids:
            self._simulator.state.recording_changed()

    # Data arriving from the engine (build.Layout.distribute).
    def _add_spikes(self, ids, times):
        self._spike_ids.append(ids)
        self._spike_times.append(times)

    def _add_samples(self, first_index, rows):
        self._v_first = first_index
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
        if not self._v_rows:
            return np.zeros((0, len(ids))), None
        rows = np.concatenate(self._v_rows, axis=0)
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
        self._spike_ids, self._spike_times = [], []
        self._v_rows = []
        self._v_first = 0

    def _reset(self):
        self._clear_simulator()
        self._simulator.state.recording_changed()
