"""DOT text of the graph view: every value a box, every edge labelled with its local partial.

:func:`graph_dot` writes a :class:`~micrograd_x.view.View` (values with their data and grad,
every edge labelled with its local partial, highlighted paths, module scopes as boxes). Every
piece of user text passes through :func:`~micrograd_x._text.escape` and every number through
:func:`~micrograd_x._text.fmt`; ids are generated and attributes come in a fixed order, so the
text is deterministic and golden-testable. The palette and the caption are shared with the
network view (:mod:`micrograd_x.dot_palette`); :func:`~micrograd_x.network_dot.network_dot` and
the palette's colours are re-exported here. Imports :mod:`micrograd_x.graph`,
:mod:`micrograd_x.view`, :mod:`micrograd_x.network`, :mod:`micrograd_x.network_dot`,
:mod:`micrograd_x.dot_palette`, :mod:`micrograd_x._text` and the standard library; never graphviz.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from micrograd_x._text import escape, fmt
from micrograd_x.dot_palette import (
    BORDER,
    EDGE,
    FADED_INK,
    FADED_LINE,
    INK,
    NEGATIVE,
    PATH_COLOURS,
    POSITIVE,
    caption_label,
    quoted,
)
from micrograd_x.graph import Graph, Node
from micrograd_x.network import natural_key, penalty_name
from micrograd_x.network_dot import network_dot
from micrograd_x.view import Item, Link, View

__all__ = [
    "FADED_INK",
    "INK",
    "NEGATIVE",
    "PATH_COLOURS",
    "POSITIVE",
    "DotStyle",
    "graph_dot",
    "network_dot",
    "op_text",
]

# Box headers: parameters light blue, the output light green (torchviz's conventions).
_HEADER = {
    "parameter": "#cfe2f3",
    "input": "#e8e8e8",
    "operation": "#ffffff",
    "output": "#d9ead3",
}
_ROLE_WORDS = {
    "parameter": "parameter",
    "input": "input",
    "constant": "constant",
    "operation": "",
    "output": "output",
}
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass(frozen=True, slots=True)
class DotStyle:
    """How a graph view is written.

    Attributes:
        digits: Significant digits of every number.
        label_limit: Longer labels are cut with an ellipsis.
        colour_flow: Colour edges by the sign of the gradient flowing.
        direction: ``rankdir``: ``"TB"``, ``"LR"``, ``"BT"`` or ``"RL"``.
    """

    digits: int = 4
    label_limit: int = 24
    colour_flow: bool = False
    direction: str = "TB"


def op_text(n: Node) -> str:
    """The op of a node as shown in its header: ``tanh``, ``×``, ``x²``, ``x^0.5``."""
    symbol = n.symbol or ""
    params = dict(n.params)
    if n.op == "pow" and set(params) == {"k"}:
        k = params["k"]
        if k == int(k) and -9 <= k <= 9:
            return "x" + str(int(k)).translate(_SUPERSCRIPT)
        return f"x^{fmt(k)}"
    if n.params:
        symbol += " " + ", ".join(f"{k}={fmt(v)}" for k, v in n.params)
    return symbol


def _grad_colour(g: float, scale: float) -> tuple[str, str]:
    """(background, text colour) of a grad cell; the text keeps 4.5:1 contrast."""
    if g == 0 or scale == 0:
        return "#ffffff", INK
    r = abs(g) / scale
    bucket = 0 if r < 1 / 3 else 1 if r < 2 / 3 else 2
    palette = POSITIVE if g > 0 else NEGATIVE
    return palette[bucket], "#ffffff" if bucket == 2 and g < 0 else INK


def _node_tooltip(n: Node) -> str:
    parts = [n.name, f"{n.role}"]
    if n.op is not None and n.role != "constant":
        parts.append(f"op {n.op}")
    parts.append(f"data {n.data!r}")
    parts.append(f"grad {n.grad!r}")
    if n.scope:
        parts.append(f"scope {n.scope}")
    return " · ".join(parts)


def _node_stmt(
    n: Node,
    style: DotStyle,
    grad_scale: float,
    on: str | None,
    faded: bool,
    tangent: float | None = None,
) -> str:
    """The DOT statement of one value; ``on`` is its path colour when highlighted.

    With a ``tangent`` (forward mode), its cell shows the tangent instead of the grad, coloured
    on the same scale (``grad_scale`` is then the largest tangent).
    """
    d = style.digits
    name = escape(n.name, "html", style.label_limit)
    border = on or (FADED_LINE if faded else BORDER)
    width = "2" if on else "0"

    def ink(text: str, colour: str | None = None) -> str:
        c = FADED_INK if faded else colour
        return f'<FONT COLOR="{c}">{text}</FONT>' if c else text

    if n.role == "constant":
        return (
            f'{n.id} [id={n.id}, label=<<TABLE BORDER="{width}" CELLBORDER="1" '
            f'CELLSPACING="0" CELLPADDING="2" COLOR="{border}"><TR><TD>'
            f'<FONT POINT-SIZE="9">{ink(name, "#555555")}</FONT></TD></TR></TABLE>>, '
            f"tooltip={quoted(_node_tooltip(n))}]"
        )
    # The header is one bold run ("n = tanh"), the role word in a cell of its own: a space
    # between two text runs relies on the viewer's font being as wide as Graphviz measured.
    title = name
    if n.op is not None and n.role in ("operation", "output"):
        title += " = " + escape(op_text(n), "html")
    head = ink(f"<B>{title}</B>")
    role = _ROLE_WORDS[n.role]
    if role:
        small = ink(f'<FONT POINT-SIZE="8">{role}</FONT>')
        head = (
            '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="4" CELLPADDING="0"><TR>'
            f'<TD ALIGN="LEFT">{head}</TD><TD ALIGN="RIGHT">{small}</TD></TR></TABLE>'
        )
    shown, word = (n.grad, "grad") if tangent is None else (tangent, "tangent")
    bg, fg = _grad_colour(shown, grad_scale)
    header_bg = "#ffffff" if faded else _HEADER[n.role]
    grad_bg = "#ffffff" if faded else bg
    grad_text = ink(f"{word} {fmt(shown, d)}", fg if fg != INK else None)
    label = (
        f'<<TABLE BORDER="{width}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3" '
        f'COLOR="{border}">'
        f'<TR><TD COLSPAN="2" BGCOLOR="{header_bg}">{head}</TD></TR>'
        f"<TR><TD>{ink(f'data {fmt(n.data, d)}')}</TD>"
        f'<TD BGCOLOR="{grad_bg}">{grad_text}</TD></TR></TABLE>>'
    )
    return f"{n.id} [id={n.id}, label={label}, tooltip={quoted(_node_tooltip(n))}]"


def _box_stmt(item: Item, graph: Graph, style: DotStyle, on: str | None, faded: bool) -> str:
    """The DOT statement of a box standing for many values."""
    members = [graph.nodes[i] for i in item.members]
    colour = on or (FADED_LINE if faded else BORDER)
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
    elif item.kind == "penalty":
        title = penalty_name(graph, item.members)
        member_set = set(item.members)
        value = sum(
            graph.nodes[i].data
            for i in item.members
            if any(e.destination not in member_set for e in graph.edges_from(i))
        )
        lines = [f"<B>{title}</B>", f"{len(members)} values", f"= {fmt(value, style.digits)}"]
        tooltip = f"{title}: {len(members)} values computed from the parameters alone"
    elif item.kind == "hidden":
        lines = [f"<B>{len(members)} more values</B>", "not shown"]
        tooltip = f"{len(members)} values outside the part drawn"
    else:
        role = members[0].role
        plural = {"input": "inputs", "parameter": "parameters", "constant": "constants"}[role]
        lines = [f"<B>{len(members)} {plural}</B>"]
        names = ", ".join(m.name for m in members[:8])
        more = ", …" if len(members) > 8 else ""
        tooltip = f"{len(members)} {plural}: {names}{more}"
    body = "<BR/>".join(lines)
    if faded:
        body = f'<FONT COLOR="{FADED_INK}">{body}</FONT>'
    dashed = ",dashed" if item.kind == "hidden" else ""
    return (
        f"{item.id} [id={item.id}, label=<{body}>, tooltip={quoted(tooltip)}, shape=box, "
        f'style="rounded,filled{dashed}", fillcolor="#f4f4f4", color="{colour}", '
        f'margin="0.12,0.06"{", penwidth=2" if on else ""}]'
    )


def _edge_label(text: str, colour: str | None) -> str:
    """An edge label on a white background, so the edge never runs through its digits."""
    inner = f'<FONT COLOR="{colour}">{text}</FONT>' if colour else text
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1" BGCOLOR="#ffffff">'
        f"<TR><TD>{inner}</TD></TR></TABLE>>"
    )


def _link_stmt(
    link: Link,
    graph: Graph,
    singles: bool,
    flow_scale: float,
    flows: Sequence[float],
    style: DotStyle,
    colours: Sequence[str] | None,
    flowing: str = "gradient",
) -> str:
    """One arrow; ``colours`` are its path colours (empty: faded; ``None``: no highlight).

    ``flowing`` names what ``flows`` holds: ``"gradient"``, or ``"tangent"`` in forward mode.
    """
    attrs: list[str] = []
    faded = colours is not None and not colours
    if len(link.edges) == 1:
        e = graph.edges[link.edges[0]]
        dst, src = graph.nodes[e.destination].name, graph.nodes[e.source].name
        tip = f"∂{dst}/∂{src} = {e.partial!r}; {flowing} flowing: {flows[link.edges[0]]!r}"
        if singles:
            # Path colours are for lines; a label stays dark (4.5:1 on its white background).
            ink = FADED_INK if faded else None
            attrs.append(f"label={_edge_label(fmt(e.partial, style.digits), ink)}")
    else:
        # No label: a count on each of the many links between boxes would only widen the picture.
        tip = f"{len(link.edges)} edges; total |{flowing}| flowing: {link.flow!r}"
    attrs.append(f"tooltip={quoted(tip)}")
    rel = link.flow / flow_scale if flow_scale else 0.0
    attrs.append(f'penwidth="{0.8 + 3.2 * rel**0.5:.2f}"')
    if link.flow == 0:
        attrs.append("style=dashed")
    if colours is not None:
        attrs.append(f'color="{":".join(colours) if colours else FADED_LINE}"')
    elif style.colour_flow and link.flow:
        colour = POSITIVE[2] if link.net > 0 else NEGATIVE[2] if link.net < 0 else EDGE
        attrs.append(f'color="{colour}"')
    return f"{link.source} -> {link.destination} [{', '.join(attrs)}]"


def graph_dot(
    graph: Graph,
    view: View,
    style: DotStyle,
    caption: Sequence[str],
    *,
    node_colours: Mapping[int, Sequence[str]] | None = None,
    edge_colours: Mapping[int, Sequence[str]] | None = None,
    swatches: Sequence[str | None] = (),
    flows: Sequence[float] | None = None,
    tangents: Mapping[int, float] | None = None,
) -> str:
    """The DOT text of a graph view.

    Args:
        graph: The traced graph.
        view: Its boxes and links.
        style: Digits, label length, edge colouring and direction.
        caption: The lines under the picture.
        node_colours: For each node index on a highlighted path, the colours of its paths;
            ``None``: no highlight (with highlighting, every other box is faded).
        edge_colours: For each edge index on a highlighted path, the colours of its paths.
        swatches: For each caption line, the colour of its ■ mark (``None``: no mark).
        flows: The gradient flowing along each edge (default: ``graph.flows()``), or in forward
            mode the tangent flowing (partial × tangent of the edge's source).
        tangents: Forward mode: each node's tangent, by node index; values show their tangent
            instead of their grad.

    Returns:
        The DOT text.
    """
    if flows is None:
        flows = graph.flows()
    singles = {it.id for it in view.items if it.kind == "node"}
    shown = [i for it in view.items if it.kind == "node" for i in it.members]
    grad_scale = max(
        (abs(graph.nodes[i].grad if tangents is None else tangents.get(i, 0.0)) for i in shown),
        default=0.0,
    )
    flow_scale = max((link.flow for link in view.links), default=0.0)
    label = caption_label(caption, swatches)
    out = [
        "digraph micrograd_x {",
        f'  graph [rankdir={style.direction}, nodesep="0.3", ranksep="0.45", '
        'fontname="Helvetica", fontsize="11", labelloc=b, labeljust=l'
        + (f", label=<{label}>" if caption else "")
        + "]",
        '  node [shape=plain, fontname="Helvetica", fontsize="11"]',
        f'  edge [fontname="Helvetica", fontsize="9", arrowsize="0.6", color="{EDGE}", '
        f'fontcolor="{INK}"]',
    ]

    highlight = node_colours is not None

    def item_colours(it: Item) -> tuple[str, ...]:
        if node_colours is None:
            return ()
        seen: dict[str, None] = {}
        for i in it.members:
            for c in node_colours.get(i, ()):
                seen[c] = None
        return tuple(seen)

    # Clusters nest by scope; each lists its boxes, then its sub-clusters, in natural order of
    # their names (neuron2 before neuron10), single values in topological order after them.
    tree: dict[tuple[str, ...], list[Item | tuple[str, ...]]] = {(): []}
    for it in view.items:
        for k in range(len(it.clusters)):
            path = it.clusters[: k + 1]
            if path not in tree:
                tree[path] = []
                tree[path[:-1]].append(path)
        tree[it.clusters].append(it)
    for entries in tree.values():
        entries.sort(key=_entry_order)
    # An explicit stack, not a recursive closure: nothing here outlives the call.
    stack: list[tuple[list[Item | tuple[str, ...]], int, str]] = [(tree[()], 0, "  ")]
    n_clusters = 0
    while stack:
        entries, pos, indent = stack.pop()
        if pos == len(entries):
            boxes = [e.id for e in entries if isinstance(e, Item) and e.kind == "group"]
            if stack and len(boxes) > 1 and len(boxes) == len(entries):
                # Sibling module boxes (the neurons of a layer) side by side in name order:
                # one rank, held in order by invisible edges.
                out.append(f"{indent}{{rank=same; {'; '.join(boxes)}}}")
                # Left to right is bottom to top in a left-to-right drawing.
                chain = " -> ".join(boxes if style.direction in ("TB", "BT") else boxes[::-1])
                out.append(f"{indent}{chain} [style=invis]")
            if stack:
                out.append(f"{indent[:-2]}}}")
            continue
        stack.append((entries, pos + 1, indent))
        entry = entries[pos]
        if isinstance(entry, tuple):
            scope = entry[-1]
            out.append(f"{indent}subgraph cluster_{n_clusters} {{")
            n_clusters += 1
            out.append(
                f"{indent}  graph [label=<{escape(scope.rsplit('.', 1)[-1], 'html', 40)}>, "
                f'tooltip={quoted(scope)}, style="rounded,dashed", color="#9a9a9a", '
                f'fontcolor="#555555", fontsize="10"]'
            )
            stack.append((tree[entry], 0, indent + "  "))
            continue
        colours = item_colours(entry)
        on = colours[0] if colours else None
        faded = highlight and not colours
        if entry.kind == "node":
            n = graph.nodes[entry.members[0]]
            t = None if tangents is None else tangents.get(n.index, 0.0)
            out.append(indent + _node_stmt(n, style, grad_scale, on, faded, t))
        else:
            out.append(indent + _box_stmt(entry, graph, style, on, faded))

    for link in view.links:
        both = link.source in singles and link.destination in singles
        link_colours: Sequence[str] | None = None
        if highlight:
            shared: dict[str, None] = {}
            for k in link.edges:
                for c in (edge_colours or {}).get(k, ()):
                    shared[c] = None
            link_colours = tuple(shared)
        flowing = "gradient" if tangents is None else "tangent"
        out.append(
            "  " + _link_stmt(link, graph, both, flow_scale, flows, style, link_colours, flowing)
        )
    out.append("}")
    return "\n".join(out) + "\n"


def _entry_order(entry: Item | tuple[str, ...]) -> tuple[int, object]:
    if isinstance(entry, tuple):
        return 0, natural_key(entry[-1])
    if entry.kind == "group":
        return 0, natural_key(entry.scope or "")
    return 1, entry.members[0]


# ---------------------------------------------------------------------------------------------
