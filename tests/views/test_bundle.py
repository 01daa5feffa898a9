"""The committed dashboard bundle is what the sources build to, byte for byte.

The bundle in ``nbsweep/static`` is committed so that installing nbsweep needs no Node; this
rebuilds it from ``js/src`` with the locked esbuild into a temporary directory and compares.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "nbsweep" / "static"
FILES = ("dashboard.js", "dashboard.css")


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the dashboard bundle cannot be rebuilt here")
    return npm


def test_the_committed_bundle_matches_a_fresh_build(tmp_path):
    npm = _npm()
    if not (ROOT / "node_modules" / ".package-lock.json").exists():
        # The locked dependencies, exactly as package-lock.json names them.
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=600)
    subprocess.run(
        [npm, "run", "--silent", "build", "--", str(tmp_path)], cwd=ROOT, check=True, timeout=300
    )
    for name in FILES:
        built = (tmp_path / name).read_bytes()
        committed = (STATIC / name).read_bytes()
        assert built == committed, (
            f"nbsweep/static/{name} is stale: run `npm run build` and commit the result"
        )


def test_the_bundle_loads_nothing_from_the_network():
    text = (STATIC / "dashboard.js").read_text(encoding="utf-8")
    for marker in ("https://", "http://cdn", "unpkg.com", "jsdelivr", "esm.sh"):
        assert marker not in text, marker
    assert "import(" not in text and 'from"' not in text  # one self-contained module
