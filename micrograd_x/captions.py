"""What a drawing highlights and says under it: chain-rule paths, forward-mode tangents, captions.

:func:`micrograd_x.render.draw` asks here for the annotations of a picture, all pure data: the
colours of the paths from ``wrt`` to the output (:func:`path_colours`) and the chain rule written
out along them (:func:`chain_caption`), each value's tangent in forward mode and its caption
(:func:`forward_sweep`), and the caption of the network view (:func:`network_caption`).
Imports: :mod:`micrograd_x.engine`, :mod:`micrograd_x.graph`, :mod:`micrograd_x.chainrule`,
:mod:`micrograd_x.network`, :mod:`micrograd_x.forward`, :mod:`micrograd_x.dot_palette` (the path
colours) and :mod:`micrograd_x._text`.
"""

from __future__ import annotations

from collections.abc import Mapping

from micrograd_x._text import fmt, one_line
from micrograd_x.chainrule import Explanation
from micrograd_x.dot_palette import PATH_COLOURS
from micrograd_x.engine import Value
from micrograd_x.forward import push_tangents
from micrograd_x.graph import Graph
from micrograd_x.network import NetworkView

__all__ = [
    "MAX_PATH_COLOURS",
    "chain_caption",
    "forward_sweep",
    "network_caption",
    "path_colours",
]

MAX_PATH_COLOURS = len(PATH_COLOURS)
"""Up to this many paths each get a colour and a caption line; more share one colour."""


def forward_sweep(
    graph: Graph,
    index: Mapping[Value, int],
    out: Value,
    seeds: Mapping[Value, float],
    digits: int,
    label_limit: int,
) -> tuple[dict[int, float], tuple[float, ...], list[str]]:
    """Forward mode over the drawn graph: each value's tangent, what flows along each edge.

    Args:
        graph: The traced graph.
        index: The node index of each value of the graph.
        out: The output value (the graph's root).
        seeds: The seeded tangents, by input value.
        digits: Significant digits of the numbers in the caption.
        label_limit: Longer names are cut with an ellipsis.

    Returns:
        The tangents by node index, the tangent flowing along each edge (partial × tangent of
        its source) and the caption lines.

    Raises:
        ValueError: If the output does not depend on a seeded value.
    """
    for v in seeds:
        if isinstance(v, Value) and v not in index:
            name = one_line(v.label or "a value", "text", label_limit)
            raise ValueError(f"draw: the output does not depend on {name}, seeded in tangents=")
    by_value = push_tangents(out, seeds)
    tangents = {index[v]: t for v, t in by_value.items()}
    flows = tuple(e.partial * tangents[e.source] for e in graph.edges)
    seeded = ", ".join(
        f"{one_line(graph.nodes[index[v]].name, 'text', label_limit)} = {fmt(by_value[v], digits)}"
        for v in seeds
    )
    out_name = one_line(graph.nodes[graph.root].name, "text", label_limit)
    lines = [
        f"forward mode, seeded with tangent {seeded}: each value's tangent is "
        "Σ partial × tangent of its inputs",
        f"tangent of {out_name} = {fmt(tangents[graph.root], digits)}: the derivative of "
        f"{out_name} along the seeded direction",
    ]
    return tangents, flows, lines


