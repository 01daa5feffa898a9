"""Validate a W&B sweep config and fill in what W&B fills in.

Every check reports through :class:`Problem` with the dotted key path, and all problems of a
config are collected before one :class:`ConfigError` is raised, so a user fixes them in one
pass. Where nbsweep departs from W&B the reason is given next to the check.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import warnings
from collections.abc import Mapping
from typing import Any

from nbsweep._warnings import ConfigWarning
from nbsweep.config._distributions import (
    DISTRIBUTIONS,
    GRID_KINDS,
    LEGACY_LOG,
    PARAM_KEYS,
)
from nbsweep.config._errors import ConfigError, Problem

__all__ = ["hyperband_bands", "normalize"]

METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
IMPUTE = ("worst", "best", "latest")
COMMAND_MACROS = (
    "env",
    "interpreter",
    "program",
    "args",
    "args_no_hyphens",
    "args_no_boolean_flags",
    "args_no_equals",
    "args_json",
    "args_json_file",
    "args_append_hydra",
    "args_override_hydra",
    "args_dict",
)
_ARGS_MACROS = frozenset(m for m in COMMAND_MACROS if m.startswith("args"))

_TOP_KEYS = (
    "method",
    "parameters",
    "metric",
    "early_terminate",
    "run_cap",
    "program",
    "command",
    "name",
    "description",
    "project",
    "entity",
    "controller",
    "apiVersion",
    "kind",
    "job",
    "image_uri",
    "scheduler",
)
# Keys of W&B Launch, which runs sweeps on W&B's own queue; accepted so a file still loads.
_LAUNCH_KEYS = ("job", "image_uri", "scheduler")
_METRIC_KEYS = ("name", "goal", "target", "impute", "impute_while_running")
_HYPERBAND_KEYS = ("type", "min_iter", "max_iter", "s", "eta", "strict")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# exp() of anything above this is inf in float64, and of anything below the floor 0.
_EXP_LIMIT = math.log(1.7976931348623157e308)
_EXP_FLOOR = math.log(2.2250738585072014e-308)
_HYPERBAND_BAND_LIMIT = 100
# Deepest nesting of parameter groups (and of values) a config may have.
_MAX_DEPTH = 32
# Largest whole number that a run_cap, min_iter or the like may be (the store keeps 64-bit ints).
_MAX_INT = 2**53


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite_float(value: Any) -> bool:
    """True for a number that is finite as a float (huge ints overflow)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(word: str, options: Any) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


class _Checker:
    """Collects problems and warnings while a config is normalised."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(f"{path}: {message}" if path else message)

    def number(self, spec: Mapping[str, Any], key: str, path: str) -> bool:
        value = spec[key]
        if _is_number(value):
            if not _finite_float(value):
                self.fail(f"{path}.{key}", f"expected a finite number, got {_show(value)}")
                return False
            return True
        hint = ""
        if isinstance(value, str):
            try:
                float(value)
                hint = (
                    " (a string: write it as a YAML number such as 1.0e-5, or load the file "
                    "with nbsweep, which reads 1e-5 as a number)"
                )
            except ValueError:
                pass
        self.fail(f"{path}.{key}", f"expected a number, got {_show(value)}{hint}")
        return False


def normalize(config: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``config`` against the W&B sweep schema and return it with defaults filled in.

    Raises
    ------
    ConfigError
        With every problem found, each naming its key path.

    Examples
    --------
    >>> normalize({"method": "grid", "parameters": {"a": {"values": [1, 2]}}})["parameters"]
    {'a': {'values': [1, 2], 'distribution': 'categorical'}}
    """
    check = _Checker()
    out = _check_top(config, check)
    if check.problems:
        raise ConfigError(check.problems)
    for message in dict.fromkeys(check.warnings):
        warnings.warn(message, ConfigWarning, stacklevel=3)
    return out


