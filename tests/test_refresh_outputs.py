"""The refresh tool must never lose a notebook: a failed execution leaves the file untouched."""

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


def run_tool(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def test_failed_execution_leaves_the_stored_notebook_byte_for_byte(tmp_path):
    good = tmp_path / "good.ipynb"
    bad = tmp_path / "bad.ipynb"
    write_notebook(good, "print(6 * 7)")
    before = write_notebook(bad, "x = 1", "raise RuntimeError('boom')")
    result = run_tool(bad, good)
    assert result.returncode == 1
    assert "FAILED" in result.stderr and "boom" in result.stderr
    assert bad.read_bytes() == before
    assert list(tmp_path.glob("tmp*.ipynb")) == []  # no temporary file left behind
    # The other notebook in the same call was still refreshed.
    executed = nbformat.read(good, as_version=4)
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert executed.cells[0].execution_count == 1


def test_missing_file_is_reported(tmp_path):
    result = run_tool(tmp_path / "absent.ipynb")
    assert result.returncode == 1
    assert "not a notebook file" in result.stderr
