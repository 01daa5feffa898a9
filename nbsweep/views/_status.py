"""The agent's progress under its cell: counts, best so far, the last error, captured output.

Updates come from the agent's thread through one publisher that sends at most ten a second
(a burst of events becomes one update), because widget messages from a thread are the path
that works in every front end, and flooding them would slow the page.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as widgets

from nbsweep.agent import AgentHandle

__all__ = ["Publisher", "agent_view"]

_MIN_INTERVAL_S = 0.1


class Publisher:
    """Coalesces change notices and calls ``push`` at most every 0.1 s, from its own thread.

    Examples
    --------
    >>> pushed = []
    >>> pub = Publisher(lambda: pushed.append(1))
    >>> for _ in range(100):
    ...     pub.notify()
    >>> pub.close(); len(pushed) <= 2
    True
    """

    def __init__(self, push: Any) -> None:
        self._push = push
        self._dirty = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="nbsweep-publisher", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        self._dirty.set()

    def close(self) -> None:
        """Send the last pending update and end the thread."""
        self._closed = True
        self._dirty.set()
        self._thread.join(timeout=2)

    def _loop(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            self._push()
            if self._closed:
                return
            time.sleep(_MIN_INTERVAL_S)


def _render(handle: AgentHandle) -> str:
    p = handle.progress
    total = f" of {p.count}" if p.count is not None else ""
    parts = [
        f"<b>nbsweep agent</b> on sweep <code>{handle.sweep_id}</code> &mdash; {p.state}",
        f"{p.started}{total} started &middot; {p.finished} finished &middot; "
        f"{p.failed} failed &middot; {p.stopped} stopped",
    ]
    if p.current_run:
        parts.append(f"running <code>{p.current_run}</code>")
    if p.best_value is not None:
        parts.append(f"best so far {p.best_value:.6g} (run <code>{p.best_run}</code>)")
    if p.message:
        parts.append(html.escape(p.message))
    body = "<br>".join(parts)
    for note in handle.notices:
        body += f"<div style='color:#a15c00'>{html.escape(note)}</div>"
    run_id, tail = handle.output
    if tail:
        body += (
            f"<details><summary>output of run <code>{run_id}</code></summary>"
            f"<pre style='font-size:11px;max-height:16em;overflow:auto'>{html.escape(tail)}"
            "</pre></details>"
        )
    errors = handle.errors
    if errors:
        last = errors[-1]
        body += (
            f"<details><summary style='color:#b00020'>{len(errors)} failed; last: run "
            f"{last.run_id} raised {html.escape(last.type)}: {html.escape(last.message)}"
            f"</summary><pre style='font-size:11px'>{html.escape(last.traceback)}</pre></details>"
        )
    return f"<div class='nbsweep-agent'>{body}</div>"


def agent_view(handle: AgentHandle) -> widgets.Widget:
    """A widget that follows an agent, updated from its thread at most 10 times a second."""
    box = widgets.HTML(value=_render(handle))
    stop = widgets.Button(description="Stop agent", button_style="warning", icon="stop")

    def on_stop(_: Any) -> None:
        handle.stop()
        stop.disabled = True

    stop.on_click(on_stop)

    def push() -> None:
        box.value = _render(handle)
        if handle.state != "running":
            stop.disabled = True

    publisher = Publisher(push)

    def listener(h: AgentHandle) -> None:
        publisher.notify()
        if h.state != "running":
            publisher.close()

    handle.subscribe(listener)
    return widgets.VBox([box, stop])
