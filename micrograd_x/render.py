"""Drawing the chain of partial derivatives with Graphviz.

:func:`draw` turns a traced graph into deterministic DOT text (each edge labelled with its local
partial, the paths to one input highlighted, large graphs collapsed by module scope) and renders
it with Graphviz's ``dot`` program through the ``graphviz`` package, imported only when a picture
is made. Imports :mod:`micrograd_x.graph`, :mod:`micrograd_x.chainrule`, :mod:`micrograd_x._text`,
the engine, and lazily ``graphviz``.
Run ``python -m micrograd_x.render`` to draw the classic neuron.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from micrograd_x._files import write_atomic
from micrograd_x._text import escape, fmt
from micrograd_x.chainrule import Explanation, _explain_graph
from micrograd_x.engine import Parameter, Value
from micrograd_x.graph import Graph, Node, _walk

__all__ = [
    "INSTALL_HINT",
    "Drawing",
    "DrawingError",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "LayoutTimeoutError",
    "classic_neuron",
    "draw",
    "main",
]

INSTALL_HINT = (
    "Graphviz's `dot` program is not installed: sudo apt-get install graphviz (Debian/Ubuntu), "
    "brew install graphviz (macOS) or conda install -c conda-forge graphviz"
)
"""The one-line message shown when a picture needs ``dot`` and it is missing."""

Collapse = Literal["auto"] | int | None
Format = Literal["svg", "png", "pdf", "dot", "json"]

_FORMATS: Mapping[str, Format] = {
    "svg": "svg",
    "png": "png",
    "pdf": "pdf",
    "dot": "dot",
    "gv": "dot",
    "json": "json",
}
_ENGINE_FORMATS = ("svg", "png", "pdf")
_DIRECTIONS = ("TB", "LR", "BT", "RL")
_MAX_EMBED_BYTES = 2_000_000
"""Larger pictures are not embedded in a notebook (they make it slow to open and save)."""

# Colours: parameters light blue, the output light green (torchviz's conventions); the grad cell
# on the purple-orange diverging scale (colour-blind safe), the chain to ``wrt`` in vermillion.
_HEADER = {
    "parameter": "#cfe2f3",
    "input": "#e8e8e8",
    "operation": "#ffffff",
    "output": "#d9ead3",
}
_NEGATIVE = ("#d8daeb", "#b2abd2", "#8073ac")
_POSITIVE = ("#fee0b6", "#fdb863", "#e08214")
_CHAIN = "#d55e00"
_FADED = "#b4b4b4"
_INK = "#333333"
_EDGE = "#555555"
_ROLE_WORDS = {
    "parameter": "parameter",
    "input": "input",
    "constant": "constant",
    "operation": "",
    "output": "output",
}


class DrawingError(RuntimeError):
    """A picture could not be made (the base of the errors below)."""


class GraphvizNotFoundError(DrawingError):
    """Graphviz's ``dot`` program is not installed (or not on ``PATH``)."""


class GraphTooLargeError(DrawingError):
    """The graph has too many nodes to lay out, even after collapsing; save DOT instead."""


class LayoutTimeoutError(DrawingError, TimeoutError):
    """Graphviz did not finish the layout in time."""


# ---------------------------------------------------------------------------------------------
# What is visible: single nodes, or boxes that stand for many nodes (a module scope, or leaves
# rolled up together), and the edges between them.


@dataclass(slots=True)
class _Item:
    id: str
    kind: Literal["node", "group", "rollup"]
    members: list[int]
    scope: str | None
    clusters: tuple[str, ...] = ()


@dataclass(slots=True)
class _Link:
    source: str
    destination: str
    edges: list[int] = field(default_factory=list)
    flow: float = 0.0
    on_chain: bool = False


@dataclass(slots=True)
class _View:
    items: list[_Item]
    links: list[_Link]
    depth: int
    merged_top: bool

    @property
    def description(self) -> str:
        if self.depth == 0:
            return "full detail"
        text = f"one box per module scope at depth {self.depth}"
        return text + ", top-level values merged" if self.merged_top else text


def _prefixes(scope: str) -> tuple[str, ...]:
    parts = scope.split(".")
    return tuple(".".join(parts[: k + 1]) for k in range(len(parts)))