def _check_top(config: Mapping[str, Any], check: _Checker) -> dict[str, Any]:
    for key in config:
        if key not in _TOP_KEYS:
            hint = _suggest(key, _TOP_KEYS)
            if key in ("metrics",):
                hint = " (several metrics need W&B's custom method; nbsweep takes one `metric`)"
            check.fail(str(key), f"unknown top-level key{hint}")
    out: dict[str, Any] = {}
    for key in config:
        if key in _TOP_KEYS:
            out[key] = config[key]

    method = _check_method(config, check)
    parameters = _check_parameters(config, method, check)
    if parameters is not None:
        out["parameters"] = parameters
    metric = _check_metric(config, check)
    if metric is not None:
        out["metric"] = metric
    if "early_terminate" in config:
        out["early_terminate"] = _check_early_terminate(config["early_terminate"], check)
        if metric is None:
            check.fail("metric", "early_terminate needs a `metric` to compare runs by")
    if method == "bayes":
        if metric is None:
            check.fail("metric", "bayes search needs a `metric` section (name and goal)")
        if parameters is not None and not _has_searchable(parameters):
            check.fail(
                "parameters",
                "bayes needs at least one parameter that varies; every parameter here is a "
                "constant (a single value)",
            )
    _check_run_cap(config, check)
    _check_strings(config, check)
    _check_command(config, check)
    _check_controller(config, check)
    for key in _LAUNCH_KEYS:
        if key in config:
            check.warn(key, "W&B Launch settings are ignored by nbsweep")
    if not check.problems:
        for path, value in _unstorable(out, ""):
            check.fail(
                path,
                f"expected plain data (strings, numbers, booleans, lists, mappings), got "
                f"{type(value).__name__} {_show(value)}",
            )
    return out


def _unstorable(value: Any, path: str, depth: int = 0) -> list[tuple[str, Any]]:
    """Paths of values that JSON cannot hold, which a sweep cannot be stored with."""
    if depth > _MAX_DEPTH:
        return [(path, "nested too deeply")]
    if value is None or isinstance(value, bool | str):
        return []
    if isinstance(value, int | float):
        return [] if _finite_float(value) or isinstance(value, float) else [(path, value)]
    if isinstance(value, list | tuple):
        return [
            found
            for i, item in enumerate(value)
            for found in _unstorable(item, f"{path}[{i}]", depth + 1)
        ]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            return [(path, value)]
        return [
            found
            for k, item in value.items()
            for found in _unstorable(item, f"{path}.{k}" if path else k, depth + 1)
        ]
    return [(path, value)]


def _check_method(config: Mapping[str, Any], check: _Checker) -> str | None:
    if "method" not in config:
        check.fail("method", f"missing; expected one of {', '.join(METHODS)}")
        return None
    method = config["method"]
    if method == "custom":
        check.fail("method", "'custom' needs W&B's Launch scheduler; use grid, random or bayes")
        return None
    if method not in METHODS:
        hint = _suggest(str(method).lower(), METHODS)
        check.fail("method", f"expected one of {', '.join(METHODS)}, got {_show(method)}{hint}")
        return None
    return str(method)


def _check_parameters(
    config: Mapping[str, Any], method: str | None, check: _Checker
) -> dict[str, Any] | None:
    if "parameters" not in config:
        check.fail("parameters", "missing; a sweep needs at least one parameter")
        return None
    params = config["parameters"]
    if not isinstance(params, Mapping):
        check.fail("parameters", f"expected a mapping of parameter names, got {_show(params)}")
        return None
    if not params:
        check.fail("parameters", "is empty; a sweep needs at least one parameter")
        return None
    out = _check_group(params, "parameters", method, check)
    _check_flat_names(out, check)
    return out


def _check_group(
    params: Mapping[str, Any], path: str, method: str | None, check: _Checker
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in params.items():
        here = f"{path}.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            check.fail(
                here,
                "a parameter name must start with a letter or underscore and hold only "
                "letters, digits, '_', '.' and '-'",
            )
            continue
        checked = _check_param(spec, here, method, check)
        if checked is not None:
            out[name] = checked
    return out


def _check_param(spec: Any, path: str, method: str | None, check: _Checker) -> Any:
    if isinstance(spec, list):
        check.fail(path, f"expected a parameter spec, got a list; write {{values: {_show(spec)}}}")
        return None
    if not isinstance(spec, Mapping):
        check.fail(
            path, f"expected a parameter spec, got {_show(spec)}; write {{value: {spec!r}}}"
        )
        return None
    if "parameters" in spec:
        return _check_nested(spec, path, method, check)
    unknown = [k for k in spec if k not in PARAM_KEYS]
    if unknown and all(isinstance(spec[k], Mapping) for k in spec):
        inner = ", ".join(str(k) for k in spec)
        check.fail(
            path,
            f"looks like a group of parameters ({inner}); put them under a `parameters` key: "
            f"{path.rsplit('.', 1)[-1]}: {{parameters: {{{inner.split(', ')[0]}: {{...}}}}}}",
        )
        return None
    if unknown:
        if all(isinstance(spec[k], Mapping) for k in unknown):
            names = ", ".join(str(k) for k in unknown)
            check.fail(path, f"unexpected keys {names} (probably mis-indented parameters)")
        else:
            for key in unknown:
                check.fail(f"{path}.{key}", f"unknown key{_suggest(key, sorted(PARAM_KEYS))}")
        return None
    return _check_leaf(spec, path, method, check)


