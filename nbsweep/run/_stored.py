"""A stored run, read back from the store: config, state, summary and history."""

from __future__ import annotations

from typing import Any

from nbsweep.store import RunRecord, SQLiteStore

__all__ = ["StoredRun"]


class StoredRun:
    """A run as stored, of any sweep or standalone, finished or not.

    Its fields are those of :class:`nbsweep.store.RunRecord` (``id``, ``config``, ``state``,
    ``summary``, ``metric_value``, ``error``, ...) read when it was loaded;
    :meth:`history` and :attr:`output` read the store when called.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> store = os.path.join(tempfile.mkdtemp(), "s.db")
    >>> with nbsweep.init(config={"a": 1}, store=store) as run:
    ...     run.log({"x": 1.0})
    ...     run.log({"x": 2.0})
    >>> [row["x"] for row in nbsweep.Run.load(run.id, store=store).history()]
    [1.0, 2.0]
    """

    def __init__(self, store: SQLiteStore, record: RunRecord) -> None:
        self._store = store
        self.record = record

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "record":
            raise AttributeError(name)
        return getattr(self.record, name)

    def __repr__(self) -> str:
        value = (
            "" if self.record.metric_value is None else f" metric={self.record.metric_value:.6g}"
        )
        return f"<nbsweep run {self.record.id} {self.record.state}{value}>"

    @property
    def output(self) -> str:
        """Everything the run printed (captured by its agent)."""
        if self.record.output is None:
            self.record = self._store.get_run(self.record.id)
        return self.record.output or ""

    def history(self) -> list[dict[str, Any]]:
        """Logged rows in step order, each ``{"_step": step, key: value, ...}``."""
        return self._store.history(self.record.id)

    def metric_history(self, key: str) -> list[tuple[int, float]]:
        """``(step, value)`` pairs of one logged number, in step order."""
        return self._store.metric_history(self.record.id, key)

    def reload(self) -> StoredRun:
        """A fresh read of this run."""
        return StoredRun(self._store, self._store.get_run(self.record.id))
