"""``run.config``: attribute and item access, nested groups as objects, sweep values locked."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from nbsweep.config import canonical_key

__all__ = ["ConfigLockedError", "RunConfig", "deep_merge"]


class ConfigLockedError(ValueError):
    """A sweep value was about to be changed inside its run."""


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` laid on top; dicts present in both are merged key by key.

    Examples
    --------
    >>> deep_merge({"opt": {"lr": 1, "beta": 2}, "bs": 8}, {"opt": {"lr": 3}})
    {'opt': {'lr': 3, 'beta': 2}, 'bs': 8}
    """
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _locked_paths(values: Mapping[str, Any], prefix: tuple[str, ...]) -> set[tuple[str, ...]]:
    paths = set()
    for key, value in values.items():
        path = (*prefix, key)
        paths.add(path)
        if isinstance(value, Mapping):
            paths |= _locked_paths(value, path)
    return paths


class RunConfig(MutableMapping[str, Any]):
    """The config of a run: ``run.config.lr``, ``run.config["lr"]``, ``run.config.opt.lr``.

    Values set by the sweep cannot be changed (that would make the run lie about what it
    ran); other keys can be added and changed freely and are stored with the run.

    Examples
    --------
    >>> cfg = RunConfig({"lr": 0.1, "opt": {"name": "adam"}}, locked={"lr": 0.1})
    >>> cfg.lr, cfg.opt.name, cfg["opt"]["name"]
    (0.1, 'adam', 'adam')
    >>> cfg.epochs = 3
    >>> cfg.lr = 0.2
    Traceback (most recent call last):
    ...
    nbsweep.ConfigLockedError: run.config.lr is set by the sweep to 0.1; ...
    """

    __slots__ = ("_data", "_locked", "_on_change", "_prefix")

    def __init__(
        self,
        data: MutableMapping[str, Any] | None = None,
        *,
        locked: Mapping[str, Any] | None = None,
        on_change: Any = None,
        _prefix: tuple[str, ...] = (),
        _locked_set: set[tuple[str, ...]] | None = None,
    ) -> None:
        object.__setattr__(self, "_data", data if data is not None else {})
        object.__setattr__(
            self,
            "_locked",
            _locked_set if _locked_set is not None else _locked_paths(locked or {}, ()),
        )
        object.__setattr__(self, "_on_change", on_change)
        object.__setattr__(self, "_prefix", _prefix)

    def _wrap(self, key: str, value: Any) -> Any:
        if isinstance(value, MutableMapping):
            return RunConfig(
                value,
                on_change=self._on_change,
                _prefix=(*self._prefix, key),
                _locked_set=self._locked,
            )
        if (*self._prefix, key) in self._locked and isinstance(value, list | dict | set):
            return copy.deepcopy(value)  # changing the copy cannot change the sweep's value
        return value

    def __getitem__(self, key: str) -> Any:
        return self._wrap(key, self._data[key])

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            where = ".".join(("run.config", *self._prefix))
            hint = ""
            if not self._locked and not self._prefix:
                hint = (
                    ". This run has no sweep values: nbsweep.init() ran outside an agent "
                    "(pass function=train to nbsweep.agent, without parentheses)"
                )
            raise AttributeError(
                f"{where} has no key {key!r}; it has "
                f"{', '.join(map(repr, self._data)) or 'none'}{hint}"
            ) from None

    def __setitem__(self, key: str, value: Any) -> None:
        path = (*self._prefix, key)
        if path in self._locked and key in self._data:
            current = self._data[key]
            if canonical_key(current) != canonical_key(value):
                where = ".".join(("run.config", *path))
                raise ConfigLockedError(
                    f"{where} is set by the sweep to {current!r}; it cannot be changed to "
                    f"{value!r}"
                )
            return
        self._data[key] = value
        if self._on_change is not None:
            self._on_change()

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delitem__(self, key: str) -> None:
        if (*self._prefix, key) in self._locked:
            where = ".".join(("run.config", *self._prefix, key))
            raise ConfigLockedError(f"{where} is set by the sweep; it cannot be removed")
        del self._data[key]
        if self._on_change is not None:
            self._on_change()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"RunConfig({self._data!r})"

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *map(str, self._data)]

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        """Set several keys; sweep values may only be "set" to the value they already have."""
        items = dict(other, **kwargs)
        for key, value in items.items():
            self[key] = value

    def as_dict(self) -> dict[str, Any]:
        """A deep copy as plain nested dicts."""
        return copy.deepcopy(dict(self._data))