def _check_nested(spec: Mapping[str, Any], path: str, method: str | None, check: _Checker) -> Any:
    extra = [k for k in spec if k != "parameters"]
    if extra:
        check.fail(
            path,
            f"a group with `parameters` takes no other keys, got {', '.join(map(str, extra))}",
        )
        return None
    inner = spec["parameters"]
    if path.count(".parameters.") >= _MAX_DEPTH:
        check.fail(path, f"parameter groups are nested more than {_MAX_DEPTH} deep")
        return None
    if not isinstance(inner, Mapping) or not inner:
        check.fail(f"{path}.parameters", "expected a non-empty mapping of parameters")
        return None
    return {"parameters": _check_group(inner, f"{path}.parameters", method, check)}


def _infer_distribution(spec: Mapping[str, Any], path: str, check: _Checker) -> str | None:
    if "distribution" in spec:
        name = spec["distribution"]
        if not isinstance(name, str) or name not in DISTRIBUTIONS:
            hint = _suggest(name, DISTRIBUTIONS) if isinstance(name, str) else ""
            check.fail(f"{path}.distribution", f"unknown distribution {_show(name)}{hint}")
            return None
        if name == "categorical" and "probabilities" in spec:
            check.fail(
                f"{path}.probabilities",
                "not allowed with distribution categorical; leave `distribution` out or write "
                "categorical_w_probabilities",
            )
            return None
        return str(name)
    keys = set(spec)
    if "value" in keys:
        return "constant"
    if "values" in keys:
        return "categorical_w_probabilities" if "probabilities" in keys else "categorical"
    if keys & {"min", "max"}:
        for key in ("min", "max"):
            if key not in keys:
                check.fail(f"{path}.{key}", "missing; a range needs both min and max")
        if not keys >= {"min", "max"}:
            return None
        low, high = spec["min"], spec["max"]
        if _is_int(low) and _is_int(high):
            return "int_uniform"
        if _is_number(low) and _is_number(high) and (_is_int(low) or _is_int(high)):
            check.warn(
                path,
                f"min {low!r} and max {high!r} mix an int and a float; sampling floats "
                "(write both as floats, or give distribution: int_uniform)",
            )
        return "uniform"
    check.fail(
        path,
        "cannot tell the distribution: give `value`, `values`, `min` and `max`, or `distribution`",
    )
    return None


def _check_leaf(
    spec: Mapping[str, Any], path: str, method: str | None, check: _Checker
) -> dict[str, Any] | None:
    name = _infer_distribution(spec, path, check)
    if name is None:
        return None
    form = DISTRIBUTIONS[name]
    bad = [k for k in spec if k not in form.keys]
    for key in bad:
        check.fail(f"{path}.{key}", f"not a key of distribution {name}")
    missing = [k for k in form.required if k not in spec]
    for key in missing:
        check.fail(f"{path}.{key}", f"missing; distribution {name} needs {key}")
    if bad or missing:
        return None
    out = dict(spec)
    out["distribution"] = name
    for key, default in form.defaults:
        out.setdefault(key, default)
    before = len(check.problems)
    _check_values(out, name, path, check)
    if len(check.problems) > before:
        return None
    if method == "grid" and name not in GRID_KINDS:
        _grid_refusal(out, name, path, check)
        return None
    if method == "grid" and name == "q_uniform":
        low, high, q = out["min"], out["max"], out["q"]
        if math.floor(high / q + 1e-9) < math.ceil(low / q - 1e-9):
            check.fail(
                path, f"no multiple of q={q!r} lies in [{low!r}, {high!r}], so the grid is empty"
            )
            return None
    return out


