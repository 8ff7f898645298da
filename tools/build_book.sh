#!/usr/bin/env bash
# Build the HTML book from the notebooks' stored outputs, with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
.venv/bin/jupyter-book build . -W -n --keep-going
echo
echo "The book is at: $(pwd)/_build/html/index.html"
