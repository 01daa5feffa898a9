"""Search quality and proposal latency: nbsweep against Optuna and W&B's engine, one command.

Usage::

    .venv/bin/python benchmarks/search/run.py [--quick] [--seeds N] [--trials N]
        [--only NAMES] [--workers N] [--readme] [--render JSON]

What it measures
----------------
Quality
    Every method runs ``--trials`` (100) trials on every problem of ``problems.py`` for
    ``--seeds`` (40) seeds; the table gives the best value after 30 and after 100 trials as
    the median over seeds and the interquartile range ``[25th, 75th percentile]``. Seeds run in
    ``--workers`` (2) processes, each limited to one BLAS/torch thread. Forty seeds rather
    than ten or twenty because on Hartmann6 about two searches in five of every GP method
    settle in a local optimum: over ten seeds the median at 100 trials is close to a coin
    toss, and over twenty, Optuna's GP median at 30 trials still ranged from -2.66 to -3.15
    across six blocks of twenty seeds, wider than the gaps between methods.
Latency
    Each method gets a history of N random finished runs of the mixed 6-d problem (N = 10,
    100, 300, 1000, the same runs for every method), makes one untimed warm-up proposal, then
    up to 10 timed proposals, each evaluated and recorded before the next (so the history
    grows from N+1 to N+10; fewer repeats once a method has spent 40 s at that N). Median and
    90th percentile. Runs alone, after the quality part, with the machine's default threads.
    nbsweep is timed on the path every agent pays, ``claim_next_run`` on a SQLite store holding
    the runs, and separately as the bare ``strategy.propose`` call; Optuna as ``study.ask`` on
    an in-memory study; W&B as the engine's ``next_run`` inside its own process.

Methods: ``nbsweep-random``, ``nbsweep-bayes``, ``optuna-random``, ``optuna-tpe``,
``optuna-gp``, ``wandb-bayes`` (details in ``peers.py``). nbsweep's ``grid`` is left out: every
problem has continuous parameters, which grid search refuses (as W&B's does).

``--only`` takes a comma-separated list of method names, problem names and the words
``quality`` and ``latency``; each group given narrows its own part. The full run takes about
40 minutes on an idle 2-core machine (the searches are deterministic for a given seed; only the
timings depend on the load). ``--quick`` is a smoke run of about 1-2 minutes (2 seeds, 30
trials, latency at 10 and 100 runs) whose figures are not comparable with the full run's.
``--render JSON`` rebuilds the tables (and with ``--readme`` the README section) from a
saved result.

Output: a markdown table printed and written to ``benchmarks/results/search.md`` (``--quick``:
``search-quick.md``), the raw figures to the ``.json`` beside it, and with ``--readme`` the
section between the ``search-benchmark`` markers of README.md.

W&B's engine (PyPI ``sweeps`` 0.2.0, pins in ``peers.WANDB_PINS``) is installed by pip into
``benchmarks/search/.wandb-venv`` (git-ignored) on first use and driven through
``wandb_driver.py`` over JSON lines; it never enters nbsweep's environment.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from peers import (
    METHODS,
    WANDB_PINS,
    NbsweepSession,
    WandbUnavailableError,
    make_session,
    make_wandb_venv,
    python_versions,
)
from problems import PROBLEMS, random_config, space_spec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
MARK_START = "<!-- search-benchmark:start -->"
MARK_END = "<!-- search-benchmark:end -->"

FULL: dict[str, Any] = {
    "seeds": 40,
    "trials": 100,
    "checkpoints": [30, 100],
    "sizes": [10, 100, 300, 1000],
    "repeats": 10,
    "latency_budget_s": 40.0,
}
QUICK: dict[str, Any] = {
    "seeds": 2,
    "trials": 30,
    "checkpoints": [15, 30],
    "sizes": [10, 100],
    "repeats": 3,
    "latency_budget_s": 5.0,
}
LATENCY_PROBLEM = "mixed6"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# Rough seconds of one 100-trial job, only to start the long ones first.
_METHOD_COST = {"optuna-gp": 60.0, "wandb-bayes": 10.0, "optuna-tpe": 3.0, "nbsweep-bayes": 3.0}
_PROBLEM_COST = {"branin": (0.4, 0.0), "hartmann6": (0.8, 0.0), "mixed6": (1.3, 0.0)}
_DIGITS_COST = (1.3, 20.0)


def _log(*parts: Any) -> None:
    print(*parts, flush=True)


def _fingerprint() -> str:
    """A hash of nbsweep's Python source, to detect edits made while the benchmark runs."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "nbsweep").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "nbsweep_dirty": bool(git("status", "--porcelain", "--", "nbsweep")),
    }


