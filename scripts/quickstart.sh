#!/usr/bin/env bash
# Set up a virtual environment and run the quickstart sweep: a PyTorch network on the digits
# data, 8 runs, executed headless from notebooks/quickstart.ipynb. Prints a summary and
# leaves the executed notebook and PNG figures in out/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[torch,notebook]"
.venv/bin/python scripts/quickstart.py "$@"