Key = tuple[str, ...]
"""Which box a node goes in: ``("node", id)``, ``("scope", scope)`` or ``("rollup", …)``."""


def _group_keys(graph: Graph, depth: int, merge_top: bool) -> list[Key]:
    """One key per node; nodes with equal keys share a box."""
    root = graph.root
    if not depth and not merge_top:
        return [("node", n.id) for n in graph.nodes]
    cut: dict[str, Key] = {}
    keys: list[Key] = []
    for n in graph.nodes:
        scope = n.scope
        if depth and scope is not None and n.index != root:
            key = cut.get(scope)
            if key is None:
                key = cut[scope] = ("scope", ".".join(scope.split(".")[:depth]))
            keys.append(key)
        elif merge_top and n.role == "operation":
            keys.append(("scope", ""))
        else:
            keys.append(("node", n.id))
    # Roll up leaves outside any box whose users are all boxes, by role and set of users
    # (the 200 inputs of a batch that all feed the first layer become one box).
    users: list[set[Key]] = [set() for _ in graph.nodes]
    for e in graph.edges:
        users[e.source].add(keys[e.destination])
    rolled: dict[Key, list[int]] = {}
    for n in graph.nodes:
        u = users[n.index]
        leaf_outside = keys[n.index][0] == "node" and n.role != "operation" and n.index != root
        if leaf_outside and u and all(k[0] == "scope" for k in u):
            key = ("rollup", n.role, *sorted(k[1] for k in u))
            rolled.setdefault(key, []).append(n.index)
    for key, members in rolled.items():
        if len(members) > 1:
            for i in members:
                keys[i] = key
    return keys


def _view(
    graph: Graph,
    keys: list[Key],
    depth: int,
    merge_top: bool,
    chain: frozenset[int],
    flows: Sequence[float],
) -> _View:
    items: dict[Key, _Item] = {}
    prefixes: dict[str, tuple[str, ...]] = {}
    n_groups = n_rollups = 0
    for n in graph.nodes:
        key = keys[n.index]
        item = items.get(key)
        if item is None:
            if key[0] == "node":
                clusters: tuple[str, ...] = ()
                if n.scope:
                    clusters = prefixes.get(n.scope) or prefixes.setdefault(
                        n.scope, _prefixes(n.scope)
                    )
                item = _Item(n.id, "node", [], n.scope, clusters)
            elif key[0] == "scope":
                scope = key[1]
                clusters = _prefixes(scope)[:-1] if scope else ()
                item = _Item(f"g{n_groups}", "group", [], scope, clusters)
                n_groups += 1
            else:
                item = _Item(f"r{n_rollups}", "rollup", [], None)
                n_rollups += 1
            items[key] = item
        item.members.append(n.index)
    links: dict[tuple[str, str, int], _Link] = {}
    for k, e in enumerate(graph.edges):
        ks, kd = keys[e.source], keys[e.destination]
        if ks == kd:
            continue
        s, d = items[ks].id, items[kd].id
        # Between two single values every edge is drawn (x * x has two); between boxes the
        # edges merge into one link.
        pair = (s, d, k if ks[0] == kd[0] == "node" else -1)
        link = links.get(pair)
        if link is None:
            link = links[pair] = _Link(s, d)
        link.edges.append(k)
        link.flow += abs(flows[k])
        link.on_chain = link.on_chain or e.source in chain
    return _View(list(items.values()), list(links.values()), depth, merge_top)


def _choose_view(
    graph: Graph,
    collapse: Collapse,
    max_nodes: int,
    chain: frozenset[int],
    flows: Sequence[float],
) -> _View:
    """Apply the collapse rule; ``"auto"`` counts the boxes of each rung before building one."""
    if collapse is None or collapse == 0:
        rung = (0, False)
    elif collapse != "auto":
        rung = (collapse, False)
    elif len(graph) <= max_nodes:
        rung = (0, False)
    else:
        deepest = max((n.scope.count(".") + 1 for n in graph.nodes if n.scope), default=0)
        rungs = [(d, m) for d in range(deepest, 0, -1) for m in (False, True)]
        rung, fewest = (0, False), len(graph)
        for depth, merge_top in rungs:
            count = len(set(_group_keys(graph, depth, merge_top)))
            if count <= max_nodes:
                rung = (depth, merge_top)
                break
            if count < fewest:
                rung, fewest = (depth, merge_top), count
    keys = _group_keys(graph, *rung)
    return _view(graph, keys, rung[0], rung[1], chain, flows)


