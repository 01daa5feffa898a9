"""The sweep config builder, driven through its widgets as the page would drive them.

Widgets are set with ``.value`` and buttons pressed with ``.click()``; the tests read back
the config dict, the messages shown at each field, the YAML view, the grid size and the
histograms. Round trips load every config of the W&B vectors and the real configs that
validates and check that the builder gives back the same normalised config.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from testdata import DATA, load_vectors

import nbsweep
from nbsweep.config import ConfigError
from nbsweep.views._builder import (
    COUNT,
    DRAWS,
    FILE,
    FUNCTION,
    OTHER_KEYS,
    Builder,
    histogram_html,
    to_yaml,
)


def quiet_validate(config: Any) -> nbsweep.SweepConfig:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nbsweep.ConfigWarning)
        return nbsweep.validate(config)


def validates(config: Any) -> bool:
    try:
        quiet_validate(config)
    except ConfigError:
        return False
    return True


def problem_paths(config: Any) -> set[str]:
    """The paths of validation's problems with ``config`` (empty when it is valid)."""
    try:
        quiet_validate(config)
    except ConfigError as err:
        return {p.path for p in err.problems}
    return set()


def errors(b: Builder) -> dict[str, list[str]]:
    """Error texts by the field they are shown at."""
    out: dict[str, list[str]] = {}
    for m in b.messages:
        if m.level == "error":
            out.setdefault(m.field, []).append(m.text)
    return out


def classes(widget: Any) -> tuple[str, ...]:
    return tuple(widget._dom_classes)


# Round trips ------------------------------------------------------------------------------


def _vector_configs() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for v in load_vectors():
        if isinstance(v.get("config"), dict):
            found.append((v["id"], v["config"]))
        for i, case in enumerate(v.get("cases", [])):
            if isinstance(case.get("config"), dict):
                found.append((f"{v['id']}-{i}", case["config"]))
        if isinstance(v.get("parameters"), dict):  # sampling vectors give only parameters
            found.append((f"{v['id']}-space", {"method": "random", "parameters": v["parameters"]}))
    return found


VECTORS = _vector_configs()
REAL = sorted(p for p in (DATA / "real-configs").glob("*.yaml") if p.name != "expectations.yaml")


def test_the_data_sets_are_all_here():
    assert len(REAL) == 75
    assert len(VECTORS) == 62 and sum(validates(c) for _, c in VECTORS) == 38
    assert sum(validates(p) for p in REAL) == 61


def _round_trip(source: Any) -> None:
    want = quiet_validate(source)
    b = Builder(source)
    assert b.valid, b.problems
    assert quiet_validate(b.config) == want
    assert b.normalized == want
    # the YAML view (what save writes) reads back to the same config, and so does a builder
    # opened on it
    assert quiet_validate(b.yaml) == want
    assert quiet_validate(Builder(b.yaml).config) == want


@pytest.mark.parametrize(
    "config", [c for _, c in VECTORS if validates(c)], ids=[i for i, c in VECTORS if validates(c)]
)
def test_every_valid_vector_config_comes_out_equal(config):
    _round_trip(config)


@pytest.mark.parametrize("path", [p for p in REAL if validates(p)], ids=lambda p: p.name[:3])
def test_every_valid_real_config_comes_out_equal(path):
    _round_trip(path)


@pytest.mark.parametrize(
    "source",
    [c for _, c in VECTORS if not validates(c)] + [p for p in REAL if not validates(p)],
    ids=[i for i, c in VECTORS if not validates(c)]
    + [p.name[:3] for p in REAL if not validates(p)],
)
def test_an_invalid_config_stays_invalid_in_the_builder(source):
    b = Builder(source)
    assert not b.valid
    assert b.create_button.disabled
    with pytest.raises(ConfigError):
        b.validate()