def _grid_refusal(spec: Mapping[str, Any], name: str, path: str, check: _Checker) -> None:
    if name == "categorical_w_probabilities":
        check.fail(
            f"{path}.probabilities",
            "probabilities mean nothing in a grid, which runs every value once; drop them",
        )
        return
    check.fail(
        path,
        f"grid cannot enumerate a {name} distribution; grid takes value, values, int_uniform "
        "and q_uniform (use random or bayes, or a q_ distribution for a lattice)",
    )


def _check_values(spec: dict[str, Any], name: str, path: str, check: _Checker) -> None:
    if name == "constant":
        _check_json(spec["value"], f"{path}.value", check)
    elif name in ("categorical", "categorical_w_probabilities"):
        _check_categorical(spec, path, check)
    elif name in ("normal", "q_normal", "log_normal", "q_log_normal"):
        _check_normal(spec, path, check)
    elif name in ("beta", "q_beta"):
        for key in ("a", "b"):
            if check.number(spec, key, path) and spec[key] <= 0:
                check.fail(f"{path}.{key}", f"must be > 0, got {spec[key]!r}")
    else:
        _check_range(spec, name, path, check)
    if "q" in spec and check.number(spec, "q", path) and spec["q"] <= 0:
        check.fail(f"{path}.q", f"must be > 0, got {spec['q']!r}")


def _check_json(value: Any, path: str, check: _Checker) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        check.fail(path, f"values must be plain data (numbers, strings, lists, dicts): {err}")


def _check_categorical(spec: dict[str, Any], path: str, check: _Checker) -> None:
    values = spec["values"]
    if not isinstance(values, list):
        check.fail(
            f"{path}.values",
            f"expected a list, got {_show(values)}"
            + (f" (did you mean `value: {values!r}`?)" if not isinstance(values, dict) else ""),
        )
        return
    if not values:
        check.fail(f"{path}.values", "is empty; give at least one value")
        return
    _check_json(values, f"{path}.values", check)
    keys = [_dedupe_key(v) for v in values]
    if len(set(keys)) < len(keys):
        check.warn(f"{path}.values", "lists the same value more than once; it is used once")
    if "probabilities" not in spec:
        return
    probs = spec["probabilities"]
    if not isinstance(probs, list) or not all(_is_number(p) for p in probs):
        check.fail(f"{path}.probabilities", f"expected a list of numbers, got {_show(probs)}")
        return
    if len(probs) != len(values):
        check.fail(
            f"{path}.probabilities",
            f"has {len(probs)} entries for {len(values)} values; give one per value",
        )
        return
    if any(p < 0 for p in probs):
        check.fail(f"{path}.probabilities", "must all be >= 0")
    elif not math.isclose(sum(probs), 1.0, rel_tol=1e-6, abs_tol=1e-8):
        check.fail(f"{path}.probabilities", f"sum to {sum(probs)!r}, not 1")


def _dedupe_key(value: Any) -> str:
    from nbsweep.config._canonical import canonical_key

    return canonical_key(value)


def _check_normal(spec: dict[str, Any], path: str, check: _Checker) -> None:
    mu_ok = check.number(spec, "mu", path)
    if check.number(spec, "sigma", path) and spec["sigma"] < 0:
        check.fail(f"{path}.sigma", f"must be >= 0, got {spec['sigma']!r}")
    if mu_ok and "log" in spec["distribution"] and spec["mu"] > _EXP_LIMIT:
        check.fail(f"{path}.mu", f"e^{spec['mu']!r} overflows; mu is the mean of log(value)")


def _check_range(spec: dict[str, Any], name: str, path: str, check: _Checker) -> None:
    ok = check.number(spec, "min", path) & check.number(spec, "max", path)
    if not ok:
        return
    low, high = spec["min"], spec["max"]
    if name == "int_uniform":
        for key in ("min", "max"):
            if not _is_int(spec[key]):
                check.fail(
                    f"{path}.{key}",
                    f"int_uniform needs integer bounds, got {spec[key]!r} "
                    "(use uniform for floats)",
                )
    if low > high:
        check.fail(path, f"min ({low!r}) must be <= max ({high!r})")
        return
    if low == high:
        # W&B refuses min == max; nbsweep samples the one value, which is what was written.
        check.warn(path, f"min equals max ({low!r}); every run gets that value")
    if name.endswith("_values") and low <= 0:
        check.fail(
            f"{path}.min",
            f"must be > 0 for {name}, which samples in log space; got {low!r}",
        )
    if name in LEGACY_LOG:
        _check_legacy_log(low, high, name, path, check)