# ---------------------------------------------------------------------------------------------
# DOT text. Every user string passes through ``escape``; every number through ``fmt``; node ids
# are generated (v3, g0, r1) and attributes come in a fixed order, so the text is golden-testable.


def _natural(scope: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key that orders ``layer2`` before ``layer10``."""
    return tuple(
        (1, int(part), "") if "0" <= part[0] <= "9" else (0, 0, part)
        for part in re.split(r"([0-9]+)", scope)
        if part
    )


def _q(text: str, limit: int | None = None) -> str:
    """A double-quoted DOT string of escaped user text."""
    return f'"{escape(text, "string", limit)}"'


def _grad_colour(g: float, scale: float) -> tuple[str, str]:
    """(background, text colour) of a grad cell."""
    if g == 0 or scale == 0:
        return "#ffffff", _INK
    r = abs(g) / scale
    bucket = 0 if r < 1 / 3 else 1 if r < 2 / 3 else 2
    palette = _POSITIVE if g > 0 else _NEGATIVE
    return palette[bucket], "#ffffff" if bucket == 2 else _INK


@dataclass(frozen=True, slots=True)
class _Style:
    digits: int
    label_limit: int
    colour_flow: bool
    direction: str


def _op_text(n: Node) -> str:
    symbol = n.symbol or ""
    if n.params:
        symbol += " " + ", ".join(f"{k}={fmt(v)}" for k, v in n.params)
    return symbol


def _node_tooltip(n: Node) -> str:
    parts = [n.name, f"{n.role}"]
    if n.op is not None and n.role != "constant":
        parts.append(f"op {n.op}")
    parts.append(f"data {n.data!r}")
    parts.append(f"grad {n.grad!r}")
    if n.scope:
        parts.append(f"scope {n.scope}")
    return " · ".join(parts)


def _node_stmt(n: Node, style: _Style, grad_scale: float, chain: bool | None) -> str:
    """The DOT statement of one value node; ``chain`` is None without highlighting."""
    faded = chain is False
    d = style.digits
    name = escape(n.name, "html", style.label_limit)
    border = _CHAIN if chain else _FADED if faded else "#444444"
    width = "2" if chain else "0"

    def ink(text: str, colour: str | None = None) -> str:
        c = _FADED if faded else colour
        return f'<FONT COLOR="{c}">{text}</FONT>' if c else text

    if n.role == "constant":
        label = (
            f'<<TABLE BORDER="{width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" '
            f'COLOR="{border}"><TR><TD><FONT POINT-SIZE="9">{ink(name, "#666666")}</FONT>'
            "</TD></TR></TABLE>>"
        )
    else:
        if n.op is not None and n.role in ("operation", "output"):
            head = f"<B>{name}</B> = {escape(_op_text(n), 'html')}"
        else:
            head = f"<B>{name}</B>"
        role = _ROLE_WORDS[n.role]
        if role:
            head += f' <FONT POINT-SIZE="8">{role}</FONT>'
        bg, fg = _grad_colour(n.grad, grad_scale)
        header_bg = "#ffffff" if faded else _HEADER[n.role]
        grad_bg = "#ffffff" if faded else bg
        label = (
            f'<<TABLE BORDER="{width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
            f'COLOR="{border}">'
            f'<TR><TD COLSPAN="2" BGCOLOR="{header_bg}">{ink(head)}</TD></TR>'
            f"<TR><TD>{ink(f'data {fmt(n.data, d)}')}</TD>"
            f'<TD BGCOLOR="{grad_bg}">{ink(f"grad {fmt(n.grad, d)}", fg if fg != _INK else None)}'
            "</TD></TR></TABLE>>"
        )
    return f"{n.id} [id={n.id}, label={label}, tooltip={_q(_node_tooltip(n))}]"


def _box_stmt(item: _Item, graph: Graph, style: _Style, chain: bool | None) -> str:
    """The DOT statement of a box standing for many nodes."""
    members = [graph.nodes[i] for i in item.members]
    faded = chain is False
    colour = _CHAIN if chain else _FADED if faded else "#444444"
    params = [m for m in members if m.role == "parameter"]
    if item.kind == "group":
        scope = item.scope or ""
        title = scope.rsplit(".", 1)[-1] if scope else "top level"
        counts = f"{len(members)} values"
        if params:
            counts += f" · {len(params)} parameters"
        lines = [f"<B>{escape(title, 'html', style.label_limit)}</B>", counts]
        if params:
            top = max(abs(p.grad) for p in params)
            lines.append(f"max |grad| of parameters {fmt(top, style.digits)}")
        tooltip = f"{scope or 'values outside any module scope'}: {counts}"
    else:
        role = members[0].role
        plural = {"input": "inputs", "parameter": "parameters", "constant": "constants"}[role]
        lines = [f"<B>{len(members)} {plural}</B>"]
        names = ", ".join(m.name for m in members[:8])
        more = ", …" if len(members) > 8 else ""
        tooltip = f"{len(members)} {plural}: {names}{more}"
    body = "<BR/>".join(lines)
    if faded:
        body = f'<FONT COLOR="{_FADED}">{body}</FONT>'
    return (
        f"{item.id} [id={item.id}, label=<{body}>, tooltip={_q(tooltip)}, shape=box, "
        f'style="rounded,filled", fillcolor="#f4f4f4", color="{colour}", margin="0.12,0.06"'
        f"{', penwidth=2' if chain else ''}]"
    )


def _link_stmt(
    link: _Link,
    graph: Graph,
    singles: bool,
    flow_scale: float,
    flows: Sequence[float],
    style: _Style,
    highlight: bool,
) -> str:
    attrs: list[str] = []
    if len(link.edges) == 1:
        e = graph.edges[link.edges[0]]
        dst, src = graph.nodes[e.destination].name, graph.nodes[e.source].name
        tip = f"∂{dst}/∂{src} = {e.partial!r}; gradient flowing: {flows[link.edges[0]]!r}"
        if singles:
            attrs.append(f'label="{fmt(e.partial, style.digits)}"')
    else:
        # No label: a count on each of the many links between boxes would only widen the picture.
        tip = f"{len(link.edges)} edges; total |gradient| flowing: {link.flow!r}"
    attrs.append(f"tooltip={_q(tip)}")
    rel = link.flow / flow_scale if flow_scale else 0.0
    attrs.append(f'penwidth="{0.8 + 3.2 * rel**0.5:.2f}"')
    if link.flow == 0:
        attrs.append("style=dashed")
    if highlight:
        colour = _CHAIN if link.on_chain else _FADED
        attrs.append(f'color="{colour}", fontcolor="{colour}"')
    elif style.colour_flow and link.flow:
        net = sum(flows[k] for k in link.edges)
        colour = _POSITIVE[2] if net > 0 else _NEGATIVE[2] if net < 0 else _EDGE
        attrs.append(f'color="{colour}"')
    return f"{link.source} -> {link.destination} [{', '.join(attrs)}]"


def _to_dot(
    graph: Graph,
    view: _View,
    style: _Style,
    chain: frozenset[int] | None,
    caption: list[str],
    flows: Sequence[float],
) -> str:
    highlight = chain is not None
    singles = {it.id for it in view.items if it.kind == "node"}
    grad_scale = max(
        (abs(graph.nodes[i].grad) for it in view.items if it.kind == "node" for i in it.members),
        default=0.0,
    )
    flow_scale = max((link.flow for link in view.links), default=0.0)
    label = "<BR/>".join(escape(c, "html") for c in caption)
    out = [
        "digraph micrograd_x {",
        f'  graph [rankdir={style.direction}, nodesep="0.3", ranksep="0.45", '
        'fontname="Helvetica", fontsize="11", labelloc=b, labeljust=l'
        + (f", label=<{label}>" if caption else "")
        + "]",
        '  node [shape=plain, fontname="Helvetica", fontsize="11"]',
        f'  edge [fontname="Helvetica", fontsize="9", arrowsize="0.6", color="{_EDGE}", '
        f'fontcolor="{_INK}"]',
    ]

    # Clusters nest by scope; each cluster lists its items, then its sub-clusters, in the order
    # of their first node.
    tree: dict[tuple[str, ...], list[_Item | tuple[str, ...]]] = {(): []}
    for it in view.items:
        for k in range(len(it.clusters)):
            path = it.clusters[: k + 1]
            if path not in tree:
                tree[path] = []
                tree[path[:-1]].append(path)
        tree[it.clusters].append(it)
    counter = [0]

    def order(entry: _Item | tuple[str, ...]) -> tuple[int, Any]:
        # Module boxes and clusters in natural order of their names (neuron2 before neuron10),
        # single values in topological order after them.
        if isinstance(entry, tuple):
            return 0, _natural(entry[-1])
        if entry.kind == "group":
            return 0, _natural(entry.scope or "")
        return 1, entry.members[0]

    def emit(path: tuple[str, ...], indent: str) -> None:
        for entry in sorted(tree[path], key=order):
            if isinstance(entry, tuple):
                scope = entry[-1]
                out.append(f"{indent}subgraph cluster_{counter[0]} {{")
                counter[0] += 1
                out.append(
                    f"{indent}  graph [label=<{escape(scope.rsplit('.', 1)[-1], 'html', 40)}>, "
                    f'tooltip={_q(scope)}, style="rounded,dashed", color="#9a9a9a", '
                    'fontcolor="#555555", fontsize="10"]'
                )
                emit(entry, indent + "  ")
                out.append(f"{indent}}}")
                continue
            on: bool | None = None
            if chain is not None:
                on = any(i in chain for i in entry.members)
            if entry.kind == "node":
                n = graph.nodes[entry.members[0]]
                out.append(indent + _node_stmt(n, style, grad_scale, on))
            else:
                out.append(indent + _box_stmt(entry, graph, style, on))

    emit((), "  ")
    for link in view.links:
        both = link.source in singles and link.destination in singles
        out.append("  " + _link_stmt(link, graph, both, flow_scale, flows, style, highlight))
    out.append("}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# Running Graphviz.


def _find(program: str | os.PathLike[str]) -> str | None:
    """The path of ``program`` on PATH or beside the running interpreter, or ``None``.

    A Jupyter kernel may run a virtual environment's Python without its ``bin`` on PATH.
    """
    found = shutil.which(program)
    if found is not None:
        return found
    beside = Path(sys.executable).parent / Path(program).name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def _render(source: str, format: str, timeout: float) -> bytes:
    """Lay out and render DOT text with Graphviz's ``dot``.

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
    exe = _find(cmd[0]) or _find("graphviz-pure")
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
            "(draw(..., collapse='auto')), raise timeout=, or save the DOT source with "
            "drawing.save('graph.dot')"
        ) from None
    except graphviz.CalledProcessError as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else str(e.stderr)
        raise DrawingError(f"Graphviz's dot failed: {err.strip()}") from None
    return bytes(proc.stdout)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    write_atomic(path, data)