def test_keys_the_form_does_not_edit_are_kept_and_shown():
    config = {
        "program": "train.py",
        "name": "demo",
        "description": "kept",
        "project": "p",
        "entity": "e",
        "method": "bayes",
        "metric": {
            "name": "acc",
            "goal": "maximize",
            "target": 0.99,
            "impute_while_running": "false",
        },
        "early_terminate": {
            "type": "hyperband",
            "max_iter": 27,
            "s": 2,
            "eta": 3,
            "strict": False,
        },
        "run_cap": 20,
        "command": ["${env}", "${interpreter}", "${program}", "${args}"],
        "controller": {"type": "local"},
        "parameters": {"x": {"min": 0.0, "max": 1.0, "distribution": "uniform"}},
    }
    b = nbsweep.builder(config)
    assert quiet_validate(b.config) == quiet_validate(config)
    assert "program: train.py" in b.other_keys.value and "controller:" in b.other_keys.value
    assert b.metric_extra.value == "{impute_while_running: 'false'}"
    assert b.hb_inputs["max_iter"].value == "27" and b.strict.value is False
    assert list(b.config)[:5] == ["name", "description", "project", "entity", "program"]


# Building a config through the widgets -------------------------------------------------------


def test_a_new_builder_says_what_is_missing():
    b = nbsweep.builder()
    assert b.config == {"method": "random", "metric": {"goal": "minimize"}}
    assert errors(b) == {
        "parameters": ["missing; a sweep needs at least one parameter"],
        "metric.name": ["missing; name the value your function logs"],
    }
    assert 'data-valid="false"' in b.status.value and 'data-problems="2"' in b.status.value
    assert b.create_button.disabled and b.start_button.disabled
    assert "nbsweep-invalid" in classes(b.metric_name)


def test_build_a_two_parameter_random_sweep():
    b = nbsweep.builder()
    b.method.value = "random"
    b.metric_name.value = "val_loss"
    b.goal.value = "maximize"
    b.add_param_button.click()
    lr = b.rows[0]
    lr.name.value = "lr"
    lr.distribution.value = "log_uniform_values"
    lr.inputs["min"].value = "1e-4"
    lr.inputs["max"].value = "0.1"
    b.add_param_button.click()
    layers = b.rows[1]
    layers.name.value = "layers"
    layers.kind.value = "values"
    layers.inputs["values"].value = "1, 2, 3"
    assert b.config == {
        "method": "random",
        "metric": {"name": "val_loss", "goal": "maximize"},
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 0.0001, "max": 0.1},
            "layers": {"values": [1, 2, 3]},
        },
    }
    assert b.valid and errors(b) == {}
    assert not b.create_button.disabled
    assert b.yaml == (
        "method: random\n"
        "metric:\n  name: val_loss\n  goal: maximize\n"
        "parameters:\n"
        "  lr:\n    distribution: log_uniform_values\n    min: 0.0001\n    max: 0.1\n"
        "  layers:\n    values: [1, 2, 3]\n"
    )
    assert "log_uniform_values" in b.yaml_view.value and "<pre>" in b.yaml_view.value
    charts = b.histograms()
    assert set(charts) == {"lr", "layers"}
    assert 'data-scale="log"' in charts["lr"] and f'data-draws="{DRAWS}"' in charts["lr"]
    assert 'data-scale="categorical"' in charts["layers"] and charts["layers"].count("<rect") == 3
    assert b.grid_size is None
    assert b.messages_at(COUNT) == [
        "no count and no run_cap: random search runs until you stop it"
    ]
    b.count.value = "5"
    assert b.messages_at(COUNT) == []


def test_a_bad_bound_is_shown_at_its_field_and_cleared_when_fixed():
    b = nbsweep.builder({"method": "random", "parameters": {"lr": {"value": 1}}})
    row = b.row("parameters.lr")
    row.kind.value = "distribution"
    row.distribution.value = "log_uniform_values"
    row.inputs["min"].value = "0"
    row.inputs["max"].value = "0.1"
    assert errors(b) == {
        "parameters.lr.min": [
            "must be > 0 for log_uniform_values, which samples in log space; got 0"
        ]
    }
    assert "nbsweep-invalid" in classes(row.inputs["min"])
    assert "parameters.lr.min" in row._input_slots["min"].html.value
    assert row.histogram.value == ""
    row.inputs["min"].value = "0.0001"
    assert errors(b) == {} and b.valid
    assert "nbsweep-invalid" not in classes(row.inputs["min"])
    assert row._input_slots["min"].html.value == ""
    assert 'data-scale="log"' in row.histogram.value


