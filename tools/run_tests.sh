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
stage "package and structure tests" \
    python -m pytest -p no:cacheprovider -m "not browser and not jupyterlab" tests
nbval=(python -m pytest -p no:cacheprovider --nbval --nbval-current-env
       --nbval-sanitize-with tests/nbval_sanitize.cfg -n 2 --dist loadfile
       --ignore-glob="*/.refresh-*" book)
stage "notebooks against their stored outputs (nbval)" "${nbval[@]}"
# A reader's CPU is not this one: the stored outputs must also hold under other arithmetic
# kernels. Without SIMD in torch, MKL's compatible code path and OpenBLAS's oldest kernels,
# every machine computes differently from its native setting.
stage "notebooks again under other CPU kernels (nbval, no SIMD)" \
    env ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE OPENBLAS_CORETYPE=Prescott "${nbval[@]}"
stage "book build (warnings are errors)" \
    jupyter-book build . --all -W -n --keep-going --quiet
stage "rendered pages in headless Chromium" python -m pytest -p no:cacheprovider -m browser tests
stage "notebooks in JupyterLab (headless Chromium)" \
    python -m pytest -p no:cacheprovider -m jupyterlab tests

echo; echo "All stages passed in $((SECONDS - start)) s. Screenshots: _build/screenshots/"