# ---------------------------------------------------------------------------------------------
# The drawing.


class Drawing:
    """A diagram of a computation graph: DOT text now, a picture on demand.

    Displays inline in Jupyter (SVG, or PNG with ``jupyter_format="png"``); a display never
    raises: without Graphviz it shows a one-line install hint, and :attr:`source` holds the DOT
    text. :meth:`to_svg`, :meth:`pipe` and :meth:`save` raise clear errors instead.

    Attributes:
        graph: The traced graph (every node, whatever is collapsed).
        source: The DOT text.
        explanation: The chain rule for ``wrt`` (``None`` without ``wrt``).
        caption: The caption lines under the picture.
        visible_nodes: How many boxes the picture has after collapsing.
        level: How the graph was collapsed (``"full detail"``, ``"one box per module scope at
            depth 3"``, …).
        highlighted: The ids of the highlighted boxes (on a path from ``wrt`` to the output).
        members: For each box id (``"v3"``, ``"g0"`` for a module scope, ``"r0"`` for rolled-up
            leaves), the ids of the values it stands for.
    """

    def __init__(
        self,
        graph: Graph,
        source: str,
        explanation: Explanation | None,
        caption: Sequence[str],
        view: _View,
        highlighted: frozenset[str],
        *,
        max_layout_nodes: int,
        force: bool,
        timeout: float,
        jupyter_format: Literal["svg", "png"],
    ) -> None:
        self.graph = graph
        self.source = source
        self.explanation = explanation
        self.caption = tuple(caption)
        self.visible_nodes = len(view.items)
        self.level = view.description
        self.highlighted = highlighted
        self.members: Mapping[str, tuple[str, ...]] = {
            it.id: tuple(graph.nodes[i].id for i in it.members) for it in view.items
        }
        self.max_layout_nodes = max_layout_nodes
        self.force = force
        self.timeout = timeout
        self.jupyter_format = jupyter_format
        self._cache: dict[str, bytes] = {}

    def __repr__(self) -> str:
        return (
            f"<Drawing of {len(self.graph)} values in {self.visible_nodes} boxes "
            f"({self.level}){': ' + self.caption[0] if self.caption else ''}>"
        )

    def to_dot(self) -> str:
        """The DOT text (needs no Graphviz)."""
        return self.source

    def to_json(self) -> str:
        """The traced graph as JSON (see :meth:`Graph.to_json`)."""
        return self.graph.to_json(indent=1)

    def pipe(self, format: str = "svg") -> bytes:
        """The picture in ``format`` (``"svg"``, ``"png"`` or ``"pdf"``), rendered once.

        Raises:
            ValueError: If the format is not one Graphviz renders here.
            GraphTooLargeError: If the graph is over the layout limit and ``force`` was not set.
            GraphvizNotFoundError: If Graphviz's ``dot`` is missing.
            LayoutTimeoutError: If the layout takes longer than ``timeout``.
        """
        if format not in _ENGINE_FORMATS:
            raise ValueError(
                f"Drawing.pipe: cannot render format {format!r}; expected one of "
                f"{', '.join(_ENGINE_FORMATS)}"
            )
        if self.visible_nodes > self.max_layout_nodes and not self.force:
            raise GraphTooLargeError(
                f"{self.visible_nodes} boxes after collapsing ({self.level}) is over the layout "
                f"limit of {self.max_layout_nodes}: Graphviz could take many minutes. Save the "
                "DOT source instead with drawing.save('graph.dot'), draw a smaller part of the "
                "graph, or pass force=True"
            )
        if format not in self._cache:
            self._cache[format] = _render(self.source, format, self.timeout)
        return self._cache[format]

    def to_svg(self) -> str:
        """The picture as SVG text (see :meth:`pipe` for the errors)."""
        return self.pipe("svg").decode("utf-8")

    def to_png(self) -> bytes:
        """The picture as PNG bytes (see :meth:`pipe` for the errors)."""
        return self.pipe("png")

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the drawing to exactly ``path``, in the format its suffix names.

        ``.svg``, ``.png`` and ``.pdf`` need Graphviz; ``.dot`` (or ``.gv``) writes the DOT
        text and ``.json`` the traced graph, with no Graphviz. The file is written whole or not
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
                + "; use .svg, .png, .pdf, .dot, .gv or .json, or pass format="
            )
        if fmt_ == "dot":
            data = self.source.encode("utf-8")
        elif fmt_ == "json":
            data = self.to_json().encode("utf-8")
        else:
            data = self.pipe(fmt_)
        _write_atomic(target, data)
        return target

    # -- Jupyter: these never raise ------------------------------------------------------------

    def _problem(self, format: str) -> str | None:
        """Why the picture cannot be shown inline, or ``None`` if it can."""
        try:
            data = self.pipe(format)
        except GraphvizNotFoundError:
            return f"{INSTALL_HINT}; the DOT text is in .source"
        except Exception as e:
            return f"{type(e).__name__}: {e}"
        if len(data) > _MAX_EMBED_BYTES:
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
    ) -> dict[str, Any]:
        try:
            fmt_ = self.jupyter_format
            problem = self._problem(fmt_)
            if problem is not None:
                return {"text/plain": f"{self!r}\n{problem}"}
            mime = "image/svg+xml" if fmt_ == "svg" else "image/png"
            data: str | bytes = self._cache[fmt_]
            if fmt_ == "svg":
                data = data.decode("utf-8")  # type: ignore[union-attr]
            return {mime: data, "text/plain": repr(self)}
        except Exception:
            return {"text/plain": "<Drawing: could not be displayed>"}

    def _repr_svg_(self) -> str | None:
        try:
            return None if self._problem("svg") else self._cache["svg"].decode("utf-8")
        except Exception:
            return None

    def _repr_png_(self) -> bytes | None:
        try:
            return None if self._problem("png") else self._cache["png"]
        except Exception:
            return None