def test_a_problem_with_the_whole_parameter_shows_under_its_row():
    b = nbsweep.builder({"method": "random", "parameters": {"x": {"min": 0.5, "max": 0.1}}})
    assert errors(b) == {"parameters.x": ["min (0.5) must be <= max (0.1)"]}
    row = b.row("parameters.x")
    assert "nbsweep-invalid-row" in classes(row.box)
    assert 'data-path="parameters.x"' in row.slot.html.value
    b.field("parameters.x.max").value = "1.0"
    assert "nbsweep-invalid-row" not in classes(row.box)


def test_ints_and_floats_are_what_was_typed():
    b = nbsweep.builder({"method": "random", "parameters": {"n": {"min": 1, "max": 10}}})
    row = b.row("parameters.n")
    assert row.distribution.value == "int_uniform"
    assert b.config["parameters"]["n"] == {"distribution": "int_uniform", "min": 1, "max": 10}
    row.inputs["max"].value = "10.0"
    assert errors(b) == {
        "parameters.n.max": ["int_uniform needs integer bounds, got 10.0 (use uniform for floats)"]
    }
    row.inputs["max"].value = "10"
    row.distribution.value = "uniform"
    assert b.messages_at("parameters.n.distribution") == [
        "both bounds are whole numbers, but uniform draws floats; choose int_uniform for whole "
        "numbers"
    ]
    assert b.valid  # a note, not a problem


def test_each_kind_and_distribution_shows_exactly_its_inputs():
    b = nbsweep.builder({"method": "random", "parameters": {"x": {"value": 1}}})
    row = b.row("parameters.x")
    assert row.visible_keys() == ["value"]
    row.kind.value = "values"
    assert row.visible_keys() == ["values", "probabilities"]
    row.kind.value = "distribution"
    assert row.distribution.value == "uniform" and row.visible_keys() == ["min", "max"]
    expected = {
        "q_uniform": ["min", "max", "q"],
        "normal": ["mu", "sigma"],
        "q_log_normal": ["mu", "sigma", "q"],
        "beta": ["a", "b"],
        "q_beta": ["a", "b", "q"],
        "inv_log_uniform_values": ["min", "max"],
    }
    for dist, keys in expected.items():
        row.distribution.value = dist
        assert row.visible_keys() == keys
        shown = [box for box in row._line2.children if box in row._input_boxes.values()]
        assert shown == [row._input_boxes[k] for k in keys]
    row.distribution.value = "normal"
    assert b.config["parameters"]["x"] == {"distribution": "normal"}  # defaults fill mu, sigma
    assert b.valid and "(default 0.0)" in row._input_labels["mu"].value
    row.inputs["sigma"].value = "-1"
    assert errors(b) == {"parameters.x.sigma": ["must be >= 0, got -1"]}
    row.inputs["sigma"].value = "0.5"
    assert 'data-scale="linear"' in row.histogram.value
    row.distribution.value = "log_uniform"
    assert "exponent" in row._input_labels["min"].value


def test_probabilities_are_checked_at_their_field():
    b = nbsweep.builder({"method": "random", "parameters": {"opt": {"values": ["adam", "sgd"]}}})
    row = b.row("parameters.opt")
    row.inputs["probabilities"].value = "0.5, 0.6"
    assert errors(b) == {"parameters.opt.probabilities": ["sum to 1.1, not 1"]}
    row.inputs["probabilities"].value = "0.25, 0.75"
    assert b.config["parameters"]["opt"] == {
        "values": ["adam", "sgd"],
        "probabilities": [0.25, 0.75],
    }
    assert "adam: 2" in row.histogram.value or "adam: 3" in row.histogram.value
    b.method.value = "grid"
    assert errors(b) == {
        "parameters.opt.probabilities": [
            "probabilities mean nothing in a grid, which runs every value once; drop them"
        ]
    }


