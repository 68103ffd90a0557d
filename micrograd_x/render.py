"""Drawing the chain of partial derivatives: :func:`draw`, the entry point.

:func:`draw` traces a graph (:mod:`micrograd_x.graph`), decides what to show — every value, one
box per module scope, a part of the graph, or the network view of a graph built by ``nn``
modules (:mod:`micrograd_x.view`, :mod:`micrograd_x.network`, pure data) — and what to highlight
and caption (:mod:`micrograd_x.captions`), writes the DOT text (:mod:`micrograd_x.dot_text`,
:mod:`micrograd_x.network_dot`) and returns a :class:`~micrograd_x.drawing.Drawing`, which runs
Graphviz (:mod:`micrograd_x.layout`) when displayed or saved. The pipeline runs one way. Large
graphs are counted before any DOT is built, so a refusal is immediate.
Run ``python -m micrograd_x.render`` to draw the classic neuron.
"""

from __future__ import annotations

import difflib
import gc
import sys
from collections.abc import Mapping, Sequence
from typing import Literal

from micrograd_x._checks import integer
from micrograd_x._text import fmt, one_line
from micrograd_x.captions import chain_caption, forward_sweep, network_caption, path_colours
from micrograd_x.chainrule import Explanation, explain_graph
from micrograd_x.dot_text import DotStyle, graph_dot
from micrograd_x.drawing import Drawing
from micrograd_x.engine import Parameter, Value
from micrograd_x.graph import Graph, walk
from micrograd_x.layout import (
    INSTALL_HINT,
    DrawingError,
    GraphTooLargeError,
    GraphvizNotFoundError,
    LayoutTimeoutError,
)
from micrograd_x.network import NetworkView, network_view
from micrograd_x.network_dot import network_dot
from micrograd_x.view import (
    Collapse,
    choose_view,
    deepest_scope,
    levels_within,
    nodes_around,
    nodes_near_output,
    partial_view,
)

__all__ = [
    "INSTALL_HINT",
    "Drawing",
    "DrawingError",
    "GraphTooLargeError",
    "GraphvizNotFoundError",
    "LayoutTimeoutError",
    "classic_neuron",
    "draw",
    "draw_dot",
    "main",
]

ViewName = Literal["auto", "graph", "network"]
_DIRECTIONS = ("TB", "LR", "BT", "RL")
_OPTIONS = (
    "wrt",
    "tangents",
    "view",
    "collapse",
    "max_nodes",
    "max_layout_nodes",
    "depth",
    "around",
    "radius",
    "force",
    "direction",
    "colour_flow",
    "digits",
    "label_limit",
    "timeout",
    "jupyter_format",
)


def _check_int(name: str, value: object, low: int) -> int:
    return integer(f"draw: {name}", value, low)


def _unknown_options(options: Mapping[str, object]) -> TypeError:
    name, value = next(iter(options.items()))
    if name == "rankdir":
        return TypeError(
            f"draw() got an unexpected keyword argument 'rankdir': did you mean "
            f'direction={value!r}? ("TB", "LR", "BT" or "RL")'
        )
    close = difflib.get_close_matches(name, _OPTIONS, n=1)
    hint = f": did you mean {close[0]}=?" if close else f"; the options are {', '.join(_OPTIONS)}"
    return TypeError(f"draw() got an unexpected keyword argument {name!r}{hint}")


def _count(root: Value) -> tuple[int, bool]:
    """How many values ``root`` depends on, and whether any has a module scope (no tracing)."""
    enabled = gc.isenabled()
    gc.disable()  # the walk makes many small tuples; the collector would rescan the graph
    try:
        return _count_values(root)
    finally:
        if enabled:
            gc.enable()


def _count_values(root: Value) -> tuple[int, bool]:
    seen = {root}
    stack = [root]
    scoped = False
    add, push, pop = seen.add, stack.append, stack.pop
    while stack:
        v = pop()
        if v.scope is not None:
            scoped = True
        for p in v.parents:
            if p not in seen:
                add(p)
                push(p)
    return len(seen), scoped


