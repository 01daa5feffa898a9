"""Drive W&B's sweep engine (PyPI ``sweeps`` 0.2.0) over JSON lines on stdin/stdout.

Runs *only* with the Python of the benchmark's own virtual environment
(``benchmarks/search/.wandb-venv``, made by ``run.py``); it is never imported by nbsweep or by
the benchmark's own process. Standard library plus ``sweeps``.

Protocol: one JSON object per line in, one per line out.

``{"op": "init", "config": {...}, "seed": 0}``
    Start a sweep: the W&B sweep config, and the seed of Python's ``random`` and numpy's
    global generator (the engine draws from both). Answers the versions in use.
``{"op": "add", "runs": [[{"name": value, ...}, metric_value], ...]}``
    Append finished runs to the history.
``{"op": "suggest", "runs": [...]}``
    Append ``runs`` (optional, as for ``add``), then call ``sweeps.next_run(config, history)``.
    Answers ``{"config": {"name": value}, "seconds": engine time, "random": bool}``; ``random``
    is true when bayes gave up on its model for this proposal (its kernel-at-bound guard).
``{"op": "quit"}``

Errors are answered as ``{"error": "..."}``. The engine prints and warns on its own, so
anything it writes is sent to stderr and only protocol lines reach stdout.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
import warnings
from typing import Any


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers, so they can go into JSON."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


class _Session:
    def __init__(self, config: dict[str, Any], seed: int) -> None:
        import numpy as np

        random.seed(seed)
        np.random.seed(seed)
        self.config = config
        self.metric = config["metric"]["name"]
        self.history: list[Any] = []

    def add(self, runs: list[Any]) -> None:
        from sweeps import RunState, SweepRun

        for config, value in runs:
            # By alias: under pydantic 2, sweeps 0.2.0's `allow_population_by_field_name`
            # is ignored, so `summary_metrics=` would be dropped without a word and every
            # run would look unmeasured (bayes then imputes 0.0 for all of them).
            run = SweepRun(
                name=f"run-{len(self.history)}",
                state=RunState.finished,
                config={k: {"value": v} for k, v in config.items()},
                summaryMetrics={self.metric: value},
                sampledHistory=[{self.metric: value}],
            )
            if run.summary_metrics.get(self.metric) != value:
                raise RuntimeError(
                    "the engine's SweepRun lost the run's metric (a pydantic version problem)"
                )
            self.history.append(run)

    def suggest(self) -> dict[str, Any]:
        from sweeps import next_run

        start = time.perf_counter()
        suggestion = next_run(self.config, self.history, validate=False)
        seconds = time.perf_counter() - start
        info = suggestion.search_info or {}
        return {
            "config": {k: v["value"] for k, v in suggestion.config.items()},
            "seconds": seconds,
            "random": "random sample" in str(info.get("warnings", "")),
        }


def main() -> int:
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever the engine prints must not reach the protocol
    warnings.simplefilter("ignore")
    session: _Session | None = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
            op = msg["op"]
            if op == "quit":
                break
            if op == "init":
                import numpy
                import pydantic
                import scipy
                import sklearn
                import sweeps

                session = _Session(msg["config"], int(msg["seed"]))
                reply: dict[str, Any] = {
                    "versions": {
                        "sweeps": sweeps.__version__,
                        "pydantic": pydantic.VERSION,
                        "numpy": numpy.__version__,
                        "scipy": scipy.__version__,
                        "scikit-learn": sklearn.__version__,
                        "python": sys.version.split()[0],
                    }
                }
            elif session is None:
                raise RuntimeError("send init first")
            elif op == "add":
                session.add(msg["runs"])
                reply = {"ok": True}
            elif op == "suggest":
                session.add(msg.get("runs", []))
                reply = session.suggest()
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as exc:  # reported to the caller, who decides
            reply = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        out.write(json.dumps(reply, default=_plain) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
