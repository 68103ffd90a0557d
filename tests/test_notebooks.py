"""The notebooks: built from their sources, stored without outputs, and run top to bottom.

Each notebook runs in a fresh kernel started with this interpreter (a kernelspec written to a
temporary folder), with matplotlib's non-interactive inline backend, in a temporary working folder.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = [
    "01_neuron",
    "02_activations",
    "03_learning_rate",
    "04_initialization",
    "05_losses",
    "06_chain_rule",
    "07_end_to_end",
]
KERNEL = "micrograd-x-test"


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOK_DIR / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_seed_topic_has_a_notebook() -> None:
    stems = [p.stem for p in NOTEBOOKS]
    assert set(EXPECTED) <= set(stems), sorted(set(EXPECTED) - set(stems))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has a count"
    assert "widgets" not in nb.metadata
    assert nb.metadata.kernelspec.name == "python3"


def test_every_notebook_has_a_source_and_matches_it(capsys: pytest.CaptureFixture[str]) -> None:
    build = _build_module()
    assert [p.stem for p in build.sources()] == [p.stem for p in NOTEBOOKS]
    assert build.main(["--check"]) == 0, capsys.readouterr().err


SOURCE = """\
# %% [markdown]
# # A title
#
# Some *text*.

# %%
x = 1


def f():
    return x


# %% jupyter={"source_hidden": true} tags=["answer"]
print(f())
"""


def test_build_turns_percent_cells_into_notebook_cells() -> None:
    build = _build_module()
    text = build.build(SOURCE)
    assert build.build(SOURCE) == text  # deterministic
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == "# A title\n\nSome *text*."
    assert nb.cells[1].source == "x = 1\n\n\ndef f():\n    return x"
    assert [c.id for c in nb.cells] == ["cell-00", "cell-01", "cell-02"]
    assert nb.cells[1].metadata == {}
    assert nb.cells[2].metadata == {"jupyter": {"source_hidden": True}, "tags": ["answer"]}
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")
    assert "jupytext" not in nb.metadata


def test_build_refuses_an_empty_source() -> None:
    with pytest.raises(ValueError, match="no cell"):
        _build_module().build("")


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kernelspec running this interpreter, found first on JUPYTER_PATH."""
    data = tmp_path_factory.mktemp("jupyter")
    spec_dir = data / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "micrograd_x tests",
        "language": "python",
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(data))
        yield KERNEL


def _outputs(nb: nbformat.NotebookNode, mime: str) -> int:
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if mime in out.get("data", {})
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel: str, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=180,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert errors == []
    # Every notebook shows at least one figure the library drew: a plot or a diagram (diagrams
    # need Graphviz; without it they show an install hint instead, by design).
    if shutil.which("dot") is not None:
        assert _outputs(nb, "image/png") + _outputs(nb, "image/svg+xml") >= 1
