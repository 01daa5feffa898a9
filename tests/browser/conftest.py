"""Browser test harness: real JupyterLab and Notebook 7 servers driven by headless Chromium.

Everything here starts its own processes on 127.0.0.1 and stops them by PID:

- :class:`JupyterServer` runs ``jupyter lab`` or ``jupyter notebook`` on a free loopback port,
  with a random token, ``--allow-root``, isolated ``JUPYTER_*`` and ``IPYTHONDIR`` dirs, the
  news toast off, its root dir a temp dir that the tests fill with notebooks, and
  ``NBSWEEP_STORE`` pointing at a store file in that dir (the kernels inherit it).
- :func:`launch_browser` starts Debian's Chromium (``/usr/bin/chromium``, or the binary that
  ``NBSWEEP_TEST_CHROMIUM`` names) through Playwright with a fresh profile. Playwright's own
  browser download is never used.
- :class:`NotebookPage` drives one open notebook through ``window.jupyterapp`` (exposed by
  ``expose_app_in_browser``), which both front ends provide: run a cell without awaiting
  it, wait for it, read outputs and DOM attributes, take screenshots.

The classes work outside pytest too (``benchmarks/dashboard_browser.py`` loads this file).
Screenshots go to ``test-artifacts/browser/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
# Debian's Chromium; NBSWEEP_TEST_CHROMIUM names another binary (e.g. on another distro).
CHROMIUM = Path(os.environ.get("NBSWEEP_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Settings that keep the "official Jupyter news?" toast off the screenshots.
_NOTIFICATION_SETTINGS = {"fetchNews": "false", "checkForUpdates": False}


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium "
            "(CI installs it with `apt-get install -y chromium`; never `playwright install`; "
            "NBSWEEP_TEST_CHROMIUM may name another Chromium binary)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (pip install -e '.[dev]')"
    return None


# Servers ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JupyterServer:
    """A ``jupyter lab`` (app="lab") or ``jupyter notebook`` (app="notebook") server.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. ``root`` holds the
    notebooks; ``store`` is the ``NBSWEEP_STORE`` its kernels see.
    """

    def __init__(self, app: str, base: Path) -> None:
        if app not in ("lab", "notebook"):
            raise ValueError(f"app must be 'lab' or 'notebook', got {app!r}")
        self.app = app
        self.base = base
        self.root = base / "root"
        self.home = base / "jhome"
        self.store = self.root / "nbsweep.db"
        self.log_path = base / f"jupyter-{app}.log"
        self.port = 0
        self.token = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key in [k for k in env if k.startswith(("JUPYTER", "NBSWEEP_"))]:
            del env[key]
        env.update(
            JUPYTER_CONFIG_DIR=str(self.home / "config"),
            JUPYTER_DATA_DIR=str(self.home / "data"),
            JUPYTER_RUNTIME_DIR=str(self.home / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.home / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.home / "workspaces"),
            IPYTHONDIR=str(self.home / "ipython"),
            NBSWEEP_STORE=str(self.store),
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self, timeout: float = 60) -> JupyterServer:
        self.root.mkdir(parents=True, exist_ok=True)
        settings = self.home / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps(_NOTIFICATION_SETTINGS)
        )
        self.port = _free_port()
        cls = "LabApp" if self.app == "lab" else "JupyterNotebookApp"
        module = "jupyterlab" if self.app == "lab" else "notebook"
        args = [
            sys.executable,
            "-m",
            module,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            "--allow-root",
            f"--ServerApp.root_dir={self.root}",
            f"--{cls}.expose_app_in_browser=True",
        ]
        if self.app == "lab":  # Notebook 7 has neither option; its toast is off by settings
            args += [
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            args, cwd=self.root, env=self.env(), stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter {self.app} exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError):
                self.api("GET", "/api/status", timeout=2)
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"jupyter {self.app} not ready in {timeout} s:\n{self.log_tail()}"
                )
            time.sleep(0.25)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM this server (it shuts its kernels down), then wait; SIGKILL if it hangs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> JupyterServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def api(self, method: str, path: str, timeout: float = 10) -> Any:
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        """End every session (and its kernel), so a reopened notebook gets a fresh kernel."""
        for session in self.api("GET", "/api/sessions"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def notebook_url(self, name: str) -> str:
        if self.app == "lab":
            return f"{self.url}/lab/tree/{name}?reset&token={self.token}"
        return f"{self.url}/notebooks/{name}?token={self.token}"

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        """Write a notebook of code cells into the server's root dir."""
        import nbformat

        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
        path = self.root / name
        nbformat.write(nb, path)
        return path