def _inline(name: str, limit: int | None) -> str:
    """A name for a caption line: visible, cut to ``limit``, on one line (escaped later)."""
    return escape(name, "text", limit).replace("\n", " ")


def _check_int(name: str, value: object, low: int) -> int:
    if type(value) is not int or value < low:
        raise ValueError(f"draw: {name} must be an integer >= {low}, got {value!r}")
    return value


def draw(
    out: Value | Graph,
    wrt: Value | str | None = None,
    *,
    collapse: Collapse = "auto",
    max_nodes: int = 150,
    max_layout_nodes: int = 2000,
    force: bool = False,
    direction: str = "auto",
    colour_flow: bool = False,
    digits: int = 4,
    label_limit: int = 24,
    timeout: float = 60.0,
    jupyter_format: Literal["svg", "png"] = "svg",
) -> Drawing:
    """Draw a computation graph with the local partial derivative on every edge.

    Each box is a value: its name and op, its data and its grad (coloured by sign and size).
    Parameters, data inputs, constants and the output are styled apart. Edge widths grow with
    the gradient flowing through them (|partial × grad of the destination|); edges with no flow
    are dashed, so dead ReLUs show at a glance. Values built inside ``name_scope`` blocks are
    grouped in boxes by module; large graphs collapse to one box per module.

    Args:
        out: The output value (or an already traced graph).
        wrt: Highlight the paths from this value (or node id, such as ``"v3"``) to ``out``, fade
            the rest, and caption the chain rule: the product along each path, summed over
            paths, checked against ``wrt.grad``.
        collapse: ``"auto"``: full detail up to ``max_nodes`` boxes, else one box per module
            scope, deepest scopes first (neurons, then layers), with top-level values merged
            when still too many; an integer ``d``: one box per scope at depth ``d``;
            ``None`` or 0: full detail.
        max_nodes: The most boxes ``"auto"`` collapsing aims for (readability).
        max_layout_nodes: Above this many boxes after collapsing, no layout is attempted unless
            ``force`` is set.
        force: Lay out however large the graph is.
        direction: ``"TB"`` (inputs on top), ``"LR"``, ``"BT"`` or ``"RL"``; ``"auto"`` draws
            full detail top to bottom (readable text at notebook width) and collapsed graphs
            left to right (a layer of neuron boxes side by side would be far too wide).
        colour_flow: Colour edges by the sign of the gradient flowing through them.
        digits: Significant digits of every number shown.
        label_limit: Longer labels are cut with an ellipsis (the full text is in the tooltip).
        timeout: Seconds the layout may take.
        jupyter_format: How notebooks show the drawing: ``"svg"`` or ``"png"``.

    Returns:
        The drawing: DOT text now (:attr:`Drawing.source`), rendered when displayed or saved.

    Raises:
        TypeError: If ``out`` or ``wrt`` has the wrong type.
        KeyError: If ``wrt`` is a node id not in the graph.
        ValueError: If an option is out of range.
    """
    index: Mapping[Value, int] | None = None
    if isinstance(out, Graph):
        graph = out
    elif isinstance(out, Value):
        graph, index = _walk(out)
    else:
        raise TypeError(f"draw: expected a Value or a Graph, got {type(out).__name__} {out!r}")
    if collapse != "auto" and collapse is not None:
        _check_int("collapse", collapse, 0)
    _check_int("max_nodes", max_nodes, 1)
    _check_int("max_layout_nodes", max_layout_nodes, 1)
    _check_int("digits", digits, 1)
    _check_int("label_limit", label_limit, 2)
    if direction != "auto" and direction not in _DIRECTIONS:
        raise ValueError(
            f'draw: direction must be "auto" or one of {_DIRECTIONS}, got {direction!r}'
        )
    if jupyter_format not in ("svg", "png"):
        raise ValueError(f"draw: jupyter_format must be 'svg' or 'png', got {jupyter_format!r}")
    if not timeout > 0:
        raise ValueError(f"draw: timeout must be a positive number of seconds, got {timeout!r}")

    explanation: Explanation | None = None
    chain: frozenset[int] | None = None
    caption: list[str] = []
    if wrt is not None:
        node, stored = _locate(graph, index, wrt)
        if node is None:
            out_name = _inline(graph.nodes[graph.root].name, label_limit)
            wrt_name = _inline(wrt.label if isinstance(wrt, Value) and wrt.label else "wrt", None)
            caption.append(f"∂{out_name}/∂{wrt_name} = 0: {out_name} does not depend on {wrt_name}")
            chain = frozenset()
        else:
            explanation = _explain_graph(graph, node, stored, max_paths=16)
            chain = graph.descendants(node)
            caption.append(explanation.formula(digits, label_limit))
            wrt_name = _inline(explanation.wrt, label_limit)
            out_name = _inline(explanation.output, label_limit)
            caption.append(
                f"highlighted: the {explanation.n_paths} path"
                f"{'' if explanation.n_paths == 1 else 's'} from {wrt_name} to {out_name}"
            )
    root = graph.nodes[graph.root]
    if root.grad != 1.0:
        name = _inline(root.name, label_limit)
        caption.append(
            f"grad cells show the stored grads, and {name}.grad is {fmt(root.grad)}: "
            f"call {name}.backward() to fill them"
        )
    flows = graph.flows()
    view = _choose_view(graph, collapse, max_nodes, chain or frozenset(), flows)
    if view.depth:
        caption.append(f"{len(graph)} values drawn as {len(view.items)} boxes: {view.description}")
    caption.append(
        "edge label: local partial ∂(head)/∂(tail) · width: gradient flowing · dashed: none"
    )
    if direction == "auto":
        direction = "LR" if view.depth else "TB"
    style = _Style(digits, label_limit, colour_flow, direction)
    source = _to_dot(graph, view, style, chain, caption, flows)
    highlighted = frozenset(
        it.id for it in view.items if chain is not None and any(i in chain for i in it.members)
    )
    return Drawing(
        graph,
        source,
        explanation,
        caption,
        view,
        highlighted,
        max_layout_nodes=max_layout_nodes,
        force=force,
        timeout=timeout,
        jupyter_format=jupyter_format,
    )


