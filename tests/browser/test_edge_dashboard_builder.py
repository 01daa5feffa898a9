"""Adversarial browser tests: defects of the dashboard and the builder seen in JupyterLab.

Each test is a defect found while trying to break the notebook UI; they are expected to fail
(``xfail(strict=True)``) until it is fixed. They use the fixtures of ``conftest.py``.
"""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT_MS = 20_000


def test_edge_page_brush_on_a_large_float_category_reaches_python(
    lab_server, open_notebook, dashboard_view
):
    cells = [
        "import nbsweep\n"
        "sid = nbsweep.sweep({'method': 'grid', 'metric': {'name': 'loss'},\n"
        "                     'parameters': {'y': {'values': [1e3, 1e20]},\n"
        "                                    'k': {'values': ['a', 'b']}}})\n"
        "nbsweep.agent(sid, function=lambda: nbsweep.init().log({'loss': 1.0}),\n"
        "              background=False, display=False, verbose=False)\n"
        "dash = nbsweep.Sweep(sid).dashboard()\n"
        "dash"
    ]
    nbp = open_notebook(lab_server, "edge-bigcat.ipynb", cells)
    nbp.run_and_wait(0, timeout=90)
    view = dashboard_view(nbp, 0)
    view.wait_ready(timeout=30)
    assert len(view.row_ids()) == 4
    nbp.wait_kernel_idle()
    view.brush_categories("y", ["1e+20"])
    nbp.wait_until(lambda: len(view.row_ids()) == 2, 10, what="2 rows in the page's brush")
    time.sleep(1.0)  # let the brush reach the kernel
    assert nbp.run_json("len(dash.filtered_runs())") == 2
    assert nbp.run_json("dash.brush") == {"y": [1e20]}


def test_edge_double_click_on_start_agent_starts_one_agent(lab_server, open_notebook):
    setup = (
        "import nbsweep, threading, time\n"
        "def train():\n"
        "    run = nbsweep.init()\n"
        "    time.sleep(1.0)\n"
        "    run.log({'loss': float(run.config.x)})\n"
        "b = nbsweep.builder({'method': 'grid', 'metric': {'name': 'loss'},\n"
        "                     'parameters': {'x': {'values': [1, 2, 3, 4, 5, 6]}}})\n"
        "b.function = train\n"
    )
    nbp = open_notebook(lab_server, "edge-dblclick.ipynb", [setup])
    nbp.run_and_wait(0, timeout=90)
    root = nbp.cell_locator(0).locator(".nbsweep-builder").first
    root.wait_for(timeout=WAIT_MS)
    start = root.locator("button.nbsweep-b-start")
    assert start.is_enabled()
    start.dblclick()
    root.locator(".nbsweep-b-sweep[data-sweep-id]").wait_for(timeout=WAIT_MS)
    time.sleep(1.5)  # both clicks have been handled by the kernel
    agents = nbp.run_json(
        "[t.name for t in threading.enumerate() if t.name.startswith('nbsweep-agent')]"
    )
    nbp.run_code("b.handle.stop(); b.handle.wait(30)", timeout=60)
    assert len(agents) == 1, agents


def test_edge_agent_starts_in_a_notebook_on_a_float_range_parameter(lab_server, open_notebook):
    cells = [
        "import nbsweep\n"
        "sid = nbsweep.sweep({'method': 'random', 'metric': {'name': 'loss'},\n"
        "    'parameters': {'x': {'distribution': 'uniform', 'min': -1e308, 'max': 1e308}}})\n"
        "h = nbsweep.agent(sid, function=lambda: nbsweep.init().log({'loss': 1.0}), count=2)\n"
        "h.wait(30)\n"
        "print('runs', len(nbsweep.Sweep(sid).runs))"
    ]
    nbp = open_notebook(lab_server, "edge-huge.ipynb", cells)
    outputs = nbp.run_and_wait(0, timeout=90)
    errors = [
        (o.get("ename"), o.get("evalue")) for o in outputs if o.get("output_type") == "error"
    ]
    assert not errors, errors
