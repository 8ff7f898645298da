"""The refresh tool never loses a notebook, refuses CPU-dependent outputs, stores no timestamps."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "refresh_outputs.py"


def write_notebook(path: Path, *sources: str) -> bytes:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, path)
    return path.read_bytes()


def run_tool(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_failed_execution_leaves_the_stored_notebook_byte_for_byte(tmp_path):
    good = tmp_path / "good.ipynb"
    bad = tmp_path / "bad.ipynb"
    write_notebook(good, "print(6 * 7)")
    before = write_notebook(bad, "x = 1", "raise RuntimeError('boom')")
    result = run_tool("--native-only", bad, good)
    assert result.returncode == 1
    assert "FAILED" in result.stderr and "boom" in result.stderr
    assert bad.read_bytes() == before
    assert list(tmp_path.glob(".refresh-*")) == []  # no temporary file left behind
    # The other notebook in the same call was still refreshed.
    executed = nbformat.read(good, as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert executed.cells[0].execution_count == 1


def test_outputs_that_depend_on_the_cpu_kernels_are_refused(tmp_path):
    notebook = tmp_path / "cpu.ipynb"
    before = write_notebook(
        notebook, "import torch\nprint(torch.backends.cpu.get_cpu_capability())"
    )
    result = run_tool(notebook)
    assert result.returncode == 1
    assert "would depend on the CPU" in result.stderr and "code cell 1" in result.stderr
    assert notebook.read_bytes() == before
    assert list(tmp_path.glob(".refresh-*")) == []


def test_refreshing_twice_changes_nothing_and_stores_no_timestamps(tmp_path):
    notebook = tmp_path / "steady.ipynb"
    write_notebook(
        notebook,
        "import numpy as np\nprint(np.arange(4).sum())",
        "2 ** 10",
        "import time\nimport exderiv\n"
        "for _ in exderiv.progress(range(8), 'waiting'):\n    time.sleep(0.2)\n"
        "for i in range(3):\n    print(i, flush=True)\n    time.sleep(0.3)",
    )
    assert run_tool(notebook).returncode == 0
    first = notebook.read_bytes()
    assert run_tool(notebook).returncode == 0
    assert notebook.read_bytes() == first
    cells = nbformat.read(notebook, as_version=4).cells
    assert all("execution" not in cell.metadata for cell in cells)
    # One output per stream, carriage returns applied: the bar's final state only.
    streams = {o.name: o.text for o in cells[2].outputs}
    assert streams["stdout"] == "0\n1\n2\n"
    assert re.fullmatch(r"waiting: 100%\|#+\| 8/8\n", streams["stderr"]), streams


def test_missing_file_is_reported(tmp_path):
    result = run_tool(tmp_path / "absent.ipynb")
    assert result.returncode == 1
    assert "not a notebook file" in result.stderr


def test_progress_bars_that_redraw_a_different_number_of_times_are_not_a_difference(tmp_path):
    notebook = tmp_path / "bars.ipynb"
    write_notebook(
        notebook,
        "import os, sys\n"
        "# The no-SIMD variant redraws its bar more often, as a slower run would.\n"
        "redraws = 5 if os.environ.get('ATEN_CPU_CAPABILITY') == 'default' else 2\n"
        "for i in range(redraws):\n"
        "    bar = f'\\rtraining: {i}/{redraws - 1} [00:0{i}]'\n"
        "    print(bar, end='', file=sys.stderr, flush=True)",
    )
    result = run_tool(notebook)
    assert result.returncode == 0, result.stderr
