"""Adversarial tests: the grid is never listed in memory."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::nbsweep.NbsweepWarning")


def test_large_int_uniform_grid_is_not_listed(tmp_path) -> None:
    code = textwrap.dedent(
        f"""
        import resource, warnings, nbsweep
        warnings.simplefilter("ignore")
        resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
        store = {str(tmp_path / "g.db")!r}
        sid = nbsweep.sweep({{"method": "grid",
                              "parameters": {{"x": {{"min": 0, "max": 10**10}}}}}}, store=store)
        def train():
            run = nbsweep.init()
            run.log({{"y": run.config.x}})
        h = nbsweep.agent(sid, function=train, count=2, store=store, background=False,
                          verbose=False)
        assert h.progress.finished == 2, h.progress
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