# Browser ---------------------------------------------------------------------------------


@contextlib.contextmanager
def launch_browser(viewport: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    """A Playwright persistent Chromium context on a fresh profile; closed at the end."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# One open notebook -----------------------------------------------------------------------

_PANEL = "jupyterapp.shell.currentWidget"

_RUN_CELL_JS = """
([index, key]) => {
  const panel = jupyterapp.shell.currentWidget;
  const nb = panel.content;
  window.__nbsweepDone = window.__nbsweepDone || {};
  nb.deselectAll();
  nb.activeCellIndex = index;
  // Not returned: Playwright would await the promise, i.e. the end of the cell.
  jupyterapp.commands.execute('notebook:run-cell').then(
    (ok) => { window.__nbsweepDone[key] = {ok: ok !== false, at: performance.now()}; },
    (err) => { window.__nbsweepDone[key] = {ok: false, error: String(err)}; });
  return performance.now();
}
"""

_APPEND_CELL_JS = """
(source) => {
  const nb = jupyterapp.shell.currentWidget.content;
  const n = nb.model.cells.length;
  nb.model.sharedModel.insertCell(n, {cell_type: 'code', source});
  return n;
}
"""

_OUTPUTS_JS = """
(index) => {
  const cell = jupyterapp.shell.currentWidget.content.widgets[index];
  return cell.model.outputs.toJSON();
}
"""


class CellTimeout(AssertionError):
    """A cell did not finish in time."""


class NotebookPage:
    """One notebook open in a page of either front end, driven through ``window.jupyterapp``.

    Examples (not run here): ``nbp = NotebookPage.open(ctx, server, "t.ipynb")``, then
    ``nbp.run_cell(0)``, ``nbp.wait_cell(0)``, ``nbp.run_code("1 + 1")``.
    """

    def __init__(self, page: Any, server: JupyterServer, name: str) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.console_errors: list[str] = []
        self._keys = 0
        page.on("console", self._on_console)
        page.on(
            "pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc.stack or exc}")
        )

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(msg.text)

    @classmethod
    def open(cls, ctx: Any, server: JupyterServer, name: str, timeout: float = 60) -> NotebookPage:
        page = ctx.new_page()
        nbp = cls(page, server, name)
        page.goto(server.notebook_url(name))
        nbp._wait_open(timeout)
        return nbp

    def _wait_open(self, timeout: float = 60) -> None:
        self.page.wait_for_function(
            f"""() => {{
              const w = window.jupyterapp?.shell?.currentWidget;
              return w?.context?.path === {json.dumps(self.name)}
                && w.sessionContext?.session?.kernel
                && w.sessionContext.session.kernel.status === 'idle'
                && w.content?.widgets?.length > 0;
            }}""",
            timeout=timeout * 1000,
        )

    def save(self) -> None:
        """Save the notebook (outputs included), waiting until it is written."""
        self.page.evaluate("() => jupyterapp.commands.execute('docmanager:save')")

    def reload(self, timeout: float = 60) -> None:
        """Reload the page; the notebook reconnects to its running kernel."""
        self.page.reload()
        self._wait_open(timeout)

    # Cells -----------------------------------------------------------------------------

    def run_cell(self, index: int) -> str:
        """Start running cell ``index`` and return at once; pass the key to :meth:`wait_cell`."""
        self._keys += 1
        key = f"c{index}-{self._keys}"
        self.page.evaluate(_RUN_CELL_JS, [index, key])
        self._last_key = key
        return key

    def wait_cell(self, key: str, timeout: float = 60) -> float:
        """Wait until the cell run started as ``key`` has ended; seconds waited."""
        t0 = time.monotonic()
        try:
            self.page.wait_for_function(
                f"() => window.__nbsweepDone && window.__nbsweepDone[{json.dumps(key)}]",
                timeout=timeout * 1000,
                polling=50,
            )
        except Exception as exc:
            raise CellTimeout(f"cell run {key} did not end in {timeout} s: {exc}") from None
        return time.monotonic() - t0

    def run_and_wait(self, index: int, timeout: float = 60) -> list[dict[str, Any]]:
        key = self.run_cell(index)
        self.wait_cell(key, timeout)
        return self.outputs(index)

    def append_cell(self, source: str) -> int:
        """Add a code cell at the end of the notebook; its index."""
        return int(self.page.evaluate(_APPEND_CELL_JS, source))

    def run_code(self, source: str, timeout: float = 60) -> str:
        """Run ``source`` in a new cell at the end; the text it printed or returned.

        Raises AssertionError with the traceback when the cell raised.
        """
        index = self.append_cell(source)
        outputs = self.run_and_wait(index, timeout)
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            trace = "\n".join(errors[0].get("traceback", []))
            raise AssertionError(f"cell {index} raised:\n{_strip_ansi(trace)}")
        return output_text(outputs)

    def run_json(self, source: str, timeout: float = 60) -> Any:
        """Run ``source`` whose last line is an expression; its value through JSON."""
        *body, last = source.strip().splitlines()
        code = "\n".join([*body, f"import json as _j; print('@json ' + _j.dumps({last}))"])
        text = self.run_code(code, timeout)
        lines = [line for line in text.splitlines() if line.startswith("@json ")]
        if not lines:
            raise AssertionError(f"no value printed by {last!r}; the cell printed {text!r}")
        return json.loads(lines[-1][len("@json ") :])

    def outputs(self, index: int) -> list[dict[str, Any]]:
        return list(self.page.evaluate(_OUTPUTS_JS, index))

    def cell_locator(self, index: int) -> Any:
        """The cell's node (its output area holds the widgets it displayed)."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    # Kernel ----------------------------------------------------------------------------

    def kernel_status(self) -> str:
        return str(self.page.evaluate(f"() => {_PANEL}.sessionContext.session?.kernel?.status"))

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        self.page.wait_for_function(
            f"() => {_PANEL}.sessionContext.session?.kernel?.status === 'idle'",
            timeout=timeout * 1000,
        )

    def interrupt(self) -> None:
        self.page.evaluate(f"() => {{ {_PANEL}.sessionContext.session.kernel.interrupt(); }}")

    # DOM -------------------------------------------------------------------------------

    def attr(self, selector: str, name: str) -> str | None:
        """Attribute ``name`` of the first node matching ``selector``, or None."""
        return self.page.evaluate(
            "([s, n]) => { const e = document.querySelector(s); return e ? e.getAttribute(n)"
            " : null; }",
            [selector, name],
        )

    def int_attr(self, selector: str, name: str) -> int | None:
        value = self.attr(selector, name)
        return None if value in (None, "") else int(float(value))

    def sample(
        self, read: Callable[[], Any], seconds: float, every: float = 0.5
    ) -> list[tuple[float, Any]]:
        """Call ``read`` every ``every`` seconds for ``seconds``; (elapsed, value) pairs."""
        t0 = time.monotonic()
        out = []
        while True:
            elapsed = time.monotonic() - t0
            out.append((round(elapsed, 2), read()))
            if elapsed >= seconds:
                return out
            time.sleep(every)

    @staticmethod
    def wait_until(
        predicate: Callable[[], Any], timeout: float, every: float = 0.2, what: str = "condition"
    ) -> Any:
        """Poll ``predicate`` until it returns something truthy; that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(every)

    def screenshot(self, name: str, selector: str | None = None) -> Path:
        """A PNG of the page, or of the first node matching ``selector``, in
        ``test-artifacts/browser/``.

        A node taller than the window is shot whole: the window grows to fit it for the shot
        (the notebook scrolls inside its own panel, so a plain element shot would be cut).
        """
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if selector is None:
            self.page.screenshot(path=str(path))
            return path
        loc = self.page.locator(selector).first
        size = self.page.viewport_size
        box = loc.bounding_box()
        grow = size is not None and box is not None and box["height"] + 200 > size["height"]
        try:
            if grow:
                height = min(int(box["height"]) + 300, 6000)
                self.page.set_viewport_size({"width": size["width"], "height": height})
            loc.scroll_into_view_if_needed()
            loc.screenshot(path=str(path))
        finally:
            if grow:
                self.page.set_viewport_size(size)
        return path

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.page.close()


def output_text(outputs: list[dict[str, Any]]) -> str:
    """The stream text and text/plain results of a cell's outputs, joined."""
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            text = o.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif o.get("output_type") in ("execute_result", "display_data"):
            text = o.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts)


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# The dashboard's DOM hooks ----------------------------------------------------------------

