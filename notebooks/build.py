"""Build the stored notebooks ``notebooks/NN_name.ipynb`` from their sources ``notebooks/src/*.py``.

Each source is a Python script in jupytext's percent format: ``# %%`` starts a code cell,
``# %% [markdown]`` a Markdown cell (its lines commented with ``# ``), and cell metadata may
follow the marker (``# %% jupyter={"source_hidden": true}`` stores a collapsed cell). Edit the
source, then run ``python notebooks/build.py``: every source becomes a notebook without outputs,
with stable cell ids, written atomically and only when its text changes, so building twice changes
nothing. ``--check`` writes nothing and exits 1 when a stored notebook differs from its source or
has no source (the notebook test runs that check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from micrograd_x._files import write_atomic

__all__ = ["SOURCE_DIR", "build", "main", "sources", "target"]

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / "src"
"""Where the notebook sources live, one ``NN_name.py`` per notebook."""

PATTERN = "[0-9][0-9]_*"
"""The names of notebooks: two digits, an underscore, a name."""

CELL_METADATA = ("collapsed", "jupyter", "slideshow", "tags")
"""The cell metadata a source may set; jupytext's own bookkeeping is dropped."""

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def sources(folder: Path = SOURCE_DIR) -> list[Path]:
    """Every notebook source in ``folder``, sorted by name."""
    return sorted(folder.glob(f"{PATTERN}.py"))


def target(source: Path) -> Path:
    """The stored notebook built from ``source``: same stem, in ``notebooks/``."""
    return HERE / f"{source.stem}.ipynb"


def build(text: str) -> str:
    """The stored notebook, as JSON text, for the percent-format source ``text``.

    Args:
        text: the source script.

    Returns:
        The notebook's JSON text (no outputs, no execution counts, stable ids ``cell-NN``, a
        Python 3 kernel), ending with a newline.

    Raises:
        ValueError: if the source holds no cell.
    """
    parsed = jupytext.reads(text, fmt="py:percent")
    nb = new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, cell in enumerate(parsed.cells):
        if cell.cell_type == "markdown":
            out = new_markdown_cell(cell.source)
        elif cell.cell_type == "code":
            out = new_code_cell(cell.source)
        else:
            raise ValueError(f"unsupported cell type {cell.cell_type!r} in cell {i}")
        out.metadata = {k: cell.metadata[k] for k in CELL_METADATA if k in cell.metadata}
        out["id"] = f"cell-{i:02d}"  # stable ids, so rebuilding changes nothing
        nb.cells.append(out)
    if not nb.cells:
        raise ValueError("the source holds no cell")
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Build (or with ``--check``, compare) every notebook from its source.

    Returns:
        0, or 1 when ``--check`` finds a notebook out of date or without a source.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    problems = []
    built = set()
    for source in sources():
        path = target(source)
        built.add(path)
        try:
            text = build(source.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"{source.name}: {exc}")
            continue
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            problems.append(f"{path.name} is out of date (run python notebooks/build.py)")
        else:
            write_atomic(path, text)
            print(f"wrote {path.name}")
    for orphan in sorted(set(HERE.glob(f"{PATTERN}.ipynb")) - built):
        problems.append(f"{orphan.name} has no source src/{orphan.stem}.py")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
