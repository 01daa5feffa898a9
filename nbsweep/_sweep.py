"""``nbsweep.Sweep``: a stored sweep, reopened by id (also after a kernel restart)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from nbsweep.config import SweepConfig
from nbsweep.controller import crash_grace_s, sweep_space
from nbsweep.run._stored import StoredRun
from nbsweep.space import Space
from nbsweep.store import SQLiteStore, SweepRecord, open_store

__all__ = ["Sweep", "SweepStateError"]

StoreArg = str | os.PathLike[str] | SQLiteStore | None


def check_sweep_id(sweep_id: object) -> None:
    """Refuse what is not a sweep id, with the likely mix-up named."""
    if isinstance(sweep_id, str) and not sweep_id.endswith((".yaml", ".yml")):
        return
    if isinstance(sweep_id, str | os.PathLike | dict):
        raise TypeError(
            f"expected a sweep id, got {sweep_id!r:.60}; create the sweep first: "
            "sweep_id = nbsweep.sweep(config), then pass sweep_id"
        )
    raise TypeError(f"expected a sweep id (a string from nbsweep.sweep), got {sweep_id!r:.60}")


class SweepStateError(RuntimeError):
    """A state change that the sweep's current state does not allow."""


# Which states each action may start from, as W&B's CLI allows them.
_TRANSITIONS = {
    "pause": ("PAUSED", ("RUNNING", "PAUSED"), "Cannot pause {state} sweep."),
    "resume": ("RUNNING", ("RUNNING", "PAUSED", "FINISHED", "CANCELED"), ""),
    "stop": ("FINISHED", ("RUNNING", "PAUSED"), "Sweep already {state}."),
    "cancel": ("CANCELED", ("RUNNING", "PAUSED"), "Sweep already {state}."),
}