_TICKS_JS = """
(axis) => {
  const parse = (t) => {
    t = t.trim().replace('\\u2212', '-').replace(/,/g, '');
    const si = {y: 1e-24, z: 1e-21, a: 1e-18, f: 1e-15, p: 1e-12, n: 1e-9, '\\u00b5': 1e-6,
                u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12};
    const m = t.match(/^(-?[0-9.]+(?:e[-+]?[0-9]+)?)([a-zA-Z\\u00b5]?)$/);
    if (!m) return null;
    return Number(m[1]) * (m[2] ? (si[m[2]] ?? NaN) : 1);
  };
  return [...axis.querySelectorAll('.tick')].map((tick) => {
    const mark = tick.querySelector('line') || tick;
    const r = mark.getBoundingClientRect();
    const text = tick.querySelector('text');
    return {x: r.x + r.width / 2, y: r.y + r.height / 2,
            label: text ? text.textContent : '', value: text ? parse(text.textContent) : null};
  });
}
"""


class DashboardView:
    """The dashboard shown in one cell's output, read and driven through its fixed hooks."""

    def __init__(self, nbp: NotebookPage, cell: int | None = None) -> None:
        self.nbp = nbp
        self.page = nbp.page
        scope = nbp.cell_locator(cell) if cell is not None else self.page
        self.root = scope.locator("div.nbsweep-dashboard").first

    def wait_ready(self, timeout: float = 30) -> float:
        """Wait for ``data-ready="true"``; seconds waited."""
        t0 = time.monotonic()
        self.root.and_(self.page.locator("[data-ready='true']")).wait_for(timeout=timeout * 1000)
        return time.monotonic() - t0

    def mark(self) -> None:
        """Tag the current root node, to tell later whether the view was rebuilt."""
        self.root.evaluate("(root) => { window.__nbsweepMarked = root; }")

    def wait_replaced(self, timeout: float) -> float | None:
        """Seconds until the marked root left the page (its output was redrawn), or None if it
        stayed for ``timeout`` seconds."""
        t0 = time.monotonic()
        try:
            self.page.wait_for_function(
                "() => window.__nbsweepMarked && !window.__nbsweepMarked.isConnected",
                timeout=timeout * 1000,
                polling=50,
            )
        except Exception:
            return None
        return time.monotonic() - t0

    def sweep_id(self) -> str | None:
        return self.root.get_attribute("data-sweep-id")

    def _int(self, selector: str, name: str) -> int | None:
        loc = self.root.locator(selector).first
        if not loc.count():
            return None
        value = loc.get_attribute(name)
        return None if value in (None, "") else int(float(value))

    def counts(self) -> dict[str, int | None]:
        """The header's ``data-finished``, ``data-running`` and ``data-failed``."""
        return {
            k: self._int("[data-testid='header']", f"data-{k}")
            for k in ("finished", "running", "failed")
        }

    def drawn(self) -> int | None:
        return self._int("[data-testid='parallel'] canvas[data-testid='lines']", "data-drawn")

    def highlighted(self) -> int | None:
        return self._int(
            "[data-testid='parallel'] canvas[data-testid='lines']", "data-highlighted"
        )

    def lines(self) -> tuple[int | None, int | None]:
        """``(data-drawn, data-highlighted)`` read in one go."""
        got = self.root.locator("canvas[data-testid='lines']").first.evaluate(
            "(c) => [c.getAttribute('data-drawn'), c.getAttribute('data-highlighted')]"
        )
        return tuple(None if v in (None, "") else int(float(v)) for v in got)  # type: ignore[return-value]

    def brushed_lines(self) -> tuple[int, int] | None:
        """``(drawn, highlighted)`` once fewer lines are lit than drawn (a brush is on)."""
        drawn, highlighted = self.lines()
        if drawn is None or highlighted is None or highlighted >= drawn:
            return None
        return drawn, highlighted

    def row_ids(self) -> list[str]:
        """``data-run-id`` of every row the runs table shows, top to bottom."""
        return list(
            self.root.locator("[data-testid='runs-table'] tbody tr[data-run-id]").evaluate_all(
                "(rows) => rows.map((r) => r.getAttribute('data-run-id'))"
            )
        )

    def wait_rows(self, test: Callable[[int], bool], timeout: float, what: str = "") -> int:
        """Poll the table's row count until ``test(count)`` holds; that count."""
        deadline = time.monotonic() + timeout
        while True:
            count = len(self.row_ids())
            if test(count):
                return count
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s: {count} rows; {what}")
            time.sleep(0.1)

    def axes(self) -> list[str]:
        return list(
            self.root.locator("g[data-testid='axis']").evaluate_all(
                "(gs) => gs.map((g) => g.getAttribute('data-axis'))"
            )
        )

    def importance_params(self) -> list[str]:
        return list(
            self.root.locator("[data-testid='importance'] [data-param]").evaluate_all(
                "(bars) => bars.map((b) => b.getAttribute('data-param'))"
            )
        )

    def axis(self, name: str) -> Any:
        return self.root.locator(f"g[data-testid='axis'][data-axis='{name}']").first

    def axis_scale(self, name: str) -> tuple[Callable[[float], float], Callable[[float], float]]:
        """(value -> page y, page y -> value) for a vertical numeric axis, fitted to its ticks.

        Linear or log10, whichever fits the tick labels better.
        """
        ticks = [t for t in self.axis(name).evaluate(_TICKS_JS) if t["value"] is not None]
        if len(ticks) < 2:
            raise AssertionError(f"axis {name!r} has fewer than 2 numeric ticks: {ticks}")
        ys = [t["y"] for t in ticks]
        fits = []
        for log in (False, True):
            if log and min(t["value"] for t in ticks) <= 0:
                continue
            vs = [math.log10(t["value"]) if log else t["value"] for t in ticks]
            n = len(vs)
            mv, my = sum(vs) / n, sum(ys) / n
            var = sum((v - mv) ** 2 for v in vs)
            if var == 0:
                continue
            slope = sum((v - mv) * (y - my) for v, y in zip(vs, ys, strict=True)) / var
            icpt = my - slope * mv
            err = max(abs(icpt + slope * v - y) for v, y in zip(vs, ys, strict=True))
            fits.append((err, log, slope, icpt))
        if not fits:
            raise AssertionError(f"cannot fit a scale to the ticks of {name!r}: {ticks}")
        err, log, slope, icpt = min(fits)
        if err > 2:
            raise AssertionError(f"ticks of axis {name!r} fit no linear or log scale: {ticks}")

        def to_y(value: float) -> float:
            return icpt + slope * (math.log10(value) if log else value)

        def to_value(y: float) -> float:
            v = (y - icpt) / slope
            return 10**v if log else v

        return to_y, to_value

    def ticks(self, name: str) -> list[dict[str, Any]]:
        """The axis's ticks: ``label``, ``value`` (None unless numeric), page ``x`` and ``y``."""
        return list(self.axis(name).evaluate(_TICKS_JS))

    def brush_categories(self, name: str, labels: list[str], steps: int = 6) -> None:
        """Drag on a categorical axis's overlay over the ticks of ``labels`` only.

        The drag starts inside the overlay and reaches halfway to the neighbouring ticks (or
        past the overlay's end).
        """
        self.axis(name).scroll_into_view_if_needed()
        ticks = sorted(self.ticks(name), key=lambda t: t["y"])
        ys = [t["y"] for t in ticks]
        inside = [i for i, t in enumerate(ticks) if t["label"] in labels]
        if not inside or inside != list(range(inside[0], inside[-1] + 1)):
            raise AssertionError(f"{labels} are not neighbouring ticks of {name!r}: {ticks}")
        box = self.overlay_box(name)
        first, last = inside[0], inside[-1]
        # End categories sit on the overlay's edges: drag past the edge (d3-brush clamps).
        top = (ys[first - 1] + ys[first]) / 2 if first > 0 else box["y"] - 10
        bottom = (
            (ys[last] + ys[last + 1]) / 2 if last + 1 < len(ys) else box["y"] + box["height"] + 10
        )
        x = box["x"] + box["width"] / 2
        mouse = self.page.mouse
        start, end = (top + 1, bottom) if first > 0 else (bottom - 1, top)
        mouse.move(x, start)
        mouse.down()
        mouse.move(x, end, steps=steps)
        mouse.up()

    def overlay_box(self, name: str) -> dict[str, float]:
        box = self.axis(name).locator("rect.overlay").first.bounding_box()
        if box is None:
            raise AssertionError(f"axis {name!r} has no visible brush overlay")
        return box

    @staticmethod
    def middle_range(values: list[float]) -> tuple[float, float]:
        """A range holding about the middle half of ``values`` and leaving at least one out at
        each end (needs 4 distinct values), with its ends halfway between neighbours."""
        v = sorted(set(values))
        if len(v) < 4:
            raise ValueError(f"need 4 distinct values, got {v}")
        a = len(v) // 4
        b = max(a, (3 * len(v)) // 4 - 1)
        return (v[a - 1] + v[a]) / 2, (v[b] + v[b + 1]) / 2

    def brush(self, name: str, lo: float, hi: float, steps: int = 8) -> tuple[float, float]:
        """Drag on the axis's overlay from ``hi`` to ``lo`` (data units).

        Returns the (lo, hi) the drag really covers, read back through the tick scale, after
        clamping to the overlay.
        """
        self.axis(name).scroll_into_view_if_needed()
        to_y, to_value = self.axis_scale(name)
        box = self.overlay_box(name)
        top, bottom = box["y"] + 1, box["y"] + box["height"] - 1
        y1 = min(max(to_y(hi), top), bottom)
        y2 = min(max(to_y(lo), top), bottom)
        x = box["x"] + box["width"] / 2
        mouse = self.page.mouse
        mouse.move(x, y1)
        mouse.down()
        mouse.move(x, y2, steps=steps)
        mouse.up()
        a, b = to_value(y1), to_value(y2)
        return (min(a, b), max(a, b))


# A notebook like the quickstart -------------------------------------------------------------

# A small real training: a torch MLP on scikit-learn's bundled digits (no download), about
# 1.5-2 s per run on a 2-core machine (8 epochs, a short pause per epoch keeps the pace
# steady whatever the batch size drew), logging val_loss each epoch as the quickstart does.
TRAINING_SETUP = """
import json, time, zlib
import torch
from torch import nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
import nbsweep

digits = load_digits()
x_train, x_val, y_train, y_val = train_test_split(
    digits.data, digits.target, test_size=0.25, stratify=digits.target, random_state=0)
scaler = StandardScaler().fit(x_train)
x_train = torch.tensor(scaler.transform(x_train), dtype=torch.float32)
x_val = torch.tensor(scaler.transform(x_val), dtype=torch.float32)
y_train, y_val = torch.tensor(y_train), torch.tensor(y_val)

config = {
    "method": "random",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"values": ["adam", "sgd"]},
        "hidden": {"values": [32, 64, 128]},
        "dropout": {"values": [0.0, 0.2, 0.4]},
        "learning_rate": {"distribution": "uniform", "min": 0.001, "max": 0.1},
        "batch_size": {"values": [32, 64]},
        "epochs": {"value": 8},
    },
}
sweep_id = nbsweep.sweep(config, seed=SEED)

def train():
    torch.set_num_threads(1)
    run = nbsweep.init()
    cfg = run.config
    torch.manual_seed(zlib.crc32(json.dumps(cfg.as_dict(), sort_keys=True).encode()))
    net = nn.Sequential(nn.Linear(64, cfg.hidden), nn.ReLU(), nn.Dropout(cfg.dropout),
                        nn.Linear(cfg.hidden, 10))
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(net.parameters(), lr=cfg.learning_rate, momentum=0.9)
    else:
        opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate)
    for epoch in range(cfg.epochs):
        net.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for start in range(0, len(order), cfg.batch_size):
            batch = order[start:start + cfg.batch_size]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(x_train[batch]), y_train[batch])
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        net.eval()
        with torch.no_grad():
            logits = net(x_val)
        run.log({
            "epoch": epoch + 1,
            "train_loss": total / len(order),
            "val_loss": nn.functional.cross_entropy(logits, y_val).item(),
            "val_accuracy": (logits.argmax(1) == y_val).float().mean().item(),
        })
        time.sleep(0.12)
"""


def _training_cells(count: int = 16, seed: int = 7) -> list[str]:
    """Cell 0 sets up data, config, sweep and ``train``; cell 1 starts the agent.

    Cell 1 binds ``handle`` (the agent) and ``dash`` (its dashboard, ``handle.view``).
    """
    return [
        TRAINING_SETUP.replace("SEED", str(seed)),
        f"handle = nbsweep.agent(sweep_id, function=train, count={count})\ndash = handle.view",
    ]


# Fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _require_browser() -> None:
    reason = browser_unavailable()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


def _server(app: str, base: Path) -> Iterator[JupyterServer]:
    server = JupyterServer(app, base / app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lab_server(browser_base: Path) -> Iterator[JupyterServer]:
    """A JupyterLab server for the whole session."""
    yield from _server("lab", browser_base)


@pytest.fixture(scope="session")
def notebook_server(browser_base: Path) -> Iterator[JupyterServer]:
    """A Notebook 7 (``jupyter notebook``) server for the whole session."""
    yield from _server("notebook", browser_base)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium (persistent context, fresh profile) for the session."""
    with launch_browser() as ctx:
        yield ctx


@pytest.fixture
def training_cells() -> Callable[..., list[str]]:
    """:func:`_training_cells`: ``training_cells(count=16, seed=7)``, the quickstart-like cells."""
    return _training_cells


@pytest.fixture
def dashboard_view() -> type[DashboardView]:
    """The :class:`DashboardView` class: ``dashboard_view(nbp, cell)``."""
    return DashboardView


@pytest.fixture
def open_notebook(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``open_notebook(server, name, cells)``: write the notebook, open it, fresh kernel.

    Sessions are deleted before and after, so no kernel (or agent thread) outlives a test.
    On failure a screenshot ``<test>-failure.png`` and the server log tail are kept.
    """
    opened: list[tuple[NotebookPage, JupyterServer]] = []

    def _open(server: JupyterServer, name: str, cells: list[str]) -> NotebookPage:
        server.delete_sessions()
        server.write_notebook(name, cells)
        nbp = NotebookPage.open(browser, server, name)
        opened.append((nbp, server))
        return nbp

    yield _open

    failed = getattr(request.node, "rep_call", None)
    for nbp, server in opened:
        if failed is not None and failed.failed:
            with contextlib.suppress(Exception):
                nbp.screenshot(f"{request.node.name}-failure")
            sys.stderr.write(f"--- jupyter {server.app} log tail ---\n{server.log_tail()}\n")
            sys.stderr.write(f"--- browser console errors ---\n{nbp.console_errors}\n")
        nbp.close()
        with contextlib.suppress(Exception):
            server.delete_sessions()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