# Workers ---------------------------------------------------------------------------------


def _init_worker(one_thread: bool) -> None:
    warnings.simplefilter("ignore")
    # Load all of nbsweep's search code now: the tree is shared, and a worker must not pick
    # up an edit made while the benchmark runs (the fingerprint check reports any edit).
    import nbsweep.controller
    import nbsweep.search._bayes  # noqa: F401

    if one_thread:
        import threadpoolctl
        import torch

        threadpoolctl.threadpool_limits(1)
        torch.set_num_threads(1)


def _in_space(spec: Sequence[Any], config: dict[str, Any]) -> bool:
    for p in spec:
        v = config.get(p.name)
        if p.kind == "categorical":
            ok = v in p.choices
        elif p.kind == "int":
            ok = isinstance(v, int) and p.low <= v <= p.high
        else:
            slack = 1e-9 * (p.high - p.low)
            ok = isinstance(v, float) and p.low - slack <= v <= p.high + slack
        if not ok:
            return False
    return True


def _quality_job(
    method: str, problem_name: str, seed: int, trials: int, wandb_python: str | None
) -> dict[str, Any]:
    """One search of ``trials`` trials; every objective value in order."""
    problem = PROBLEMS[problem_name]
    spec = space_spec(problem.parameters)
    result: dict[str, Any] = {"method": method, "problem": problem_name, "seed": seed}
    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="nbsweep-search-bench-"))
    session = None
    try:
        session = make_session(method, problem, seed, folder, wandb_python)
        values: list[float] = []
        propose_s = eval_s = 0.0
        for _ in range(trials):
            t0 = time.perf_counter()
            config = session.propose()
            t1 = time.perf_counter()
            if not _in_space(spec, config):
                raise RuntimeError(f"{method} proposed a config outside the space: {config}")
            value = float(problem.objective(config))
            t2 = time.perf_counter()
            session.record(config, value)
            values.append(value)
            propose_s += t1 - t0
            eval_s += t2 - t1
        result.update(
            values=values,
            propose_s=propose_s,
            eval_s=eval_s,
            random_fallbacks=int(session.fallbacks),
        )
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if session is not None:
            session.close()
        shutil.rmtree(folder, ignore_errors=True)
    result["seconds"] = time.perf_counter() - start
    return result


def _quantile(values: Sequence[float], q: float) -> float:
    return float(np.quantile(np.asarray(values, dtype=float), q))


def _latency_job(
    method: str,
    sizes: Sequence[int],
    repeats: int,
    budget_s: float,
    wandb_python: str | None,
) -> dict[str, Any]:
    """Seconds per proposal with N finished runs of the mixed problem, for each N."""
    problem = PROBLEMS[LATENCY_PROBLEM]
    out: dict[str, Any] = {"method": method, "sizes": {}}
    folder = Path(tempfile.mkdtemp(prefix="nbsweep-search-bench-"))
    try:
        for n in sizes:
            rng = np.random.default_rng(1000 + n)  # the same history for every method
            configs = [random_config(problem.parameters, rng) for _ in range(n)]
            history = [(c, float(problem.objective(c))) for c in configs]
            session = make_session(method, problem, 0, folder, wandb_python)
            row: dict[str, Any] = {"propose": [], "engine": [], "strategy": []}
            try:
                t0 = time.perf_counter()
                session.load_history(history)
                row["load_s"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                config = session.propose()
                row["warmup_s"] = time.perf_counter() - t0
                session.record(config, float(problem.objective(config)))
                bare = isinstance(session, NbsweepSession) and session.method == "bayes"
                spent = 0.0
                for _ in range(repeats):
                    if bare:
                        row["strategy"].append(session.time_strategy())
                        spent += row["strategy"][-1]
                    t0 = time.perf_counter()
                    config = session.propose()
                    took = time.perf_counter() - t0
                    row["propose"].append(took)
                    if session.last_engine_seconds is not None:
                        row["engine"].append(session.last_engine_seconds)
                    session.record(config, float(problem.objective(config)))
                    spent += took
                    if spent > budget_s and len(row["propose"]) >= 3:
                        break
            except Exception as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                session.close()
            out["sizes"][str(n)] = row
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


# Orchestration ---------------------------------------------------------------------------


def _job_cost(method: str, problem: str) -> float:
    mult, fixed = _PROBLEM_COST.get(problem, _DIGITS_COST)
    return _METHOD_COST.get(method, 1.0) * mult + fixed


def _pool(workers: int, one_thread: bool) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(one_thread,),
    )


