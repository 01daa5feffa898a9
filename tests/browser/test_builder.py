"""The sweep config builder in JupyterLab, in headless Chromium, driven as a person would.

A notebook defines ``train`` and opens ``nbsweep.builder()``. In the page the test types a
metric name, adds two parameters (a ``log_uniform_values`` learning rate and a list of layer
counts), types a bad lower bound and sees the message at that field, fixes it and sees the
log-axis histogram, names the function and a count, and starts the agent with the button.
The sweep id appears, the dashboard shows under the form, and the kernel's sweep has the
runs and the config that was built.

Everything is found through the builder's CSS hooks (``nbsweep-b-*`` classes and the
``data-*`` attributes of its messages, status and histograms); screenshots go to
``test-artifacts/browser/``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COUNT = 4
SETUP = """
import nbsweep

def train():
    run = nbsweep.init()
    run.log({"loss": (run.config.lr - 0.01) ** 2 + 0.001 * run.config.layers})

b = nbsweep.builder()
"""
EXPECTED = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 0.0001, "max": 0.1},
        "layers": {"values": [1, 2, 3]},
    },
}
WAIT_MS = 20_000


def _type(locator, text: str) -> None:
    """Clear an input and type ``text`` key by key, as a person would."""
    locator.click()
    locator.press("Control+A")
    locator.press("Backspace")
    locator.press_sequentially(text, delay=20)


def test_build_a_random_sweep_fix_a_bound_and_start_it(lab_server, open_notebook):
    t0 = time.monotonic()
    nbp = open_notebook(lab_server, "builder.ipynb", [SETUP])
    nbp.run_and_wait(0, timeout=90)
    root = nbp.cell_locator(0).locator(".nbsweep-builder").first
    root.wait_for(timeout=WAIT_MS)
    status = root.locator(".nbsweep-b-summary").first
    assert status.get_attribute("data-valid") == "false"  # no parameters, no metric name yet

    root.locator(".nbsweep-b-method select").select_option("random")
    _type(root.locator(".nbsweep-b-metric-name input"), "loss")

    # first parameter: a learning rate on a log scale, with a lower bound of 0 at first
    root.locator(".nbsweep-b-add-top").click()
    rows = root.locator(".nbsweep-b-row")
    rows.nth(0).wait_for(timeout=WAIT_MS)
    lr = rows.nth(0)
    _type(lr.locator(".nbsweep-b-name input"), "lr")
    lr.locator(".nbsweep-b-distribution select").select_option("log_uniform_values")
    _type(lr.locator(".nbsweep-b-field-max input"), "0.1")
    _type(lr.locator(".nbsweep-b-field-min input"), "0")

    # the message shows at the min field, and the field turns red
    at_min = lr.locator(".nbsweep-b-field-min").locator("xpath=..")
    messages = at_min.locator(".nbsweep-msg[data-path='parameters.lr.min']")
    message = messages.filter(has_text="must be > 0")
    message.wait_for(timeout=WAIT_MS)
    assert "must be > 0" in message.inner_text()
    assert "nbsweep-invalid" in (lr.locator(".nbsweep-b-field-min").get_attribute("class") or "")
    assert status.get_attribute("data-valid") == "false"
    assert root.locator("button.nbsweep-b-start").is_disabled()
    nbp.screenshot("builder-bad-bound", ".nbsweep-builder")

    # fixing the bound clears the message and draws the histogram on a log axis
    _type(lr.locator(".nbsweep-b-field-min input"), "0.0001")
    messages.first.wait_for(state="detached", timeout=WAIT_MS)
    hist = lr.locator(".nbsweep-hist[data-param='lr']")
    hist.wait_for(timeout=WAIT_MS)
    assert hist.get_attribute("data-scale") == "log"
    assert hist.get_attribute("data-draws") == "500"

    # second parameter: a list of layer counts
    root.locator(".nbsweep-b-add-top").click()
    rows.nth(1).wait_for(timeout=WAIT_MS)
    layers = rows.nth(1)
    _type(layers.locator(".nbsweep-b-name input"), "layers")
    layers.locator(".nbsweep-b-kind select").select_option(label="list of values")
    _type(layers.locator(".nbsweep-b-field-values input"), "1, 2, 3")
    # the YAML view follows the typing; the list gets a bar chart
    root.locator(".nbsweep-b-yaml pre", has_text="values: [1, 2, 3]").wait_for(timeout=WAIT_MS)
    assert "distribution: log_uniform_values" in root.locator(".nbsweep-b-yaml pre").inner_text()
    bars = layers.locator(".nbsweep-hist[data-scale='categorical'] rect")
    nbp.wait_until(lambda: bars.count() == 3, 20, what="a bar per value")
    root.locator(".nbsweep-b-summary[data-valid='true']").wait_for(timeout=WAIT_MS)

    # the function and the count, then the button
    _type(root.locator(".nbsweep-b-function input"), "train")
    _type(root.locator(".nbsweep-b-count input"), str(COUNT))
    nbp.wait_kernel_idle()
    assert nbp.run_json("b.config") == EXPECTED
    nbp.screenshot("builder-valid", ".nbsweep-builder")
    start = root.locator("button.nbsweep-b-start")
    assert start.is_enabled()
    start.click()

    shown = root.locator(".nbsweep-b-sweep[data-sweep-id]")
    shown.wait_for(timeout=WAIT_MS)
    sweep_id = shown.get_attribute("data-sweep-id")
    assert sweep_id and sweep_id in shown.inner_text()
    root.locator("div.nbsweep-dashboard").first.wait_for(timeout=WAIT_MS)

    finished = nbp.run_json("b.handle.wait(60)\n[b.sweep_id, b.handle.progress.finished]")
    assert finished == [sweep_id, COUNT]
    stored = nbp.run_json(
        "s = nbsweep.Sweep(b.sweep_id)\n"
        "[s.config == nbsweep.validate(b.config), len(s.runs), "
        "sorted({r.config['layers'] for r in s.runs} - {1, 2, 3})]"
    )
    assert stored == [True, COUNT, []]
    nbp.screenshot("builder-started", ".nbsweep-builder")
    assert not [e for e in nbp.console_errors if "nbsweep" in e.lower()], nbp.console_errors
    print(f"builder browser test took {time.monotonic() - t0:.1f} s")