def test_grid_size_and_a_warning_when_it_is_large():
    b = nbsweep.builder(
        {
            "method": "grid",
            "parameters": {
                "a": {"values": [1, 2, 3]},
                "b": {"min": 1, "max": 10},
                "c": {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
            },
        }
    )
    assert b.grid_size == 3 * 10 * 5
    assert 'data-grid-size="150"' in b.status.value and "grid: 150 points" in b.status.value
    assert b.messages_at("method") == []
    b.field("parameters.b.max").value = "1000"
    assert b.grid_size == 15_000
    assert b.messages_at("method", "warning") == [
        "the grid has 15,000 points, one run each; consider random search or fewer values"
    ]
    b.run_cap.value = "100"
    assert b.messages_at("method", "warning") == [
        "the grid has 15,000 points, one run each; run_cap stops it after 100 runs; consider "
        "random search or fewer values"
    ]
    assert b.valid  # a warning only


def test_a_grid_over_a_continuous_distribution_is_refused_at_its_row():
    b = nbsweep.builder(
        {"method": "random", "parameters": {"lr": {"min": 0.001, "max": 0.1}, "n": {"value": 1}}}
    )
    b.method.value = "grid"
    assert errors(b) == {
        "parameters.lr": [
            "grid cannot enumerate a uniform distribution; grid takes value, values, int_uniform "
            "and q_uniform (use random or bayes, or a q_ distribution for a lattice)"
        ]
    }
    assert b.grid_size is None and b.create_button.disabled


def test_log_uniform_with_real_values_is_seen_at_once():
    b = nbsweep.builder(
        {
            "method": "random",
            "parameters": {"lr": {"distribution": "log_uniform", "min": 0.0001, "max": 0.1}},
        }
    )
    assert b.valid
    [warning] = b.messages_at("parameters.lr", "warning")
    assert warning.startswith("log_uniform takes natural-log exponents: min 0.0001 and max 0.1")
    chart = b.histograms()["lr"]
    # the draws lie between e^0.0001 and e^0.1, i.e. about 1 to 1.1, on a log axis
    assert 'data-scale="log"' in chart and 'data-min="1' in chart and 'data-max="1.1' in chart
    b.row("parameters.lr").distribution.value = "log_uniform_values"
    assert b.messages_at("parameters.lr") == []
    assert 'data-max="0.0' in b.histograms()["lr"]


def test_histograms_only_for_what_varies():
    b = nbsweep.builder(
        {
            "method": "random",
            "parameters": {
                "fixed": {"value": 3},
                "n": {"distribution": "normal", "mu": 0, "sigma": 1},
                "opt": {"values": ["adam", "sgd"]},
            },
        }
    )
    charts = b.histograms()
    assert set(charts) == {"n", "opt"}
    assert 'data-scale="linear"' in charts["n"]
    chart = histogram_html("n", {"distribution": "normal", "mu": 0.0, "sigma": 1.0})
    assert chart.count("<rect") == 24 and 'data-param="n"' in chart


def test_nested_groups_add_remove_and_reorder():
    b = nbsweep.builder({"method": "random", "parameters": {"a": {"value": 1}}})
    b.add_group_button.click()
    group = b.rows[1]
    assert errors(b) == {
        "parameters.g1.parameters": ["expected a non-empty mapping of parameters"]
    }
    group.name.value = "opt"
    group.add_param.click()
    inner = group.rows[0]
    inner.name.value = "lr"
    inner.kind.value = "value"
    inner.inputs["value"].value = "0.01"
    group.add_param.click()
    second = group.rows[1]
    second.name.value = "momentum"
    second.kind.value = "values"
    second.inputs["values"].value = "0.9, 0.99"
    assert b.config["parameters"] == {
        "a": {"value": 1},
        "opt": {"parameters": {"lr": {"value": 0.01}, "momentum": {"values": [0.9, 0.99]}}},
    }
    assert b.valid and set(b.histograms()) == {"opt.momentum"}
    assert b.field("parameters.opt.parameters.lr.value") is inner.inputs["value"]
    second.up.click()
    assert list(b.config["parameters"]["opt"]["parameters"]) == ["momentum", "lr"]
    group.up.click()
    assert list(b.config["parameters"]) == ["opt", "a"]
    group.up.click()  # already first: nothing moves
    b.rows[1].up.click()
    assert list(b.config["parameters"]) == ["a", "opt"]
    b.rows[0].down.click()
    assert list(b.config["parameters"]) == ["opt", "a"]
    inner.remove.click()
    assert b.config["parameters"]["opt"] == {"parameters": {"momentum": {"values": [0.9, 0.99]}}}
    group.add_group.click()
    assert errors(b) == {
        "parameters.opt.parameters.g1.parameters": ["expected a non-empty mapping of parameters"]
    }
    group.rows[-1].remove.click()
    assert b.valid
    assert quiet_validate(Builder(b.config).config) == b.normalized


def test_names_used_twice_and_bad_names():
    b = nbsweep.builder({"method": "random", "parameters": {"a": {"value": 1}, "b": {"value": 2}}})
    b.rows[1].name.value = "a"
    assert not b.valid
    # shown under both rows
    assert (
        b.messages_at("parameters.a") == ["another parameter in this group is also named 'a'"] * 2
    )
    assert all("nbsweep-invalid-row" in classes(r.box) for r in b.rows)
    assert [str(p) for p in b.problems] == [
        "parameters.a: another parameter in this group is also named 'a'",
        "parameters.a: another parameter in this group is also named 'a'",
    ]
    b.rows[1].name.value = "2b"
    assert errors(b) == {
        "parameters.2b": [
            "a parameter name must start with a letter or underscore and hold only letters, "
            "digits, '_', '.' and '-'"
        ]
    }


def test_metric_and_hyperband_sections():
    b = nbsweep.builder({"method": "bayes", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    assert errors(b) == {"metric": ["bayes search needs a `metric` section (name and goal)"]}
    assert "nbsweep-invalid" in classes(b.metric_on)
    b.metric_on.value = True
    b.metric_name.value = "loss"
    b.target.value = "0.01"
    b.impute.value = "best"
    assert b.config["metric"] == {
        "name": "loss",
        "goal": "minimize",
        "target": 0.01,
        "impute": "best",
    }
    b.hyperband.value = True
    assert errors(b) == {"early_terminate": ["give min_iter, or max_iter together with s"]}
    b.hb_inputs["max_iter"].value = "27"
    assert errors(b) == {
        "early_terminate.s": ["missing; max_iter needs s, the number of brackets"]
    }
    b.hb_inputs["s"].value = "2"
    b.hb_inputs["eta"].value = "1"
    assert errors(b) == {
        "early_terminate.eta": ["must be > 1 (each bracket keeps 1/eta of runs), got 1"]
    }
    b.hb_inputs["eta"].value = ""
    b.strict.value = False
    assert b.config["early_terminate"] == {
        "type": "hyperband",
        "max_iter": 27,
        "s": 2,
        "strict": False,
    }
    assert b.valid
    b.metric_on.value = False
    assert set(errors(b)) == {"metric"}
    b.run_cap.value = "abc"
    assert errors(b)["run_cap"] == ["expected a whole number from 1 to 2**53, got 'abc'"]


def test_other_keys_box():
    b = nbsweep.builder({"method": "random", "parameters": {"x": {"value": 1}}})
    b.other_keys.value = "program: train.py\ncommand: [python, '${program}', '${args}']\n"
    assert b.config["program"] == "train.py" and b.valid
    b.other_keys.value = "metrics: {name: loss}\n"
    assert errors(b) == {
        OTHER_KEYS: [
            "unknown top-level key (several metrics need W&B's custom method; nbsweep takes one "
            "`metric`)"
        ]
    }
    b.other_keys.value = "program: [unclosed\n"
    assert not b.valid and list(errors(b)) == [OTHER_KEYS]
    assert "cannot parse YAML text" in errors(b)[OTHER_KEYS][0]
    b.other_keys.value = "method: grid\n"
    assert errors(b) == {
        OTHER_KEYS: ["method is set in the form above; remove it here (the form's value is used)"]
    }
    assert b.config["method"] == "random"
    b.other_keys.value = "command: [python, train.py]\n"
    assert b.messages_at(OTHER_KEYS, "warning") == [
        "has no ${args...} macro, so the parameters are not passed on the command line (the "
        "program can still read them with nbsweep.init())"
    ]


def test_keys_the_row_has_no_input_for_are_kept_where_messages_reach_them():
    b = nbsweep.builder(
        {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0, "mn": 3}}}
    )
    row = b.row("parameters.x")
    assert row.extra.value == "{mn: 3}"
    assert row._extra()[2] in row._line2.children
    assert errors(b) == {"parameters.x.(other keys)": ["unknown key (did you mean 'min'?)"]}
    assert b.messages[0].path == "parameters.x.mn"
    row.extra.value = ""
    assert b.valid


def test_loading_never_makes_an_invalid_config_valid():
    cases = {
        "bare value": {"method": "random", "parameters": {"a": 5}},
        "unknown distribution": {
            "method": "random",
            "parameters": {"a": {"distribution": "uniformm", "min": 0, "max": 1}},
        },
        "unknown method": {"method": "hyperopt", "parameters": {"a": {"value": 1}}},
        "probabilities with categorical": {
            "method": "random",
            "parameters": {
                "a": {"distribution": "categorical", "values": [1, 2], "probabilities": [0.5, 0.5]}
            },
        },
        "no distribution to infer": {"method": "random", "parameters": {"a": {"mu": 0}}},
        "metric null": {
            "method": "bayes",
            "metric": None,
            "parameters": {"a": {"min": 0.0, "max": 1.0}},
        },
        "hyperband without type": {
            "method": "random",
            "metric": {"name": "loss"},
            "early_terminate": {"min_iter": 3},
            "parameters": {"a": {"value": 1}},
        },
        # values YAML cannot write are kept (in read-only boxes) and still refused
        "tuple command": {
            "method": "random",
            "command": ("a",),
            "parameters": {"a": {"value": 1}},
        },
        "object in a spec": {"method": "random", "parameters": {"a": {"value": 1, "z": object()}}},
        "object in the metric": {
            "method": "random",
            "metric": {"name": "loss", "z": object()},
            "parameters": {"a": {"value": 1}},
        },
    }
    for what, config in cases.items():
        b = Builder(config)
        assert not b.valid, what
        assert {p.path for p in b.problems} == problem_paths(config), what
    b = Builder(cases["object in a spec"])
    assert b.row("parameters.a").extra.disabled and "object" in b.row("parameters.a").extra.value
    assert b.messages_at("parameters.a.(other keys)") == ["unknown key"]
    b = Builder(cases["hyperband without type"])
    b.hb_inputs["eta"].value = "2"  # an edit writes hyperband as the form has it
    assert b.valid and b.config["early_terminate"] == {
        "type": "hyperband",
        "min_iter": 3,
        "eta": 2,
    }
    b = Builder(cases["unknown distribution"])
    assert b.messages_at("parameters.a.distribution") == [
        "unknown distribution 'uniformm' (did you mean 'uniform'?)"
    ]
    b.row("parameters.a").distribution.value = "uniform"
    assert b.valid
    b = Builder(cases["bare value"])
    assert b.messages_at("parameters.a") == ["expected a parameter spec, got 5; write {value: 5}"]
    b.row("parameters.a").inputs["value"].value = "6"  # an edit writes the row as the form has it
    assert b.valid and b.config["parameters"]["a"] == {"value": 6}


def test_values_that_look_like_numbers_stay_strings():
    config = {
        "method": "grid",
        "parameters": {
            "tag": {"values": ["1e-4", "yes", "3", " padded", "a: b", ""]},
            "flag": {"value": "true"},
            "nested": {"value": {"a": [1, 2.5, None]}},
        },
    }
    b = Builder(config)
    assert b.config == config
    assert b.row("parameters.flag").inputs["value"].value == "'true'"
    assert quiet_validate(b.yaml) == quiet_validate(config)


def test_field_lookup_and_messages_by_field():
    b = nbsweep.builder(
        {"method": "random", "parameters": {"model.lr": {"min": 0.1, "max": 0.01}}}
    )
    assert b.field("method") is b.method
    assert b.field("metric.name") is b.metric_name
    assert b.field("parameters.model.lr.max") is b.row("parameters.model.lr").inputs["max"]
    assert b.messages_at("parameters.model.lr") == ["min (0.1) must be <= max (0.01)"]
    with pytest.raises(KeyError, match=r"no input at 'parameters\.nope'"):
        b.field("parameters.nope")
    with pytest.raises(KeyError, match="no parameter row"):
        b.row("parameters.nope")


# Files -------------------------------------------------------------------------------------


def test_save_and_load(tmp_path: Path):
    path = tmp_path / "sweep.yaml"
    b = nbsweep.builder({"method": "grid", "parameters": {"n": {"values": [1, 2]}}})
    assert b.save(path) == path
    assert quiet_validate(path) == b.normalized
    opened = nbsweep.builder(str(path))
    assert opened.config == b.config
    b.row("parameters.n").inputs["values"].value = ""
    assert errors(b) == {"parameters.n.values": ["missing; distribution categorical needs values"]}
    with pytest.raises(ConfigError, match=r"parameters\.n\.values"):
        b.save(tmp_path / "bad.yaml")
    assert not (tmp_path / "bad.yaml").exists()
    b.save(tmp_path / "draft.yaml", check=False)
    assert "values" not in (tmp_path / "draft.yaml").read_text()
    b.config = path
    assert b.valid and b.config == opened.config


def test_save_and_load_buttons(tmp_path: Path):
    b = nbsweep.builder({"method": "grid", "parameters": {"n": {"values": [1, 2]}}})
    b.path.value = str(tmp_path / "s.yaml")
    b.save_button.click()
    assert b.messages_at(FILE) == [f"saved {tmp_path / 's.yaml'}"]
    b.method.value = "random"
    b.load_button.click()
    assert b.method.value == "grid" and b.messages_at(FILE) == [f"loaded {tmp_path / 's.yaml'}"]
    b.path.value = str(tmp_path / "none.yaml")
    b.load_button.click()
    assert b.messages_at(FILE) == [f"no sweep config file at '{tmp_path / 'none.yaml'}'"]
    b.row("parameters.n").inputs["values"].value = "[]"
    b.path.value = str(tmp_path / "t.yaml")
    b.save_button.click()
    assert b.messages_at(FILE) == ["parameters.n.values: is empty; give at least one value"]


def test_to_yaml_writes_what_nbsweep_reads():
    text = to_yaml({"a": [1e-5, "1e-5", 1.0, True, "true", None], "b": {"c": 2}})
    assert text == "a: [1.0e-05, '1e-5', 1.0, true, 'true', null]\nb:\n  c: 2\n"


# Sweep and agent ---------------------------------------------------------------------------

CONFIG = {
    "method": "random",
    "metric": {"name": "loss"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}},
}