class Sweep:
    """A sweep in the store, with its runs, best run, views and state controls.

    Everything is read from the store when asked for, so the same object follows runs that
    other agents (threads, processes) add.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> store = os.path.join(tempfile.mkdtemp(), "nbsweep.db")
    >>> sweep_id = nbsweep.sweep({"method": "grid", "metric": {"name": "y", "goal": "maximize"},
    ...                           "parameters": {"x": {"values": [1, 2, 3]}}}, store=store)
    >>> def train():
    ...     run = nbsweep.init()
    ...     run.log({"y": -(run.config.x - 2) ** 2})
    >>> _ = nbsweep.agent(sweep_id, function=train, store=store, verbose=False)
    >>> sweep = nbsweep.Sweep(sweep_id, store=store)
    >>> sweep.state, len(sweep.runs), sweep.best_run.config
    ('FINISHED', 3, {'x': 2})
    """

    def __init__(self, sweep_id: str, *, store: StoreArg = None) -> None:
        check_sweep_id(sweep_id)
        self.store = open_store(store, create=False)
        self.id = sweep_id
        self._record = self.store.get_sweep(sweep_id)
        self.config: SweepConfig
        self.space: Space
        self.config, self.space = sweep_space(self.store, self._record)

    def __repr__(self) -> str:
        return f"<nbsweep.Sweep {self.id} {self.config.method} {self.state}>"

    @property
    def record(self) -> SweepRecord:
        """A fresh read of the sweep's stored row."""
        return self.store.get_sweep(self.id)

    @property
    def name(self) -> str | None:
        """The sweep's name, if it has one."""
        return self._record.name

    @property
    def state(self) -> str:
        """``RUNNING``, ``PAUSED``, ``FINISHED`` or ``CANCELED``."""
        return self.record.state

    @property
    def state_reason(self) -> str | None:
        """Why the sweep is in its state (run_cap reached, grid exhausted, ...)."""
        return self.record.state_reason

    @property
    def seed(self) -> int:
        """The seed of its random and bayes proposals."""
        return self._record.seed

    @property
    def runs(self) -> list[StoredRun]:
        """Every run of the sweep in claim order, read now.

        Runs left ``running`` by an agent that is gone (a restarted kernel, a killed
        process) are marked ``crashed`` first.
        """
        self.store.mark_crashed_if_any(self.id, grace_s=crash_grace_s())
        return [StoredRun(self.store, r) for r in self.store.sweep_runs(self.id)]

    def _records(self) -> list[Any]:
        return [run.record for run in self.runs]

    @property
    def best_run(self) -> StoredRun | None:
        """The finished run with the best metric (NaN and failed runs never count)."""
        from nbsweep.analysis import best_run

        runs = self.runs
        best = best_run([r.record for r in runs], self.config.goal)
        return next((r for r in runs if best is not None and r.id == best.id), None)

    def table(self) -> Any:
        """The runs as a table (``.rows``, ``.to_csv()``, ``.to_pandas()``; HTML in a notebook)."""
        from nbsweep.analysis import runs_table

        return runs_table(self._records(), self.space, self.config.metric_name)

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`table` to a CSV file."""
        self.table().to_csv(path)

    # State -------------------------------------------------------------------------------

    def _transition(self, action: str) -> None:
        target, allowed, refusal = _TRANSITIONS[action]
        with self.store.write() as conn:
            record = self.store.get_sweep(self.id, conn)
            if record.state not in allowed:
                raise SweepStateError(refusal.format(state=record.state.lower()))
            self.store.update_sweep(conn, self.id, state=target, reason=f"{action} requested")
            if action == "cancel":
                self.store.stop_running_runs(conn, self.id, reason="sweep canceled")

    def retry_failed(self) -> int:
        """Let the grid points of failed and crashed runs run again; returns how many.

        The runs stay in the sweep with their errors. Only grid points (and bayes
        combinations of a finite space) are ever "used up", so this matters for those; a
        sweep that had ended because its grid was used up runs again.
        """
        ended = [r.id for r in self.runs if r.state in ("failed", "crashed")]
        return self.store.free_grid_points(self.id, ended)

    def pause(self) -> None:
        """No new runs until :meth:`resume`; running runs go on."""
        self._transition("pause")

    def resume(self) -> None:
        """Let agents start new runs again."""
        self._transition("resume")

    def stop(self) -> None:
        """End the sweep: no new runs; running runs finish normally."""
        self._transition("stop")

    def cancel(self) -> None:
        """End the sweep and stop its running runs at their next ``run.log``."""
        self._transition("cancel")

    # Analysis and figures ----------------------------------------------------------------

    def dashboard(self, *, static_fallback: bool = True) -> Any:
        """A live dashboard widget of this sweep that follows the store.

        Parallel coordinates, importance, a runs table and curves, updated as runs change,
        also runs added by agents in other processes; its stop button stops the sweep.
        Close it with ``.close()`` to stop following the store.

        Examples
        --------
        >>> import tempfile, os, nbsweep
        >>> store = os.path.join(tempfile.mkdtemp(), "nbsweep.db")
        >>> sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"x": {"values": [1]}}},
        ...                          store=store)
        >>> dash = nbsweep.Sweep(sweep_id, store=store).dashboard()
        >>> [axis["name"] for axis in dash.axes]
        ['x']
        >>> dash.close()
        """
        from nbsweep.views import Dashboard

        return Dashboard(self.id, store=self.store, static_fallback=static_fallback)

    def importance(self, *, seeds: Sequence[int] = (0, 1, 2, 3, 4)) -> Any:
        """Random-forest importance and correlation of each parameter with the metric."""
        from nbsweep.analysis import build_importance_data

        metric = self._need_metric("importance")
        return build_importance_data(
            self._records(), self.space, metric, self.config.goal, seeds=seeds
        )

    def _need_metric(self, what: str) -> str:
        """The sweep's metric name; a ValueError naming ``what`` when it has none."""
        if self.config.metric_name is None:
            raise ValueError(f"{what} needs the sweep to have a metric; this one has none")
        return self.config.metric_name

    def plot_parallel_coordinates(self, ax: Any = None) -> Any:
        """A matplotlib figure of every run across the parameters and the metric."""
        from nbsweep.views import build_parallel_data, plot_parallel_coordinates

        data = build_parallel_data(
            self._records(), self.space, self.config.metric_name, self.config.goal
        )
        return plot_parallel_coordinates(data, ax=ax)

    def plot_importance(self, ax: Any = None) -> Any:
        """A matplotlib figure of :meth:`importance`."""
        from nbsweep.views import plot_importance

        return plot_importance(self.importance(), ax=ax)

    def plot_curves(
        self, keys: Sequence[str] | None = None, runs: Sequence[str] | None = None, ax: Any = None
    ) -> Any:
        """A matplotlib figure of logged values against step, for some or all runs."""
        from nbsweep.views import build_curves_data, plot_curves

        keys = list(keys) if keys else [k for k in [self.config.metric_name] if k]
        chosen = [r for r in self.runs if runs is None or r.id in runs]
        histories = {r.id: r.history() for r in chosen}
        states = {r.id: r.state for r in chosen}
        best = self.best_run
        data = build_curves_data(
            histories, keys, states=states, best_run=best.id if best is not None else None
        )
        return plot_curves(data, ax=ax)
