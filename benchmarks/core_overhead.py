"""What nbsweep costs the training code: ``run.log`` throughput, per-run overhead, Optuna.

Usage: ``python benchmarks/core_overhead.py [--quick] [--out PATH]``

Measures, each in a fresh Python process on fresh SQLite files in one temporary folder that
is removed at the end:

1. ``run.log({"loss": x, "acc": y})`` N times on a standalone run: the call rate the loop
   sees, and end to end, from the first call until ``run.finish()`` returned with every row
   committed (the row count is checked in the file).
2. Per-run overhead of an agent on a random and on a grid sweep of two floats, with a
   function that does ``run = nbsweep.init(); run.log({"loss": run.config.x})``: wall time
   divided by the number of runs, and the gaps between consecutive runs' ``created_at``.
3. Optuna on the same objective (``RandomSampler``, two ``suggest_float``, returns x) with
   SQLite storage and in memory, and the ratio Optuna / nbsweep.
4. Bayes: how long each claim takes (the GP proposal runs inside the claim) up to 100 and
   300 runs.

Every figure is a median over repeats after a warm-up; the spread is shown. Prints a markdown
table and writes ``benchmarks/results/core_overhead.json``. ``--quick`` is a smoke run of
about 20 s whose figures are not comparable with the full run's.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import itertools
import json
import os
import platform
import resource
import shlex
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "core_overhead.json"

LOG_TARGET = 200_000  # run.log calls per second
RUN_TARGET_MS = 5.0  # median per-run overhead with the SQLite store
RATIO_TARGET = 10.0  # Optuna (SQLite) per trial / nbsweep per run

# The sizes of the full run and of --quick. ``*_reps`` are measured repeats after a warm-up.
FULL = {
    "log_n": 1_000_000,
    "log_reps": 5,
    "log_warmup": 50_000,
    "runs_n": 1000,
    "runs_reps": 5,
    "optuna_n": 1000,
    "optuna_reps": 3,
    "optuna_memory_reps": 5,
    "bayes_checkpoints": [100, 300],
    "bayes_reps": 3,
}
QUICK = {
    "log_n": 200_000,
    "log_reps": 3,
    "log_warmup": 20_000,
    "runs_n": 200,
    "runs_reps": 3,
    "optuna_n": 100,
    "optuna_reps": 2,
    "optuna_memory_reps": 3,
    "bayes_checkpoints": [50, 100],
    "bayes_reps": 1,
}

TWO_FLOATS = {"x": {"min": 0.0, "max": 1.0}, "y": {"min": 0.0, "max": 1.0}}
GRID_SIDE = 32  # a 32 x 32 grid: 1024 points, enough for 1000 runs
METRIC = {"name": "loss", "goal": "minimize"}


# Helpers ---------------------------------------------------------------------------------


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (pos - low))


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"median": _median(values), "min": min(values), "max": max(values)}


def _gaps(stamps: Sequence[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(stamps)]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


class BenchmarkError(RuntimeError):
    """A measurement could not be trusted (wrong row count, failed run, worker error)."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkError(message)


# Workers: each runs in its own process and prints one JSON line --------------------------


def _import_nbsweep() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("nbsweep")


def _noop(data: Any, step: Any = None) -> None:
    return None


def _log_loop(log: Callable[..., None], n: int) -> None:
    # The loop the figures describe: a new two-metric dict per call, as training code does.
    for i in range(n):
        x = i * 1e-6
        log({"loss": x, "acc": 1.0 - x})


