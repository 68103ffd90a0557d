"""The :class:`Drawing`: DOT text now, a picture on demand, shown once in Jupyter.

A drawing holds what :func:`micrograd_x.render.draw` decided (the DOT text, the caption, how
many boxes) and renders it with :mod:`micrograd_x.layout` when displayed or saved: Graphviz runs
once per format, a notebook embeds only the chosen format (scaled to the cell's width), and a
display never raises. Imports :mod:`micrograd_x.layout`, :mod:`micrograd_x._files`,
:mod:`micrograd_x.graph`, :mod:`micrograd_x.chainrule` and the standard library.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from micrograd_x import _files, layout
from micrograd_x.chainrule import Explanation
from micrograd_x.graph import Graph
from micrograd_x.layout import ENGINE_FORMATS, INSTALL_HINT, GraphTooLargeError
from micrograd_x.network import NetworkView

__all__ = ["MAX_EMBED_BYTES", "NOTEBOOK_WIDTH", "Drawing"]

MAX_EMBED_BYTES = 2_000_000
"""Larger pictures are not embedded in a notebook (they make it slow to open and save)."""

NOTEBOOK_WIDTH = 900
"""Pixels: a notebook shows wider pictures scaled down to this width (or its cell's width)."""

Format = Literal["svg", "png", "pdf", "dot", "json", "html"]
_FORMATS: Mapping[str, Format] = {
    "svg": "svg",
    "png": "png",
    "pdf": "pdf",
    "dot": "dot",
    "gv": "dot",
    "json": "json",
    "html": "html",
    "htm": "html",
}
_SVG_SIZE = re.compile(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"')


def _fit_svg(svg: str) -> str:
    """The SVG with a style that scales it down to the width of a notebook cell."""
    return _SVG_SIZE.sub(
        lambda m: f'{m.group(0)} style="max-width: 100%; height: auto"', svg, count=1
    )


def _png_width(png: bytes) -> int | None:
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        return None
    return int.from_bytes(png[16:20], "big")


class Drawing:
    """A diagram of a computation graph: DOT text now, a picture on demand.

    Displays inline in Jupyter (SVG, or PNG with ``jupyter_format="png"``), rendered once and
    scaled down to the cell's width; a display never raises: without Graphviz it shows a
    one-line install hint, and :attr:`source` holds the DOT text. :meth:`to_svg`, :meth:`pipe`
    and :meth:`save` raise clear errors instead.

    Attributes:
        explanation: The chain rule for ``wrt`` (``None`` without ``wrt``).
        caption: The caption lines under the picture.
        visible_nodes: How many boxes the picture has.
        level: What is drawn (``"full detail"``, ``"one box per module scope at depth 3"``,
            ``"network view: one box per neuron"``, …).
        highlighted: The ids of the highlighted boxes (on a path from ``wrt`` to the output).
        network: The network view's data (``None`` for a graph view).
    """

    def __init__(
        self,
        *,
        graph: Graph | Callable[[], Graph],
        source: str | Callable[[], str],
        members: Mapping[str, tuple[str, ...]] | Callable[[], Mapping[str, tuple[str, ...]]],
        explanation: Explanation | None,
        caption: Sequence[str],
        visible_nodes: int,
        level: str,
        highlighted: frozenset[str],
        network: NetworkView | None,
        max_layout_nodes: int,
        force: bool,
        timeout: float,
        jupyter_format: Literal["svg", "png"],
        advice: str = "",
    ) -> None:
        self._graph = graph
        self._source = source
        self._members = members
        self.explanation = explanation
        self.caption = tuple(caption)
        self.visible_nodes = visible_nodes
        self.level = level
        self.highlighted = highlighted
        self.network = network
        self.max_layout_nodes = max_layout_nodes
        self.force = force
        self.timeout = timeout
        self.jupyter_format = jupyter_format
        self._advice = advice
        self._cache: dict[str, bytes] = {}

    @property
    def graph(self) -> Graph:
        """The traced graph (every value, whatever is collapsed)."""
        if not isinstance(self._graph, Graph):
            self._graph = self._graph()
        return self._graph

    @property
    def source(self) -> str:
        """The DOT text (built on first use for a graph too large to lay out)."""
        if not isinstance(self._source, str):
            self._source = self._source()
        return self._source

    @property
    def members(self) -> Mapping[str, tuple[str, ...]]:
        """For each box id, the ids of the values it stands for.

        Box ids: ``"v3"`` for a value, ``"g0"`` for a module scope, ``"r0"`` for rolled-up
        leaves, ``"h0"`` for what a partial view leaves out, ``"c1u3"`` for a unit of the
        network view.
        """
        if callable(self._members):
            self._members = self._members()
        return self._members

    def __repr__(self) -> str:
        n = self.visible_nodes if self.network is None else len(self.network.units)
        return (
            f"<Drawing of {self._n_values()} values in {n} boxes "
            f"({self.level}){': ' + self.caption[0] if self.caption else ''}>"
        )

    def _n_values(self) -> int:
        if isinstance(self._graph, Graph):
            return len(self._graph)
        return self.visible_nodes

    def to_dot(self) -> str:
        """The DOT text (needs no Graphviz)."""
        return self.source

    def to_json(self) -> str:
        """The traced graph as JSON (see :meth:`Graph.to_json`)."""
        return self.graph.to_json(indent=1)

    def _too_large(self) -> GraphTooLargeError | None:
        if self.visible_nodes <= self.max_layout_nodes or self.force:
            return None
        return GraphTooLargeError(
            f"{self.visible_nodes} boxes ({self.level}) is over the layout limit of "
            f"{self.max_layout_nodes}: Graphviz could take many minutes. Draw a part of the "
            "graph: draw(out, depth=3) shows the 3 levels nearest the output, "
            "draw(out, around=value, radius=2) the values within 2 edges of one value"
            f"{self._advice}; or save the DOT source with drawing.save('graph.dot'), or pass "
            "force=True"
        )

    def pipe(self, format: str = "svg") -> bytes:
        """The picture in ``format`` (``"svg"``, ``"png"`` or ``"pdf"``), rendered once.

        Raises:
            ValueError: If the format is not one Graphviz renders here.
            GraphTooLargeError: If the graph is over the layout limit and ``force`` was not set.
            GraphvizNotFoundError: If Graphviz's ``dot`` is missing.
            LayoutTimeoutError: If the layout takes longer than ``timeout``.
        """
        if format not in ENGINE_FORMATS:
            raise ValueError(
                f"Drawing.pipe: cannot render format {format!r}; expected one of "
                f"{', '.join(ENGINE_FORMATS)}"
            )
        error = self._too_large()
        if error is not None:
            raise error
        if format not in self._cache:
            self._cache[format] = layout.render_dot(self.source, format, self.timeout)
        return self._cache[format]

    def to_svg(self) -> str:
        """The picture as SVG text (see :meth:`pipe` for the errors)."""
        return self.pipe("svg").decode("utf-8")

    def to_png(self) -> bytes:
        """The picture as PNG bytes (see :meth:`pipe` for the errors)."""
        return self.pipe("png")

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the drawing to exactly ``path``, in the format its suffix names.

        ``.svg``, ``.png`` and ``.pdf`` need Graphviz; ``.html`` too (one self-contained page, see
        :meth:`to_html`); ``.dot`` (or ``.gv``) writes the DOT text and ``.json`` the traced
        graph, with no Graphviz. The file is written whole or not
        at all (a temporary file in the same folder, then a rename).

        Args:
            path: Where to write.
            format: The format, when the suffix does not say it.

        Returns:
            The path written.

        Raises:
            ValueError: If the format is unknown.
            DrawingError: If rendering fails (see :meth:`pipe`).
        """
        target = Path(path)
        key = (format or target.suffix.lstrip(".")).lower()
        fmt_ = _FORMATS.get(key)
        if fmt_ is None:
            raise ValueError(
                f"Drawing.save: cannot tell the format of {str(target)!r}"
                + (f" (format {key!r} is unknown)" if key else " (it has no suffix)")
                + "; use .svg, .png, .pdf, .dot, .gv, .json or .html, or pass format="
            )
        if fmt_ == "dot":
            data = self.source.encode("utf-8")
        elif fmt_ == "json":
            data = self.to_json().encode("utf-8")
        elif fmt_ == "html":
            data = self.to_html().encode("utf-8")
        else:
            data = self.pipe(fmt_)
        _files.write_atomic(target, data)
        return target

    def to_html(self) -> str:
        """One self-contained HTML page showing the drawing, for slides and course pages.

        The SVG is inline, with no script and a Content-Security-Policy that forbids every
        request, so the page opens offline and can be embedded anywhere. To step through the
        backward pass on a page, save an explorer instead (:func:`micrograd_x.explore`).

        Raises:
            DrawingError: If rendering fails (see :meth:`pipe`).
        """
        svg = self.pipe("svg").decode("utf-8")
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and doctype: HTML takes bare <svg>
        title = html.escape(self.caption[0] if self.caption else "micrograd_x drawing")
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" '
            "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            "<style>body{margin:1.5em;font-family:sans-serif}"
            "svg{max-width:100%;height:auto}</style>\n"
            f"</head>\n<body>\n<figure>\n{svg}</figure>\n</body>\n</html>\n"
        )

    def render(
        self,
        filename: str | os.PathLike[str] | None = None,
        directory: str | os.PathLike[str] | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *,
        outfile: str | os.PathLike[str] | None = None,
    ) -> str:
        """Save the DOT source and the picture the way the ``graphviz`` package does.

        ``render("graph", format="png")`` writes the DOT text to ``graph`` and the picture to
        ``graph.png``; ``render(outfile="graph.png")`` writes ``graph.png`` and ``graph.gv``.
        To write exactly one file, use :meth:`save`.

        Args:
            filename: The DOT file (default ``Digraph.gv``); the picture gets ``.format`` added.
            directory: The folder of both files.
            view: Must be ``False``: opening a viewer is left to you.
            cleanup: Delete the DOT file after rendering.
            format: ``"svg"``, ``"png"`` or ``"pdf"`` (default: ``outfile``'s suffix, else
                ``"pdf"`` as in ``graphviz``).
            outfile: The picture's path (then the DOT file is beside it, suffix ``.gv``).

        Returns:
            The picture's path.

        Raises:
            ValueError: If the format is unknown or ``view`` is set.
            DrawingError: If rendering fails (see :meth:`pipe`).
        """
        if view:
            raise ValueError("Drawing.render: view=True is not supported; open the file it returns")
        folder = Path(directory) if directory is not None else Path()
        if outfile is not None:
            picture = folder / outfile
            format = format or picture.suffix.lstrip(".").lower() or "pdf"
            dot_path = picture.with_suffix(".gv")
        else:
            dot_path = folder / (filename if filename is not None else "Digraph.gv")
            format = format or "pdf"
            picture = dot_path.with_name(f"{dot_path.name}.{format}")
        if format not in ENGINE_FORMATS:
            raise ValueError(
                f"Drawing.render: cannot render format {format!r}; expected one of "
                f"{', '.join(ENGINE_FORMATS)}"
            )
        data = self.pipe(format)
        if not cleanup:
            _files.write_atomic(dot_path, self.source.encode("utf-8"))
        _files.write_atomic(picture, data)
        return str(picture)

    # -- Jupyter: this never raises, and Graphviz runs once per display -------------------------

    def _problem(self, format: str) -> str | None:
        """Why the picture cannot be shown inline, or ``None`` if it can."""
        try:
            data = self.pipe(format)
        except layout.GraphvizNotFoundError:
            return f"{INSTALL_HINT}; the DOT text is in .source"
        except Exception as e:
            return f"{type(e).__name__}: {e}"
        if len(data) > MAX_EMBED_BYTES:
            return (
                f"the picture is {len(data) / 1e6:.1f} MB, too large to embed: "
                f"save it with .save('graph.{format}') and open the file"
            )
        return None

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]:
        # The only display hook: IPython would call _repr_svg_/_repr_png_ as well, rendering
        # (and embedding) the picture twice.
        try:
            fmt_ = self.jupyter_format
            problem = self._problem(fmt_)
            if problem is not None:
                return {"text/plain": f"{self!r}\n{problem}"}
            data = self._cache[fmt_]
            if fmt_ == "svg":
                return {"image/svg+xml": _fit_svg(data.decode("utf-8")), "text/plain": repr(self)}
            width = _png_width(data)
            meta: dict[str, Any] = {}
            if width is not None and width > NOTEBOOK_WIDTH:
                meta = {"image/png": {"width": NOTEBOOK_WIDTH}}
            return {"image/png": data, "text/plain": repr(self)}, meta
        except Exception:
            return {"text/plain": "<Drawing: could not be displayed>"}
