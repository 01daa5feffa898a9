"""The error every config problem is reported through."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ConfigError", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a sweep config.

    Attributes
    ----------
    path
        Dotted key path to the offending entry, e.g. ``parameters.lr.max``; empty for the
        config as a whole.
    message
        What is wrong and what was expected, e.g. ``expected a number, got 'abc'``.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(ValueError):
    """A sweep config that nbsweep refuses, listing every problem found in it.

    Examples
    --------
    >>> import nbsweep
    >>> try:
    ...     nbsweep.validate({"method": "random", "parameters": {"lr": {"max": "abc", "min": 0}}})
    ... except nbsweep.ConfigError as err:
    ...     print(err.problems[0].path)
    parameters.lr.max
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the sweep config:"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)
