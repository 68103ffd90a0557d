"""The explorer's drawing: one Graphviz layout per graph structure, with stable hooks for scripts.

:func:`layout` writes a small DOT of a traced graph (one box per value: its name and op, its
data, its gradient; one arrow per op input, labelled with the local partial), runs Graphviz's
``dot`` once, and marks up the SVG so a script can update it without a new layout: each node
group carries ``data-node`` (its trace id, ``v0``…), its value text ``data-value``, its gradient
text ``data-grad``; each edge group ``data-edge`` (``e0``… in the graph's edge order) and its
label ``data-partial``. Boxes have fixed widths, so new numbers never need a new layout.
Imports the standard library, :mod:`micrograd_x.graph`, :mod:`micrograd_x.layout` (to find
``dot``) and :mod:`micrograd_x._text`.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from micrograd_x._text import escape, fmt
from micrograd_x.graph import Graph, Node
from micrograd_x.layout import find_program

__all__ = ["INSTALL_HINT", "Layout", "LayoutError", "header", "layout", "structure", "to_dot"]

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", _XLINK)

_CELL_WIDTH = 104
"""Every cell of a node box is this many points wide: room for ``grad -1.235e-10``."""
_CELL_HEIGHT = 17
_NAME_LIMIT = 16
"""Longest name shown in a box header (longer names end in an ellipsis)."""
_EDGE_PLACEHOLDER = "-0.0000"
"""The text an edge label is laid out with: a typical partial's width."""

_FILL = {
    "input": "#d6e6f5",
    "parameter": "#fde3c4",
    "constant": "#e8e8e8",
    "operation": "#ffffff",
    "output": "#d5efd2",
}
"""Header colour by role (light tints, so black text keeps a contrast above 12:1)."""

INSTALL_HINT = (
    "the explorer lays out its drawing with Graphviz's 'dot' program, which is not installed: "
    "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS) or "
    "'conda install -c conda-forge graphviz'"
)


class LayoutError(RuntimeError):
    """Graphviz is missing, timed out, or failed on the explorer's drawing."""


@dataclass(frozen=True)
class Layout:
    """A laid-out drawing of one graph structure.

    Attributes:
        svg: The SVG text, with ``data-node``/``data-value``/``data-grad``/``data-edge``/
            ``data-partial`` hooks and no element ids (several drawings can share a page).
        dot: The DOT source it was laid out from.
    """

    svg: str
    dot: str


def header(node: Node) -> str:
    """The text of a node box's first row: its name, and for an op result ``= op``.

    Args:
        node: A traced node.

    Returns:
        ``"a"`` for a leaf, ``"n = tanh"`` for an op result, ``"x^2"``-style for ``pow``, the
        number for a constant (unescaped: escape it for where it goes).
    """
    name = node.name.replace("\n", " ")
    if node.role == "constant" or node.symbol is None:
        return name
    symbol = node.symbol
    if node.params:
        args = ", ".join(fmt(v) for _, v in node.params)
        symbol = f"{symbol}{args}" if symbol == "^" else f"{symbol}({args})"
    return f"{name} = {symbol}"


def structure(graph: Graph) -> tuple[object, ...]:
    """What a layout depends on: the boxes' headers and roles, and the edges.

    Two graphs with equal structures share a layout; values, gradients and partials may differ.
    """
    nodes = tuple((n.role, header(n)) for n in graph.nodes)
    edges = tuple((e.source, e.destination, e.index) for e in graph.edges)
    return nodes, edges


def _cell(text: str, port: str, fill: str | None = None, bold: bool = False) -> str:
    body = f"<B>{text}</B>" if bold else text
    colour = f' BGCOLOR="{fill}"' if fill else ""
    return (
        f'<TR><TD PORT="{port}" FIXEDSIZE="TRUE" WIDTH="{_CELL_WIDTH}" HEIGHT="{_CELL_HEIGHT}"'
        f"{colour}>{body}</TD></TR>"
    )


