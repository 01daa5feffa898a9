"""Smoke test of the search benchmark's problems (benchmarks/search/problems.py).

Each objective reaches its documented optimum at its documented point and nowhere below it
on a random sample; the Optuna translation and nbsweep's reading of each W&B config describe
the same space. No peer engine is needed (the Optuna part skips without Optuna).
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path

import numpy as np
import pytest

import nbsweep
from nbsweep.space import Space

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "search" / "problems.py"


def _load_problems():
    spec = importlib.util.spec_from_file_location("nbsweep_bench_search_problems", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


problems = _load_problems()
ANALYTIC = [name for name, p in problems.PROBLEMS.items() if p.optimum is not None]


def _inside(p, value) -> bool:
    if p.kind == "categorical":
        return value in p.choices
    if p.kind == "int":
        return isinstance(value, int) and p.low <= value <= p.high
    return isinstance(value, float) and p.low <= value <= p.high


def test_catalogue_has_the_four_problems():
    assert set(problems.PROBLEMS) == {"branin", "hartmann6", "mixed6", "digits_mlp"}
    mixed = problems.space_spec(problems.PROBLEMS["mixed6"].parameters)
    kinds = sorted((p.kind, p.log) for p in mixed)
    assert kinds == [
        ("categorical", False),
        ("float", False),
        ("float", False),
        ("float", True),
        ("float", True),
        ("int", False),
    ]
    assert len(next(p for p in mixed if p.kind == "categorical").choices) == 3


@pytest.mark.parametrize("name", ANALYTIC)
def test_known_optimum_is_reached_and_not_beaten(name):
    problem = problems.PROBLEMS[name]
    assert problem.objective(problem.argmin) == pytest.approx(problem.optimum, abs=1e-5)
    rng = np.random.default_rng(0)
    for _ in range(3000):
        config = problems.random_config(problem.parameters, rng)
        assert problem.objective(config) >= problem.optimum - 1e-5, config


def test_branin_has_its_three_minima():
    for x1, x2 in [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)]:
        assert problems.branin({"x1": x1, "x2": x2}) == pytest.approx(0.397887, abs=1e-5)


def test_mixed_categorical_matters():
    best = dict(problems.PROBLEMS["mixed6"].argmin)
    # each choice at its own best learning rate still pays its offset...
    for kind, lr, offset in [("adam", 1e-3, 0.0), ("rmsprop", 1e-2, 0.1), ("sgd", 1e-1, 0.25)]:
        assert problems.mixed6({**best, "kind": kind, "lr": lr}) == pytest.approx(offset)
    # ...and the best learning rate of one choice is a poor one for another
    assert problems.mixed6({**best, "kind": "sgd"}) > 1.0


@pytest.mark.parametrize("name", list(problems.PROBLEMS))
def test_nbsweep_reads_the_same_space(name):
    problem = problems.PROBLEMS[name]
    spec = problems.space_spec(problem.parameters)
    cfg = nbsweep.validate(problems.sweep_config(problem, "random"))
    space = Space(cfg)
    assert sorted(space.flatten(space.sample(random.Random(0)))) == sorted(p.name for p in spec)
    rng = random.Random(1)
    seen = {p.name: set() for p in spec if p.kind != "float"}
    lows = {p.name: math.inf for p in spec}
    highs = {p.name: -math.inf for p in spec}
    for _ in range(2000):
        config = space.flatten(space.sample(rng))
        for p in spec:
            value = config[p.name]
            assert _inside(p, value), (p, value)
            if p.kind in ("int", "categorical"):
                seen[p.name].add(value)
            else:
                lows[p.name] = min(lows[p.name], value)
                highs[p.name] = max(highs[p.name], value)
    for p in spec:
        if p.kind == "categorical":
            assert seen[p.name] == set(p.choices)
        elif p.kind == "int":
            assert seen[p.name] == set(range(p.low, p.high + 1))
        elif p.log:  # spread evenly over the decades, not the values
            middle = math.sqrt(p.low * p.high)
            share = np.mean(
                [space.flatten(space.sample(rng))[p.name] < middle for _ in range(400)]
            )
            assert 0.4 < share < 0.6
        else:
            width = p.high - p.low
            assert lows[p.name] < p.low + 0.01 * width
            assert highs[p.name] > p.high - 0.01 * width


@pytest.mark.parametrize("name", list(problems.PROBLEMS))
def test_optuna_translation_is_the_same_space(name):
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    problem = problems.PROBLEMS[name]
    spec = problems.space_spec(problem.parameters)
    dists = problems.optuna_distributions(problem.parameters)
    assert list(dists) == [p.name for p in spec]
    for p in spec:
        d = dists[p.name]
        if p.kind == "categorical":
            assert isinstance(d, CategoricalDistribution)
            assert tuple(d.choices) == p.choices
        elif p.kind == "int":
            assert isinstance(d, IntDistribution)
            assert (d.low, d.high, d.log, d.step) == (p.low, p.high, False, 1)
        else:
            assert isinstance(d, FloatDistribution)
            assert (d.low, d.high, d.log, d.step) == (p.low, p.high, p.log, None)
    # what Optuna proposes, nbsweep accepts as a point of the space
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = Space(nbsweep.validate(problems.sweep_config(problem, "random")))
    for _ in range(200):
        trial = study.ask(dists)
        assert all(_inside(p, trial.params[p.name]) for p in spec), trial.params
        assert space.encode(trial.params) is not None, trial.params
        study.tell(trial, 0.0)


def test_digits_task_runs_and_is_deterministic():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    config = {
        "lr": 3e-3,
        "weight_decay": 1e-5,
        "momentum": 0.9,
        "dropout": 0.1,
        "width": 16,
        "optimizer": "adam",
    }
    first = problems.digits_mlp(config)
    assert 0.0 < first < problems.DIGITS_CAP
    assert problems.digits_mlp(config) == first
