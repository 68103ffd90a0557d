"""Running Graphviz: finding ``dot``, laying out DOT text, and the errors of making a picture.

:func:`render_dot` pipes DOT text through Graphviz's ``dot`` program (or the pip-installable
``graphviz-pure`` port) via the ``graphviz`` package, imported only when a picture is made.
Imports the standard library and, lazily, ``graphviz``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = [
    "ENGINE_FORMATS",
    "INSTALL_HINT",
    "DrawingError",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "LayoutTimeoutError",
    "find_program",
    "render_dot",
]

INSTALL_HINT = (
    "Graphviz's `dot` program is not installed: sudo apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS) or conda install -c conda-forge graphviz"
)
"""The one-line message shown when a picture needs ``dot`` and it is missing."""

ENGINE_FORMATS = ("svg", "png", "pdf")
"""The formats Graphviz renders here."""


class DrawingError(RuntimeError):
    """A picture could not be made (the base of the errors below)."""


class GraphvizNotFoundError(DrawingError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``)."""


class GraphTooLargeError(DrawingError):
    """The graph has too many boxes to lay out; draw a part of it or save DOT instead."""


class LayoutTimeoutError(DrawingError, TimeoutError):
    """Graphviz did not finish the layout in time."""


def find_program(program: str | os.PathLike[str]) -> str | None:
    """The path of ``program`` on PATH or beside the running interpreter, or ``None``.

    A Jupyter kernel may run a virtual environment's Python without its ``bin`` on PATH.
    """
    found = shutil.which(program)
    if found is not None:
        return found
    beside = Path(sys.executable).parent / Path(program).name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def render_dot(source: str, format: str, timeout: float) -> bytes:
    """Lay out and render DOT text with Graphviz's ``dot``.

    Args:
        source: The DOT text.
        format: ``"svg"``, ``"png"`` or ``"pdf"``.
        timeout: Seconds the layout may take.

    Returns:
        The picture's bytes.

    Raises:
        GraphvizNotFoundError: If ``dot`` is not installed.
        LayoutTimeoutError: If it runs longer than ``timeout`` seconds.
        DrawingError: If it fails.
    """
    import graphviz  # type: ignore[import-untyped]
    from graphviz.backend import dot_command, execute  # type: ignore[import-untyped]

    cmd = dot_command.command("dot", format)
    # Graphviz's own dot first; else the pip-installable port ``graphviz-pure`` (same command
    # line; SVG and PNG, no PDF) if it is installed.
    exe = find_program(cmd[0]) or find_program("graphviz-pure")
    if exe is not None:
        cmd[0] = exe
    try:
        proc = execute.run_check(
            cmd, input=source.encode(), capture_output=True, quiet=True, timeout=timeout
        )
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(INSTALL_HINT) from None
    except subprocess.TimeoutExpired:
        raise LayoutTimeoutError(
            f"Graphviz's dot did not finish the layout in {timeout:g} s; collapse the graph "
            "(draw(..., collapse='auto')), draw a part of it (depth= or around=), raise "
            "timeout=, or save the DOT source with drawing.save('graph.dot')"
        ) from None
    except graphviz.CalledProcessError as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else str(e.stderr)
        raise DrawingError(f"Graphviz's dot failed: {err.strip()}") from None
    return bytes(proc.stdout)
