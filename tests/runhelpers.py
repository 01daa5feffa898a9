"""Small helpers that drive a sweep's runs through the store, as an agent would."""

from __future__ import annotations

from nbsweep.store import SQLiteStore


def finish_run(store: SQLiteStore, run_id: str, value: float, metric: str = "loss") -> None:
    """Log ``value`` once as the run's metric and finish the run."""
    store.write_progress(
        run_id,
        metrics=[(run_id, 0, metric, value)],
        summary={metric: value},
        metric=(value, 1),
        last_step=0,
        finish={"state": "finished"},
    )