def _run_quality(
    methods: Sequence[str],
    problems: Sequence[str],
    sizes: dict[str, Any],
    workers: int,
    wandb_python: str | None,
) -> list[dict[str, Any]]:
    jobs = [
        (m, p, s)
        for m in methods
        for p in problems
        for s in range(sizes["seeds"])
        if m != "wandb-bayes" or wandb_python is not None
    ]
    jobs.sort(key=lambda j: -_job_cost(j[0], j[1]))
    _log(f"quality: {len(jobs)} searches of {sizes['trials']} trials on {workers} workers")
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))  # children (W&B's engine too)
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        with _pool(workers, one_thread=True) as pool:
            futures = [
                pool.submit(_quality_job, *job, sizes["trials"], wandb_python) for job in jobs
            ]
            for i, fut in enumerate(cf.as_completed(futures), 1):
                r = fut.result()
                results.append(r)
                what = f"best {min(r['values']):.5g}" if "values" in r else f"ERROR {r['error']}"
                _log(
                    f"  [{i}/{len(jobs)}] {r['method']:<14} {r['problem']:<10} seed {r['seed']}: "
                    f"{what} ({r['seconds']:.1f} s; {time.perf_counter() - start:.0f} s in)"
                )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return results


def _run_latency(
    methods: Sequence[str], sizes: dict[str, Any], wandb_python: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with _pool(1, one_thread=False) as pool:
        for m in methods:
            if m == "wandb-bayes" and wandb_python is None:
                continue
            t0 = time.perf_counter()
            r = pool.submit(
                _latency_job,
                m,
                sizes["sizes"],
                sizes["repeats"],
                sizes["latency_budget_s"],
                wandb_python,
            ).result()
            out[m] = r
            cells = []
            for n, row in r["sizes"].items():
                if row.get("error"):
                    cells.append(f"{n}: ERROR {row['error']}")
                else:
                    cells.append(f"{n}: {np.median(row['propose']) * 1e3:.1f} ms")
            _log(f"  latency {m:<14} {', '.join(cells)} ({time.perf_counter() - t0:.0f} s)")
    return out


# Summaries and tables --------------------------------------------------------------------


def _summarise(results: list[dict[str, Any]], checkpoints: Sequence[int]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for r in results:
        cell = summary.setdefault(r["method"], {}).setdefault(
            r["problem"], {"best": {str(k): [] for k in checkpoints}, "errors": [], "jobs": 0}
        )
        cell["jobs"] += 1
        if "values" not in r:
            cell["errors"].append(r["error"])
            continue
        for k in checkpoints:
            cell["best"][str(k)].append(min(r["values"][:k]))
    for per_problem in summary.values():
        for cell in per_problem.values():
            cell["stats"] = {
                k: {
                    "median": _quantile(v, 0.5),
                    "q25": _quantile(v, 0.25),
                    "q75": _quantile(v, 0.75),
                    "n": len(v),
                }
                for k, v in cell["best"].items()
                if v
            }
    return summary


def _num(x: float, digits: int) -> str:
    text = f"{x:.{digits}g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


def _duration(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _quality_cell(cell: dict[str, Any] | None, checkpoints: Sequence[int], digits: int) -> str:
    if cell is None:
        return "–"
    if cell["errors"] and not cell.get("stats"):
        return f"error: {cell['errors'][0][:80]}"
    parts = []
    for k in checkpoints:
        s = cell["stats"].get(str(k))
        if s is None:
            parts.append("–")
            continue
        parts.append(
            f"{_num(s['median'], digits)} [{_num(s['q25'], digits)}, {_num(s['q75'], digits)}]"
        )
    text = " / ".join(parts)
    if cell["errors"]:
        text += f" ({len(cell['errors'])} failed)"
    return text


def _latency_cell(row: dict[str, Any] | None, key: str = "propose") -> str:
    if row is None:
        return "–"
    if row.get("error"):
        return f"error: {row['error'][:60]}"
    samples = row.get(key) or []
    if not samples:
        return "–"
    return f"{_duration(_quantile(samples, 0.5))} (p90 {_duration(_quantile(samples, 0.9))})"


_LATENCY_NOTE = (
    "Latency: one proposal with N finished random runs of the mixed 6-d problem, median "
    "(90th percentile) over up to {repeats} proposals after a warm-up. nbsweep: "
    "`claim_next_run` on SQLite (what an agent pays) and the bare strategy call; Optuna: "
    "`study.ask` in memory; W&B: the engine's `next_run` in its own process (no server or "
    "network)."
)


def render(data: dict[str, Any]) -> str:
    """The markdown: the main table, then details."""
    meta = data["meta"]
    checkpoints = meta["sizes"]["checkpoints"]
    sizes = [str(n) for n in meta["sizes"]["sizes"]]
    summary = data.get("quality", {}).get("summary", {})
    latency = data.get("latency", {})
    problems = [p for p in PROBLEMS if any(p in per for per in summary.values())]
    methods = [m for m in METHODS if m in summary or m in latency]
    at = "/".join(f"@{k}" for k in checkpoints)
    head = (
        ["method"]
        + [f"{PROBLEMS[p].title} best{at}" for p in problems]
        + [f"propose, {n} runs" for n in sizes]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in methods:
        label = METHODS[m][0] + (" (claim)" if m.startswith("nbsweep") else "")
        cells = [label]
        cells += [
            _quality_cell(summary.get(m, {}).get(p), checkpoints, PROBLEMS[p].digits)
            for p in problems
        ]
        lat = latency.get(m, {}).get("sizes", {})
        key = "engine" if m == "wandb-bayes" else "propose"
        cells += [_latency_cell(lat.get(n), key) for n in sizes]
        lines.append("| " + " | ".join(cells) + " |")
        if m == "nbsweep-bayes" and lat:
            cells = ["  nbsweep bayes, strategy call only"] + [""] * len(problems)
            cells += [_latency_cell(lat.get(n), "strategy") for n in sizes]
            lines.append("| " + " | ".join(cells) + " |")
    if not problems:
        return "\n".join([*lines, "", _LATENCY_NOTE.format(**meta["sizes"]), "", _details(data)])
    best_row = ["optimum"]
    for p in problems:
        if PROBLEMS[p].optimum is not None:
            best_row.append(_num(PROBLEMS[p].optimum, 6))  # type: ignore[arg-type]
        else:
            seen = [
                v
                for r in data["quality"]["jobs"]
                if r["problem"] == p and "values" in r
                for v in r["values"]
            ]
            best_row.append(f"unknown; best seen {_num(min(seen), 4)}" if seen else "unknown")
    lines.append("| " + " | ".join(best_row + [""] * len(sizes)) + " |")
    out = ["\n".join(lines), ""]
    q = meta["sizes"]
    out.append(
        f"Best value after {' and '.join(map(str, checkpoints))} trials (lower is better): "
        f"median over {q['seeds']} seeds [25th, 75th percentile]. " + _LATENCY_NOTE.format(**q)
    )
    ranking = _ranking(data, "digits_mlp")
    if ranking:
        out += ["", ranking]
    if meta.get("source_changed"):
        out += ["", "**nbsweep's source changed during this run: the figures mix versions.**"]
    out += ["", _details(data)]
    return "\n".join(out).rstrip() + "\n"


def _ranking(data: dict[str, Any], problem: str) -> str:
    """Methods in order of median best value on one problem, at each checkpoint."""
    summary = data.get("quality", {}).get("summary", {})
    parts = []
    for k in data["meta"]["sizes"]["checkpoints"]:
        rows = [
            (cell["stats"][str(k)]["median"], METHODS[m][0])
            for m, per in summary.items()
            if (cell := per.get(problem)) and str(k) in cell.get("stats", {})
        ]
        if len(rows) < 2:
            return ""
        rows.sort()
        parts.append(f"@{k}: " + ", ".join(f"{label} {v:.3f}" for v, label in rows))
    return f"{PROBLEMS[problem].title}, methods by median best value " + "; ".join(parts) + "."


def _details(data: dict[str, Any]) -> str:
    jobs = data.get("quality", {}).get("jobs", [])
    latency = data.get("latency", {})
    lines = ["<details><summary>Time per search, fallbacks, W&B round trip</summary>", ""]
    if jobs:
        lines += [
            "| method | problem | wall s per search (median) | proposing s | random "
            "fallbacks per search |",
            "|---|---|---|---|---|",
        ]
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in jobs:
            groups.setdefault((r["method"], r["problem"]), []).append(r)
        for m in METHODS:
            for p in PROBLEMS:
                rs = [r for r in groups.get((m, p), []) if "values" in r]
                if not rs:
                    continue
                wall = _quantile([r["seconds"] for r in rs], 0.5)
                prop = _quantile([r["propose_s"] for r in rs], 0.5)
                fb = float(np.mean([r["random_fallbacks"] for r in rs]))
                lines.append(f"| {METHODS[m][0]} | {p} | {wall:.1f} | {prop:.1f} | {fb:.1f} |")
    if latency:
        sizes = list(next(iter(latency.values()))["sizes"])
        lines += [
            "",
            "First proposal right after loading N runs (no warm state, no fitted model):",
            "",
            "| method | " + " | ".join(f"{n} runs" for n in sizes) + " |",
            "|---|" + "---|" * len(sizes),
        ]
        for m, r in latency.items():
            cells = [
                _duration(row["warmup_s"]) if "warmup_s" in row else "–"
                for row in (r["sizes"].get(n, {}) for n in sizes)
            ]
            lines.append(f"| {METHODS[m][0]} | " + " | ".join(cells) + " |")
    w = latency.get("wandb-bayes", {}).get("sizes", {})
    if w:
        cells = ", ".join(f"{n}: {_latency_cell(row, 'propose')}" for n, row in w.items())
        lines += ["", f"W&B bayes round trip through the JSON-lines pipe: {cells}."]
    lines += ["", "</details>"]
    return "\n".join(lines)


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def _readme_block(data: dict[str, Any], markdown: str) -> str:
    meta = data["meta"]
    wandb = meta.get("wandb") or {}
    pins = " ".join(wandb.get("pins", [])) or "unavailable"
    commit = meta.get("git", {}).get("commit", "?")
    return (
        f"Measured {meta['date'][:10]} at commit {commit} on {meta['machine']}, "
        f"Python {meta['versions']['python']}, "
        f"Optuna {meta['versions']['optuna']}, W&B's engine from PyPI ({pins}); the whole run "
        f"took {meta['total_s'] / 60:.0f} min:\n\n"
        f"```\n{meta['command']}\n```\n\n{markdown}"
    )


def _update_readme(block: str) -> None:
    text = README.read_text()
    i, j = text.find(MARK_START), text.find(MARK_END)
    if i < 0 or j < i:
        raise SystemExit(f"{README} has no {MARK_START} ... {MARK_END} section")
    README.write_text(text[: i + len(MARK_START)] + "\n" + block.strip() + "\n" + text[j:])


# Command line ----------------------------------------------------------------------------


def _select(only: str | None) -> tuple[list[str], list[str], bool, bool]:
    methods, problems = list(METHODS), list(PROBLEMS)
    quality = latency = True
    if not only:
        return methods, problems, quality, latency
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in METHODS and n not in PROBLEMS]
    unknown = [n for n in unknown if n not in ("quality", "latency")]
    if unknown:
        raise SystemExit(
            f"--only: unknown {unknown}; choose from {[*METHODS, *PROBLEMS, 'quality', 'latency']}"
        )
    if any(n in METHODS for n in names):
        methods = [m for m in METHODS if m in names]
    if any(n in PROBLEMS for n in names):
        problems = [p for p in PROBLEMS if p in names]
    if "quality" in names or "latency" in names:
        quality, latency = "quality" in names, "latency" in names
    return methods, problems, quality, latency


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 1-2 minute smoke run")
    parser.add_argument("--seeds", type=int, help="seeds per method and problem (40)")
    parser.add_argument("--trials", type=int, help="trials per search (100)")
    parser.add_argument("--only", help="comma-separated methods, problems, quality, latency")
    parser.add_argument("--workers", type=int, default=2, help="processes for the searches")
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's section")
    parser.add_argument("--render", type=Path, help="only rebuild the tables from this JSON")
    parser.add_argument("--out", type=Path, help="where the JSON goes")
    args = parser.parse_args(argv)

    if args.render:
        data = json.loads(args.render.read_text())
        markdown = render(data)
        print(markdown)
        args.render.with_suffix(".md").write_text(markdown)
        if args.readme:
            _update_readme(_readme_block(data, markdown))
            _log(f"updated {README}")
        return 0

    sizes = dict(QUICK if args.quick else FULL)
    if args.seeds:
        sizes["seeds"] = args.seeds
    if args.trials:
        sizes["trials"] = args.trials
        sizes["checkpoints"] = sorted({min(k, args.trials) for k in sizes["checkpoints"]})
    methods, problems, do_quality, do_latency = _select(args.only)
    out = args.out or RESULTS / ("search-quick.json" if args.quick else "search.json")
    command = "python benchmarks/search/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "platform": platform.platform(),
        "command": command.strip(),
        "sizes": sizes,
        "methods": methods,
        "problems": problems,
        "workers": args.workers,
        "versions": python_versions(),
        "git": _git_state(),
        "fingerprint": _fingerprint(),
        "load_average_at_start": list(os.getloadavg()),
    }
    wandb_python = None
    if "wandb-bayes" in methods:
        try:
            info = make_wandb_venv(log=_log)
            wandb_python = info["python"]
            meta["wandb"] = info
        except WandbUnavailableError as exc:
            meta["wandb"] = {"error": str(exc), "pins": list(WANDB_PINS)}
            _log(f"W&B's engine is unavailable, its rows are left out:\n{exc}")
    data: dict[str, Any] = {"meta": meta}
    if do_quality:
        t0 = time.perf_counter()
        jobs = _run_quality(methods, problems, sizes, args.workers, wandb_python)
        meta["quality_s"] = time.perf_counter() - t0
        data["quality"] = {
            "jobs": sorted(jobs, key=lambda r: (r["method"], r["problem"], r["seed"])),
            "summary": _summarise(jobs, sizes["checkpoints"]),
        }
    if do_latency:
        _log(f"latency: {LATENCY_PROBLEM}, N = {sizes['sizes']}")
        meta["load_average_before_latency"] = list(os.getloadavg())
        t0 = time.perf_counter()
        data["latency"] = _run_latency(methods, sizes, wandb_python)
        meta["latency_s"] = time.perf_counter() - t0
    meta["total_s"] = time.perf_counter() - started
    if _fingerprint() != meta["fingerprint"]:
        meta["source_changed"] = True
        _log("WARNING: nbsweep's source changed while the benchmark ran; rerun it")
    markdown = render(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1))
    out.with_suffix(".md").write_text(markdown)
    print()
    print(markdown)
    _log(f"total {meta['total_s'] / 60:.1f} min; wrote {out} and {out.with_suffix('.md')}")
    if args.readme:
        if args.quick:
            _log("not writing README.md from a --quick run")
        else:
            _update_readme(_readme_block(data, markdown))
            _log(f"updated {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
