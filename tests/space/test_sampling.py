"""Sampling: W&B's draws under a seed, quantisation, and every sample inside its support."""

from __future__ import annotations

import math
import random
import statistics
import warnings
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testdata import case, vector

import nbsweep
from nbsweep import ConfigWarning
from nbsweep.space import Space


def space_of(config) -> Space:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        return Space(nbsweep.validate(config))


def draws(config, n: int, seed: int) -> list[dict]:
    space = space_of(config)
    rng = random.Random(seed)  # W&B seeds Python's random module once, then draws n times
    return [space.sample(rng) for _ in range(n)]


def test_s01_int_uniform_first_draws_and_both_ends():
    v = vector("S01")
    values = [d["n"] for d in draws(v["config"], v["n"], v["seed"])]
    assert values[:5] == v["expected"]["first5"]
    assert all(type(x) is int for x in values)
    assert (min(values), max(values)) == (1, 5) and len(set(values)) == 5


def test_s02_one_draw_per_parameter_in_sorted_order():
    v = vector("S02")
    assert draws(v["config"], v["n"], v["seed"]) == v["expected"]


def test_s03_log_uniform_values():
    v = vector("S03")
    values = [d["lr"] for d in draws(v["config"], v["n"], v["seed"])]
    assert values[0] == pytest.approx(v["expected"]["first"], rel=1e-12)
    assert min(values) == pytest.approx(v["expected"]["observed_min"], rel=1e-12)
    assert max(values) == pytest.approx(v["expected"]["observed_max"], rel=1e-12)


@pytest.mark.parametrize(
    "item", vector("S06")["cases"], ids=lambda c: str(c["config"]["parameters"]["x"])
)
def test_s06_q_uniform_lattice_and_type(item):
    values = [d["x"] for d in draws(item["config"], 2000, 0)]
    assert sorted(set(values)) == item["expected"]["values"]
    if "type" in item["expected"]:
        assert {type(x).__name__ for x in values} == {item["expected"]["type"]}


@pytest.mark.parametrize(
    "item", vector("S07")["cases"], ids=lambda c: c["config"]["parameters"]["x"]["distribution"]
)
def test_s07_inverse_log_uniform(item):
    values = [d["x"] for d in draws(item["config"], 2000, 0)]
    low, high = item["expected"]["range"]
    assert all(low <= x <= high for x in values)
    if "first" in item["expected"]:
        assert values[0] == pytest.approx(item["expected"]["first"], rel=1e-12)


def test_s08_probabilities():
    v = vector("S08")
    counts = Counter(d["a"] for d in draws(v["config"], v["n"], v["seed"]))
    assert dict(counts) == v["expected"]["counts"]


@pytest.mark.parametrize(
    "item", vector("S09")["cases"], ids=lambda c: c["config"]["parameters"]["x"]["distribution"]
)
def test_s09_unbounded_and_beta(item):
    values = [d["x"] for d in draws(item["config"], 2000, 0)]
    expected = item["expected"]
    if "first" in expected:
        assert values[0] == pytest.approx(expected["first"], rel=1e-12)
    if "first5" in expected:
        assert values[:5] == expected["first5"]
    if "mean_approx" in expected:
        assert statistics.mean(values) == pytest.approx(expected["mean_approx"], abs=0.1)
    if "type" in expected:
        assert {type(x).__name__ for x in values} == {expected["type"]}
    if "values" in expected:
        assert sorted(set(values)) == expected["values"]
    if expected.get("positive"):
        assert min(values) > 0


def test_s10_nested_parameters():
    v = vector("S10")
    space = space_of(v["config"])
    config = space.nest(space.sample(random.Random(v["seed"])))
    raw = v["expected_raw_config"]
    assert config == {k: spec["value"] for k, spec in raw.items()}


def test_br01_log_uniform_values_is_log_uniform():
    cfg = dict(case("BR-01")["config"])
    cfg["parameters"] = {"lr": cfg["parameters"]["lr"]}
    values = [d["lr"] for d in draws(cfg, 400, 3)]
    assert all(1e-5 <= x <= 1e-1 for x in values)
    below = sum(x < 1e-4 for x in values)
    assert 0.15 * 400 <= below <= 0.35 * 400
    assert 1e-3 / 3 <= statistics.median(values) <= 1e-3 * 3


def test_br01_legacy_log_uniform_uses_exponents():
    cfg = {
        "method": "random",
        "parameters": {"lr": {"distribution": "log_uniform", "min": -11.5, "max": -2.3}},
    }
    values = [d["lr"] for d in draws(cfg, 400, 0)]
    assert all(math.exp(-11.5) <= x <= math.exp(-2.3) for x in values)


def test_br02_min_equal_max_always_gives_that_value():
    cfg = {"method": "random", "parameters": {"p": {"min": 0.5, "max": 0.5}}}
    assert {d["p"] for d in draws(cfg, 50, 0)} == {0.5}


