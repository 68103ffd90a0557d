"""The explorer's state: the backward pass as a schedule of chain-rule steps, and the texts to show.

:func:`schedule` replays the engine's backward pass, in the engine's own order
(:func:`micrograd_x.engine.topological_order`, root first), one node per step: the node's gradient
times each local partial, added into its inputs, written as ``a.grad += 2.014 × 1.4 = 2.819``.
:func:`state` turns it into JSON-ready data for the explorer's script, :func:`highlights` gives
each node's paths to the output as bit masks, and :func:`explain_html` the chain-rule table of
:func:`micrograd_x.chainrule.explain` as HTML. Imports the standard library and micrograd_x's
engine, graph, chainrule and text helpers.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from micrograd_x._text import fmt
from micrograd_x.chainrule import explain
from micrograd_x.engine import Value, topological_order
from micrograd_x.graph import Graph, walk

__all__ = [
    "UNREACHED",
    "Step",
    "equation_names",
    "explain_html",
    "highlights",
    "schedule",
    "state",
    "trace_values",
]

UNREACHED = "grad ?"
"""What a box shows for a gradient the backward pass has not reached yet."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the backward pass: one node passes its gradient to its inputs.

    Attributes:
        node: The node's index in the traced graph.
        grad: The node's gradient (complete when its step comes).
        lines: The step's equations, one per input, e.g. ``a.grad += 2 × 1.4 = 2.8``; the
            first step (the root's) is ``L.grad = 1``.
        updates: ``(node index, gradient so far)`` for each input, in argument order.
        edges: The indices of the edges the gradient flows along in this step.
    """

    node: int
    grad: float
    lines: tuple[str, ...]
    updates: tuple[tuple[int, float], ...]
    edges: tuple[int, ...]


def trace_values(root: Value) -> tuple[Graph, list[Value]]:
    """Trace ``root`` and list its ``Value`` objects in the trace's node order.

    Both come from one walk (:func:`micrograd_x.graph.walk`), so the ``k``-th value is node ``vk``.

    Raises:
        TypeError: If ``root`` is not a ``Value``.
    """
    graph, index = walk(root)
    return graph, list(index)


def equation_names(graph: Graph) -> list[str]:
    """A name per node for equations: its label, a constant's number, else its id.

    A label used by several nodes is followed by the node's id, as in ``x[v3]``.
    """
    names = [
        (n.label.replace("\n", " ") if n.label else fmt(n.data) if n.role == "constant" else n.id)
        for n in graph.nodes
    ]
    counts = Counter(names)
    return [
        f"{name}[{n.id}]" if counts[name] > 1 and n.role != "constant" else name
        for name, n in zip(names, graph.nodes)
    ]


def schedule(graph: Graph, values: list[Value], names: list[str]) -> tuple[Step, ...]:
    """The backward pass from the graph's root as steps, in the engine's order.

    The gradients are recomputed from the stored partials exactly as the engine adds them
    (``grad += partial × node.grad``, inputs in argument order), starting from zero, so the
    last value of each equals what ``root.backward()`` leaves in a fresh graph.

    Args:
        graph: The traced graph.
        values: Its ``Value`` objects in node order (see :func:`trace_values`).
        names: A name per node (see :func:`equation_names`).

    Returns:
        The root's step (``L.grad = 1``), then one step per op node, leaves having none.
    """
    index = {v: k for k, v in enumerate(values)}
    edge_at = {(e.destination, e.index): k for k, e in enumerate(graph.edges)}
    root = values[graph.root]
    grads: list[float | None] = [None] * len(values)
    grads[graph.root] = 1.0
    r = graph.root
    steps = [Step(r, 1.0, (f"{names[r]}.grad = 1",), ((r, 1.0),), ())]
    for v in reversed(topological_order(root)):
        i = index[v]
        parents = v.parents
        if not parents:
            continue
        g = grads[i]
        assert g is not None  # Kahn's order: every use of the node came before it
        lines = []
        updates = []
        edges = []
        for a, (p, d) in enumerate(zip(parents, v.partials)):
            j = index[p]
            old = grads[j]
            new = (0.0 if old is None else old) + float(d) * g
            grads[j] = new
            lines.append(f"{names[j]}.grad += {fmt(g)} × {fmt(float(d))} = {fmt(new)}")
            updates.append((j, new))
            edges.append(edge_at[(i, a)])
        steps.append(Step(i, g, tuple(lines), tuple(updates), tuple(edges)))
    return tuple(steps)


def _widths(graph: Graph, final: list[float]) -> list[float]:
    """Edge widths by the gradient flowing along each edge (|partial × grad of its result|).

    The square root of the flow over the largest flow, from 1 to 4.5 points; 0 for no flow.
    """
    flows = [abs(e.partial * final[e.destination]) for e in graph.edges]
    top = max(flows, default=0.0)
    return [0.0 if f == 0.0 else round(1.0 + 3.5 * math.sqrt(f / top), 2) for f in flows]


def state(graph: Graph, steps: tuple[Step, ...], names: list[str], caption: str) -> dict[str, Any]:
    """The JSON-ready state the explorer's script shows for one set of values.

    Args:
        graph: The traced graph.
        steps: Its backward schedule (see :func:`schedule`).
        names: The equation names.
        caption: A line about the whole graph (e.g. the inputs and the output's value).

    Returns:
        ``{"caption", "nodes": [{"value", "grad", "done"}], "edges": [{"partial", "width"}],
        "steps": [{"node", "title", "lines", "updates", "edges"}]}``: every text already
        formatted; ``done`` is the step after which a node's gradient is complete.
    """
    n = len(graph.nodes)
    final = [0.0] * n
    done = [0] * n
    for s, step in enumerate(steps, 1):
        for j, g in step.updates:
            final[j] = g
            done[j] = s
    widths = _widths(graph, final)
    total = len(steps)
    return {
        "caption": caption,
        "nodes": [
            {"value": f"data {fmt(node.data)}", "grad": f"grad {fmt(final[k])}", "done": done[k]}
            for k, node in enumerate(graph.nodes)
        ],
        "edges": [{"partial": fmt(e.partial, 3), "width": w} for e, w in zip(graph.edges, widths)],
        "steps": [
            {
                "node": graph.nodes[step.node].id,
                "title": f"step {s} of {total}: {_title(graph, step, names)}",
                "lines": list(step.lines),
                "updates": [[graph.nodes[j].id, f"grad {fmt(g)}"] for j, g in step.updates],
                "edges": [f"e{k}" for k in step.edges],
            }
            for s, step in enumerate(steps, 1)
        ],
    }


def _title(graph: Graph, step: Step, names: list[str]) -> str:
    name = names[step.node]
    if step.node == graph.root and not step.edges:
        return f"start at the output: d{name}/d{name} = 1"
    symbol = graph.nodes[step.node].symbol or ""
    return (
        f"{name} ({symbol}) passes its gradient {fmt(step.grad)} to its inputs, "
        "times each local partial"
    )


def _hex(mask: int, n: int) -> str:
    """Bit ``j`` of ``mask`` as bit ``j % 4`` of hex digit ``j // 4`` (a string scripts index)."""
    return "".join(f"{(mask >> (4 * q)) & 15:x}" for q in range((n + 3) // 4))


def highlights(graph: Graph) -> list[dict[str, str]]:
    """For each node, the nodes on its paths to the output (``down``) and from the inputs (``up``).

    Each set is a string of hex digits, bit ``j % 4`` of digit ``j // 4`` standing for node
    ``vj``: a script highlights a node's paths to the output with ``down``, and the paths between
    it and an input ``t`` with its ``up`` and ``t``'s ``down``.
    """
    n = len(graph.nodes)
    down = [1 << k for k in range(n)]
    up = [1 << k for k in range(n)]
    for k in range(n - 1, -1, -1):  # edges go from earlier nodes to later ones
        for e in graph.edges_from(k):
            down[k] |= down[e.destination]
    for k in range(n):
        for e in graph.edges_into(k):
            up[k] |= up[e.source]
    return [{"down": _hex(d, n), "up": _hex(u, n)} for d, u in zip(down, up)]


def explain_html(out: Value, wrt: Value, compare: bool = True, max_paths: int = 16) -> str:
    """The chain-rule table of :func:`micrograd_x.chainrule.explain` as an HTML fragment.

    Args:
        out: The output (the graph's root, or the clicked node when explaining between two).
        wrt: The value to differentiate with respect to.
        compare: Say whether the sum over paths equals ``wrt.grad`` (only when ``out`` is the
            root the gradient was computed from).
        max_paths: List at most this many paths.

    Returns:
        A formula line and a table (path, local partials, product); every text escaped.
    """
    ex = explain(out, wrt, max_paths=max_paths)
    if not compare:
        ex = dataclasses.replace(ex, grad=None)
    esc = html.escape
    parts = [f'<p class="mgx-formula">{esc(ex.formula())}</p>']
    if ex.paths:
        rows = []
        for k, p in enumerate(ex.paths, 1):
            factors = " × ".join(f"{f.symbol()} = {fmt(f.value)}" for f in p.factors)
            cells = (str(k), " ← ".join(p.nodes), factors or "(the value itself)", fmt(p.product))
            rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        more = "" if ex.complete else f" ({len(ex.paths)} listed)"
        s = "" if ex.n_paths == 1 else "s"
        parts.append(
            "<table><thead><tr><th>#</th><th>path</th><th>local partials</th><th>product</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>sum over {ex.n_paths} path{s}{esc(more)} = {esc(fmt(ex.gradient))}</p>"
        )
    return "".join(parts)