def train() -> None:
    run = nbsweep.init()
    run.log({"loss": (run.config.x - 0.3) ** 2})


def test_create_sweep_button(store_path):
    b = nbsweep.builder(CONFIG)
    b.seed.value = "7"
    b.create_button.click()
    sweep_id = b.sweep_id
    assert sweep_id and f'data-sweep-id="{sweep_id}"' in b.run_status.value
    sweep = nbsweep.Sweep(sweep_id)
    assert sweep.config == quiet_validate(b.config)
    b.seed.value = "seven"
    b.create_button.click()
    assert b.sweep_id == sweep_id
    assert b.messages_at("(seed)") == ["seed must be a whole number >= 0, got 'seven'"]


def test_start_agent_with_builder_function(store_path):
    b = nbsweep.builder(CONFIG)
    b.start_button.click()
    assert b.messages_at(FUNCTION) == [
        "name the function the agent should run (a function in this notebook, e.g. train), "
        "or set builder.function = train"
    ]
    assert b.sweep_id is None
    b.function = train
    assert b.function_name.value == "train"
    b.count.value = "3"
    b.start_button.click()
    assert b.messages_at(FUNCTION) == [] and b.handle is not None
    assert b.handle.progress.finished == 3
    sweep = nbsweep.Sweep(b.sweep_id)
    assert len(sweep.runs) == 3 and sweep.config == b.normalized
    assert "started an agent on <code>train</code> (count 3)" in b.run_status.value
    # an edited config gets a sweep of its own; an unchanged one reuses it
    first = b.sweep_id
    b.start_button.click()
    assert b.sweep_id == first
    b.row("parameters.x").inputs["max"].value = "2.0"
    b.start_button.click()
    assert b.sweep_id != first
    assert nbsweep.Sweep(b.sweep_id).config["parameters"]["x"]["max"] == 2.0


