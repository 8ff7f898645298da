#!/usr/bin/env bash
# The whole test suite: lint, package and structure tests, nbval over every notebook, the book
# build with warnings as errors, and the built pages in headless Chromium. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

bash tools/setup_env.sh
# Debian's chromium for the browser test, and a CJK font so that the screenshots show the
# articles' Chinese titles instead of empty boxes.
system_packages=(chromium fonts-wqy-zenhei)
if ! dpkg -s "${system_packages[@]}" >/dev/null 2>&1; then
    echo "Installing ${system_packages[*]} with apt-get..."
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${system_packages[@]}" >/dev/null
fi
source .venv/bin/activate

stage() {
    local name=$1; shift
    local t0=$SECONDS
    echo; echo "=== $name"
    "$@"
    echo "=== $name: done in $((SECONDS - t0)) s"
}

stage "lint (ruff)" ruff check .
stage "package and structure tests" python -m pytest -p no:cacheprovider -m "not browser" tests
stage "notebooks against their stored outputs (nbval)" \
    python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
        --nbval-sanitize-with tests/nbval_sanitize.cfg -n 2 --dist loadfile book
stage "book build (warnings are errors)" \
    jupyter-book build . --all -W -n --keep-going --quiet
stage "rendered pages in headless Chromium" python -m pytest -p no:cacheprovider -m browser tests

echo; echo "All stages passed in $((SECONDS - start)) s. Screenshots: _build/screenshots/"
