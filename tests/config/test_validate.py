"""Validation against W&B's vectors, the bug-report cases, and where nbsweep decided otherwise."""

from __future__ import annotations

import warnings

import pytest
from testdata import case, vector

import nbsweep
from nbsweep import ConfigError, ConfigWarning


def problems(config) -> list[str]:
    with pytest.raises(ConfigError) as info:
        nbsweep.validate(config)
    return [str(p) for p in info.value.problems]


def paths(config) -> set[str]:
    with pytest.raises(ConfigError) as info:
        nbsweep.validate(config)
    return {p.path for p in info.value.problems}


def test_v01_values_get_categorical():
    v = vector("V01")
    assert nbsweep.validate(v["config"])["parameters"] == v["expected"]["filled_parameters"]


def test_v02_method_is_required():
    assert paths(vector("V02")["config"]) == {"method"}


def test_v03_unknown_method_is_named():
    (message,) = problems(vector("V03")["config"])
    assert "hyperopt" in message and "grid" in message and "bayes" in message


def test_v04_min_equal_max_is_one_value_with_a_warning():
    # W&B refuses min == max; nbsweep keeps it as the one value that was written.
    with pytest.warns(ConfigWarning, match="min equals max"):
        cfg = nbsweep.validate(vector("V04")["config"])
    assert cfg["parameters"]["a"]["distribution"] == "int_uniform"


def test_v05_probabilities_must_sum_to_one():
    (message,) = problems(vector("V05")["config"])
    assert message.startswith("parameters.a.probabilities") and "sum to" in message


def test_v06_probabilities_and_values_same_length():
    (message,) = problems(vector("V06")["config"])
    assert "2 entries for 3 values" in message


def test_v08_mixed_bounds_are_uniform_with_a_warning():
    with pytest.warns(
        ConfigWarning, match="parameters.a: min 1 and max 2.5 mix an int and a float"
    ):
        cfg = nbsweep.validate(vector("V08")["config"])
    assert cfg["parameters"]["a"] == vector("V08")["expected_engine"]["filled_parameters"]["a"]


def test_v09_goal_typo_gets_a_did_you_mean():
    (message,) = problems(vector("V09")["config"])
    assert (
        message
        == "metric.goal: expected minimize or maximize, got 'max' (did you mean 'maximize'?)"
    )


@pytest.mark.parametrize("item", vector("V11")["cases"])
def test_v11_parameter_names(item):
    if item["expected"]["accepted"]:
        cfg = nbsweep.validate(item["config"])
        assert "model.lr" in cfg["parameters"]  # a dotted name is a flat key
    else:
        (name,) = item["config"]["parameters"]
        assert paths(item["config"]) == {f"parameters.{name}"}


def test_v13_run_cap_must_be_positive():
    assert paths(vector("V13")["config"]) == {"run_cap"}


@pytest.mark.parametrize("item", vector("V14")["cases"])
def test_v14_parameter_shapes_refused(item):
    found = paths(item["config"])
    assert found and all(p.startswith("parameters") for p in found)


@pytest.mark.parametrize(
    "item", vector("V15")["cases"], ids=lambda c: str(c["config"]["parameters"])
)
def test_v15_bad_distribution_arguments(item):
    found = paths(item["config"])
    assert all(p.startswith(("parameters.a", "parameters.x")) for p in found)


def test_v17_hyperband_defaults_follow_the_engine():
    cfg = nbsweep.validate(vector("V17")["config"])
    assert cfg["early_terminate"] == vector("V17")["expected_head"]["filled_early_terminate"]


def test_v19_nested_parameters_are_kept():
    # W&B's validator drops nested parameters; nbsweep keeps and fills them.
    cfg = nbsweep.validate(vector("V19")["config"])
    inner = cfg["parameters"]["opt"]["parameters"]
    assert inner["lr"]["distribution"] == "uniform"
    assert inner["name"]["distribution"] == "constant"


