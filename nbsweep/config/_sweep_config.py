"""The normalised, read-only sweep config."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from nbsweep.config._loader import load_config
from nbsweep.config._validate import normalize

__all__ = ["SweepConfig", "validate"]


class SweepConfig(Mapping[str, Any]):
    """A validated sweep config with W&B's defaults filled in.

    It reads like the dict it came from (``cfg["method"]``, ``dict(cfg)``) and adds typed
    shortcuts. It cannot be changed; :meth:`to_dict` gives a deep copy to edit.

    Examples
    --------
    >>> cfg = validate({"method": "bayes", "metric": {"name": "loss"},
    ...                 "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    >>> cfg.method, cfg.metric_name, cfg.goal
    ('bayes', 'loss', 'minimize')
    >>> cfg["parameters"]["x"]["distribution"]
    'uniform'
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = copy.deepcopy(dict(data))

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._data[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"SweepConfig({self._data!r})"

    @property
    def method(self) -> str:
        """``grid``, ``random`` or ``bayes``."""
        return str(self._data["method"])

    @property
    def parameters(self) -> dict[str, Any]:
        """The normalised parameter specs (a copy)."""
        return copy.deepcopy(self._data["parameters"])

    @property
    def metric_name(self) -> str | None:
        """Name of the metric the sweep optimises, or None when it has none."""
        metric = self._data.get("metric")
        return str(metric["name"]) if metric else None

    @property
    def goal(self) -> str:
        """``minimize`` or ``maximize`` (W&B's default is minimize)."""
        metric = self._data.get("metric")
        return str(metric["goal"]) if metric else "minimize"

    @property
    def target(self) -> float | None:
        """``metric.target``: the sweep ends once a run reaches it."""
        metric = self._data.get("metric")
        target = metric.get("target") if metric else None
        return float(target) if target is not None else None

    @property
    def run_cap(self) -> int | None:
        """The most runs the sweep makes, across all agents."""
        cap = self._data.get("run_cap")
        return int(cap) if cap is not None else None

    @property
    def early_terminate(self) -> dict[str, Any] | None:
        """The hyperband settings with defaults filled in, or None."""
        spec = self._data.get("early_terminate")
        return dict(spec) if spec else None

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the normalised config as a plain dict."""
        return copy.deepcopy(self._data)

    def to_json(self) -> str:
        """The config as JSON text, which :func:`validate` reads back to an equal config."""
        return json.dumps(self._data, sort_keys=False)


def validate(config: Mapping[str, Any] | str | os.PathLike[str]) -> SweepConfig:
    r"""Check a sweep config and return it normalised, or raise :class:`ConfigError`.

    ``config`` is a dict, YAML text, or a path to a ``.yaml``/``.yml`` file. Every top-level
    key and parameter form of W&B sweeps is accepted. Problems are reported together, each
    with its key path, the bad value and the expected form; unknown keys get a did-you-mean.
    Likely mistakes that are still valid (such as ``log_uniform`` bounds that look like real
    values) raise a :class:`nbsweep.ConfigWarning` instead.

    Examples
    --------
    >>> import nbsweep
    >>> nbsweep.validate("method: grid\nparameters:\n  n: {min: 1, max: 3}")["parameters"]
    {'n': {'min': 1, 'max': 3, 'distribution': 'int_uniform'}}
    """
    if isinstance(config, SweepConfig):
        return config
    return SweepConfig(normalize(load_config(config)))
