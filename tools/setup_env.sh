#!/usr/bin/env bash
# Create .venv with Python 3.11+ and install the pinned requirements and the exderiv package.
# Re-running is cheap: it reinstalls only when requirements.txt or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: $python is older than Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv

stamp=.venv/.installed-requirements
wanted=$(cat requirements.txt pyproject.toml tools/setup_env.sh | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "Installing the pinned requirements into .venv (first run: a few minutes)..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
    # bytepiece (a peer in the tokenisation chapters) builds from source against Cython from
    # requirements.txt, and needs the bytes build of pyahocorasick, which no wheel provides.
    AHOCORASICK_BYTES=1 .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        --no-binary pyahocorasick pyahocorasick==2.3.1
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
        bytepiece==0.6.3
    echo "$wanted" > "$stamp"
fi