def _walk_quickly(root: Value) -> tuple[Graph, dict[Value, int]]:
    """Trace ``root`` with the cyclic garbage collector paused (it rescans the growing graph)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return walk(root)
    finally:
        if enabled:
            gc.enable()


def _locate(
    graph: Graph, index: Mapping[Value, int] | None, what: Value | str, option: str
) -> tuple[int | None, float | None]:
    """The node index of a value or node id (``None`` if the output does not depend on it)."""
    if isinstance(what, str):
        n = graph.node(what)
        return n.index, n.grad
    if not isinstance(what, Value):
        raise TypeError(f"draw: {option} must be a Value or a node id, got {type(what).__name__}")
    if index is None:
        raise TypeError(f"draw: with a traced Graph, give {option} as a node id such as 'v3'")
    g = what.grad
    return index.get(what), float(g.data) if isinstance(g, Value) else float(g)


def draw(
    out: Value | Graph,
    wrt: Value | str | None = None,
    *,
    view: ViewName = "auto",
    collapse: Collapse = "auto",
    max_nodes: int = 40,
    max_layout_nodes: int = 2000,
    depth: int | None = None,
    around: Value | str | None = None,
    radius: int = 2,
    force: bool = False,
    direction: str = "auto",
    colour_flow: bool = False,
    digits: int = 4,
    label_limit: int = 24,
    timeout: float = 60.0,
    jupyter_format: Literal["svg", "png"] = "svg",
    tangents: Mapping[Value, float] | None = None,
    **options: object,
) -> Drawing:
    """Draw a computation graph: the local partial derivative on every edge, or a network.

    **Graph view.** Each box is a value: its name and op, its data and its grad (coloured by
    sign and size). Parameters, data inputs, constants and the output are styled apart. Edge
    widths grow with the gradient flowing through them (|partial × grad of the destination|);
    edges with no flow are dashed. Values built inside ``name_scope`` blocks are grouped in
    boxes by module; graphs over the box budget collapse to one box per module scope.

    **Network view** (graphs built by ``nn`` modules): columns left to right — the inputs, each
    layer, the loss — neurons in index order, one line per weight, its width the gradient of
    the loss with respect to that weight summed over the batch (log scale), its colour the sign;
    dead neurons (no gradient for any sample) dashed and counted.

    Args:
        out: The output value (or an already traced graph).
        wrt: Highlight the paths from this value (or node id, such as ``"v3"``) to ``out``, one
            colour per path, fade the rest, and caption the chain rule: the product along each
            path, summed over paths, checked against ``wrt.grad``. Implies the graph view.
        view: ``"graph"``, ``"network"``, or ``"auto"``: the network view for a graph built
            by ``nn`` modules with more than ``max_nodes`` values, else the graph view.
        collapse: Graph view: ``"auto"``: every value up to ``max_nodes`` values, else one box
            per module scope, the finest level within ``max_nodes`` boxes; an integer ``d``:
            one box per scope at depth ``d``; ``None`` or 0: every value.
        max_nodes: The box budget: the most boxes ``"auto"`` aims for (readability).
        max_layout_nodes: Above this many boxes no layout is attempted unless ``force`` is set.
        depth: Graph view of the ``depth`` levels nearest the output (1: the output alone),
            with one box for the values not shown.
        around: Graph view of the values within ``radius`` edges of this value (or node id).
        radius: See ``around``.
        force: Lay out however large the graph is.
        direction: ``"TB"`` (inputs on top), ``"LR"``, ``"BT"`` or ``"RL"``; ``"auto"`` draws
            full detail top to bottom (readable text at notebook width) and collapsed graphs
            left to right.
        colour_flow: Colour edges by the sign of the gradient flowing through them.
        digits: Significant digits of every number shown.
        label_limit: Longer labels are cut with an ellipsis (the full text is in the tooltip).
        timeout: Seconds the layout may take.
        jupyter_format: How notebooks show the drawing: ``"svg"`` or ``"png"``.
        tangents: Forward mode: seed these values with these tangents (``{x: 1.0}`` for d/dx),
            push them through the stored partials (:func:`micrograd_x.forward.push_tangents`)
            and show each value's tangent instead of its grad; edge widths are then the tangent
            flowing (partial × tangent of the input). Implies the graph view; not with ``wrt``.
        **options: Nothing else is accepted (``rankdir=`` gets a hint to use ``direction=``).

    Returns:
        The drawing: DOT text now (:attr:`Drawing.source`), rendered when displayed or saved.

    Raises:
        TypeError: If ``out``, ``wrt`` or ``around`` has the wrong type, or for an unknown
            option.
        KeyError: If ``wrt`` or ``around`` is a node id not in the graph.
        ValueError: If an option is out of range, or ``view="network"`` finds no neurons.
    """
    if options:
        raise _unknown_options(options)
    if not isinstance(out, (Graph, Value)):
        raise TypeError(f"draw: expected a Value or a Graph, got {type(out).__name__} {out!r}")
    if isinstance(collapse, str) and collapse != "auto":
        raise ValueError(
            f"draw: collapse must be 'auto', None or an integer >= 0, got {collapse!r}"
        )
    if collapse != "auto" and collapse is not None:
        _check_int("collapse", collapse, 0)
    _check_int("max_nodes", max_nodes, 1)
    _check_int("max_layout_nodes", max_layout_nodes, 1)
    _check_int("digits", digits, 1)
    _check_int("label_limit", label_limit, 2)
    _check_int("radius", radius, 0)
    if depth is not None:
        _check_int("depth", depth, 1)
    if depth is not None and around is not None:
        raise ValueError("draw: give depth= or around=, not both")
    if view not in ("auto", "graph", "network"):
        raise ValueError(f"draw: view must be 'auto', 'graph' or 'network', got {view!r}")
    if view == "network" and (
        wrt is not None or depth is not None or around is not None or tangents is not None
    ):
        raise ValueError(
            "draw: the network view has no wrt=, depth=, around= or tangents=; use view='graph'"
        )
    if tangents is not None:
        _check_tangents(out, wrt, tangents)
    if direction != "auto" and direction not in _DIRECTIONS:
        raise ValueError(
            f'draw: direction must be "auto" or one of {_DIRECTIONS}, got {direction!r}'
        )
    if jupyter_format not in ("svg", "png"):
        raise ValueError(f"draw: jupyter_format must be 'svg' or 'png', got {jupyter_format!r}")
    if not timeout > 0:
        raise ValueError(f"draw: timeout must be a positive number of seconds, got {timeout!r}")
    common = {
        "max_layout_nodes": max_layout_nodes,
        "force": force,
        "timeout": timeout,
        "jupyter_format": jupyter_format,
    }

    # Count first: a graph too large to lay out, with no scopes to collapse and no part asked
    # for, is refused before it is traced or any DOT is built.
    if isinstance(out, Value) and not force and depth is None and around is None and not tangents:
        total, scoped = _count(out)
        if total > max_layout_nodes and not scoped:
            traced: list[Graph] = []

            def graph_once(root: Value = out) -> Graph:
                if not traced:
                    traced.append(_walk_quickly(root)[0])
                return traced[0]

            style = DotStyle(
                digits, label_limit, colour_flow, "TB" if direction == "auto" else direction
            )
            return Drawing(
                graph=graph_once,
                source=lambda: _full_detail_source(graph_once(), style),
                members=lambda: {n.id: (n.id,) for n in graph_once().nodes},
                explanation=None,
                caption=(),
                visible_nodes=total,
                level="full detail: no module scopes to collapse",
                highlighted=frozenset(),
                network=None,
                **common,  # type: ignore[arg-type]
            )

    index: Mapping[Value, int] | None = None
    if isinstance(out, Graph):
        graph = out
    else:
        graph, index = _walk_quickly(out)

    partial = depth is not None or around is not None
    wants_network = view == "network" or (view == "auto" and len(graph) > max_nodes)
    if wants_network and wrt is None and tangents is None and not partial:
        net = network_view(graph)
        if net is not None:
            return _network_drawing(graph, net, digits, common)
        if view == "network":
            raise ValueError(
                "draw: view='network' found no neurons: it needs a graph built by nn "
                "modules (a scope holding parameters that feed a computation)"
            )

    explanation: Explanation | None = None
    chain: frozenset[int] | None = None
    node_colours: dict[int, tuple[str, ...]] | None = None
    edge_colours: dict[int, tuple[str, ...]] | None = None
    caption: list[str] = []
    swatches: list[str | None] = []
    if wrt is not None:
        node, stored = _locate(graph, index, wrt, "wrt")
        if node is None:
            out_name = one_line(graph.nodes[graph.root].name, "text", label_limit)
            wrt_name = one_line(wrt.label if isinstance(wrt, Value) and wrt.label else "wrt")
            caption.append(f"∂{out_name}/∂{wrt_name} = 0: {out_name} does not depend on {wrt_name}")
            chain = frozenset()
            node_colours, edge_colours = {}, {}
        else:
            explanation = explain_graph(graph, node, stored, max_paths=16)
            chain = graph.descendants(node)
            node_colours, edge_colours = path_colours(graph, explanation, chain)
            lines, marks = chain_caption(explanation, digits, label_limit)
            caption += lines
            swatches += marks
    forward: dict[int, float] | None = None
    if tangents is not None:
        assert isinstance(out, Value) and index is not None  # checked above
        forward, flows, lines = forward_sweep(graph, index, out, tangents, digits, label_limit)
        caption += lines
    else:
        flows = graph.flows()
    root_node = graph.nodes[graph.root]
    if root_node.grad != 1.0 and forward is None:
        name = one_line(root_node.name, "text", label_limit)
        caption.append(
            f"grad cells show the stored grads, and {name}.grad is {fmt(root_node.grad)}: "
            f"call {name}.backward() to fill them"
        )
    if (
        collapse == "auto"
        and wrt is None
        and not partial
        and len(graph) > max_nodes
        and deepest_scope(graph) == 0
    ):
        # A scope-less graph over the box budget: nothing to collapse by module, so draw the
        # levels nearest the output that fit (collapse=None draws every value).
        depth = levels_within(graph, max_nodes)
    if depth is not None or around is not None:
        if depth is not None:
            keep = nodes_near_output(graph, depth)
            what = f"the {depth} level{'s' if depth > 1 else ''} nearest the output"
        else:
            assert around is not None
            centre, _ = _locate(graph, index, around, "around")
            if centre is None:
                raise ValueError("draw: the output does not depend on the value given as around=")
            keep = nodes_around(graph, centre, radius)
            name = one_line(graph.nodes[centre].name, "text", label_limit)
            what = f"the values within {radius} edge{'s' if radius != 1 else ''} of {name}"
        v = partial_view(graph, keep, what, chain or frozenset(), flows)
        caption.append(f"{len(graph)} values; drawn: {what}")
        if not partial:
            caption.append(
                f"over the box budget of {max_nodes}: collapse=None draws every value, "
                "around=value draws the values near one"
            )
    else:
        v = choose_view(graph, collapse, max_nodes, chain or frozenset(), flows)
        if v.depth:
            caption.append(f"{len(graph)} values drawn as {len(v.items)} boxes: {v.description}")
        elif len(graph) > max_nodes:
            caption.append(
                f"{len(graph)} values, over the box budget of {max_nodes}: draw a part with "
                "depth= or around="
            )
    flowing = "gradient" if forward is None else "tangent"
    caption.append(
        f"edge label: local partial ∂(head)/∂(tail) · width: {flowing} flowing · dashed: none"
    )
    if direction == "auto":
        direction = "LR" if v.depth else "TB"
    style = DotStyle(digits, label_limit, colour_flow, direction)
    items = v.items
    highlighted = frozenset(
        it.id for it in items if chain is not None and any(i in chain for i in it.members)
    )
    members = {it.id: tuple(graph.nodes[i].id for i in it.members) for it in items}

    def source() -> str:
        return graph_dot(
            graph,
            v,
            style,
            caption,
            node_colours=node_colours,
            edge_colours=edge_colours,
            swatches=swatches,
            flows=flows,
            tangents=forward,
        )

    large = len(items) > max_layout_nodes and not force
    return Drawing(
        graph=graph,
        source=source if large else source(),
        members=members,
        explanation=explanation,
        caption=caption,
        visible_nodes=len(items),
        level=v.description,
        highlighted=highlighted,
        network=None,
        **common,  # type: ignore[arg-type]
    )


draw_dot = draw
"""micrograd's name for :func:`draw`."""


