"""The benchmark problems: each one a W&B sweep config plus an objective to minimise.

Every problem is written once, as the ``parameters`` block of a W&B sweep config. The same
block is

* given to nbsweep and to W&B's engine as it is (with ``method`` and ``metric`` added),
* translated for Optuna by :func:`optuna_distributions` (``log_uniform_values`` becomes a
  ``FloatDistribution(log=True)``, ``uniform`` a linear one, ``int_uniform`` an
  ``IntDistribution``, ``values`` a ``CategoricalDistribution``),

so every method searches the same space. :func:`space_spec` is the neutral description that
both translations are checked against (``tests/test_search_benchmark_smoke.py``).

Problems
--------
``branin``
    Branin-Hoo on [-5, 10] x [0, 15]; three global minima of 0.397887.
``hartmann6``
    Hartmann 6-d on [0, 1]^6; minimum -3.32237.
``mixed6``
    Two log-uniform floats, two uniform floats, an int and a 3-way categorical. A sum of
    non-negative terms, 0 only at lr=1e-3, wd=1e-4, a=0.7, b=0.19, n=7, kind="adam". The
    categorical matters twice: each choice adds its own offset *and* moves the best learning
    rate (adam 1e-3, rmsprop 1e-2, sgd 1e-1), so ordering the choices means nothing.
``digits_mlp``
    A real training task on scikit-learn's bundled digits data: a 2-hidden-layer PyTorch MLP,
    6 epochs of mini-batch training on a fixed 60/40 split, the objective is the best
    validation cross-entropy over the epochs (the value W&B and nbsweep record as a run's
    metric when it is logged each epoch). Learning rate, optimizer, momentum, width, dropout
    and weight decay move it from ~0.07 to the 2.30 of chance (or 5.0, the cap for diverged
    runs). Deterministic: fixed data split, fixed initial weights and batch order, one torch
    thread. About 0.05-0.5 s per evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "PROBLEMS",
    "Param",
    "Problem",
    "optuna_distributions",
    "random_config",
    "space_spec",
    "sweep_config",
]

METRIC = {"name": "loss", "goal": "minimize"}


@dataclass(frozen=True)
class Param:
    """One parameter in neutral form: what every translation must agree with."""

    name: str
    kind: str  # "float", "int" or "categorical"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Problem:
    """A search problem: the W&B ``parameters`` block and the objective (minimise)."""

    name: str
    title: str
    parameters: Mapping[str, Mapping[str, Any]]
    objective: Callable[[Mapping[str, Any]], float]
    optimum: float | None  # the known minimum; None for the real training task
    argmin: Mapping[str, Any] | None  # one point where it is reached
    digits: int  # significant digits the table shows


def sweep_config(problem: Problem, method: str) -> dict[str, Any]:
    """The W&B sweep config of a problem for one method (``random``, ``bayes``, ``grid``)."""
    return {
        "method": method,
        "metric": dict(METRIC),
        "parameters": {k: dict(v) for k, v in problem.parameters.items()},
    }


def space_spec(parameters: Mapping[str, Mapping[str, Any]]) -> list[Param]:
    """The neutral description of a W&B ``parameters`` block (only the kinds used here)."""
    spec = []
    for name, p in parameters.items():
        dist = p.get("distribution")
        if "values" in p:
            spec.append(Param(name, "categorical", choices=tuple(p["values"])))
        elif dist == "log_uniform_values":
            spec.append(Param(name, "float", float(p["min"]), float(p["max"]), log=True))
        elif dist == "int_uniform" or (
            dist is None and isinstance(p["min"], int) and isinstance(p["max"], int)
        ):
            spec.append(Param(name, "int", p["min"], p["max"]))
        elif dist in (None, "uniform"):
            spec.append(Param(name, "float", float(p["min"]), float(p["max"])))
        else:
            raise ValueError(f"{name}: distribution {dist!r} is not used by these problems")
    return spec


def optuna_distributions(parameters: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The Optuna search space of a W&B ``parameters`` block, for ``study.ask(...)``."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for p in space_spec(parameters):
        if p.kind == "categorical":
            out[p.name] = CategoricalDistribution(list(p.choices))
        elif p.kind == "int":
            out[p.name] = IntDistribution(int(p.low), int(p.high))  # type: ignore[arg-type]
        else:
            out[p.name] = FloatDistribution(p.low, p.high, log=p.log)  # type: ignore[arg-type]
    return out


def random_config(
    parameters: Mapping[str, Mapping[str, Any]], rng: np.random.Generator
) -> dict[str, Any]:
    """One uniform draw from the space (the histories of the latency benchmark)."""
    out: dict[str, Any] = {}
    for p in space_spec(parameters):
        if p.kind == "categorical":
            out[p.name] = p.choices[int(rng.integers(len(p.choices)))]
        elif p.kind == "int":
            out[p.name] = int(rng.integers(int(p.low), int(p.high) + 1))  # type: ignore[arg-type]
        elif p.log:
            lo, hi = math.log(p.low), math.log(p.high)  # type: ignore[arg-type]
            out[p.name] = float(math.exp(rng.uniform(lo, hi)))
        else:
            out[p.name] = float(rng.uniform(p.low, p.high))
    return out


# Branin ---------------------------------------------------------------------------------

_BRANIN_B = 5.1 / (4.0 * math.pi**2)
_BRANIN_C = 5.0 / math.pi
_BRANIN_T = 1.0 / (8.0 * math.pi)


def branin(c: Mapping[str, Any]) -> float:
    x1, x2 = float(c["x1"]), float(c["x2"])
    term = x2 - _BRANIN_B * x1**2 + _BRANIN_C * x1 - 6.0
    return term**2 + 10.0 * (1.0 - _BRANIN_T) * math.cos(x1) + 10.0


# Hartmann 6-d ---------------------------------------------------------------------------

_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_NAMES = tuple(f"x{i}" for i in range(1, 7))
_H6_ARGMIN = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)


def hartmann6(c: Mapping[str, Any]) -> float:
    x = np.array([float(c[k]) for k in _H6_NAMES])
    inner = np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)
    return float(-np.sum(_H6_ALPHA * np.exp(-inner)))


# Mixed 6-d ------------------------------------------------------------------------------

# kind -> (log10 of its best learning rate, its offset)
_MIXED_KIND = {"adam": (-3.0, 0.0), "sgd": (-1.0, 0.25), "rmsprop": (-2.0, 0.1)}


def mixed6(c: Mapping[str, Any]) -> float:
    best_log_lr, offset = _MIXED_KIND[c["kind"]]
    u = (math.log10(float(c["lr"])) - best_log_lr) / 2.0
    v = (math.log10(float(c["wd"])) + 4.0) / 2.0
    a, b, n = float(c["a"]), float(c["b"]), int(c["n"])
    # u^2 + v^2 + 0.8uv is positive definite (its smallest eigenvalue is 0.6)
    return (
        u * u
        + v * v
        + 0.8 * u * v
        + (a - 0.7) ** 2
        + 3.0 * (b - a * a + 0.3) ** 2
        + ((n - 7) / 6.0) ** 2
        + offset
    )


# The real task: a PyTorch MLP on the digits data -----------------------------------------

DIGITS_EPOCHS = 6
DIGITS_BATCH = 64
DIGITS_CAP = 5.0  # the value of a run whose validation loss never was finite (or above it)
_digits_data: tuple[Any, ...] | None = None


def _digits() -> tuple[Any, ...]:
    global _digits_data
    if _digits_data is None:
        import torch
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X_tr, X_va, y_tr, y_va = train_test_split(
            X / 16.0, y, test_size=0.4, random_state=0, stratify=y
        )
        _digits_data = (
            torch.tensor(X_tr, dtype=torch.float32),
            torch.tensor(y_tr, dtype=torch.long),
            torch.tensor(X_va, dtype=torch.float32),
            torch.tensor(y_va, dtype=torch.long),
        )
    return _digits_data


def digits_mlp(c: Mapping[str, Any]) -> float:
    import torch

    # One thread: on matrices this small, torch's thread pool costs ~30x the work itself
    # (measured: 0.06 s on one thread, 2 s on two for the same run on the 2-core machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_digits(c)
    finally:
        torch.set_num_threads(threads)


def _train_digits(c: Mapping[str, Any]) -> float:
    import torch
    from torch import nn
    from torch.nn import functional

    X_tr, y_tr, X_va, y_va = _digits()
    width, dropout = int(c["width"]), float(c["dropout"])
    lr, wd, momentum = float(c["lr"]), float(c["weight_decay"]), float(c["momentum"])
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Linear(X_tr.shape[1], width),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(width, width),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(width, 10),
    )
    params = net.parameters()
    if c["optimizer"] == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(
            params, lr=lr, momentum=momentum, weight_decay=wd
        )
    elif c["optimizer"] == "adam":
        opt = torch.optim.Adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=wd)
    else:
        opt = torch.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=wd)
    order = torch.Generator().manual_seed(0)
    best = DIGITS_CAP
    n = X_tr.shape[0]
    for _ in range(DIGITS_EPOCHS):
        net.train()
        perm = torch.randperm(n, generator=order)
        for start in range(0, n, DIGITS_BATCH):
            idx = perm[start : start + DIGITS_BATCH]
            opt.zero_grad()
            functional.cross_entropy(net(X_tr[idx]), y_tr[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(functional.cross_entropy(net(X_va), y_va))
        if math.isfinite(val):
            best = min(best, val)
    return best


# The catalogue --------------------------------------------------------------------------

PROBLEMS: dict[str, Problem] = {
    "branin": Problem(
        name="branin",
        title="Branin (2-d)",
        parameters={
            "x1": {"distribution": "uniform", "min": -5.0, "max": 10.0},
            "x2": {"distribution": "uniform", "min": 0.0, "max": 15.0},
        },
        objective=branin,
        optimum=0.397887,
        argmin={"x1": math.pi, "x2": 2.275},
        digits=4,
    ),
    "hartmann6": Problem(
        name="hartmann6",
        title="Hartmann6",
        parameters={k: {"distribution": "uniform", "min": 0.0, "max": 1.0} for k in _H6_NAMES},
        objective=hartmann6,
        optimum=-3.32237,
        argmin=dict(zip(_H6_NAMES, _H6_ARGMIN, strict=True)),
        digits=4,
    ),
    "mixed6": Problem(
        name="mixed6",
        title="mixed 6-d",
        parameters={
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
            "wd": {"distribution": "log_uniform_values", "min": 1e-7, "max": 0.1},
            "a": {"distribution": "uniform", "min": 0.0, "max": 1.0},
            "b": {"distribution": "uniform", "min": -1.0, "max": 1.0},
            "n": {"distribution": "int_uniform", "min": 1, "max": 16},
            "kind": {"values": ["sgd", "adam", "rmsprop"]},
        },
        objective=mixed6,
        optimum=0.0,
        argmin={"lr": 1e-3, "wd": 1e-4, "a": 0.7, "b": 0.19, "n": 7, "kind": "adam"},
        digits=3,
    ),
    "digits_mlp": Problem(
        name="digits_mlp",
        title="digits MLP (val. loss)",
        parameters={
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
            "weight_decay": {"distribution": "log_uniform_values", "min": 1e-6, "max": 0.1},
            "momentum": {"distribution": "uniform", "min": 0.0, "max": 0.99},
            "dropout": {"distribution": "uniform", "min": 0.0, "max": 0.6},
            "width": {"distribution": "int_uniform", "min": 8, "max": 128},
            "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
        },
        objective=digits_mlp,
        optimum=None,
        argmin=None,
        digits=3,
    ),
}