@pytest.mark.parametrize("item", vector("B02")["cases"])
def test_b02_bayes_needs_a_metric_and_a_varying_parameter(item):
    found = paths(item["config"])
    assert found == ({"metric"} if "metric" not in item["config"] else {"parameters"})


def test_h05_early_terminate_needs_metric():
    assert "metric" in paths(vector("H05")["cases"][0]["config"])


def test_h05_float_s_is_refused_up_front():
    # The engine accepts s: 2.0 and crashes later; nbsweep refuses it at creation.
    assert paths(vector("H05")["cases"][1]["config"]) == {"early_terminate.s"}


@pytest.mark.parametrize("item", vector("H01")["cases"], ids=lambda c: str(c["early_terminate"]))
def test_h01_hyperband_bands(item):
    cfg = {
        "method": "random",
        "metric": {"name": "loss"},
        "early_terminate": item["early_terminate"],
        "parameters": {"a": {"values": [1]}},
    }
    if "error" in item:
        (message,) = problems(cfg)
        assert "no brackets" in message
        return
    bands = nbsweep.config.hyperband_bands(nbsweep.validate(cfg)["early_terminate"])
    if "bands" in item:
        assert bands == item["bands"]
    else:
        assert bands[: len(item["bands_prefix"])] == item["bands_prefix"]
        assert len(bands) == item["bands_len"]


# Cases made from public bug reports -------------------------------------------------------


def test_br01_log_uniform_overflow_fails_at_creation_naming_the_parameter():
    cfg = case("BR-01")["config"]
    with pytest.raises(ConfigError) as info:
        nbsweep.sweep(cfg)
    (problem,) = info.value.problems
    assert problem.path == "parameters.c_reg"
    assert "overflows" in problem.message and "log_uniform_values" in problem.message
    assert nbsweep.open_store().list_sweeps() == []


def test_br01_log_uniform_with_value_like_bounds_warns_once():
    cfg = {
        "method": "random",
        "parameters": {"c": {"distribution": "log_uniform", "min": 0.001, "max": 0.3}},
    }
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        nbsweep.validate(cfg)
    messages = [str(w.message) for w in seen if issubclass(w.category, ConfigWarning)]
    assert len(messages) == 1 and "log_uniform_values" in messages[0]


@pytest.mark.parametrize(
    ("variant", "path", "words"),
    [
        ("a_log_zero", "parameters.alpha.min", "must be > 0"),
        ("b_inverted", "parameters.decay", "min (0.3) must be <= max (0.1)"),
        ("c_missing_max", "parameters.dropout.max", "missing"),
    ],
)
def test_br02_bad_bounds_are_refused_by_name(variant, path, words):
    cfg = case("BR-02")["config"][variant]
    with pytest.raises(ConfigError) as info:
        nbsweep.sweep(cfg)
    (problem,) = info.value.problems
    assert problem.path == path and words in problem.message
    assert nbsweep.open_store().list_sweeps() == []


def test_br02_workaround_is_accepted():
    assert nbsweep.validate(case("BR-02")["config"]["d_allowed_workaround"])


def test_br03_distribution_inference_survives_dict_yaml_and_storage(store_path):
    import yaml

    cfg = case("BR-03")["config"]
    expected = {"beta": "uniform", "layers": "int_uniform", "scale": "uniform", "width": "uniform"}

    def kinds(c):
        return {k: v["distribution"] for k, v in c["parameters"].items()}

    with pytest.warns(ConfigWarning) as seen:
        from_dict = nbsweep.validate(cfg)
    assert [str(w.message).split(":")[0] for w in seen] == ["parameters.scale"]  # not width
    with pytest.warns(ConfigWarning):
        from_yaml = nbsweep.validate(yaml.safe_dump(cfg))
    with pytest.warns(ConfigWarning):
        sweep_id = nbsweep.sweep(cfg)
    stored = nbsweep.open_store().get_sweep(sweep_id).config  # read back from JSON on disk
    assert kinds(from_dict) == kinds(from_yaml) == kinds(stored) == expected
    assert isinstance(stored["parameters"]["beta"]["min"], float)