def test_start_agent_with_a_function_named_in_the_form(store_path, monkeypatch):
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "train_from_notebook", train, raising=False)
    b = nbsweep.builder(CONFIG)
    b.function_name.value = "train_from_noteboo"
    b.count.value = "2"
    b.start_button.click()
    assert b.messages_at(FUNCTION) == [
        "no function named 'train_from_noteboo' in the notebook; did you mean "
        "'train_from_notebook'?"
    ]
    b.function_name.value = "train_from_notebook"
    assert b.function is train
    b.start_button.click()
    assert b.handle.progress.finished == 2
    b.count.value = "0"
    b.start_button.click()
    assert b.messages_at(COUNT) == ["count must be a whole number >= 1, got '0'"]


def test_buttons_do_nothing_on_an_invalid_config(store_path):
    b = nbsweep.builder({"method": "random", "parameters": {"x": {"min": 1.0, "max": 0.0}}})
    assert b.create_button.disabled and b.start_button.disabled
    with pytest.raises(ConfigError):
        b.create_sweep()
    b.create_button.click()  # a click that slips through shows the problems, raises nothing
    assert b.sweep_id is None
    assert b.messages_at("(run)") == ["parameters.x: min (1.0) must be <= max (0.0)"]


# The builder accepts exactly what validation accepts ---------------------------------------

