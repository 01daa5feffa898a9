"""The embedded store: one SQLite file in WAL mode, shared by threads and processes.

Write transactions start with ``BEGIN IMMEDIATE`` so a claim's read and its insert are one
atomic step (a deferred transaction that reads, then writes, fails with ``SQLITE_BUSY_SNAPSHOT``
whenever another writer got in between). SQLite's own busy handler is unfair under
contention (some agents starve), so the store retries ``BEGIN IMMEDIATE`` itself after short
random sleeps, and threads of one process queue on a lock before touching the file.

Each thread uses its own connection. Readers run in autocommit and never hold a read
transaction open, which would stop WAL checkpoints and let the WAL grow.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import socket
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from nbsweep._warnings import NbsweepWarning
from nbsweep.store._records import RunRecord, SweepRecord

__all__ = ["RunNotFoundError", "SQLiteStore", "StoreBusyError", "SweepNotFoundError"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_BUSY_DEADLINE_S = 60.0
_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs", "ceph"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    name TEXT,
    config TEXT NOT NULL,
    method TEXT NOT NULL,
    metric_name TEXT,
    goal TEXT NOT NULL,
    run_cap INTEGER,
    state TEXT NOT NULL,
    state_reason TEXT,
    seed INTEGER NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    strategy_state TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    sweep_id TEXT REFERENCES sweeps(id),
    seq INTEGER,
    name TEXT,
    grid_key TEXT,
    state TEXT NOT NULL,
    config TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    metric_value REAL,
    metric_count INTEGER NOT NULL DEFAULT 0,
    agent_id TEXT,
    host TEXT,
    pid INTEGER,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    heartbeat_at REAL,
    error TEXT,
    stop_reason TEXT,
    output TEXT NOT NULL DEFAULT '',
    last_step INTEGER,
    rev INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sweep_id, seq),
    UNIQUE (sweep_id, grid_key)
);
CREATE INDEX IF NOT EXISTS runs_by_sweep ON runs (sweep_id, rev);
CREATE INDEX IF NOT EXISTS runs_running ON runs (sweep_id) WHERE state = 'running';
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    key TEXT NOT NULL,
    value REAL
);
CREATE INDEX IF NOT EXISTS metrics_by_run ON metrics (run_id, key, step);
CREATE TABLE IF NOT EXISTS objects (
    run_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_by_run ON objects (run_id, step);
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    sweep_id TEXT,
    host TEXT,
    pid INTEGER,
    kind TEXT,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    state TEXT NOT NULL
);
"""

_RUN_COLUMNS = (
    "id, sweep_id, seq, state, config, summary, metric_value, metric_count, created_at, "
    "started_at, finished_at, heartbeat_at, agent_id, host, pid, grid_key, error, "
    "stop_reason, last_step, rev, name"
)
_SWEEP_COLUMNS = (
    "id, name, config, method, metric_name, goal, run_cap, state, seed, created_at, "
    "updated_at, version, state_reason, strategy_state"
)

HOST = socket.gethostname()
# How the search strategies word "no point left" (see nbsweep.search).
EXHAUSTED_PREFIXES = ("the grid's", "every combination")


class StoreBusyError(RuntimeError):
    """The store stayed locked by other writers for longer than the deadline."""


class SweepNotFoundError(KeyError):
    """No sweep with that id in the store."""

    def __str__(self) -> str:
        return str(self.args[0])


class RunNotFoundError(KeyError):
    """No run with that id in the store."""

    def __str__(self) -> str:
        return str(self.args[0])


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else {}


def _warn_network_fs(path: Path) -> None:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return
    best, fstype = "", ""
    target = str(path.parent.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) >= 3 and target.startswith(parts[1]) and len(parts[1]) > len(best):
            best, fstype = parts[1], parts[2]
    if fstype in _NETWORK_FS:
        warnings.warn(
            f"the nbsweep store {str(path)!r} is on a network file system ({fstype}); SQLite's "
            "locking is unreliable there and the file can be corrupted. Keep it on a local "
            "disk, or use a PostgreSQL store to share sweeps between machines.",
            NbsweepWarning,
            stacklevel=4,
        )


