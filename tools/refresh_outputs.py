"""Re-execute notebooks in place, from a fresh kernel, without ever losing one.

Each notebook runs in a fresh kernel with its own folder as working directory, once with this
machine's native CPU kernels and then once under each setting of ``CPU_VARIANTS`` (other SIMD
kernels in torch, MKL and OpenBLAS, other thread counts). The stored file is replaced only when
every run executed without error **and** every variant's outputs equal the native ones after the
nbval sanitiser (``tests/nbval_sanitize.cfg``) has been applied, as nbval compares them: a stored
digit that depends on the CPU would fail nbval on a reader's machine, so it is refused here, with
the differing cells listed. A failed, refused or interrupted run leaves the stored notebook exactly
as it was (the replacement is atomic, via a temporary file in the same folder).

The stored notebook carries no volatile metadata (no execution timestamps) and its streams are
coalesced with carriage returns applied, so refreshing an unchanged chapter leaves its
``git diff`` empty. Each chapter's native execution time goes to ``book/_execution_times.json``
(whole seconds; the one file a refresh always rewrites), read by the book's ledger page.

At most ``EXDERIV_EXECUTION_SLOTS`` (default: the number of CPU cores) executions run at once on
the machine, across all concurrent invocations of this tool, through lock files in the temporary
directory; the variants of one notebook run side by side in those slots.

Usage: python tools/refresh_outputs.py [--native-only] book/geometry/hubness.ipynb [more ...]
``--native-only`` skips the variants: for drafting only, never for outputs that are committed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SANITIZER = ROOT / "tests" / "nbval_sanitize.cfg"
TIMES_FILE = ROOT / "book" / "_execution_times.json"
CELL_TIMEOUT_S = 300

# Settings under which stored outputs must not change. torch picks its SIMD kernels with
# ATEN_CPU_CAPABILITY, MKL its code path with MKL_CBWR, OpenBLAS its kernels with
# OPENBLAS_CORETYPE; the thread counts change the order of parallel reductions in numpy and
# scikit-learn. "no-simd" differs from every machine's native kernels; "avx2" from AVX-512 ones.
CPU_VARIANTS: dict[str, dict[str, str]] = {
    "avx2, one BLAS thread": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "AVX2",
        "OPENBLAS_CORETYPE": "Sandybridge",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    },
    "no SIMD, two BLAS threads": {
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_CBWR": "COMPATIBLE",
        "OPENBLAS_CORETYPE": "Prescott",
        "OMP_NUM_THREADS": "2",
        "OPENBLAS_NUM_THREADS": "2",
        "MKL_NUM_THREADS": "2",
    },
}
# nbval does not compare these output keys (images are compared only with --nbdime).
UNCOMPARED_KEYS = {"image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"}


class OutputsDependOnCPU(RuntimeError):
    """A variant's sanitised outputs differ from the native run's."""


@contextlib.contextmanager
def execution_slot():
    """Hold one of the machine's execution slots (blocking until one is free)."""
    slots = int(os.environ.get("EXDERIV_EXECUTION_SLOTS", os.cpu_count() or 1))
    lock_dir = Path(tempfile.gettempdir())
    while True:
        for index in range(slots):
            handle = open(lock_dir / f"exderiv-execution-slot-{index}.lock", "w")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        time.sleep(0.5)


def strip_volatile_metadata(notebook: nbformat.NotebookNode) -> None:
    """Remove what changes on every run without changing what the chapter says."""
    notebook.metadata.pop("widgets", None)  # would make the page fetch widget JavaScript
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.metadata.pop("collapsed", None)
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)


