"""Adversarial tests: nbsweep.validate / nbsweep.sweep on odd configs.

Promise under test: any bad input gets a ConfigError naming the key path before anything
runs; no Python internals (TypeError, OverflowError, ...) reach the user; a config that
validate() accepts can be created as a sweep and run.
"""

from __future__ import annotations

import contextlib
import datetime

import pytest

import nbsweep

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def _random(param: dict, **top: object) -> dict:
    return {"method": "random", "parameters": {"x": param}, **top}


@pytest.mark.parametrize("bad", [["uniform"], {"name": "uniform"}])
def test_distribution_of_unhashable_type_is_a_config_error(bad: object) -> None:
    with pytest.raises(nbsweep.ConfigError, match=r"parameters\.x\.distribution"):
        nbsweep.validate(_random({"distribution": bad, "min": 0.0, "max": 1.0}))


@pytest.mark.parametrize(
    "param",
    [
        {"min": 0, "max": 10**400},
        {"distribution": "normal", "mu": 10**400},
        {"distribution": "q_uniform", "min": 0, "max": 1, "q": 10**400},
    ],
)
def test_huge_int_bounds_are_a_config_error(param: dict) -> None:
    with pytest.raises(nbsweep.ConfigError, match=r"parameters\.x"):
        nbsweep.validate(_random(param))


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "hyperband", "min_iter": 10**400},
        {"type": "hyperband", "max_iter": 10**400, "s": 2},
    ],
)
def test_hyperband_overflow_is_a_config_error(spec: dict) -> None:
    cfg = _random({"min": 0.0, "max": 1.0}, metric={"name": "loss"}, early_terminate=spec)
    with pytest.raises(nbsweep.ConfigError, match="early_terminate"):
        nbsweep.validate(cfg)


@pytest.mark.parametrize(
    ("key", "value"),
    [("kind", {1, 2}), ("apiVersion", datetime.date(2024, 1, 1)), ("scheduler", b"x")],
)
def test_non_json_top_level_value_rejected_by_validate(key: str, value: object) -> None:
    cfg = _random({"values": [1, 2]}, **{key: value})
    with pytest.raises(nbsweep.ConfigError, match=key):
        nbsweep.validate(cfg)


def test_yaml_date_value_sweep_gives_config_error(store_path) -> None:
    text = "method: random\napiVersion: 2024-01-01\nparameters:\n  x: {min: 0.0, max: 1.0}\n"
    with pytest.raises(nbsweep.ConfigError):
        nbsweep.sweep(text, store=store_path)
    assert not store_path.exists()  # validation fails before the store is even opened


def test_run_cap_too_large_for_store(store_path) -> None:
    cfg = _random({"values": [1, 2]}, run_cap=2**63)
    try:
        nbsweep.validate(cfg)
    except nbsweep.ConfigError:
        return  # refused up front: fine
    nbsweep.sweep(cfg, store=store_path)  # accepted: must then be storable


def test_huge_seed_is_refused_clearly(store_path) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        nbsweep.sweep(_random({"values": [1, 2]}), store=store_path, seed=2**64)
    assert "seed" in str(info.value)


def test_explicit_float_tag_keeps_floats() -> None:
    cfg = nbsweep.validate("method: random\nparameters:\n  x: {min: !!float 0, max: !!float 1}\n")
    assert cfg["parameters"]["x"]["distribution"] == "uniform"
    assert isinstance(cfg["parameters"]["x"]["min"], float)


def test_grid_q_uniform_without_lattice_points_is_refused() -> None:
    with pytest.raises(nbsweep.ConfigError, match=r"parameters\.x"):
        nbsweep.validate(
            {
                "method": "grid",
                "parameters": {"x": {"distribution": "q_uniform", "min": 0.1, "max": 0.2, "q": 1}},
            }
        )


def test_log_uniform_underflowing_bound(store_path) -> None:
    cfg = _random({"distribution": "log_uniform", "min": -1000.0, "max": 0.0})
    try:
        nbsweep.validate(cfg)
    except nbsweep.ConfigError:
        return  # refused up front: fine
    sweep_id = nbsweep.sweep(cfg, store=store_path, seed=0)

    def train() -> None:
        run = nbsweep.init()
        run.log({"y": run.config.x})

    handle = nbsweep.agent(
        sweep_id, function=train, count=2, store=store_path, background=False, verbose=False
    )
    assert handle.progress.finished == 2


def test_uniform_wide_range_samples_spread(store_path) -> None:
    cfg = _random({"min": -1e308, "max": 1e308})
    try:
        nbsweep.validate(cfg)
    except nbsweep.ConfigError:
        return
    import random

    from nbsweep.space import Space

    space = Space(nbsweep.validate(cfg))
    rng = random.Random(0)
    values = {space.sample(rng)["x"] for _ in range(20)}
    assert len(values) > 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_log_normal_overflowing_mu() -> None:
    import math
    import random

    from nbsweep.space import Space

    cfg = _random({"distribution": "log_normal", "mu": 710.0})
    try:
        checked = nbsweep.validate(cfg)
    except nbsweep.ConfigError:
        return
    space = Space(checked)
    rng = random.Random(0)
    assert all(math.isfinite(space.sample(rng)["x"]) for _ in range(20))


def test_deep_nesting_no_recursion_error() -> None:
    node: dict = {"value": 1}
    for _ in range(2000):
        node = {"parameters": {"a": node}}
    with contextlib.suppress(nbsweep.ConfigError):
        nbsweep.validate({"method": "random", "parameters": {"a": node}})


def test_huge_hyperband_eta_is_valid_and_its_brackets_stop_before_overflow() -> None:
    spec = {"type": "hyperband", "min_iter": 1, "eta": 1e10}
    cfg = nbsweep.validate(
        _random({"min": 0.0, "max": 1.0}, metric={"name": "loss"}, early_terminate=spec)
    )
    bands = nbsweep.config.hyperband_bands(cfg["early_terminate"])
    assert bands[:3] == [1, 10**10, 10**20] and len(bands) < 100