class SQLiteStore:
    """Sweeps, runs and their logged values in one SQLite file.

    Use :func:`nbsweep.store.open_store` to get one; it is shared by every caller in the
    process that names the same file.

    Examples
    --------
    >>> import tempfile, os
    >>> store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "demo.db"))
    >>> store.list_sweeps()
    []
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().resolve()
        self.url = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _warn_network_fs(self.path)
        self._init_schema()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # Connections and transactions --------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        found: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if found is not None:
            return found
        conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA journal_size_limit=16777216")
        self._local.conn = conn
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _init_schema(self) -> None:
        with self.write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif int(row[0]) > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer nbsweep (schema {row[0]}); "
                    "upgrade nbsweep to read it"
                )

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success.

        Waits for other writers with a fair retry loop and raises :class:`StoreBusyError`
        after a minute.
        """
        conn = self._connect()
        with self._write_lock:
            if conn.in_transaction:  # nested use from the same thread: join the outer one
                yield conn
                return
            self._begin_immediate(conn)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def _begin_immediate(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + _BUSY_DEADLINE_S
        attempts = 0
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                if attempts:
                    logger.debug("write lock after %d retries", attempts)
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err):
                    raise
                attempts += 1
                if time.monotonic() > deadline:
                    raise StoreBusyError(
                        f"{self.path} stayed locked by other writers for {_BUSY_DEADLINE_S:.0f} s"
                    ) from err
                time.sleep(random.uniform(0.0, 0.001 if attempts < 50 else 0.01))

    def read(self) -> sqlite3.Connection:
        """The calling thread's connection, for autocommit reads."""
        return self._connect()

    def close(self) -> None:
        """Close every connection this store opened (in all threads)."""
        with self._connections_lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    # Sweeps ------------------------------------------------------------------------------

    def create_sweep(
        self,
        sweep_id: str,
        config: Mapping[str, Any],
        *,
        name: str | None,
        seed: int,
    ) -> SweepRecord:
        """Insert a new sweep in state ``RUNNING``."""
        now = time.time()
        metric = config.get("metric") or {}
        with self.write() as conn:
            conn.execute(
                "INSERT INTO sweeps (id, name, config, method, metric_name, goal, run_cap, "
                "state, seed, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sweep_id,
                    name,
                    _dumps(dict(config)),
                    config["method"],
                    metric.get("name"),
                    metric.get("goal", "minimize"),
                    config.get("run_cap"),
                    "RUNNING",
                    seed,
                    now,
                    now,
                ),
            )
        return self.get_sweep(sweep_id)

    def get_sweep(self, sweep_id: str, conn: sqlite3.Connection | None = None) -> SweepRecord:
        """The sweep with this id; raises :class:`SweepNotFoundError` naming close ids."""
        conn = conn or self.read()
        row = conn.execute(
            f"SELECT {_SWEEP_COLUMNS} FROM sweeps WHERE id = ?", (sweep_id,)
        ).fetchone()
        if row is None:
            raise SweepNotFoundError(self._not_found("sweep", sweep_id, "sweeps"))
        return _sweep_record(row)

    def _not_found(self, what: str, key: str, table: str) -> str:
        import difflib

        ids = [r[0] for r in self.read().execute(f"SELECT id FROM {table}")]
        close = difflib.get_close_matches(str(key), ids, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"no {what} {key!r} in the store {self.path}{hint}"

    def list_sweeps(self) -> list[SweepRecord]:
        """Every sweep, newest first."""
        rows = self.read().execute(f"SELECT {_SWEEP_COLUMNS} FROM sweeps ORDER BY created_at DESC")
        return [_sweep_record(r) for r in rows]

    def update_sweep(
        self,
        conn: sqlite3.Connection,
        sweep_id: str,
        *,
        state: str | None = None,
        reason: str | None = None,
        strategy_state: Mapping[str, Any] | None = None,
    ) -> int:
        """Change a sweep inside an open write transaction; returns its new version."""
        sets: list[str] = ["updated_at = ?", "version = version + 1"]
        args: list[Any] = [time.time()]
        if state is not None:
            sets += ["state = ?", "state_reason = ?"]
            args += [state, reason]
        if strategy_state is not None:
            sets.append("strategy_state = ?")
            args.append(_dumps(dict(strategy_state)))
        conn.execute(f"UPDATE sweeps SET {', '.join(sets)} WHERE id = ?", (*args, sweep_id))
        return int(
            conn.execute("SELECT version FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()[0]
        )

    def _bump(self, conn: sqlite3.Connection, sweep_id: str | None) -> int:
        if sweep_id is None:
            return 0
        conn.execute(
            "UPDATE sweeps SET version = version + 1, updated_at = ? WHERE id = ?",
            (time.time(), sweep_id),
        )
        return int(
            conn.execute("SELECT version FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()[0]
        )

    # Runs --------------------------------------------------------------------------------

    def insert_run(
        self,
        conn: sqlite3.Connection,
        *,
        run_id: str,
        sweep_id: str | None,
        seq: int | None,
        config: Mapping[str, Any],
        grid_key: str | None = None,
        agent_id: str | None = None,
        pid: int | None = None,
        name: str | None = None,
    ) -> None:
        """Insert a run in state ``running`` inside an open write transaction."""
        now = time.time()
        rev = self._bump(conn, sweep_id)
        conn.execute(
            "INSERT INTO runs (id, sweep_id, seq, name, grid_key, state, config, agent_id, "
            "host, pid, created_at, started_at, heartbeat_at, rev) "
            "VALUES (?,?,?,?,?,'running',?,?,?,?,?,?,?,?)",
            (
                run_id,
                sweep_id,
                seq,
                name,
                grid_key,
                _dumps(dict(config)),
                agent_id,
                HOST,
                os.getpid() if pid is None else pid,
                now,
                now,
                now,
                rev,
            ),
        )

    def create_run(
        self,
        run_id: str,
        config: Mapping[str, Any],
        *,
        name: str | None = None,
    ) -> RunRecord:
        """Insert a standalone run (no sweep) and return it."""
        with self.write() as conn:
            self.insert_run(conn, run_id=run_id, sweep_id=None, seq=None, config=config, name=name)
        return self.get_run(run_id)

    def sweep_runs(
        self,
        sweep_id: str,
        conn: sqlite3.Connection | None = None,
        *,
        since_rev: int = 0,
    ) -> list[RunRecord]:
        """Runs of a sweep in claim order; only those changed after ``since_rev`` if given."""
        conn = conn or self.read()
        rows = conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE sweep_id = ? AND rev > ? ORDER BY seq",
            (sweep_id, since_rev),
        )
        return [_run_record(r) for r in rows]

    def count_runs(self, conn: sqlite3.Connection, sweep_id: str) -> int:
        """Number of runs of a sweep, in any state."""
        return int(
            conn.execute("SELECT COUNT(*) FROM runs WHERE sweep_id = ?", (sweep_id,)).fetchone()[0]
        )

    def get_run(self, run_id: str, *, with_output: bool = True) -> RunRecord:
        """One run, with its captured output; raises :class:`RunNotFoundError`."""
        conn = self.read()
        columns = f"{_RUN_COLUMNS}, output" if with_output else _RUN_COLUMNS
        row = conn.execute(f"SELECT {columns} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(self._not_found("run", run_id, "runs"))
        return _run_record(row)

    def set_run_state(
        self,
        run_id: str,
        state: str,
        *,
        reason: str | None = None,
        only_if: Sequence[str] = ("running",),
    ) -> bool:
        """Move a run to ``state`` if it is in one of ``only_if``; True if it moved."""
        with self.write() as conn:
            row = conn.execute(
                "SELECT sweep_id, state FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None or row[1] not in only_if:
                return False
            rev = self._bump(conn, row[0])
            conn.execute(
                "UPDATE runs SET state = ?, stop_reason = COALESCE(?, stop_reason), "
                "finished_at = COALESCE(finished_at, ?), rev = ? WHERE id = ?",
                (state, reason, time.time(), rev, run_id),
            )
            return True

    def mark_crashed(
        self, conn: sqlite3.Connection, sweep_id: str, *, grace_s: float
    ) -> list[str]:
        """Inside a write transaction: running runs whose agent is gone become ``crashed``.

        A run's agent is gone when its heartbeat is older than ``grace_s``, or when it ran in a
        process on this host that no longer exists (a restarted kernel, a killed agent).
        """
        now = time.time()
        crashed = self._crash_candidates(conn, sweep_id, grace_s, now)
        for run_id, reason in crashed:
            rev = self._bump(conn, sweep_id)
            conn.execute(
                "UPDATE runs SET state = 'crashed', stop_reason = ?, finished_at = ?, rev = ? "
                "WHERE id = ?",
                (reason, now, rev, run_id),
            )
            logger.info("run %s crashed: %s", run_id, reason)
        return [run_id for run_id, _ in crashed]

    def _crash_candidates(
        self, conn: sqlite3.Connection, sweep_id: str, grace_s: float, now: float
    ) -> list[tuple[str, str]]:
        rows = conn.execute(
            "SELECT id, host, pid, heartbeat_at FROM runs "
            "WHERE sweep_id = ? AND state = 'running'",
            (sweep_id,),
        ).fetchall()
        crashed = []
        for run_id, host, pid, beat in rows:
            if beat is not None and now - beat > grace_s:
                crashed.append((run_id, f"no heartbeat for {now - beat:.0f} s"))
            elif host == HOST and pid is not None and not _pid_alive(pid):
                crashed.append((run_id, f"its process {pid} is gone"))
        return crashed

    def mark_crashed_if_any(self, sweep_id: str, *, grace_s: float) -> list[str]:
        """Like :meth:`mark_crashed`, but takes the write lock only when a run looks crashed.

        Readers (``Sweep.runs``, the dashboard) call this, so looking at a sweep does not
        queue behind, or hold up, the agents that write to it.
        """
        if not self._crash_candidates(self.read(), sweep_id, grace_s, time.time()):
            return []
        with self.write() as conn:
            return self.mark_crashed(conn, sweep_id, grace_s=grace_s)

    def free_grid_points(self, sweep_id: str, run_ids: Sequence[str]) -> int:
        """Let the grid points of these ended runs be proposed again.

        The runs keep their records and history; their point no longer counts as used, and
        the grid's cursor goes back to the start so the next claim finds the point.
        """
        if not run_ids:
            return 0
        with self.write() as conn:
            freed = 0
            for run_id in run_ids:
                rev = self._bump(conn, sweep_id)
                freed += conn.execute(
                    "UPDATE runs SET grid_key = NULL, rev = ? WHERE id = ? AND sweep_id = ? "
                    "AND state != 'running' AND grid_key IS NOT NULL",
                    (rev, run_id, sweep_id),
                ).rowcount
            row = conn.execute(
                "SELECT strategy_state, state, state_reason FROM sweeps WHERE id = ?", (sweep_id,)
            ).fetchone()
            state = {**_loads(row[0]), "grid_cursor": 0}
            exhausted = row[1] == "FINISHED" and str(row[2]).startswith(EXHAUSTED_PREFIXES)
            if freed and exhausted:  # it ended only because every point was used
                self.update_sweep(
                    conn, sweep_id, state="RUNNING", reason="points freed", strategy_state=state
                )
            else:
                self.update_sweep(conn, sweep_id, strategy_state=state)
        return freed

    def stop_running_runs(self, conn: sqlite3.Connection, sweep_id: str, *, reason: str) -> int:
        """Inside a write transaction: mark every running run of a sweep ``stopped``.

        Their processes learn of it at their next flush and stop at the next ``run.log``.
        """
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM runs WHERE sweep_id = ? AND state = 'running'", (sweep_id,)
            )
        ]
        for run_id in ids:
            rev = self._bump(conn, sweep_id)
            conn.execute(
                "UPDATE runs SET state = 'stopped', stop_reason = ?, finished_at = ?, rev = ? "
                "WHERE id = ?",
                (reason, time.time(), rev, run_id),
            )
        return len(ids)

    def write_progress(
        self,
        run_id: str,
        *,
        metrics: Iterable[tuple[str, int, str, float | None]] = (),
        objects: Iterable[tuple[str, int, str, str]] = (),
        summary: Mapping[str, Any] | None = None,
        metric: tuple[float | None, int] | None = None,
        last_step: int | None = None,
        output: str | None = None,
        config: Mapping[str, Any] | None = None,
        finish: Mapping[str, Any] | None = None,
    ) -> tuple[bool, str, str | None]:
        """Persist buffered history and the run's latest summary; optionally finish it.

        ``metrics`` rows are ``(run_id, step, key, value)``; ``metric`` is the run's best
        value of the sweep metric and how many values it has. ``finish`` holds ``state`` and
        optionally ``error`` and ``stop_reason``. Finishing only applies to a run that is
        ``running`` or was marked ``crashed`` meanwhile (its agent was only stalled). What is
        left out stays as it is; the heartbeat is always renewed.

        Returns whether the finish was applied, and the run's state and stop reason after the
        write, so a run learns when something else (a canceled sweep) stopped it.
        """
        with self.write() as conn:
            _insert_rows(conn, "metrics", metrics)
            _insert_rows(conn, "objects", objects)
            row = conn.execute(
                "SELECT sweep_id, state, stop_reason FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise RunNotFoundError(f"no run {run_id!r} in the store {self.path}")
            sweep_id, state, stop_reason = row
            sets: list[str] = ["heartbeat_at = ?"]
            args: list[Any] = [time.time()]
            if summary is not None:
                sets.append("summary = ?")
                args.append(_dumps(dict(summary)))
            if metric is not None:
                sets += ["metric_value = ?", "metric_count = ?"]
                args += [metric[0], metric[1]]
            if last_step is not None:
                sets.append("last_step = ?")
                args.append(last_step)
            if config is not None:
                sets.append("config = ?")
                args.append(_dumps(dict(config)))
            if output:
                sets.append("output = output || ?")
                args.append(output)
            finished = False
            if finish is not None and state in ("running", "crashed"):
                sets += ["state = ?", "finished_at = ?", "error = ?", "stop_reason = ?"]
                args += [
                    finish["state"],
                    time.time(),
                    finish.get("error"),
                    finish.get("stop_reason"),
                ]
                finished = True
                state, stop_reason = finish["state"], finish.get("stop_reason")
            rev = self._bump(conn, sweep_id)
            sets.append("rev = ?")
            args.append(rev)
            conn.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))
        return finished, state, stop_reason

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """The logged rows of a run in step order: ``{"_step": s, key: value, ...}``.

        A NaN that was logged comes back as NaN.
        """
        conn = self.read()
        rows: dict[int, dict[str, Any]] = {}
        for step, key, value in conn.execute(
            "SELECT step, key, value FROM metrics WHERE run_id = ? ORDER BY step, rowid",
            (run_id,),
        ):
            rows.setdefault(step, {"_step": step})[key] = float("nan") if value is None else value
        for step, key, value in conn.execute(
            "SELECT step, key, value FROM objects WHERE run_id = ? ORDER BY step, rowid",
            (run_id,),
        ):
            rows.setdefault(step, {"_step": step})[key] = json.loads(value)
        return [rows[step] for step in sorted(rows)]

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """``(step, value)`` pairs of one logged key, in step order."""
        rows = self.read().execute(
            "SELECT step, value FROM metrics WHERE run_id = ? AND key = ? ORDER BY step, rowid",
            (run_id, key),
        )
        return [(s, float("nan") if v is None else v) for s, v in rows]

    def band_values(
        self, sweep_id: str, key: str, band: int, *, exclude_run: str | None = None
    ) -> list[float]:
        """The ``band``-th finite value of ``key`` of every run of a sweep that logged that many.

        Runs in any state count, as hyperband compares against everything seen so far.
        """
        rows = self.read().execute(
            "SELECT value FROM ("
            "  SELECT m.value AS value, ROW_NUMBER() OVER ("
            "    PARTITION BY m.run_id ORDER BY m.step, m.rowid) AS n"
            "  FROM metrics m JOIN runs r ON r.id = m.run_id"
            "  WHERE r.sweep_id = ? AND m.key = ? AND r.id != ?"
            "    AND m.value IS NOT NULL AND abs(m.value) < 9e999"
            ") WHERE n = ?",
            (sweep_id, key, exclude_run or "", band),
        )
        return [r[0] for r in rows]

    def logged_keys(self, run_ids: Sequence[str]) -> set[str]:
        """Every numeric key logged by any of these runs."""
        if not run_ids:
            return set()
        marks = ",".join("?" * len(run_ids))
        rows = self.read().execute(
            f"SELECT DISTINCT key FROM metrics WHERE run_id IN ({marks})",
            tuple(run_ids),
        )
        return {r[0] for r in rows}

    # Agents and heartbeats ---------------------------------------------------------------

    def register_agent(self, agent_id: str, sweep_id: str, kind: str) -> None:
        """Record a live agent."""
        now = time.time()
        with self.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO agents (id, sweep_id, host, pid, kind, started_at, "
                "heartbeat_at, state) VALUES (?,?,?,?,?,?,?, 'running')",
                (agent_id, sweep_id, HOST, os.getpid(), kind, now, now),
            )

    def end_agent(self, agent_id: str, state: str) -> None:
        """Record that an agent ended."""
        with self.write() as conn:
            conn.execute(
                "UPDATE agents SET state = ?, heartbeat_at = ? WHERE id = ?",
                (state, time.time(), agent_id),
            )

    def heartbeat(self, pid: int) -> None:
        """Touch every running run and live agent of this process."""
        now = time.time()
        with self.write() as conn:
            conn.execute(
                "UPDATE runs SET heartbeat_at = ? "
                "WHERE host = ? AND pid = ? AND state = 'running'",
                (now, HOST, pid),
            )
            conn.execute(
                "UPDATE agents SET heartbeat_at = ? "
                "WHERE host = ? AND pid = ? AND state = 'running'",
                (now, HOST, pid),
            )


# Rows per INSERT statement. One statement per row (executemany) hands the interpreter lock
# back and forth on every row, which starves the writer thread while training runs.
_ROWS_PER_INSERT = 200


def _insert_rows(conn: sqlite3.Connection, table: str, rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``(run_id, step, key, value)`` rows, many per statement."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    head = f"INSERT INTO {table} (run_id, step, key, value) VALUES "
    full = len(rows) - len(rows) % _ROWS_PER_INSERT
    if full:
        statement = head + ",".join(["(?,?,?,?)"] * _ROWS_PER_INSERT)
        chunks = (rows[i : i + _ROWS_PER_INSERT] for i in range(0, full, _ROWS_PER_INSERT))
        conn.executemany(statement, ([v for row in chunk for v in row] for chunk in chunks))
    rest = rows[full:]
    if rest:
        statement = head + ",".join(["(?,?,?,?)"] * len(rest))
        conn.execute(statement, [v for row in rest for v in row])


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_record(row: Sequence[Any]) -> SweepRecord:
    return SweepRecord(
        id=row[0],
        name=row[1],
        config=json.loads(row[2]),
        method=row[3],
        metric_name=row[4],
        goal=row[5],
        run_cap=row[6],
        state=row[7],
        seed=row[8],
        created_at=row[9],
        updated_at=row[10],
        version=row[11],
        state_reason=row[12],
        strategy_state=_loads(row[13]),
    )


def _run_record(row: Sequence[Any]) -> RunRecord:
    return RunRecord(
        id=row[0],
        sweep_id=row[1],
        seq=row[2],
        state=row[3],
        config=json.loads(row[4]),
        summary=_loads(row[5]),
        metric_value=row[6],
        metric_count=row[7],
        created_at=row[8],
        started_at=row[9],
        finished_at=row[10],
        heartbeat_at=row[11],
        agent_id=row[12],
        host=row[13],
        pid=row[14],
        grid_key=row[15],
        error=row[16],
        stop_reason=row[17],
        last_step=row[18],
        rev=row[19],
        name=row[20],
        output=row[21] if len(row) > 21 else None,
    )