def _locate(
    graph: Graph, index: Mapping[Value, int] | None, wrt: Value | str
) -> tuple[int | None, float | None]:
    """The node index of ``wrt`` (``None`` if the output does not depend on it) and its grad."""
    if isinstance(wrt, str):
        n = graph.node(wrt)
        return n.index, n.grad
    if not isinstance(wrt, Value):
        raise TypeError(f"draw: wrt must be a Value or a node id, got {type(wrt).__name__}")
    if index is None:
        raise TypeError("draw: with a traced Graph, give wrt as a node id such as 'v3'")
    g = wrt.grad
    return index.get(wrt), float(g.data) if isinstance(g, Value) else float(g)


# ---------------------------------------------------------------------------------------------
# ``python -m micrograd_x.render [PATH]``: the classic neuron, drawn with the chain to w1.


def classic_neuron() -> tuple[Value, dict[str, Value]]:
    """The seed's neuron ``o = tanh(x1*w1 + x2*w2 + b)``, built with operators, backpropagated.

    Returns:
        The output ``o`` and its values by label (``x1``, ``x2``, ``w1``, ``w2``, ``b``, ``n``).
    """
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Parameter(-3.0, label="w1"), Parameter(1.0, label="w2")
    b = Parameter(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


def main(argv: Sequence[str] | None = None) -> int:
    """Draw the classic neuron with the chain rule for ``w1`` and save it.

    Args:
        argv: ``[PATH]``, default ``neuron.svg``; the suffix picks the format.

    Returns:
        0 on success, 1 if the picture could not be made.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print(
            "usage: python -m micrograd_x.render [PATH.svg|.png|.pdf|.dot|.json]", file=sys.stderr
        )
        return 2
    o, v = classic_neuron()
    drawing = draw(o, wrt=v["w1"])
    try:
        path = drawing.save(args[0] if args else "neuron.svg")
    except (DrawingError, ValueError) as e:
        print(f"micrograd_x.render: {e}", file=sys.stderr)
        return 1
    print(drawing.caption[0])
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
