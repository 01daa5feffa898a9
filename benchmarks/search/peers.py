"""The searchers under test, each behind the same two calls: ``propose()`` and ``record()``.

* nbsweep (``random``, ``bayes``): the path every agent takes. A sweep in a fresh SQLite
  store, ``claim_next_run`` for each proposal, ``store.write_progress(..., finish=...)`` for
  each result.
* Optuna 5.1 (``RandomSampler``, ``TPESampler``, ``GPSampler``, default settings, seeded):
  ``study.ask(distributions)`` and ``study.tell``, in memory.
* W&B's engine (PyPI ``sweeps`` 0.2.0, ``bayes``): ``wandb_driver.py`` in its own virtual
  environment, spoken to over JSON lines; ``make_wandb_venv`` creates that environment.

Peers are benchmark extras: nothing here is imported by nbsweep.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from problems import Problem, optuna_distributions, sweep_config

__all__ = [
    "METHODS",
    "WANDB_PINS",
    "WANDB_VENV",
    "WandbUnavailableError",
    "make_session",
    "make_wandb_venv",
]

HERE = Path(__file__).resolve().parent
WANDB_VENV = HERE / ".wandb-venv"
WANDB_DRIVER = HERE / "wandb_driver.py"
# pydantic<2: sweeps 0.2.0 declares its models the pydantic-1 way; under pydantic 2 a run's
# metric passed by field name is dropped silently and bayes degrades to random search (the
# driver also passes it by alias and checks it arrived). numpy<2: the numpy sweeps 0.2.0 was
# released against (numpy 2.4 also ran the calls used here in a check; pinned to be safe).
WANDB_PINS = ("sweeps==0.2.0", "pydantic<2", "numpy<2")

# name -> (label, family, option)
METHODS: dict[str, tuple[str, str, str]] = {
    "nbsweep-random": ("nbsweep random", "nbsweep", "random"),
    "nbsweep-bayes": ("nbsweep bayes", "nbsweep", "bayes"),
    "optuna-random": ("Optuna RandomSampler", "optuna", "random"),
    "optuna-tpe": ("Optuna TPESampler", "optuna", "tpe"),
    "optuna-gp": ("Optuna GPSampler", "optuna", "gp"),
    "wandb-bayes": ("W&B bayes (sweeps 0.2.0)", "wandb", "bayes"),
}


class WandbUnavailableError(RuntimeError):
    """W&B's engine could not be installed or started; the message says exactly why."""


# nbsweep ----------------------------------------------------------------------------------


class _CountWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class NbsweepSession:
    """A sweep in its own SQLite file, driven through the real claim path."""

    def __init__(self, method: str, problem: Problem, seed: int, folder: Path) -> None:
        import nbsweep
        from nbsweep.store import open_store

        self.method = method
        self.path = Path(tempfile.mkstemp(suffix=".db", dir=folder)[1])
        self.path.unlink()
        self.store = open_store(self.path)
        self.sweep_id = nbsweep.sweep(sweep_config(problem, method), seed=seed, store=self.store)
        self.metric = "loss"
        self._run: Any = None
        self._warnings = _CountWarnings()
        logging.getLogger("nbsweep.search").addHandler(self._warnings)
        self.last_engine_seconds: float | None = None
        self._strategy: Any = None

    @property
    def fallbacks(self) -> int:
        """GP proposals that fell back to a random point (logged as warnings)."""
        return self._warnings.count

    def propose(self) -> dict[str, Any]:
        from nbsweep.controller import claim_next_run

        claim = claim_next_run(self.store, self.sweep_id)
        if claim.status != "claimed" or claim.run is None:
            raise RuntimeError(f"nbsweep claim: {claim.status} ({claim.reason})")
        self._run = claim.run
        return dict(claim.run.config)

    def record(self, config: Mapping[str, Any], value: float) -> None:
        run_id = self._run.id
        self._finish(run_id, value)

    def _finish(self, run_id: str, value: float) -> None:
        self.store.write_progress(
            run_id,
            metrics=[(run_id, 0, self.metric, value)],
            objects=(),
            summary={self.metric: value},
            metric=(value, 1),
            last_step=0,
            finish={"state": "finished"},
        )

    def load_history(self, runs: Sequence[tuple[Mapping[str, Any], float]]) -> None:
        """Store finished runs as if agents had run them (for the latency benchmark)."""
        from nbsweep.store import new_id

        ids = [new_id() for _ in runs]
        with self.store.write() as conn:
            for seq, (run_id, (config, _)) in enumerate(zip(ids, runs, strict=True)):
                self.store.insert_run(
                    conn, run_id=run_id, sweep_id=self.sweep_id, seq=seq, config=dict(config)
                )
        for run_id, (_, value) in zip(ids, runs, strict=True):
            self._finish(run_id, value)

    def time_strategy(self) -> float:
        """Seconds of one bare ``strategy.propose`` on the stored runs (no store, no lock).

        One strategy object serves every call, as in a claiming process (it may keep
        per-process caches); its first call is made untimed.
        """
        import random

        from nbsweep.controller import sweep_space
        from nbsweep.search import strategy_for

        record = self.store.get_sweep(self.sweep_id)
        config, space = sweep_space(self.store, record)
        runs = self.store.sweep_runs(self.sweep_id)
        rng = random.Random(f"bench:{len(runs)}")
        if self._strategy is None:
            self._strategy = strategy_for(self.method)
            self._strategy.propose(config, space, runs, rng, record.strategy_state)
        start = time.perf_counter()
        self._strategy.propose(config, space, runs, rng, record.strategy_state)
        return time.perf_counter() - start

    def close(self) -> None:
        logging.getLogger("nbsweep.search").removeHandler(self._warnings)
        self.store.close()


