"""Median latency of ``nbsweep.search._gp.propose`` at several history sizes.

Usage: ``python benchmarks/gp_latency.py [--repeats N] [--dim D | --mixed20]``

``--dim D`` times a space of D continuous parameters; ``--mixed20`` a space of 20 mixed ones:
8 continuous, 6 ints of 501 values each and 6 categoricals of 10 choices each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nbsweep.search._gp import Dim, propose


def _objective(X: np.ndarray) -> np.ndarray:
    # A smooth multimodal test function with a little noise.
    return np.sum((X - 0.3) ** 2, axis=1) + 0.1 * np.sin(12 * X[:, 0]) * np.cos(7 * X[:, 1])


def _mixed20() -> list[Dim]:
    return (
        [Dim("continuous")] * 8
        + [Dim("discrete", levels=np.linspace(0.0, 1.0, 501))] * 6
        + [Dim("categorical", n_choices=10)] * 6
    )


def _history(dims: list[Dim], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random rows of the space: unit floats, lattice levels, choice indices."""
    cols = []
    for dim in dims:
        if dim.kind == "continuous":
            cols.append(rng.random(n))
        elif dim.kind == "discrete":
            assert dim.levels is not None
            cols.append(rng.choice(dim.levels, size=n))
        else:
            cols.append(rng.integers(dim.n_choices, size=n).astype(float))
    return np.column_stack(cols)


def _time_calls(dims: list[Dim], n: int, mode: str, repeats: int) -> tuple[float, float]:
    """Median and max seconds per call; mode is "kept", "warm" or "cold"."""
    rng = np.random.default_rng(n)
    X = _history(dims, n, rng)
    y = _objective(X) + 0.01 * rng.normal(size=n)
    fitted = propose(X, y, dims, np.random.default_rng(0), n_startup=2).state
    state = None if mode == "cold" else fitted
    times = []
    for r in range(repeats):
        t0 = time.perf_counter()
        p = propose(
            X, y, dims, np.random.default_rng(r), state=state, refit=mode != "kept", n_startup=2
        )
        times.append(time.perf_counter() - t0)
        assert p.info["phase"] == "model", p.info
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dim", type=int, default=6)
    parser.add_argument("--mixed20", action="store_true", help="20 mixed parameters")
    args = parser.parse_args()
    dims = _mixed20() if args.mixed20 else [Dim("continuous")] * args.dim
    space = "20 mixed (8 float, 6 int, 6 categorical)" if args.mixed20 else f"d={args.dim}"
    print(f"{space}, {args.repeats} repeats; median / max latency of one propose() in ms")
    print("  refit=False: state given and kept; refit=True: warm-started from state / cold")
    print(f"{'n':>6} {'refit=False':>16} {'refit=True warm':>18} {'refit=True cold':>18}")
    for n in (10, 100, 300, 1000):
        cells = []
        for mode, reps in (("kept", args.repeats), ("warm", 5), ("cold", 5)):
            med, worst = _time_calls(dims, n, mode, reps)
            cells.append(f"{med * 1e3:7.1f} / {worst * 1e3:6.1f}")
        print(f"{n:>6}  {cells[0]:>16}  {cells[1]:>16}  {cells[2]:>16}")


if __name__ == "__main__":
    main()
