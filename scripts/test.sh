#!/usr/bin/env bash
# Set up a virtual environment with everything the tests need, then run every test.
# Extra arguments go to pytest (for example: scripts/test.sh -m "not slow").
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is pinned in the extras: a loose "torch" would pull a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet -e ".[torch,dev]"
.venv/bin/python -m pytest "$@"
