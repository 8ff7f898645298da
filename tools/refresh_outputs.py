"""Re-execute notebooks in place, from a fresh kernel, without ever losing one.

Each notebook runs in a fresh kernel with its own folder as working directory. Only when every
cell has executed without error is the stored file replaced (atomically, via a temporary file in
the same folder); a failed or interrupted run leaves the stored notebook exactly as it was.

Usage: python tools/refresh_outputs.py book/geometry/hubness.ipynb [more.ipynb ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT_S = 300


def execute(path: Path) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` in a fresh kernel and return the executed copy."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    # Widget state would make the rendered page fetch widget JavaScript from a CDN.
    notebook.metadata.pop("widgets", None)
    return notebook


def refresh(path: Path) -> float:
    """Execute ``path`` and replace it atomically on success; return the wall time in seconds."""
    if path.suffix != ".ipynb" or not path.is_file():
        raise FileNotFoundError(f"not a notebook file: {path}")
    start = time.perf_counter()
    notebook = execute(path)
    elapsed = time.perf_counter() - start
    handle, temporary = tempfile.mkstemp(suffix=".ipynb", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            nbformat.write(notebook, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
    failed = []
    for path in args.notebooks:
        try:
            seconds = refresh(path)
        except Exception as exc:  # report every failure, keep the stored file
            failed.append(path)
            print(f"FAILED  {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            print(f"refreshed {path} in {seconds:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