def test_br03_float_bounds_give_floats_int_bounds_give_ints():
    values = draws(case("BR-03")["config"], 200, 0)
    betas = [d["beta"] for d in values]
    assert all(type(x) is float and 0.0 <= x <= 1.0 for x in betas)
    assert sum(not x.is_integer() for x in betas[:30]) >= 25
    layers = [d["layers"] for d in values]
    assert all(type(x) is int for x in layers) and {min(layers), max(layers)} == {1, 8}
    assert all(type(d["scale"]) is float and type(d["width"]) is float for d in values)


def test_br05_quantised_values_are_exact_multiples_of_the_right_type():
    values = draws(case("BR-05")["config"], 300, 0)
    for d in values:
        dropout, units, batch, noise = d["dropout"], d["units"], d["batch"], d["noise"]
        assert type(dropout) is float and abs(dropout / 0.1 - round(dropout / 0.1)) < 1e-9
        assert 0.0 <= dropout <= 1.0 and repr(dropout) == repr(round(dropout, 1))
        assert type(units) is int and units in range(0, 101, 10)
        assert type(batch) is int and batch % 8 == 0 and 8 <= batch <= 512
        assert abs(noise / 0.5 - round(noise / 0.5)) < 1e-9


def test_br05_grid_includes_both_ends():
    cfg = dict(case("BR-05")["config"])
    cfg["method"] = "grid"
    cfg["parameters"] = {k: cfg["parameters"][k] for k in ("dropout", "units")}
    space = space_of(cfg)
    points = [space.grid_point(i) for i in range(space.grid_size())]
    assert len(points) == 121
    assert sorted({p["dropout"] for p in points}) == [round(0.1 * k, 1) for k in range(11)]
    assert sorted({p["units"] for p in points}) == list(range(0, 101, 10))


# Every sample lies in its distribution's support, with the right type -------------------

_numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
_positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)
_q = st.sampled_from([0.5, 0.1, 0.25, 1.0, 2, 5, 10])


@st.composite
def specs(draw):
    kind = draw(
        st.sampled_from(
            [
                "int_uniform",
                "uniform",
                "q_uniform",
                "log_uniform_values",
                "q_log_uniform_values",
                "inv_log_uniform_values",
                "normal",
                "q_normal",
                "log_normal",
                "q_log_normal",
                "beta",
                "q_beta",
                "categorical",
                "constant",
                "log_uniform",
            ]
        )
    )
    if kind == "int_uniform":
        low = draw(st.integers(-1000, 1000))
        return {"distribution": kind, "min": low, "max": low + draw(st.integers(0, 1000))}
    if kind in ("uniform", "q_uniform"):
        low = draw(_numbers)
        spec = {"distribution": kind, "min": low, "max": low + draw(st.floats(0, 1e5))}
    elif kind in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        low = draw(_positive)
        spec = {"distribution": kind, "min": low, "max": low * draw(st.floats(1, 1e4))}
    elif kind == "log_uniform":
        low = draw(st.floats(-50, 50))
        spec = {"distribution": kind, "min": low, "max": low + draw(st.floats(0, 20))}
    elif kind in ("normal", "q_normal", "log_normal", "q_log_normal"):
        spec = {"distribution": kind, "mu": draw(st.floats(-5, 5)), "sigma": draw(st.floats(0, 3))}
    elif kind in ("beta", "q_beta"):
        spec = {"distribution": kind, "a": draw(st.floats(0.1, 10)), "b": draw(st.floats(0.1, 10))}
    elif kind == "categorical":
        spec = {
            "values": draw(
                st.lists(
                    st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()),
                    min_size=1,
                    max_size=6,
                )
            )
        }
    else:
        spec = {"value": draw(st.one_of(st.integers(), st.text(max_size=5)))}
    if kind.startswith("q_"):
        spec["q"] = draw(_q)
    return spec


@settings(max_examples=300, deadline=None)
@given(spec=specs(), seed=st.integers(0, 2**32 - 1))
def test_every_sample_lies_in_its_support(spec, seed):
    space = space_of({"method": "random", "parameters": {"x": spec}})
    dist = space["x"].distribution
    rng = random.Random(seed)
    for _ in range(20):
        value = space.sample(rng)["x"]
        assert dist.contains(value), (spec, value)
        if spec.get("distribution", "").startswith("q_") and isinstance(spec["q"], int):
            assert type(value) is int
        if spec.get("distribution") == "int_uniform":
            assert type(value) is int and spec["min"] <= value <= spec["max"]
        if spec.get("distribution") in ("uniform", "log_uniform_values", "inv_log_uniform_values"):
            assert type(value) is float and spec["min"] <= value <= spec["max"]


@settings(max_examples=200, deadline=None)
@given(spec=specs(), seed=st.integers(0, 2**32 - 1))
def test_unit_cube_round_trip(spec, seed):
    space = space_of({"method": "random", "parameters": {"x": spec}})
    rng = random.Random(seed)
    flat = space.sample(rng)
    x = space.encode(flat)
    assert x is not None
    assert all(0.0 <= u <= 1.0 for u in x) or space.encodings()[0].kind == "categorical"
    back = space.decode(x, rng)
    dist = space["x"].distribution
    if dist.encoding().kind in ("categorical", "discrete"):
        assert nbsweep.config.canonical_key(back["x"]) == nbsweep.config.canonical_key(flat["x"])
    assert dist.contains(back["x"])