def test_br06_grid_refuses_continuous_and_probabilities_by_name():
    cases = case("BR-06")["config"]
    with pytest.raises(ConfigError) as info:
        nbsweep.sweep(cases["bad_continuous"])
    (problem,) = info.value.problems
    assert problem.path == "parameters.lr"
    for allowed in ("value", "values", "int_uniform", "q_uniform"):
        assert allowed in problem.message
    with pytest.raises(ConfigError) as info:
        nbsweep.sweep(cases["bad_probabilities"])
    assert info.value.problems[0].path == "parameters.opt.probabilities"


def test_br08_malformed_parameters_all_reported_at_once():
    variants = case("BR-08")["config"]
    (missing,) = problems(variants["missing_inner_parameters"])
    assert missing.startswith("parameters.optimizer:") and "`parameters` key" in missing
    (bare_list,) = problems(variants["bare_list"])
    assert bare_list.startswith("parameters.lr:") and "{values: [0.1, 0.01]}" in bare_list
    (bare_scalar,) = problems(variants["bare_scalar"])
    assert bare_scalar.startswith("parameters.epochs:") and "{value: 10}" in bare_scalar
    (unknown,) = problems(variants["unknown_key"])
    assert unknown == "parameters.lr.valeus: unknown key (did you mean 'values'?)"
    merged = {
        "method": "random",
        "parameters": {
            **variants["bare_list"]["parameters"],
            **variants["bare_scalar"]["parameters"],
        },
    }
    assert len(problems(merged)) == 2  # one message per problem, in one error


def test_error_message_names_path_value_and_expected_form():
    cfg = {"method": "random", "parameters": {"lr": {"min": 0.1, "max": "abc"}}}
    assert problems(cfg) == ["parameters.lr.max: expected a number, got 'abc'"]


def test_string_number_from_pyyaml_gets_a_hint():
    cfg = {"method": "random", "parameters": {"lr": {"min": "1e-5", "max": 0.1}}}
    (message,) = problems(cfg)
    assert "1.0e-5" in message


def test_unknown_top_level_key_did_you_mean():
    cfg = {"method": "random", "paramters": {}, "parameters": {"a": {"value": 1}}}
    assert problems(cfg) == ["paramters: unknown top-level key (did you mean 'parameters'?)"]


def test_command_starting_with_an_args_macro_is_refused():
    cfg = {
        "method": "grid",
        "command": ["${args_no_boolean_flags}"],
        "parameters": {"a": {"values": [1]}},
    }
    (message,) = problems(cfg)
    assert message.startswith("command:")


def test_grid_over_q_uniform_is_a_lattice_with_max():
    cfg = nbsweep.validate(
        {
            "method": "grid",
            "parameters": {"x": {"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.1}},
        }
    )
    space = nbsweep.space.Space(cfg)
    assert [space.grid_point(i)["x"] for i in range(space.grid_size())] == [
        0.0,
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
    ]


def test_validate_round_trips_its_own_output():
    cfg = nbsweep.validate(case("BR-06")["config"]["ok_grid"])
    assert nbsweep.validate(cfg.to_dict()) == cfg
    assert nbsweep.validate(cfg.to_json()) == cfg


def test_yaml_file_path_and_missing_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("method: random\nparameters:\n  lr: {min: 1e-5, max: 1e-1}\n")
    cfg = nbsweep.validate(str(path))
    assert cfg["parameters"]["lr"]["min"] == 1e-5  # YAML 1.2 number, not the string '1e-5'
    assert nbsweep.validate(path) == cfg
    with pytest.raises(ConfigError, match="no sweep config file"):
        nbsweep.validate(str(tmp_path / "missing.yaml"))


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(ConfigError, match="line 2, column 6"):
        nbsweep.validate("method: random\n  bad: indent\n")