def _work_log(params: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Time N ``run.log`` calls, then ``finish``; check every row is in the file."""
    nbsweep = _import_nbsweep()
    n = params["n"]
    warm = nbsweep.init(store=str(folder / "warmup.db"))
    _log_loop(warm.log, params["warmup"])
    warm.finish()
    rss_before = _peak_rss_mib()
    repeats = []
    for r in range(params["reps"]):
        gc.collect()
        start = time.perf_counter()
        _log_loop(_noop, n)
        baseline = time.perf_counter() - start
        path = folder / f"log-{r}.db"
        run = nbsweep.init(store=str(path))
        log = run.log
        gc.collect()
        start = time.perf_counter()
        _log_loop(log, n)
        loop_end = time.perf_counter()
        # Calls still queued in memory when the loop ended (a private field, read only).
        backlog = len(getattr(run, "_queue", ()))
        run.finish()
        end = time.perf_counter()
        with contextlib.closing(_read_only(path)) as conn:
            rows, steps, losses = conn.execute(
                "SELECT COUNT(*), COUNT(DISTINCT step), SUM(key = 'loss') FROM metrics "
                "WHERE run_id = ?",
                (run.id,),
            ).fetchone()
            state = conn.execute("SELECT state FROM runs WHERE id = ?", (run.id,)).fetchone()[0]
        _check(
            rows == 2 * n and steps == n and losses == n and state == "finished",
            f"log repeat {r}: expected {2 * n} rows over {n} steps in a finished run, found "
            f"{rows} rows, {steps} steps, state {state}",
        )
        repeats.append(
            {
                "loop_s": loop_end - start,
                "end_to_end_s": end - start,
                "finish_s": end - loop_end,
                "backlog_calls": backlog,
                "baseline_loop_s": baseline,
                "rows_verified": rows,
            }
        )
    return {"repeats": repeats, "rss_before_mib": rss_before, "peak_rss_mib": _peak_rss_mib()}


def _sweep_config(method: str) -> dict[str, Any]:
    if method == "grid":
        values = [round(i / (GRID_SIDE - 1), 6) for i in range(GRID_SIDE)]
        parameters: dict[str, Any] = {"x": {"values": values}, "y": {"values": values}}
    else:
        parameters = TWO_FLOATS
    return {"method": method, "metric": METRIC, "parameters": parameters}


def _trivial_train() -> None:
    nbsweep = sys.modules["nbsweep"]
    run = nbsweep.init()
    run.log({"loss": run.config.x})


def _agent_runs(nbsweep: Any, path: Path, method: str, n: int, seed: int) -> float:
    """Run an agent for n runs of a fresh sweep; return its wall time."""
    sweep_id = nbsweep.sweep(_sweep_config(method), store=str(path), seed=seed)
    start = time.perf_counter()
    handle = nbsweep.agent(
        sweep_id,
        function=_trivial_train,
        count=n,
        store=str(path),
        background=False,
        verbose=False,
    )
    wall = time.perf_counter() - start
    progress = handle.progress
    _check(
        progress.finished == n and not handle.errors,
        f"{method} agent: {progress}; errors: {[str(e) for e in handle.errors]}",
    )
    return wall


def _stored_runs(path: Path) -> dict[str, Any]:
    with contextlib.closing(_read_only(path)) as conn:
        rows = conn.execute(
            "SELECT created_at, finished_at, state FROM runs ORDER BY seq"
        ).fetchall()
        logged = conn.execute("SELECT COUNT(*) FROM metrics WHERE key = 'loss'").fetchone()[0]
    _check(all(r[2] == "finished" for r in rows), f"{path.name}: a run did not finish")
    _check(logged == len(rows), f"{path.name}: {logged} loss rows for {len(rows)} runs")
    created = [r[0] for r in rows]
    finished = [r[1] for r in rows]
    return {
        "intervals": _gaps(created),
        "in_run": [f - c for c, f in zip(created, finished, strict=True)],
        "between": [c - f for f, c in zip(finished[:-1], created[1:], strict=True)],
        "runs": len(rows),
    }


def _work_agent(params: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Per-run overhead of the in-process agent on a random or grid sweep."""
    nbsweep = _import_nbsweep()
    method, n = params["method"], params["n"]
    _agent_runs(nbsweep, folder / "warmup.db", method, 50, seed=12345)
    repeats = []
    for r in range(params["reps"]):
        path = folder / f"{method}-{r}.db"
        gc.collect()
        wall = _agent_runs(nbsweep, path, method, n, seed=r)
        stored = _stored_runs(path)
        _check(stored["runs"] == n, f"{method} repeat {r}: {stored['runs']} runs stored")
        gaps = stored["intervals"]
        tail = gaps[-max(1, len(gaps) // 10) :]
        repeats.append(
            {
                "wall_s": wall,
                "ms_per_run": wall / n * 1e3,
                "interval_median_ms": _median(gaps) * 1e3,
                "interval_p90_ms": _quantile(gaps, 0.9) * 1e3,
                "interval_last10pct_median_ms": _median(tail) * 1e3,
                "in_run_median_ms": _median(stored["in_run"]) * 1e3,
                "between_median_ms": _median(stored["between"]) * 1e3,
            }
        )
    return {"repeats": repeats}


def _optuna_objective(trial: Any) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    trial.suggest_float("y", 0.0, 1.0)
    return float(x)


def _work_optuna(params: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Optuna on the same objective, with SQLite storage or in memory."""
    import optuna

    # Optuna logs one INFO line per trial by default; nbsweep's agent runs with
    # verbose=False, so both are timed silent.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    n, use_sqlite = params["n"], params["storage"] == "sqlite"

    def storage(name: str) -> str | None:
        return f"sqlite:///{folder / name}" if use_sqlite else None

    warm = optuna.create_study(
        storage=storage("warmup.db"), sampler=optuna.samplers.RandomSampler(seed=12345)
    )
    warm.optimize(_optuna_objective, n_trials=20)
    repeats = []
    for r in range(params["reps"]):
        gc.collect()
        study = optuna.create_study(
            storage=storage(f"optuna-{r}.db"), sampler=optuna.samplers.RandomSampler(seed=r)
        )
        start = time.perf_counter()
        study.optimize(_optuna_objective, n_trials=n)
        wall = time.perf_counter() - start
        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        _check(len(complete) == n, f"optuna repeat {r}: {len(complete)} of {n} trials complete")
        gaps = _gaps([t.datetime_start.timestamp() for t in complete])
        repeats.append(
            {
                "wall_s": wall,
                "ms_per_run": wall / n * 1e3,
                "interval_median_ms": _median(gaps) * 1e3,
                "interval_p90_ms": _quantile(gaps, 0.9) * 1e3,
            }
        )
    return {"repeats": repeats, "optuna_version": optuna.__version__}


def _work_bayes(params: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Claim times of a bayes sweep, timed around the agent's claim call."""
    nbsweep = _import_nbsweep()
    agent_module = importlib.import_module("nbsweep.agent._agent")
    original = agent_module.claim_next_run
    claims: list[float] = []

    def timed_claim(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            claims.append(time.perf_counter() - start)

    agent_module.claim_next_run = timed_claim
    checkpoints = params["checkpoints"]
    n = max(checkpoints)
    _agent_runs(nbsweep, folder / "warmup.db", "bayes", 15, seed=12345)  # fits the GP once
    repeats = []
    for r in range(params["reps"]):
        claims.clear()
        path = folder / f"bayes-{r}.db"
        gc.collect()
        wall = _agent_runs(nbsweep, path, "bayes", n, seed=r)
        _check(len(claims) == n, f"bayes repeat {r}: {len(claims)} claims for {n} runs")
        stored = _stored_runs(path)
        at = {}
        for c in checkpoints:
            window = claims[max(0, c - 10) : c]
            at[str(c)] = {
                "claim_median_ms": _median(claims[:c]) * 1e3,
                "claim_p90_ms": _quantile(claims[:c], 0.9) * 1e3,
                "claim_last10_median_ms": _median(window) * 1e3,
                "interval_median_ms": _median(stored["intervals"][: c - 1]) * 1e3,
                "ms_per_run": sum(stored["intervals"][: c - 1]) / max(1, c - 1) * 1e3,
            }
        repeats.append({"wall_s": wall, "at": at})
    return {"repeats": repeats}


WORKERS: dict[str, Callable[[dict[str, Any], Path], dict[str, Any]]] = {
    "log": _work_log,
    "agent": _work_agent,
    "optuna": _work_optuna,
    "bayes": _work_bayes,
}


# The parent: start workers, summarise, print, save ----------------------------------------


def _spawn(kind: str, params: dict[str, Any], root: Path, timeout: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=root))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        "--params",
        json.dumps(params),
        "--folder",
        str(folder),
    ]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise BenchmarkError(f"the {kind} worker {params} failed:\n{proc.stderr.strip()}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise BenchmarkError(f"the {kind} worker {params} printed nothing:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["params"] = params
    result["worker_wall_s"] = time.perf_counter() - started
    if proc.stderr.strip():
        result["stderr"] = proc.stderr.strip()[-2000:]
    return result


def _machine() -> dict[str, Any]:
    try:
        optuna_version = importlib.import_module("optuna").__version__
    except ImportError:
        optuna_version = None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "optuna": optuna_version,
        "commit": commit or None,
        "load_average_start": list(os.getloadavg()),
    }


def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def _summarise(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    log = raw["log"]["repeats"]
    n = raw["log"]["params"]["n"]
    out["log"] = {
        "n": n,
        "calls_per_s": _spread([n / r["loop_s"] for r in log]),
        "end_to_end_calls_per_s": _spread([n / r["end_to_end_s"] for r in log]),
        "us_per_call_over_baseline": _spread(
            [(r["loop_s"] - r["baseline_loop_s"]) / n * 1e6 for r in log]
        ),
        "baseline_loop_us_per_iteration": _spread([r["baseline_loop_s"] / n * 1e6 for r in log]),
        "finish_s": _spread([r["finish_s"] for r in log]),
        "backlog_calls": _spread([r["backlog_calls"] for r in log]),
        "peak_rss_mib": raw["log"]["peak_rss_mib"],
        "rss_before_mib": raw["log"]["rss_before_mib"],
    }
    for name in ("random", "grid", "optuna_sqlite", "optuna_memory"):
        reps = raw[name]["repeats"]
        out[name] = {key: _spread([r[key] for r in reps]) for key in reps[0] if key != "wall_s"}
        out[name]["n"] = raw[name]["params"]["n"]
    bayes = raw["bayes"]["repeats"]
    out["bayes"] = {
        c: {key: _spread([r["at"][c][key] for r in bayes]) for key in bayes[0]["at"][c]}
        for c in bayes[0]["at"]
    }
    nb = out["random"]["ms_per_run"]["median"]
    out["ratio"] = {
        "optuna_sqlite_over_nbsweep": out["optuna_sqlite"]["ms_per_run"]["median"] / nb,
        "optuna_memory_over_nbsweep": out["optuna_memory"]["ms_per_run"]["median"] / nb,
        "optuna_sqlite_over_nbsweep_intervals": (
            out["optuna_sqlite"]["interval_median_ms"]["median"]
            / out["random"]["interval_median_ms"]["median"]
        ),
    }
    out["targets"] = {
        "log_calls_per_s": out["log"]["calls_per_s"]["median"] >= LOG_TARGET,
        "log_end_to_end_calls_per_s": (
            out["log"]["end_to_end_calls_per_s"]["median"] >= LOG_TARGET
        ),
        "per_run_random_ms": out["random"]["ms_per_run"]["median"] <= RUN_TARGET_MS
        and out["random"]["interval_median_ms"]["median"] <= RUN_TARGET_MS,
        "per_run_grid_ms": out["grid"]["ms_per_run"]["median"] <= RUN_TARGET_MS
        and out["grid"]["interval_median_ms"]["median"] <= RUN_TARGET_MS,
        "optuna_sqlite_ratio": out["ratio"]["optuna_sqlite_over_nbsweep"] >= RATIO_TARGET,
    }
    return out


def _fmt(spread: dict[str, float], digits: int = 2, scale: float = 1.0) -> str:
    med, low, high = (spread[k] * scale for k in ("median", "min", "max"))
    return f"{med:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _table(result: dict[str, Any]) -> str:
    s, m, t = result["summary"], result["machine"], result["summary"]["targets"]
    log, rnd, grid = s["log"], s["random"], s["grid"]
    osq, omem = s["optuna_sqlite"], s["optuna_memory"]
    reps = result["sizes"]
    lines = [
        f"**Command:** `{result['command']}`  ",
        f"**Machine:** {m['cores']} cores ({m['cpu']}), {m['implementation']} {m['python']}, "
        f"SQLite {m['sqlite']}, Optuna {m['optuna']}, {m['platform']}  ",
        f"**Commit:** {m['commit']}; load average at start "
        f"{' / '.join(f'{v:.2f}' for v in m['load_average_start'])}, at end "
        f"{' / '.join(f'{v:.2f}' for v in result['load_average_end'])}; "
        f"total {result['elapsed_s']:.0f} s  ",
        "Figures: median over repeats (min–max); each repeat on a fresh store in a fresh "
        "process, after a warm-up.",
        "",
        "| # | measurement | value | target | |",
        "|---|---|---|---|---|",
        f"| 1a | `run.log` calls/s, loop as training code sees it (N={log['n']:,}, "
        f"{reps['log_reps']} repeats) | {_fmt(log['calls_per_s'], 0)} | ≥ {LOG_TARGET:,} | "
        f"{_mark(t['log_calls_per_s'])} |",
        f"| 1b | `run.log` calls/s end to end: first call → `finish()` returned, "
        f"{2 * log['n']:,} rows verified in the file | "
        f"{_fmt(log['end_to_end_calls_per_s'], 0)} | ≥ {LOG_TARGET:,} | "
        f"{_mark(t['log_end_to_end_calls_per_s'])} |",
        f"| 1c | µs per `run.log` call, net of the bare loop "
        f"({_fmt(log['baseline_loop_us_per_iteration'], 2)} µs/iteration) | "
        f"{_fmt(log['us_per_call_over_baseline'], 2)} | | |",
        f"| 1d | `finish()` after the loop, s | {_fmt(log['finish_s'], 2)} | | |",
        f"| 1e | calls still queued in memory when the loop ended | "
        f"{_fmt(log['backlog_calls'], 0)} | | |",
        f"| 1f | peak RSS of the log process, MiB (before the repeats: "
        f"{log['rss_before_mib']:.0f}) | {log['peak_rss_mib']:.0f} | | |",
    ]
    for label, key, data, n_reps in (
        ("random", "per_run_random_ms", rnd, reps["runs_reps"]),
        ("grid", "per_run_grid_ms", grid, reps["runs_reps"]),
    ):
        lines += [
            f"| 2 | nbsweep {label}, ms per run: agent wall / N (N={data['n']:,}, "
            f"{n_reps} repeats) | {_fmt(data['ms_per_run'], 3)} | ≤ {RUN_TARGET_MS:g} | "
            f"{_mark(t[key])} |",
            f"| 2 | nbsweep {label}, interval between runs' `created_at`: median / p90, ms | "
            f"{_fmt(data['interval_median_ms'], 3)} / {_fmt(data['interval_p90_ms'], 3)} | "
            f"≤ {RUN_TARGET_MS:g} | |",
            f"| 2 | nbsweep {label}, median interval over the last 10% of runs, ms | "
            f"{_fmt(data['interval_last10pct_median_ms'], 3)} | | |",
            f"| 2 | nbsweep {label}, split: created → finished (init, log, finish) / "
            f"finished → next created (bookkeeping, claim), ms | "
            f"{_fmt(data['in_run_median_ms'], 3)} / {_fmt(data['between_median_ms'], 3)} | | |",
        ]
    ratio = s["ratio"]
    lines += [
        f"| 3 | Optuna SQLite, ms per trial: wall / N (N={osq['n']:,}, "
        f"{reps['optuna_reps']} repeats) | {_fmt(osq['ms_per_run'], 2)} | | |",
        f"| 3 | Optuna SQLite, interval between trial starts: median / p90, ms | "
        f"{_fmt(osq['interval_median_ms'], 2)} / {_fmt(osq['interval_p90_ms'], 2)} | | |",
        f"| 3 | Optuna in memory (nothing persisted), ms per trial (N={omem['n']:,}, "
        f"{reps['optuna_memory_reps']} repeats) | {_fmt(omem['ms_per_run'], 3)} | | |",
        f"| 3 | ratio Optuna SQLite / nbsweep random (ms per run) | "
        f"{ratio['optuna_sqlite_over_nbsweep']:.1f}× | ≥ {RATIO_TARGET:g}× | "
        f"{_mark(t['optuna_sqlite_ratio'])} |",
        f"| 3 | ratio Optuna SQLite / nbsweep random (median intervals) | "
        f"{ratio['optuna_sqlite_over_nbsweep_intervals']:.1f}× | | |",
        f"| 3 | ratio Optuna in memory / nbsweep random (SQLite) | "
        f"{ratio['optuna_memory_over_nbsweep']:.2f}× | | |",
    ]
    for c, data in s["bayes"].items():
        lines += [
            f"| 4 | bayes, first {c} runs ({reps['bayes_reps']} repeats): claim median / p90, "
            f"ms | {_fmt(data['claim_median_ms'], 2)} / {_fmt(data['claim_p90_ms'], 2)} | | |",
            f"| 4 | bayes, claims {max(1, int(c) - 9)}–{c} (history ≈ {c}): median claim, ms | "
            f"{_fmt(data['claim_last10_median_ms'], 2)} | | |",
            f"| 4 | bayes, first {c} runs: mean interval between runs, ms | "
            f"{_fmt(data['ms_per_run'], 2)} | | |",
        ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a ~20 s smoke run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON goes")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](json.loads(args.params), args.folder)
        print(json.dumps(result))
        return 0

    sizes = QUICK if args.quick else FULL
    python = os.path.relpath(sys.executable)
    python = sys.executable if python.startswith("..") else python
    command = shlex.join([python, *sys.argv])
    started = time.perf_counter()
    machine = _machine()
    raw: dict[str, Any] = {}
    plan: list[tuple[str, str, dict[str, Any]]] = [
        (
            "log",
            "log",
            {"n": sizes["log_n"], "reps": sizes["log_reps"], "warmup": sizes["log_warmup"]},
        ),
        (
            "random",
            "agent",
            {"method": "random", "n": sizes["runs_n"], "reps": sizes["runs_reps"]},
        ),
        ("grid", "agent", {"method": "grid", "n": sizes["runs_n"], "reps": sizes["runs_reps"]}),
        (
            "optuna_sqlite",
            "optuna",
            {"storage": "sqlite", "n": sizes["optuna_n"], "reps": sizes["optuna_reps"]},
        ),
        (
            "optuna_memory",
            "optuna",
            {"storage": "memory", "n": sizes["runs_n"], "reps": sizes["optuna_memory_reps"]},
        ),
        (
            "bayes",
            "bayes",
            {"checkpoints": sizes["bayes_checkpoints"], "reps": sizes["bayes_reps"]},
        ),
    ]
    with tempfile.TemporaryDirectory(prefix="nbsweep-bench-") as tmp:
        for name, kind, params in plan:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
            raw[name] = _spawn(kind, params, Path(tmp), timeout=600)
    result = {
        "command": command,
        "quick": args.quick,
        "sizes": sizes,
        "machine": machine,
        "targets": {
            "log_calls_per_s": LOG_TARGET,
            "per_run_ms": RUN_TARGET_MS,
            "optuna_ratio": RATIO_TARGET,
        },
        "summary": _summarise(raw),
        "raw": raw,
        "load_average_end": list(os.getloadavg()),
        "elapsed_s": time.perf_counter() - started,
    }
    print(_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