def path_colours(
    graph: Graph, explanation: Explanation, chain: frozenset[int]
) -> tuple[dict[int, tuple[str, ...]], dict[int, tuple[str, ...]]]:
    """The colours of the nodes and edges on the highlighted paths.

    Up to :data:`MAX_PATH_COLOURS` listed paths each get their own colour; otherwise every
    value and edge on a path from ``wrt`` to the output gets the first colour.

    Args:
        graph: The traced graph.
        explanation: The chain rule from ``wrt`` to the output.
        chain: The indices of the nodes on a path from ``wrt`` to the output.

    Returns:
        The colours of each coloured node and of each coloured edge, by index.
    """
    if not explanation.complete or explanation.n_paths > MAX_PATH_COLOURS:
        one: tuple[str, ...] = (PATH_COLOURS[0],)
        nodes = dict.fromkeys(chain, one)
        edges = {k: one for k, e in enumerate(graph.edges) if e.source in chain}
        return nodes, edges
    node_c: dict[int, dict[str, None]] = {}
    edge_c: dict[int, dict[str, None]] = {}
    for p, path in enumerate(explanation.paths):
        colour = PATH_COLOURS[p]
        idx = [graph.node(i).index for i in path.ids]
        for i in idx:
            node_c.setdefault(i, {})[colour] = None
        for j, factor in enumerate(path.factors):
            dst, src = idx[j], idx[j + 1]
            for k in graph.edge_indices_into(dst):
                e = graph.edges[k]
                if e.source == src and e.index == factor.index:
                    edge_c.setdefault(k, {})[colour] = None
    return (
        {i: tuple(c) for i, c in node_c.items()},
        {k: tuple(c) for k, c in edge_c.items()},
    )


def chain_caption(
    explanation: Explanation, digits: int, label_limit: int
) -> tuple[list[str], list[str | None]]:
    """Caption lines for the chain rule, and the colour mark of each line.

    Args:
        explanation: The chain rule from ``wrt`` to the output.
        digits: Significant digits of the numbers shown.
        label_limit: Longer names are cut with an ellipsis.

    Returns:
        The lines, and for each the colour of its path (``None``: no mark).
    """
    wrt = one_line(explanation.wrt, "text", label_limit)
    out = one_line(explanation.output, "text", label_limit)
    n = explanation.n_paths
    per_path = explanation.complete and 1 < n <= MAX_PATH_COLOURS
    if not per_path:
        return [
            explanation.formula(digits, label_limit),
            f"highlighted: the {n} path{'' if n == 1 else 's'} from {wrt} to {out}",
        ], [PATH_COLOURS[0] if n else None, None]
    lines: list[str] = []
    marks: list[str | None] = []
    for k, path in enumerate(explanation.paths):
        symbols = " · ".join(f.symbol("text", label_limit) for f in path.factors) or "1"
        numbers = " × ".join(fmt(f.value, digits) for f in path.factors) or "1"
        lines.append(f"path {k + 1}: {symbols} = {numbers} = {fmt(path.product, digits)}")
        marks.append(PATH_COLOURS[k])
    products = " + ".join(fmt(p.product, digits) for p in explanation.paths)
    verdict = explanation.verdict(digits, label_limit)
    lines.append(
        f"∂{out}/∂{wrt} = sum over the {n} paths = {products} = "
        f"{fmt(explanation.gradient, digits)} {verdict}".rstrip()
    )
    marks.append(None)
    return lines, marks


def network_caption(graph: Graph, net: NetworkView, digits: int) -> list[str]:
    """The caption of the network view: the loss, the sizes, how to read lines and boxes.

    Args:
        graph: The traced graph.
        net: Its network view.
        digits: Significant digits of the loss.

    Returns:
        The caption lines.
    """
    root = graph.nodes[graph.root]
    losses = [u for u in net.units if u.kind == "loss"]
    head = f"{one_line(root.name, 'text', 24)} = {fmt(root.data, digits)}" if losses else "network"
    samples = f" on {net.samples} samples" if net.samples > 1 else ""
    neurons = net.neurons
    dead = net.dead
    caption = [
        f"{head}{samples} · {net.n_parameters} parameters · {net.n_values} values drawn "
        f"as {len(net.units)} boxes",
        "a line per weight: width |∂L/∂w| summed over the batch (log scale), "
        "orange ∂L/∂w > 0, purple < 0, dotted 0",
        "a box per neuron: its activation and the mean |∂L/∂w| of its weights",
        (
            f"dead neurons (no gradient for any sample): {len(dead)} of {len(neurons)}, dashed"
            if dead
            else f"no dead neurons: gradient reaches all {len(neurons)}"
        ),
    ]
    if root.grad != 1.0:
        name = one_line(root.name, "text", 24)
        caption.append(f"{name}.grad is {fmt(root.grad)}: call {name}.backward() first")
    return caption