TEXTS = st.sampled_from(
    ["", "0", "1", "-1", "0.5", "1e-3", "10", "abc", "[1, 2]", "true", "null", "2.0", "1e400"]
)


@given(
    method=st.sampled_from(["grid", "random", "bayes"]),
    kind=st.sampled_from(["value", "values", "distribution"]),
    dist=st.sampled_from(sorted(nbsweep.config.DISTRIBUTIONS)[:18]),
    texts=st.lists(TEXTS, min_size=6, max_size=6),
    name=st.sampled_from(["x", "lr", "2x", "a.b"]),
)
def test_the_form_is_valid_exactly_when_validation_accepts_its_config(
    method, kind, dist, texts, name
):
    b = Builder({"method": method, "metric": {"name": "loss"}, "parameters": {"y": {"value": 1}}})
    row = b.add_parameter(name)
    row.kind.value = kind
    if kind == "distribution" and dist not in (
        "constant",
        "categorical",
        "categorical_w_probabilities",
    ):
        row.distribution.value = dist
    for key, text in zip(row.visible_keys(), texts, strict=False):
        row.inputs[key].value = text
    assert b.valid == validates(b.config)
    assert {p.path for p in b.problems} == problem_paths(b.config)
    if not b.valid:
        # every problem is shown somewhere in the form
        shown = {m.path for m in b.messages if m.level == "error"}
        assert shown >= {p.path for p in b.problems}
