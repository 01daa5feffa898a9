"""A live run: config, buffered logging, summary, finish.

``run.log`` only appends the call to an in-memory queue, so training code pays microseconds
for it. A writer thread (one per store and process) turns queued calls into rows and writes
them in batches about twice a second; ``finish`` writes the rest in the same transaction
that marks the run finished, so a finished run always has its whole history. Rows still in
memory when a process is killed are lost; everything flushed before is kept.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
import traceback
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from nbsweep.run._config import RunConfig
from nbsweep.run._early import HyperbandWatch
from nbsweep.run._logging import finite, flatten_logged, is_metric
from nbsweep.store import RunRecord, SQLiteStore

__all__ = ["Run", "RunFinishedError", "StopRun", "Summary"]

logger = logging.getLogger(__name__)

_FLUSH_INTERVAL_S = 0.5
_FLUSH_ROWS = 20_000
# Past this many queued calls, log() writes them itself: memory stays bounded when training
# logs faster than the store can take.
_MAX_QUEUED = 1_000_000
# Ints at least this large do not fit a float; they are kept as exact JSON, not as metrics.
_BIG = 2**1023
_HEARTBEAT_INTERVAL_S = 10.0


class StopRun(BaseException):
    """Raised inside a run's function by ``run.log`` once its agent was asked to stop.

    It derives from ``BaseException`` so that training code's ``except Exception`` does not
    swallow it.
    """


class RunFinishedError(RuntimeError):
    """A finished run was logged to."""


class Summary(MutableMapping[str, Any]):
    """``run.summary``: the last logged value of every key, and anything set on it.

    Examples
    --------
    >>> s = Summary(None)
    >>> s["best_acc"] = 0.9
    >>> dict(s)
    {'best_acc': 0.9}
    """

    def __init__(self, run: Run | None) -> None:
        self._run = run
        self._data: dict[str, Any] = {}

    def _sync(self) -> None:
        if self._run is not None:
            self._run._process()

    def __getitem__(self, key: str) -> Any:
        self._sync()
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._sync()
        flat = flatten_logged({key: value})
        self._data.update(flat)
        if self._run is not None:
            self._run._summary_set(flat)

    def __delitem__(self, key: str) -> None:
        self._sync()
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        self._sync()
        return iter(dict(self._data))

    def __len__(self) -> int:
        self._sync()
        return len(self._data)

    def __repr__(self) -> str:
        self._sync()
        return f"Summary({self._data!r})"


class Run:
    """A run being executed in this process.

    Get one from ``nbsweep.init()``. Inside an agent's function it is the run the agent
    claimed; elsewhere a standalone run. Use it as a context manager to finish it (as
    ``failed`` if the block raises).

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> store = os.path.join(tempfile.mkdtemp(), "r.db")
    >>> with nbsweep.init(config={"lr": 0.1}, store=store) as run:
    ...     run.log({"loss": 0.5})
    >>> nbsweep.Run.load(run.id, store=store).summary["loss"]
    0.5
    """

    def __init__(
        self,
        store: SQLiteStore,
        record: RunRecord,
        *,
        metric_name: str | None = None,
        goal: str = "minimize",
        locked: Mapping[str, Any] | None = None,
        stop_event: threading.Event | None = None,
        early_terminate: Mapping[str, Any] | None = None,
    ) -> None:
        self._store = store
        self.id = record.id
        self.sweep_id = record.sweep_id
        self.name = record.name
        self._metric_name = metric_name
        self._goal = goal
        self._stop_event = stop_event
        # Each queued call is its logged dict with its step under "_step": one object per call,
        # no tuple around it (tuples holding dicts make every garbage collection walk the
        # whole backlog).
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._writer = _writer_for(store)
        self._woke_writer = False
        self._step = 0
        self._finished = False
        self.state = "running"
        self._lock = threading.RLock()
        self._config_data = dict(record.config)
        self._config_dirty = False
        self.config = RunConfig(self._config_data, locked=locked, on_change=self._config_changed)
        self.summary = Summary(self)
        self._pending_metrics: list[tuple[str, int, str, float | None]] = []
        self._pending_objects: list[tuple[str, int, str, str]] = []
        self._summary_dirty = False
        self._metric_best: float | None = None
        self._metric_count = 0
        self._last_step: int | None = None
        self._output: list[str] = []
        self._logged_keys: set[str] = set()
        self.stop_reason: str | None = None
        self._external_stop: str | None = None
        self.launched_by_agent = False
        self._hyperband: HyperbandWatch | None = None
        if early_terminate and metric_name and record.sweep_id:
            self._hyperband = HyperbandWatch(
                store,
                run_id=record.id,
                sweep_id=record.sweep_id,
                metric=metric_name,
                goal=goal,
                spec=early_terminate,
            )
        self._writer.register(self)

    def __repr__(self) -> str:
        where = f" sweep={self.sweep_id!r}" if self.sweep_id else ""
        return f"<nbsweep.Run {self.id!r}{where} state={self.state!r}>"

    def __enter__(self) -> Run:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or self._finished:
            self.finish()
        elif isinstance(exc, StopRun | KeyboardInterrupt):
            self.finish(state="stopped", reason="stopped by user")
        else:
            self.finish(state="failed", error=_format_error(exc))

    @property
    def finished(self) -> bool:
        """True once the run was finished."""
        return self._finished

    @property
    def step(self) -> int:
        """The step the next ``log`` call without ``step=`` gets."""
        return self._step

    # Logging -----------------------------------------------------------------------------

    def log(self, data: Mapping[str, Any], step: int | None = None) -> None:
        """Record values at a step (by default the next one).

        Each call without ``step`` advances the step by one, starting at 0. Values are
        stored as described in :mod:`nbsweep.run._logging`: numbers as metrics, nested dicts
        flattened with dots, NaN and inf kept but never counted as a best value.

        Raises
        ------
        TypeError
            When a value cannot be stored (the message names its key).
        StopRun
            When the run's agent was asked to stop; let it propagate.

        Examples
        --------
        >>> import tempfile, os, nbsweep
        >>> run = nbsweep.init(store=os.path.join(tempfile.mkdtemp(), "l.db"))
        >>> run.log({"loss": 0.3, "eval": {"acc": 0.9}})
        >>> run.summary["eval.acc"]
        0.9
        >>> run.finish()
        """
        stop = self._stop_event
        if stop is not None and stop.is_set():
            self.stop_reason = self.stop_reason or "stopped by user"
            raise StopRun(self.stop_reason)
        if self._external_stop is not None:
            self.stop_reason = self._external_stop
            raise StopRun(self._external_stop)
        if self._finished:
            raise RunFinishedError(
                f"run {self.id} is finished; start another with nbsweep.init() to log more"
            )
        if step is None:
            step = self._step
            self._step = step + 1
        else:
            if isinstance(step, bool) or not isinstance(step, int) or step < 0:
                raise TypeError(f"run.log: step must be a whole number >= 0, got {step!r}")
            if step >= self._step:
                self._step = step + 1
        if type(data) is not dict:
            data = flatten_logged(data)  # any other mapping, or a clear TypeError
        for key, value in data.items():
            kind = type(value)
            if (kind is not float and kind is not int) or type(key) is not str:
                data = flatten_logged(data)
                break
        else:
            data = dict(data)  # the caller may reuse its dict for the next step
        data["_step"] = step
        queue = self._queue
        queue.append(data)
        watch = self._hyperband
        if watch is not None and watch.metric in data:
            decision = watch.observe(data[watch.metric])
            if decision is not None:
                # Finish it here, so the run ends as stopped with its reason whatever the
                # code around it does with the StopRun (a program exits on it).
                self.finish(state="stopped", reason=decision.reason)
                raise StopRun(decision.reason)
        if len(queue) > _FLUSH_ROWS:
            if not self._woke_writer:
                self._woke_writer = True
                self._writer.wake()
            elif len(queue) > _MAX_QUEUED:
                self._flush()

    def _summary_set(self, flat: Mapping[str, Any]) -> None:
        with self._lock:
            self._summary_dirty = True
            if self._metric_name is not None and self._metric_name in flat:
                self._account_metric(flat[self._metric_name])

    def _config_changed(self) -> None:
        self._config_dirty = True

    def _account_metric(self, value: Any) -> None:
        if not is_metric(value):
            return
        self._metric_count += 1
        if not finite(float(value)):
            return
        best = self._metric_best
        if best is None or (value < best if self._goal == "minimize" else value > best):
            self._metric_best = float(value)

    def _process(self) -> None:
        """Move queued calls into pending rows and the summary."""
        with self._lock:
            queue = self._queue
            metrics, objects = self._pending_metrics, self._pending_objects
            summary = self.summary._data
            metric_name = self._metric_name
            run_id = self.id
            self._woke_writer = False
            for _ in range(len(queue)):
                data = queue.popleft()
                step = data.pop("_step")
                for key, value in data.items():
                    if type(value) is float or (type(value) is int and -_BIG < value < _BIG):
                        metrics.append(
                            (run_id, step, key, None if value != value else float(value))
                        )
                        if key == metric_name:
                            self._account_metric(value)
                    else:  # text, lists, None, and ints too large for a float: kept exactly
                        objects.append((run_id, step, key, json.dumps(value)))
                summary.update(data)
                self._logged_keys.update(data)
                self._summary_dirty = True
                if self._last_step is None or step > self._last_step:
                    self._last_step = step

    def _flush(self, finish: Mapping[str, Any] | None = None) -> bool:
        """Write pending rows (and the finish, if given) in one transaction."""
        with self._lock:
            self._process()
            if not finish and not (
                self._pending_metrics
                or self._pending_objects
                or self._summary_dirty
                or self._config_dirty
                or self._output
            ):
                return False
            metrics, self._pending_metrics = self._pending_metrics, []
            objects, self._pending_objects = self._pending_objects, []
            output = "".join(self._output)
            self._output.clear()
            summary = dict(self.summary._data) if self._summary_dirty else None
            config = dict(self._config_data) if self._config_dirty else None
            self._summary_dirty = self._config_dirty = False
            metric = (
                (self._metric_best, self._metric_count) if self._metric_name is not None else None
            )
            applied, state, reason = self._store.write_progress(
                self.id,
                metrics=metrics,
                objects=objects,
                summary=summary,
                metric=metric,
                last_step=self._last_step,
                output=output or None,
                config=config,
                finish=finish,
            )
            if not finish and state == "stopped" and self._external_stop is None:
                # Stopped from outside (its sweep was canceled): stop at the next log call.
                # A run marked crashed while it was only stalled carries on and may finish.
                self._external_stop = reason or "stopped"
            return applied

    def write_output(self, text: str) -> None:
        """Append text the run printed; it is stored with the run on the next flush."""
        with self._lock:
            self._output.append(text)

    # Finishing ---------------------------------------------------------------------------

    def finish(
        self,
        exit_code: int | None = None,
        *,
        state: str | None = None,
        error: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Write everything logged and end the run.

        ``exit_code`` follows W&B: non-zero marks the run ``failed``. Finishing twice does
        nothing.
        """
        if self._finished:
            return
        if state is None:
            state = "failed" if exit_code else "finished"
        self._finished = True
        self.state = state
        if reason is not None:
            self.stop_reason = reason
        self._writer.unregister(self)
        finish = {"state": state, "error": error, "stop_reason": self.stop_reason}
        if not self._flush(finish=finish):
            logger.info("run %s had already ended in the store; kept its state", self.id)

    @property
    def logged_keys(self) -> set[str]:
        """Every key logged so far."""
        self._process()
        return set(self._logged_keys)


