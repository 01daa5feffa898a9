"""Per-run capture of what a run's function prints.

In a notebook, ``print`` from a background thread lands in whichever cell happens to be
running, or nowhere. The agent therefore routes ``sys.stdout`` and ``sys.stderr`` by thread:
writes from a thread that is executing a run go to that run (stored with it and shown by the
agent's view); writes from any other thread go where they always went. A foreground agent
also echoes the run's output to the original stream.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

__all__ = ["capture_output"]

_routes: dict[int, tuple[Callable[[str], None], bool]] = {}
_routes_lock = threading.Lock()


class _RoutedStream(io.TextIOBase):
    """A stand-in for ``sys.stdout``/``sys.stderr`` that sends each thread's writes its way."""

    def __init__(self, original: TextIO) -> None:
        self._original = original

    @property
    def original(self) -> TextIO:
        return self._original

    def write(self, text: str) -> int:
        route = _routes.get(threading.get_ident())
        if route is None:
            return self._original.write(text)
        sink, echo = route
        sink(text)
        if echo:
            self._original.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(Exception):
            self._original.flush()

    def isatty(self) -> bool:
        return bool(getattr(self._original, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self._original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._original, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def _install() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _RoutedStream) and stream is not None:
            setattr(sys, name, _RoutedStream(stream))


def _uninstall() -> None:
    # Put the original streams back once nothing is captured, so tools that swap sys.stdout
    # themselves (test runners, IPython's capture) never find a stale wrapper.
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _RoutedStream):
            setattr(sys, name, stream.original)


@contextlib.contextmanager
def capture_output(sink: Callable[[str], None], *, echo: bool) -> Iterator[None]:
    r"""Send what this thread prints to ``sink`` (and also to the console if ``echo``).

    Examples
    --------
    >>> seen = []
    >>> with capture_output(seen.append, echo=False):
    ...     print("hello")
    >>> "".join(seen)
    'hello\n'
    """
    ident = threading.get_ident()
    with _routes_lock:
        _install()
        _routes[ident] = (sink, echo)
    try:
        yield
    finally:
        with _routes_lock:
            _routes.pop(ident, None)
            if not _routes:
                _uninstall()