def _check_tangents(out: Value | Graph, wrt: object, tangents: object) -> None:
    if not isinstance(out, Value):
        raise TypeError("draw: tangents= needs the output Value, not a traced Graph")
    if wrt is not None:
        raise ValueError("draw: give wrt= (reverse mode) or tangents= (forward mode), not both")
    if not isinstance(tangents, Mapping) or not tangents:
        raise TypeError(
            f"draw: tangents must map input Values to numbers, e.g. {{x: 1.0}}, got {tangents!r}"
        )


def _full_detail_source(graph: Graph, style: DotStyle) -> str:
    """The DOT text of every value, with no highlight (for drawings refused before tracing)."""
    view = choose_view(graph, None, len(graph))
    caption = ["edge label: local partial ∂(head)/∂(tail) · width: gradient flowing · dashed: none"]
    return graph_dot(graph, view, style, caption)


def _network_drawing(
    graph: Graph, net: NetworkView, digits: int, common: Mapping[str, object]
) -> Drawing:
    caption = network_caption(graph, net, digits)
    source = network_dot(net, caption, digits)
    members = {u.id: tuple(graph.nodes[i].id for i in u.members) for u in net.units}
    return Drawing(
        graph=graph,
        source=source,
        members=members,
        explanation=None,
        caption=caption,
        visible_nodes=len(net.units),
        level="network view: one box per neuron",
        highlighted=frozenset(),
        network=net,
        **common,  # type: ignore[arg-type]
    )


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