# Optuna -----------------------------------------------------------------------------------


class OptunaSession:
    """An in-memory study with one of Optuna's samplers at its defaults, seeded."""

    def __init__(self, sampler: str, problem: Problem, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        samplers = {
            "random": optuna.samplers.RandomSampler,
            "tpe": optuna.samplers.TPESampler,
            "gp": optuna.samplers.GPSampler,
        }
        self.study = optuna.create_study(
            direction="minimize", sampler=samplers[sampler](seed=seed)
        )
        self.distributions = optuna_distributions(problem.parameters)
        self._trial: Any = None
        self.fallbacks = 0
        self.last_engine_seconds: float | None = None

    def propose(self) -> dict[str, Any]:
        self._trial = self.study.ask(self.distributions)
        return dict(self._trial.params)

    def record(self, config: Mapping[str, Any], value: float) -> None:
        self.study.tell(self._trial, value)

    def load_history(self, runs: Sequence[tuple[Mapping[str, Any], float]]) -> None:
        import optuna

        self.study.add_trials(
            [
                optuna.trial.create_trial(
                    params=dict(config), distributions=self.distributions, value=value
                )
                for config, value in runs
            ]
        )

    def close(self) -> None:
        pass


# W&B's engine, in its own virtual environment ----------------------------------------------


def _venv_python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def make_wandb_venv(
    folder: Path = WANDB_VENV, pins: Sequence[str] = WANDB_PINS, log: Any = print
) -> dict[str, Any]:
    """Create (or reuse) the engine's virtual environment; return its Python and packages.

    Reused when its stamp lists the same pins. Raises :class:`WandbUnavailableError` with
    pip's own words when the install fails.
    """
    stamp = folder / "nbsweep-bench.json"
    python = _venv_python(folder)
    if stamp.exists() and python.exists():
        found = json.loads(stamp.read_text())
        if found.get("pins") == list(pins):
            return {**found, "python": str(python), "created": False}
    if folder.exists():
        shutil.rmtree(folder)
    log(f"creating W&B's engine environment in {folder} ({' '.join(pins)}) ...")
    start = time.perf_counter()
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
    except Exception as exc:
        raise WandbUnavailableError(f"python -m venv {folder} failed: {exc!r}") from exc
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *pins]
    done = subprocess.run(pip, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise WandbUnavailableError(f"`{' '.join(pip[2:])}` exited {done.returncode}:\n{tail}")
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    info = {"pins": list(pins), "packages": freeze, "install_seconds": time.perf_counter() - start}
    stamp.write_text(json.dumps(info, indent=1))
    log(f"  installed in {info['install_seconds']:.0f} s: {' '.join(freeze)}")
    return {**info, "python": str(python), "created": True}


class WandbSession:
    """W&B's engine in a child process, fed the history and asked for the next run."""

    def __init__(self, problem: Problem, seed: int, python: str, folder: Path) -> None:
        self._stderr = tempfile.TemporaryFile(mode="w+", dir=folder)  # noqa: SIM115
        self.proc = subprocess.Popen(
            [python, "-I", str(WANDB_DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        self._buffer: list[list[Any]] = []
        self.fallbacks = 0
        self.last_engine_seconds: float | None = None
        reply = self._call({"op": "init", "config": sweep_config(problem, "bayes"), "seed": seed})
        self.versions: dict[str, str] = reply["versions"]

    def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            self._stderr.seek(0)
            tail = "\n".join(self._stderr.read().strip().splitlines()[-10:])
            raise WandbUnavailableError(f"W&B engine process ended; its stderr:\n{tail}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"W&B engine: {reply['error']}\n{reply.get('trace', '')}")
        return reply

    def propose(self) -> dict[str, Any]:
        reply = self._call({"op": "suggest", "runs": self._buffer})
        self._buffer = []
        self.last_engine_seconds = float(reply["seconds"])
        self.fallbacks += bool(reply["random"])
        return dict(reply["config"])

    def record(self, config: Mapping[str, Any], value: float) -> None:
        self._buffer.append([dict(config), value])

    def load_history(self, runs: Sequence[tuple[Mapping[str, Any], float]]) -> None:
        self._call({"op": "add", "runs": [[dict(c), v] for c, v in runs]})

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


def make_session(
    method: str, problem: Problem, seed: int, folder: Path, wandb_python: str | None = None
) -> Any:
    """A fresh search session of ``method`` on ``problem``."""
    _, family, option = METHODS[method]
    if family == "nbsweep":
        return NbsweepSession(option, problem, seed, folder)
    if family == "optuna":
        return OptunaSession(option, problem, seed)
    if wandb_python is None:
        raise WandbUnavailableError("W&B's engine environment is not available")
    return WandbSession(problem, seed, wandb_python, folder)


def python_versions() -> dict[str, str]:
    """Versions in the benchmark's own environment."""
    import numpy
    import optuna
    import scipy
    import sklearn
    import torch

    import nbsweep

    return {
        "python": sys.version.split()[0],
        "nbsweep": getattr(nbsweep, "__version__", "?"),
        "optuna": optuna.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
