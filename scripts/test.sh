#!/usr/bin/env bash
# Set up a virtual environment with everything the tests need, then run every test.
# Extra arguments go to pytest (for example: scripts/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || echo "scripts/test.sh: no /usr/bin/chromium; the browser tests will be skipped" >&2

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned in the extras: a loose "torch" would pull a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet -e ".[torch,dev]"

# The dashboard's front end: install the locked JavaScript tools, then its unit tests.
if command -v npm >/dev/null; then
    npm ci --no-audit --no-fund
    npm test
else
    echo "scripts/test.sh: npm not found; skipping the JavaScript tests (install Node 20+)" >&2
fi
# Static checks: lint, formatting, and the package's types.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy nbsweep
.venv/bin/python -m pytest "$@"
