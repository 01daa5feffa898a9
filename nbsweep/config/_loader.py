"""Read a sweep config from a dict, YAML text or a YAML file.

PyYAML follows YAML 1.1, which reads ``1e-4`` (an exponent without a dot) as the string
``'1e-4'``. Real sweep files are full of such numbers, so nbsweep's loader adds YAML 1.2's
float rule on top of PyYAML's safe loader. Everything else, booleans included, stays as
PyYAML reads it, so a file means the same here as in the W&B tools apart from that fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from nbsweep.config._errors import ConfigError, Problem

__all__ = ["load_config", "loads_yaml"]

_YAML_SUFFIXES = (".yaml", ".yml")

# YAML 1.2 core-schema floats, which include exponent forms without a dot.
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
    re.X,
)


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """PyYAML's safe loader with YAML 1.2 floats."""


def _construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    # Plain whole numbers never get here (the int rule is tried first), so this is a float
    # written as such, or an explicit !!float tag: either way a float, even for "!!float 0".
    return float(loader.construct_yaml_float(node))


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def loads_yaml(text: str, source: str = "YAML text") -> Any:
    """Parse YAML text with YAML 1.2 numbers.

    Examples
    --------
    >>> loads_yaml("lr: 1e-4")
    {'lr': 0.0001}
    """
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except RecursionError:
        raise ConfigError([Problem("", f"cannot parse {source}: nested too deeply")]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError([Problem("", f"cannot parse {source}{where}: {problem}")]) from None


def _looks_like_path(text: str) -> bool:
    if "\n" in text or (":" in text.split(os.sep)[-1] and not text.endswith(_YAML_SUFFIXES)):
        return False
    return text.endswith(_YAML_SUFFIXES) or os.path.isfile(text)


def load_config(source: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    r"""Turn a dict, YAML text or a path to a ``.yaml``/``.yml`` file into a plain dict.

    Nothing is validated here beyond the top level being a mapping.

    Examples
    --------
    >>> load_config("method: random\nparameters: {x: {min: 0.0, max: 1.0}}")["method"]
    'random'
    """
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        path = Path(source)
        if not path.is_file():
            raise ConfigError([Problem("", f"no sweep config file at {str(path)!r}")])
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise ConfigError(
                [Problem("", f"{str(path)!r} is not UTF-8 text (byte {err.start} is not valid)")]
            ) from None
        data = loads_yaml(text, source=str(path))
    elif isinstance(source, str):
        data = loads_yaml(source)
    else:
        raise ConfigError(
            [Problem("", f"expected a dict, YAML text or a path, got {type(source).__name__}")]
        )
    if not isinstance(data, Mapping):
        raise ConfigError(
            [Problem("", f"expected a mapping at the top of the config, got {_kind(data)}")]
        )
    return dict(data)


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