def execute(path: Path) -> nbformat.NotebookNode:
    """Execute the notebook at ``path`` in a fresh kernel and return the executed copy."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        record_timing=False,
        # One output per stream, carriage returns applied: how the kernel happened to split the
        # text (timing) and how often a progress bar redrew leave no trace in the stored file.
        coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    strip_volatile_metadata(notebook)
    return notebook


def execute_in_subprocess(path: Path, env_changes: dict[str, str]) -> tuple[Path, float]:
    """Execute ``path`` in a child process under ``env_changes``; return the result's file."""
    # Beside the notebook, so that the native result can replace it atomically.
    handle, result = tempfile.mkstemp(prefix=".refresh-", suffix=".ipynb", dir=path.parent)
    os.close(handle)
    command = [sys.executable, __file__, "--execute-to", result, str(path)]
    with execution_slot():
        start = time.perf_counter()
        completed = subprocess.run(
            command, env={**os.environ, **env_changes}, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        Path(result).unlink(missing_ok=True)
        raise RuntimeError("\n".join(completed.stderr.strip().splitlines()[-8:]))
    return Path(result), elapsed


def sanitize_patterns() -> list[tuple[str, str]]:
    from nbval.plugin import get_sanitize_patterns

    return get_sanitize_patterns(SANITIZER.read_text())


def comparable_outputs(cell, patterns) -> list[tuple[str, str]]:
    """The cell's outputs as nbval compares them: streams merged by name (as nbval does, so that
    how often a progress bar redrew does not count), text per stream or MIME type, sanitised."""
    import copy
    import re

    from nbval.plugin import coalesce_streams

    def clean(text):
        for regex, replacement in patterns:
            text = re.sub(regex, replacement, text)
        return text

    compared = []
    for output in coalesce_streams(copy.deepcopy(cell.get("outputs", []))):
        if output.output_type == "stream":
            compared.append((output.name, clean(output.text)))
        for key, value in output.get("data", {}).items():
            if key not in UNCOMPARED_KEYS:
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                compared.append((key, clean(text)))
    return compared


def differing_cells(native, variant) -> list[str]:
    patterns = sanitize_patterns()
    differences = []
    code_cells = zip(
        (c for c in native.cells if c.cell_type == "code"),
        (c for c in variant.cells if c.cell_type == "code"),
        strict=True,
    )
    for index, (ours, theirs) in enumerate(code_cells, start=1):
        mine, other = comparable_outputs(ours, patterns), comparable_outputs(theirs, patterns)
        if mine != other:
            pairs = zip(mine, other, strict=False)
            first = next(
                (f"{a[1][:300]!r} vs {b[1][:300]!r}" for a, b in pairs if a != b),
                f"{len(mine)} vs {len(other)} outputs",
            )
            differences.append(f"code cell {index} (In [{index}]): {first}")
    return differences


def record_time(path: Path, seconds: float) -> None:
    if not path.resolve().is_relative_to(ROOT / "book"):
        return  # a notebook outside the book (a test's) has no place in the book's ledger
    docname = path.resolve().relative_to(ROOT).with_suffix("").as_posix()
    with open(Path(tempfile.gettempdir()) / "exderiv-execution-times.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several refreshes may finish at once
        times = json.loads(TIMES_FILE.read_text()) if TIMES_FILE.exists() else {}
        times[docname] = round(seconds)
        TIMES_FILE.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n")


def refresh(path: Path, variants: dict[str, dict[str, str]] = CPU_VARIANTS) -> float:
    """Execute ``path`` natively and under ``variants``; replace it atomically only when every
    run succeeded and agrees with the native one. Return the native wall time in seconds.

    The native run goes first, alone in its slot, so that its time is the chapter's; the variants
    then run side by side."""
    if path.suffix != ".ipynb" or not path.is_file():
        raise FileNotFoundError(f"not a notebook file: {path}")
    native_file, seconds = execute_in_subprocess(path, {})
    variant_files: dict[str, Path] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(variants))) as pool:
            futures = {
                name: pool.submit(execute_in_subprocess, path, env)
                for name, env in variants.items()
            }
            errors = []
            for name, future in futures.items():
                try:
                    variant_files[name] = future.result()[0]
                except Exception as exc:
                    errors.append(f"{name}: {exc}")
        if errors:
            raise RuntimeError("execution failed under " + "; ".join(errors))
        native = nbformat.read(native_file, as_version=4)
        for name, file in variant_files.items():
            differences = differing_cells(native, nbformat.read(file, as_version=4))
            if differences:
                raise OutputsDependOnCPU(
                    f"stored outputs would depend on the CPU; under {name!r}:\n  "
                    + "\n  ".join(differences)
                )
        os.chmod(native_file, path.stat().st_mode)  # mkstemp made it private
        os.replace(native_file, path)
    finally:
        for file in [native_file, *variant_files.values()]:
            file.unlink(missing_ok=True)
    record_time(path, seconds)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--native-only", action="store_true", help="skip the CPU variants (drafts only)"
    )
    parser.add_argument("--execute-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.execute_to:  # the child process of execute_in_subprocess
        (path,) = args.notebooks
        nbformat.write(execute(path), args.execute_to)
        return 0
    failed = []
    for path in args.notebooks:
        try:
            seconds = refresh(path, {} if args.native_only else CPU_VARIANTS)
        except Exception as exc:  # report every failure, keep the stored file
            failed.append(path)
            print(f"FAILED  {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            checked = "native kernels only" if args.native_only else "identical under the variants"
            print(f"refreshed {path} in {seconds:.1f} s ({checked})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