def _check_legacy_log(low: float, high: float, name: str, path: str, check: _Checker) -> None:
    values_form = LEGACY_LOG[name]
    # log_uniform draws exp(U(min, max)); inv_log_uniform draws exp(-U(min, max)).
    sign = -1.0 if name == "inv_log_uniform" else 1.0
    edges = sorted((sign * low, sign * high))
    if edges[1] > _EXP_LIMIT:
        check.fail(
            path,
            f"{name} takes natural-log exponents as min and max, so e^{edges[1]:g} overflows; "
            f"for real values such as {low!r}..{high!r} use {values_form}",
        )
        return
    if edges[0] < _EXP_FLOOR:
        check.fail(
            path,
            f"{name} takes natural-log exponents as min and max, so e^{edges[0]:g} is 0 in "
            "floating point; use larger exponents",
        )
        return
    check.warn(
        path,
        f"{name} takes natural-log exponents: min {low!r} and max {high!r} mean "
        f"{math.exp(edges[0]):.4g}..{math.exp(edges[1]):.4g}. If you meant those numbers as "
        f"the values, use {values_form}",
    )


def _check_flat_names(params: Mapping[str, Any], check: _Checker) -> None:
    seen: dict[str, str] = {}

    def walk(group: Mapping[str, Any], prefix: str, path: str) -> None:
        for name, spec in group.items():
            dotted = f"{prefix}{name}"
            if dotted in seen:
                check.fail(
                    f"{path}.{name}",
                    f"names the same parameter {dotted!r} as {seen[dotted]}",
                )
            seen[dotted] = f"{path}.{name}"
            if isinstance(spec, Mapping) and "parameters" in spec:
                walk(spec["parameters"], f"{dotted}.", f"{path}.{name}.parameters")

    walk(params, "", "parameters")


def _has_searchable(params: Mapping[str, Any]) -> bool:
    for spec in params.values():
        if "parameters" in spec:
            if _has_searchable(spec["parameters"]):
                return True
            continue
        name = spec["distribution"]
        if name == "constant":
            continue
        if name.startswith("categorical") and len({_dedupe_key(v) for v in spec["values"]}) < 2:
            continue
        if "min" in spec and spec["min"] == spec["max"]:
            continue
        return True
    return False


def _check_metric(config: Mapping[str, Any], check: _Checker) -> dict[str, Any] | None:
    if "metric" not in config or config["metric"] is None:
        return None
    metric = config["metric"]
    if not isinstance(metric, Mapping):
        check.fail("metric", f"expected a mapping with name and goal, got {_show(metric)}")
        return None
    for key in metric:
        if key not in _METRIC_KEYS:
            check.fail(f"metric.{key}", f"unknown key{_suggest(key, _METRIC_KEYS)}")
    out = dict(metric)
    name = metric.get("name")
    if name is None:
        check.fail("metric.name", "missing; name the value your function logs")
    elif not isinstance(name, str) or not name:
        check.fail("metric.name", f"expected a non-empty string, got {_show(name)}")
    goal = out.setdefault("goal", "minimize")
    if goal not in GOALS:
        hint = _suggest(str(goal).lower(), GOALS) or (
            " (did you mean 'maximize'?)" if str(goal).lower().startswith("max") else ""
        )
        check.fail("metric.goal", f"expected minimize or maximize, got {_show(goal)}{hint}")
    if "target" in metric:
        check.number(metric, "target", "metric")
    impute = out.setdefault("impute", "worst")
    if impute not in IMPUTE:
        check.fail("metric.impute", f"expected one of {', '.join(IMPUTE)}, got {_show(impute)}")
    if "impute_while_running" in metric:
        value = metric["impute_while_running"]
        if value not in ("false", False, *IMPUTE):
            check.fail(
                "metric.impute_while_running",
                f"expected false, worst, best or latest, got {_show(value)}",
            )
    return out


