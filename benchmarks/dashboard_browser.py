"""How fast the dashboard draws and brushes a big stored sweep, in JupyterLab in Chromium.

Usage: ``python benchmarks/dashboard_browser.py [--runs 1000 10000] [--steps 15] [--out PATH]``

For each size it stores a finished random sweep of N runs × 20 parameters (5 categorical,
5 log-uniform, 5 int-uniform, 5 uniform) with nbsweep's own API (``claim_next_run`` then
``store.write_progress`` finishing each run), opens a notebook in JupyterLab (the browser
harness of ``tests/browser/conftest.py``: a loopback server of its own, headless Debian
Chromium) and runs ``nbsweep.Sweep(id).dashboard()`` in a fresh kernel. Measured:

- **first draw**: from the moment the page starts the cell to ``data-ready="true"`` on the
  dashboard's root (seen by a MutationObserver in the page, on the page's clock). It holds
  the Python side (reading the store, building the columns, the PNG fallback drawn for the
  output), the comm transfer and the page's decode and first draw. The kernel's share is
  measured apart: ``Dashboard(...)`` construction and ``_fallback_png()``.
- **brush move**: a drag on a uniform parameter's overlay, one mouse step at a time; for
  each step, the time from the page's ``pointermove`` to the next write of
  ``data-highlighted`` on the lines canvas (page clock). A step with no write within 3 s
  counts as missed.

It runs in JupyterLab, not a static page: anywidget has no standalone page export that
works offline (ipywidgets' embed manager loads its scripts from a CDN), and the real cell
output is what users see. Prints a markdown table and writes
``benchmarks/results/dashboard_browser.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "dashboard_browser.json"
N_PARAMS = 20
BRUSH_AXIS = "p03"  # uniform on [0, 1]: a linear axis


def _harness() -> Any:
    spec = importlib.util.spec_from_file_location(
        "nbsweep_browser_harness", ROOT / "tests" / "browser" / "conftest.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_sweep(store_path: Path, n: int, seed: int = 0) -> tuple[str, float]:
    """Store a finished random sweep of ``n`` runs × 20 parameters; its id and seconds."""
    import nbsweep
    from nbsweep.controller import claim_next_run
    from nbsweep.store import open_store

    params: dict[str, Any] = {}
    for i in range(N_PARAMS):
        name = f"p{i:02d}"
        if i % 4 == 0:
            params[name] = {"values": ["a", "b", "c", "d"]}
        elif i % 4 == 1:
            params[name] = {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1}
        elif i % 4 == 2:
            params[name] = {"distribution": "int_uniform", "min": 1, "max": 64}
        else:
            params[name] = {"distribution": "uniform", "min": 0.0, "max": 1.0}
    config = {
        "method": "random",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": params,
    }
    store = open_store(store_path)
    t0 = time.perf_counter()
    sweep_id = nbsweep.sweep(config, store=store, seed=seed, name=f"bench-{n}")
    for k in range(n):
        run = claim_next_run(store, sweep_id).run
        assert run is not None
        c = run.config
        loss = sum(c[f"p{i:02d}"] for i in range(3, N_PARAMS, 4)) + 0.01 * (k % 7)
        store.write_progress(
            run.id,
            metrics=[(run.id, 0, "loss", loss)],
            objects=[],
            summary={"loss": loss},
            metric=(loss, 1),
            last_step=0,
            finish={"state": "finished"},
        )
    return sweep_id, time.perf_counter() - t0


_INSTRUMENT_JS = """
() => {
  const b = window.__bench = {ready: null, old: null, moves: [], marks: []};
  const check = () => {
    const root = document.querySelector('.nbsweep-dashboard[data-ready="true"]');
    if (b.ready === null && root && root.isConnected && root !== b.old) {
      b.ready = performance.now();
    }
  };
  new MutationObserver(check).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready']});
  document.addEventListener('pointermove', (e) => b.moves.push(performance.now()), true);
}
"""

_WATCH_CANVAS_JS = """
() => {
  const b = window.__bench;
  const canvas = document.querySelector('.nbsweep-dashboard canvas[data-testid="lines"]');
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === 'data-highlighted') {
        b.marks.push([performance.now(), canvas.getAttribute('data-highlighted')]);
      }
    }
  }).observe(canvas, {attributes: true});
}
"""

_MARK_AFTER_JS = """
([t, timeout]) => new Promise((resolve) => {
  const b = window.__bench;
  const t0 = performance.now();
  const look = () => {
    const m = b.marks.find((m) => m[0] >= t);
    if (m) return resolve([m[0] - t, m[1]]);
    if (performance.now() - t0 > timeout) return resolve(null);
    requestAnimationFrame(look);
  };
  look();
})
"""


def _first_draw(nbp: Any, n: int) -> float:
    """Run the dashboard cell; ms from its start to ``data-ready="true"`` on a new root."""
    start = nbp.page.evaluate("() => performance.now()")
    nbp.run_cell(1)
    try:
        nbp.page.wait_for_function(
            "() => window.__bench.ready !== null", timeout=300_000, polling=50
        )
    except Exception:
        state = nbp.page.evaluate(
            "() => document.querySelector('.nbsweep-dashboard')?.dataset.ready ?? 'no root'"
        )
        nbp.screenshot(f"bench-{n}-not-ready")
        raise RuntimeError(
            f"{n} runs: the dashboard was not ready in 300 s (data-ready: {state}); "
            f"console errors: {nbp.console_errors}"
        ) from None
    return float(nbp.page.evaluate("() => window.__bench.ready")) - start


def measure(h: Any, server: Any, ctx: Any, n: int, steps: int, repeat: int = 3) -> dict[str, Any]:
    store_path = server.store
    sweep_id, made_s = make_sweep(store_path, n)
    name = f"bench-{n}.ipynb"
    cells = [
        "import time, nbsweep",
        f"dash = nbsweep.Sweep({sweep_id!r}).dashboard()\ndash",
    ]
    server.delete_sessions()
    server.write_notebook(name, cells)
    nbp = h.NotebookPage.open(ctx, server, name)
    try:
        nbp.run_and_wait(0)
        nbp.page.evaluate(_INSTRUMENT_JS)
        draws = []
        for attempt in range(repeat):
            if attempt:  # close the last one (its view goes), then show a new one
                nbp.run_code("dash.close()")
                nbp.page.evaluate(
                    "() => { const b = window.__bench; b.ready = null;"
                    " b.old = document.querySelector('.nbsweep-dashboard'); }"
                )
            draws.append(_first_draw(nbp, n))
            nbp.wait_kernel_idle(timeout=300)
        view = h.DashboardView(nbp, 1)
        nbp.wait_kernel_idle(timeout=300)
        drawn, highlighted = view.lines()

        kernel = nbp.run_json(
            "t0 = time.perf_counter()\n"
            f"d2 = nbsweep.Sweep({sweep_id!r}).dashboard(static_fallback=False)\n"
            "t1 = time.perf_counter()\n"
            "png = d2._fallback_png()\n"
            "t2 = time.perf_counter()\n"
            "d2.close()\n"
            "{'construct_s': t1 - t0, 'png_s': t2 - t1, 'png_kb': len(png) * 3 / 4 / 1024}",
            timeout=300,
        )

        nbp.page.evaluate(_WATCH_CANVAS_JS)
        view.axis(BRUSH_AXIS).scroll_into_view_if_needed()
        box = view.overlay_box(BRUSH_AXIS)
        x = box["x"] + box["width"] / 2
        y0 = box["y"] + 0.1 * box["height"]
        dy = 0.6 * box["height"] / steps
        mouse = nbp.page.mouse
        mouse.move(x, y0)
        mouse.down()
        moves: list[float | None] = []
        lit: list[int] = []
        for k in range(1, steps + 1):
            before = nbp.page.evaluate("() => window.__bench.moves.length")
            mouse.move(x, y0 + k * dy)
            t = nbp.page.evaluate(f"() => window.__bench.moves[{before}] ?? performance.now()")
            got = nbp.page.evaluate(_MARK_AFTER_JS, [t, 3000])
            moves.append(None if got is None else got[0])
            if got is not None:
                lit.append(int(float(got[1])))
        mouse.up()
        time.sleep(0.5)
        brush = nbp.run_json("dash.brush")
        rows_shown = len(view.row_ids())
        nbp.screenshot(f"bench-{n}", "div.nbsweep-dashboard")
        errors = list(nbp.console_errors)
    finally:
        nbp.close()
        server.delete_sessions()

    hit = [m for m in moves if m is not None]
    return {
        "runs": n,
        "params": N_PARAMS,
        "store_build_s": round(made_s, 2),
        "first_draw_ms": round(draws[0], 1),
        "first_draw_warm_ms": [round(d, 1) for d in draws[1:]],
        "first_draw_warm_ms_median": round(statistics.median(draws[1:]), 1)
        if len(draws) > 1
        else None,
        "kernel_construct_ms": round(kernel["construct_s"] * 1000, 1),
        "kernel_png_ms": round(kernel["png_s"] * 1000, 1),
        "png_kb": round(kernel["png_kb"], 1),
        "drawn": drawn,
        "highlighted_before_brush": highlighted,
        "brush_steps": steps,
        "brush_missed": steps - len(hit),
        "brush_move_ms_median": round(statistics.median(hit), 1) if hit else None,
        "brush_move_ms_p90": round(_quantile(hit, 0.9), 1) if hit else None,
        "brush_move_ms_max": round(max(hit), 1) if hit else None,
        "highlighted_during_drag": lit,
        "brush_in_python": brush,
        "table_rows_after_brush": rows_shown,
        "console_errors": errors,
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(results: list[dict[str, Any]]) -> str:
    def fmt(value: Any) -> str:
        return "–" if value is None else f"{value}"

    lines = [
        "| runs × params | first draw, cold / warm median (ms) "
        "| kernel: construct / PNG (ms) | lines drawn "
        "| brush move median / p90 / max (ms) | missed moves | rows after |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['runs']:,} × {r['params']} | {fmt(r['first_draw_ms'])} / "
            f"{fmt(r['first_draw_warm_ms_median'])} "
            f"| {fmt(r['kernel_construct_ms'])} / {fmt(r['kernel_png_ms'])} | {fmt(r['drawn'])} "
            f"| {fmt(r['brush_move_ms_median'])} / {fmt(r['brush_move_ms_p90'])} / "
            f"{fmt(r['brush_move_ms_max'])} | {r['brush_missed']}/{r['brush_steps']} "
            f"| {fmt(r['table_rows_after_brush'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--steps", type=int, default=15, help="mouse steps in the brush drag")
    parser.add_argument(
        "--repeat", type=int, default=3, help="first draws per size (the 1st in a new kernel)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    h = _harness()
    reason = h.browser_unavailable()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    results = []
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nbsweep-bench-") as base:
        server = h.JupyterServer("lab", Path(base))
        with server, h.launch_browser() as ctx:
            for n in args.runs:
                print(f"{n} runs…", file=sys.stderr, flush=True)
                results.append(measure(h, server, ctx, n, args.steps, args.repeat))
    out = {
        "benchmark": "dashboard_browser",
        "front_end": "JupyterLab (jupyter lab on 127.0.0.1), headless Debian Chromium",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            # Other work on the machine skews every figure: compare runs at a low load.
            "load_average_1m_before_after": [
                round(load_before[0], 2),
                round(os.getloadavg()[0], 2),
            ],
        },
        "total_s": round(time.perf_counter() - started, 1),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(table(results))
    print(
        f"\nload average (1 min) before / after: {out['machine']['load_average_1m_before_after']}"
    )
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