def _format_error(exc: BaseException, skip: int = 0) -> str:
    """The exception's type and message, then its traceback without ``skip`` outer frames."""
    tb = exc.__traceback__
    for _ in range(skip):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    head = f"{type(exc).__name__}: {exc}"
    body = "".join(traceback.format_exception(type(exc), exc, tb))
    return f"{head}\n{body}"


class _Writer:
    """The background thread that flushes live runs of one store and sends heartbeats."""

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._runs: weakref.WeakSet[Run] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_beat = 0.0

    def register(self, run: Run) -> None:
        with self._lock:
            self._runs.add(run)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="nbsweep-writer", daemon=True
                )
                self._thread.start()

    def unregister(self, run: Run) -> None:
        with self._lock:
            self._runs.discard(run)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        import os

        while True:
            self._wake.wait(_FLUSH_INTERVAL_S)
            self._wake.clear()
            with self._lock:
                runs = list(self._runs)
            for run in runs:
                try:
                    if not run.finished:
                        run._flush()
                except Exception:
                    logger.exception("could not write run %s; will retry", run.id)
            now = time.monotonic()
            if now - self._last_beat > _HEARTBEAT_INTERVAL_S:
                self._last_beat = now
                try:
                    self._store.heartbeat(os.getpid())
                except Exception:
                    logger.exception("heartbeat failed")


_writers: dict[str, _Writer] = {}
_writers_lock = threading.Lock()


def _writer_for(store: SQLiteStore) -> _Writer:
    key = str(store.path)
    with _writers_lock:
        writer = _writers.get(key)
        if writer is None:
            writer = _writers[key] = _Writer(store)
        return writer
