"""The controller: claim the next run of a sweep in one store transaction.

There is no controller process. Any agent (a thread, a process, another machine) calls
:func:`claim_next_run`, which inside one write transaction reads the sweep and its runs, marks
runs whose agent died as crashed, honours the sweep's state, ``run_cap`` and
``metric.target``, asks the strategy for the next config and inserts the run. The database's
write lock makes concurrent claims consistent, so a grid point is never run twice and
``run_cap`` is exact.

A strategy that proposes a point some run already has (a bug in the strategy, never the
user's doing) does not stop the agent: the claim logs a warning and runs the first free point
of the space instead, or ends the sweep when no point is free.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nbsweep.config import SweepConfig
from nbsweep.search import strategy_for
from nbsweep.space import Space
from nbsweep.store import RunRecord, SQLiteStore, SweepRecord, new_id

__all__ = ["Claim", "claim_next_run", "crash_grace_s", "run_rng", "sweep_space"]

logger = logging.getLogger(__name__)

_GRACE_ENV = "NBSWEEP_CRASH_GRACE_S"
_DEFAULT_GRACE_S = 30.0
# Random draws tried for a free point when a space cannot be walked point by point.
_FREE_POINT_DRAWS = 256


def crash_grace_s() -> float:
    """Seconds without a heartbeat after which a running run counts as crashed."""
    return float(os.environ.get(_GRACE_ENV, _DEFAULT_GRACE_S))


@dataclass(frozen=True)
class Claim:
    """What a claim got: a run to execute, or why there is none.

    Attributes
    ----------
    run
        The claimed run, already stored in state ``running``; None otherwise.
    status
        ``claimed``, ``paused`` (try again later) or ``done`` (the sweep will make no more
        runs: finished, canceled, cap reached, grid exhausted, target reached).
    reason
        Why, in words, for ``paused`` and ``done``.
    """

    run: RunRecord | None
    status: str
    reason: str = ""


class _SweepCache:
    """What one process remembers of a sweep between claims.

    The config and space never change, and runs are re-read only when their revision moved,
    so a claim's cost follows what changed since the last one, not how many runs exist.
    """

    def __init__(self, record: SweepRecord) -> None:
        self.config = SweepConfig(record.config)
        self.space = Space(self.config)
        self.strategy = strategy_for(self.config.method)
        self.runs: list[RunRecord] = []  # in claim order (seq)
        self._index: dict[str, int] = {}
        self.rev = 0

    def refresh(self, store: SQLiteStore, conn: Any, sweep_id: str) -> list[RunRecord]:
        """Read the runs changed since the last refresh; return all runs in claim order.

        A run not seen before always has a higher seq than every run seen (seqs are given
        out in order under the write lock), so appending keeps the list in order.
        """
        for run in store.sweep_runs(sweep_id, conn, since_rev=self.rev):
            where = self._index.get(run.id)
            if where is None:
                self._index[run.id] = len(self.runs)
                self.runs.append(run)
            else:
                self.runs[where] = run
            self.rev = max(self.rev, run.rev)
        return self.runs

    def get(self, run_id: str) -> RunRecord:
        return self.runs[self._index[run_id]]


_caches: dict[tuple[str, str], _SweepCache] = {}
_caches_lock = threading.Lock()


def _cache(store: SQLiteStore, record: SweepRecord) -> _SweepCache:
    key = (str(store.path), record.id)
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = _SweepCache(record)
        return cache


def sweep_space(store: SQLiteStore, record: SweepRecord) -> tuple[SweepConfig, Space]:
    """The parsed config and space of a stored sweep (cached per process)."""
    cache = _cache(store, record)
    return cache.config, cache.space


def run_rng(seed: int, seq: int) -> random.Random:
    """The random stream of the ``seq``-th run of a sweep with this seed.

    Each run's draws depend only on the sweep's seed and the run's place in it, so a sweep
    re-created with the same seed proposes the same configs, however many agents run it.
    """
    return random.Random(f"nbsweep:{seed}:{seq}")


def _target_reached(config: SweepConfig, runs: list[RunRecord]) -> RunRecord | None:
    target = config.target
    if target is None:
        return None
    for run in runs:
        value = run.metric_value
        if value is None:
            continue
        if (config.goal == "minimize" and value <= target) or (
            config.goal == "maximize" and value >= target
        ):
            return run
    return None


def claim_next_run(store: SQLiteStore, sweep_id: str, *, agent_id: str | None = None) -> Claim:
    """Claim the next run of a sweep, or say why there is none.

    Examples
    --------
    >>> import tempfile, os, nbsweep
    >>> from nbsweep.store import open_store
    >>> store = open_store(os.path.join(tempfile.mkdtemp(), "c.db"))
    >>> sweep_id = nbsweep.sweep({"method": "grid", "parameters": {"a": {"values": [1]}}},
    ...                          store=store)
    >>> claim_next_run(store, sweep_id).run.config
    {'a': 1}
    >>> claim_next_run(store, sweep_id).status
    'done'
    """
    try:
        return _claim(store, sweep_id, agent_id)
    except BaseException:
        # The transaction rolled back; what the cache read inside it may never have existed.
        with _caches_lock:
            _caches.pop((str(store.path), sweep_id), None)
        raise


def _claim(store: SQLiteStore, sweep_id: str, agent_id: str | None) -> Claim:
    with store.write() as conn:
        record = store.get_sweep(sweep_id, conn)
        if record.state == "PAUSED":
            return Claim(None, "paused", "the sweep is paused")
        if record.state != "RUNNING":
            return Claim(None, "done", record.state_reason or f"the sweep is {record.state}")
        store.mark_crashed(conn, sweep_id, grace_s=crash_grace_s())
        cache = _cache(store, record)
        runs = cache.refresh(store, conn, sweep_id)
        done = _why_done(cache.config, runs)
        if done:
            store.update_sweep(conn, sweep_id, state="FINISHED", reason=done)
            return Claim(None, "done", done)
        seq = len(runs)
        rng = run_rng(record.seed, seq)
        proposal = cache.strategy.propose(
            cache.config, cache.space, runs, rng, record.strategy_state
        )
        if proposal.config is None:
            store.update_sweep(conn, sweep_id, state="FINISHED", reason=proposal.reason)
            return Claim(None, "done", proposal.reason)
        point, grid_key = proposal.config, proposal.grid_key
        if grid_key is not None and any(run.grid_key == grid_key for run in runs):
            strategy = type(cache.strategy).__name__
            free = _free_point(cache.space, runs, rng)
            if free is None:
                reason = _no_free_point_reason(cache.space)
                logger.warning(
                    "the %s strategy proposed point %s of sweep %s, which a run already has; "
                    "no other point is free, so the sweep ends",
                    strategy,
                    grid_key,
                    sweep_id,
                )
                store.update_sweep(conn, sweep_id, state="FINISHED", reason=reason)
                return Claim(None, "done", reason)
            point, grid_key = free, cache.space.point_key(free)
            logger.warning(
                "the %s strategy proposed point %s of sweep %s, which a run already has; "
                "running the free point %s instead",
                strategy,
                proposal.grid_key,
                sweep_id,
                grid_key,
            )
        if proposal.state is not None:
            merged = {**record.strategy_state, **proposal.state}
            store.update_sweep(conn, sweep_id, strategy_state=merged)
        run_id = new_id()
        store.insert_run(
            conn,
            run_id=run_id,
            sweep_id=sweep_id,
            seq=seq,
            config=cache.space.nest(point),
            grid_key=grid_key,
            agent_id=agent_id,
        )
        cache.refresh(store, conn, sweep_id)
    logger.debug("claimed run %s (#%d) of sweep %s", run_id, seq, sweep_id)
    return Claim(cache.get(run_id), "claimed")


def _why_done(config: SweepConfig, runs: list[RunRecord]) -> str:
    cap = config.run_cap
    if cap is not None and len(runs) >= cap:
        return f"run_cap {cap} reached"
    hit = _target_reached(config, runs)
    if hit is not None:
        return (
            f"metric.target {config.target:g} reached by run {hit.id} "
            f"({config.metric_name} = {hit.metric_value:g})"
        )
    return ""


def _free_point(
    space: Space, runs: Sequence[RunRecord], rng: random.Random
) -> dict[str, Any] | None:
    """The first point, in grid order, whose key no run holds; None when there is none.

    A space with a parameter of unbounded range cannot be walked: there a bounded number of
    random draws stands in, and None means that none of them was free.
    """
    used = {run.grid_key for run in runs if run.grid_key is not None}
    values = space.finite_values()
    if values is None:
        for _ in range(_FREE_POINT_DRAWS):
            point = space.sample(rng)
            if space.point_key(point) not in used:
                return point
        return None
    # Distinct points have distinct keys, so at most len(used) + 1 points are looked at.
    return next((p for p in space.points(values) if space.point_key(p) not in used), None)


def _no_free_point_reason(space: Space) -> str:
    if space.finite_values() is None:
        return f"no point that no run has was found in {_FREE_POINT_DRAWS} random draws"
    return "every combination of the space has run"
