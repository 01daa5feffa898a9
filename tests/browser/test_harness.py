"""The harness itself, with a background agent and a tiny ipywidgets view, no dashboard.

It first proved the harness against the agent's old status view. That view is gone (the
agent now shows the dashboard), so the agent runs with ``display=False`` and the notebook
shows its own view: an ``IntProgress`` moved from the agent's thread through
``handle.subscribe`` and a button calling ``handle.stop()``. This keeps checking, apart from
the dashboard's own code, the ground the dashboard stands on: widget updates from the
agent's thread reach the page while the kernel is idle (ipykernel 7), a button in the page
stops the agent, and another cell runs meanwhile. When a dashboard test fails and this one
passes, look at the dashboard first.
"""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """
import time
import ipywidgets as widgets
import nbsweep

config = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {"x": {"min": 0.0, "max": 1.0}, "kind": {"values": ["a", "b"]}},
}
sweep_id = nbsweep.sweep(config, seed=1)

def train():
    run = nbsweep.init()
    for step in range(8):
        time.sleep(0.1)
        run.log({"loss": (run.config.x - 0.3) ** 2 + 1 / (step + 1)})
"""

AGENT = """
handle = nbsweep.agent(sweep_id, function=train, count=40, display=False)
bar = widgets.IntProgress(value=0, max=40, description="finished")
bar.add_class("harness-progress")
stop = widgets.Button(description="Stop agent")
stop.add_class("harness-stop")
stop.on_click(lambda _: handle.stop())
handle.subscribe(lambda h: setattr(bar, "value", h.progress.finished))
widgets.VBox([bar, stop])
"""


def _progress_width(nbp) -> float:
    """The progress bar's filled width in percent, as drawn in the page."""
    style = nbp.attr(".harness-progress .progress-bar", "style") or ""
    for part in style.split(";"):
        key, _, value = part.partition(":")
        if key.strip() == "width":
            return float(value.strip().rstrip("%"))
    return -1.0


def test_thread_driven_widget_updates_stop_button_and_a_usable_kernel(lab_server, open_notebook):
    nbp = open_notebook(lab_server, "harness.ipynb", [SETUP, AGENT])
    nbp.run_and_wait(0)
    t0 = time.monotonic()
    nbp.run_and_wait(1, timeout=20)
    assert time.monotonic() - t0 < 10, "nbsweep.agent did not return at once in a kernel"

    # updates made on the agent's thread reach the page after the cell has ended
    nbp.cell_locator(1).locator(".harness-progress").wait_for(timeout=15_000)
    samples = nbp.sample(lambda: _progress_width(nbp), seconds=3, every=0.5)
    widths = [w for _, w in samples]
    assert widths[-1] > widths[0] >= 0, f"the progress bar did not move: {samples}"

    # another cell runs while the agent works
    index = nbp.append_cell("1 + 1")
    took = nbp.wait_cell(nbp.run_cell(index), timeout=30)
    assert took < 5, f"a trivial cell took {took:.1f} s while the agent ran"
    assert nbp.outputs(index)[0]["data"]["text/plain"] == "2"
    assert nbp.run_json("handle.is_alive()") is True
    nbp.screenshot("harness-running")

    # a button in the page stops the agent (clicked while the kernel is idle)
    nbp.wait_kernel_idle()
    nbp.cell_locator(1).get_by_role("button", name="Stop agent").click()
    result = nbp.run_json(
        "assert handle.wait(timeout=20)\n"
        "runs = nbsweep.Sweep(sweep_id).runs\n"
        "{'alive': handle.is_alive(), 'state': handle.progress.state, "
        "'states': sorted({r.state for r in runs}), 'n': len(runs)}",
        timeout=40,
    )
    assert result["alive"] is False and result["state"] == "stopped", result
    assert "running" not in result["states"], result
    assert result["n"] < 40, result
    frozen = _progress_width(nbp)
    time.sleep(1)
    assert _progress_width(nbp) == frozen
    nbp.screenshot("harness-stopped")
    assert not nbp.console_errors, nbp.console_errors