def to_dot(graph: Graph, values: list[str], grads: list[str], partials: list[str]) -> str:
    """The explorer's DOT for ``graph``, with the given texts in the boxes and on the edges."""
    lines = [
        "digraph explore {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.22, ranksep=0.5, '
        'fontname="Helvetica", pad=0.1]',
        '  node [shape=plain, fontname="Helvetica", fontsize=11]',
        '  edge [fontname="Helvetica", fontsize=10, color="#666666", arrowsize=0.6, '
        'fontcolor="#333333"]',
    ]
    for n in graph.nodes:
        name = escape(header(n), "html", _NAME_LIMIT).replace("<BR/>", " ")
        rows = (
            _cell(name, "h", _FILL[n.role], bold=True)
            + _cell(escape(values[n.index], "html"), "d")
            + _cell(escape(grads[n.index], "html"), "g")
        )
        label = f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" COLOR="#555555">{rows}</TABLE>'
        lines.append(f'  {n.id} [id="{n.id}", label=<{label}>]')
    for k, e in enumerate(graph.edges):
        src, dst = graph.nodes[e.source].id, graph.nodes[e.destination].id
        text = escape(partials[k], "string")
        lines.append(f'  {src} -> {dst} [id="e{k}", label="{text}"]')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run_dot(source: str, timeout: float) -> str:
    exe = find_program("dot")
    if exe is None:
        raise LayoutError(INSTALL_HINT)
    try:
        proc = subprocess.run(
            [exe, "-Tsvg"], input=source.encode(), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise LayoutError(
            f"explore: Graphviz's dot did not lay out the graph in {timeout:g} s; explore a "
            "smaller graph, or draw this one collapsed with micrograd_x.draw"
        ) from None
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise LayoutError(f"explore: Graphviz's dot failed: {err}")
    return proc.stdout.decode("utf-8")


def _tag(el: ET.Element) -> str:
    return el.tag.rpartition("}")[2]


def _points_x(group: ET.Element) -> list[float]:
    xs: list[float] = []
    for poly in group.iter(f"{{{_SVG}}}polygon"):
        for pair in (poly.get("points") or "").split():
            xs.append(float(pair.split(",")[0]))
    return xs


def _mark_up(svg: str, graph: Graph, partials: list[str]) -> str:
    """Add the data hooks to Graphviz's SVG and the edge labels; drop ids, titles, comments."""
    root = ET.fromstring(svg)
    seen_nodes = 0
    seen_edges = 0
    for g in root.iter(f"{{{_SVG}}}g"):
        kind = g.get("class")
        gid = g.attrib.pop("id", "")
        for title in g.findall(f"{{{_SVG}}}title"):
            g.remove(title)
        if kind == "node":
            texts = g.findall(f"{{{_SVG}}}text")
            if len(texts) != 3:
                raise LayoutError(f"explore: node {gid} was drawn with {len(texts)} texts, not 3")
            xs = _points_x(g)
            centre = f"{(min(xs) + max(xs)) / 2:.2f}"
            for t in texts:
                t.set("text-anchor", "middle")
                t.set("x", centre)
            g.set("data-node", gid)
            texts[1].set("data-value", "")
            texts[2].set("data-grad", "")
            seen_nodes += 1
        elif kind == "edge":
            g.set("data-edge", gid)
            for t in g.findall(f"{{{_SVG}}}text"):
                t.set("data-partial", "")
                t.text = partials[int(gid[1:])]
            seen_edges += 1
    if seen_nodes != len(graph.nodes) or seen_edges != len(graph.edges):
        raise LayoutError(
            f"explore: the drawing has {seen_nodes} nodes and {seen_edges} edges, the graph "
            f"{len(graph.nodes)} and {len(graph.edges)}"
        )
    root.set("class", "mgx-svg")
    return ET.tostring(root, encoding="unicode")


def layout(
    graph: Graph,
    values: list[str],
    grads: list[str],
    partials: list[str],
    timeout: float = 60.0,
) -> Layout:
    """Lay out ``graph`` once with Graphviz and mark up the SVG for the explorer's script.

    Args:
        graph: The traced graph.
        values: Each node's value text, in node order (shown until a script updates it).
        grads: Each node's gradient text, in node order.
        partials: Each edge's label, in edge order.
        timeout: Seconds ``dot`` may take.

    Returns:
        The layout.

    Raises:
        LayoutError: If Graphviz is missing, takes longer than ``timeout`` or fails.
    """
    # Edge labels are laid out with same-width placeholders, so a later partial of a similar
    # width fits the same layout; the SVG then shows the real ones.
    dot = to_dot(graph, values, grads, [_EDGE_PLACEHOLDER] * len(graph.edges))
    return Layout(_mark_up(_run_dot(dot, timeout), graph, partials), dot)