def _check_early_terminate(spec: Any, check: _Checker) -> Any:
    path = "early_terminate"
    if not isinstance(spec, Mapping):
        check.fail(path, f"expected a mapping, got {_show(spec)}")
        return spec
    for key in spec:
        if key not in _HYPERBAND_KEYS:
            check.fail(f"{path}.{key}", f"unknown key{_suggest(key, _HYPERBAND_KEYS)}")
    if spec.get("type") != "hyperband":
        check.fail(f"{path}.type", f"expected 'hyperband', got {_show(spec.get('type'))}")
    out = dict(spec)
    out.setdefault("eta", 3)
    out.setdefault("strict", True)
    if not check.number(out, "eta", path):
        return out
    if out["eta"] <= 1:
        check.fail(
            f"{path}.eta", f"must be > 1 (each bracket keeps 1/eta of runs), got {out['eta']!r}"
        )
        return out
    if not isinstance(out["strict"], bool):
        check.fail(f"{path}.strict", f"expected true or false, got {_show(out['strict'])}")
    for key in ("min_iter", "max_iter", "s"):
        if key in out and (not _is_int(out[key]) or not 1 <= out[key] <= _MAX_INT):
            check.fail(
                f"{path}.{key}", f"expected a whole number from 1 to 2**53, got {_show(out[key])}"
            )
            return out
    if "max_iter" in out and "s" not in out:
        check.fail(f"{path}.s", "missing; max_iter needs s, the number of brackets")
    elif "max_iter" not in out and "min_iter" not in out:
        check.fail(path, "give min_iter, or max_iter together with s")
    elif not hyperband_bands(out):
        check.fail(
            path,
            "gives no brackets; try increasing s, decreasing eta, or increasing min_iter",
        )
    return out


def hyperband_bands(spec: Mapping[str, Any]) -> list[int]:
    """The iterations at which hyperband compares runs, as W&B computes them.

    Examples
    --------
    >>> hyperband_bands({"max_iter": 27, "s": 2, "eta": 3})
    [3, 9]
    >>> hyperband_bands({"min_iter": 3, "eta": 3})[:4]
    [3, 9, 27, 81]
    """
    eta = float(spec.get("eta", 3))
    if "max_iter" in spec:
        bands = []
        band = float(spec["max_iter"])
        for _ in range(int(spec["s"])):
            band /= eta
            if band < 1:
                break
            bands.append(int(band))
        return sorted(bands)
    low = float(spec["min_iter"])
    bands = []
    for k in range(_HYPERBAND_BAND_LIMIT):
        try:
            band = low * eta**k
        except OverflowError:
            break
        if not math.isfinite(band):
            break
        bands.append(int(band))
    return bands


def _check_run_cap(config: Mapping[str, Any], check: _Checker) -> None:
    if "run_cap" not in config:
        return
    cap = config["run_cap"]
    if not _is_int(cap) or not 1 <= cap <= _MAX_INT:
        check.fail("run_cap", f"expected a whole number from 1 to 2**53, got {_show(cap)}")


def _check_strings(config: Mapping[str, Any], check: _Checker) -> None:
    for key in ("program", "name", "description", "project", "entity"):
        if key in config and config[key] is not None and not isinstance(config[key], str):
            check.fail(key, f"expected a string, got {_show(config[key])}")


def _check_command(config: Mapping[str, Any], check: _Checker) -> None:
    if "command" not in config:
        return
    command = config["command"]
    if not isinstance(command, list) or not all(isinstance(t, str) for t in command):
        check.fail("command", f"expected a list of strings, got {_show(command)}")
        return
    if not command:
        check.fail("command", "is empty; leave it out for the default command")
        return
    macros = [t[2:-1] for t in command if t.startswith("${") and t.endswith("}")]
    first = command[0]
    if first.startswith("${") and first[2:-1] in _ARGS_MACROS:
        check.fail(
            "command",
            f"starts with {first}, so the first argument would run as the program; put "
            "${env} ${interpreter} ${program} (or your executable) before it",
        )
    if "${program}" in command and "program" not in config:
        check.fail("program", "missing; the command uses ${program}")
    if not _ARGS_MACROS.intersection(macros):
        check.warn(
            "command",
            "has no ${args...} macro, so the parameters are not passed on the command line "
            "(the program can still read them with nbsweep.init())",
        )


def _check_controller(config: Mapping[str, Any], check: _Checker) -> None:
    if "controller" not in config:
        return
    controller = config["controller"]
    if not isinstance(controller, Mapping) or controller.get("type", "cloud") not in (
        "local",
        "cloud",
    ):
        check.fail(
            "controller", f"expected {{type: local}} or {{type: cloud}}, got {_show(controller)}"
        )
