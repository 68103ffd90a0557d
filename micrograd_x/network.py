"""The network view of a graph built by ``nn`` modules, as plain data: columns of units.

:func:`network_view` finds the neurons of a traced graph from its module scopes (a neuron is a
scope that holds parameters and computes with them) and lays them out as the textbook figure of
a fully connected network: columns left to right — the inputs, each layer, the loss — units in
index order, one connection per weight, carrying the gradient of the loss with respect to that
weight summed over the batch (``w.grad``). Penalty terms on the parameters (L2) fold into one
unit; constants and the per-sample values of the loss fold into the loss unit. Pure data,
testable without Graphviz; :mod:`micrograd_x.dot_text` draws it. Imports :mod:`micrograd_x.graph`
and the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from micrograd_x.graph import Graph

__all__ = [
    "Column",
    "Connection",
    "NetworkView",
    "Unit",
    "natural_key",
    "network_view",
    "penalty_name",
]

UnitKind = Literal["input", "neuron", "penalty", "loss"]


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key that orders ``neuron2`` before ``neuron10``."""
    return tuple(
        (1, int(part), "") if "0" <= part[0] <= "9" else (0, 0, part)
        for part in re.split(r"([0-9]+)", text)
        if part
    )


@dataclass(frozen=True, slots=True)
class Unit:
    """One box of the network view.

    Attributes:
        id: The DOT id: ``c1u3`` is unit 3 of column 1 (both from 0).
        kind: ``"input"``, ``"neuron"``, ``"penalty"`` or ``"loss"``.
        name: What the box is called (``x1``, ``neuron3``, the loss's label).
        scope: A neuron's module scope (``mlp.layer1.neuron3``), else ``None``.
        activation: A neuron's activation (``relu``, ``tanh``, ``linear``), else ``None``.
        mean_grad: A neuron's mean |∂L/∂w| over its weights (each summed over the batch).
        bias_grad: A neuron's ∂L/∂b (``None`` without a bias).
        dead: Whether no gradient reaches the neuron for any sample.
        value: The value of a loss or penalty unit (``None`` for others).
        members: The indices of the values it stands for.
    """

    id: str
    kind: UnitKind
    name: str
    scope: str | None
    activation: str | None
    mean_grad: float
    bias_grad: float | None
    dead: bool
    value: float | None
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of units, drawn top to bottom in order.

    Attributes:
        title: The column heading (``inputs``, ``layer1``, ``loss``).
        units: The units.
    """

    title: str
    units: tuple[Unit, ...]


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection from one unit to another: a weight, or what flows into the loss.

    Attributes:
        kind: ``"weight"``, or ``"loss"`` for what flows into the loss unit.
        source: The tail unit's id.
        destination: The head unit's id.
        grad: The gradient it carries, summed over the batch: ``w.grad`` for a weight, the
            sum over samples of ∂L/∂(output) into the loss.
        magnitude: How much gradient it carries: ``|w.grad|`` for a weight; for a
            connection into the loss the sum over samples of |∂L/∂(output)| (per-sample
            gradients of opposite signs would cancel in the plain sum).
        weight: The weight's value (``None`` into the loss, or for a weight used twice).
        members: The indices of the weight parameters, or of the edges' sources.
    """

    kind: Literal["weight", "loss"]
    source: str
    destination: str
    grad: float
    magnitude: float
    weight: float | None
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NetworkView:
    """Columns of units and their connections.

    Attributes:
        columns: Left to right: inputs, each layer, then the loss (and the penalty).
        connections: One per weight, then the connections into the loss.
        samples: How many samples the graph computes (the batch size).
        n_values: How many values the graph has.
        n_parameters: How many parameters it has.
    """

    columns: tuple[Column, ...]
    connections: tuple[Connection, ...]
    samples: int
    n_values: int
    n_parameters: int

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit, column by column."""
        return tuple(u for c in self.columns for u in c.units)

    @property
    def neurons(self) -> tuple[Unit, ...]:
        """The neuron units."""
        return tuple(u for u in self.units if u.kind == "neuron")

    @property
    def dead(self) -> tuple[Unit, ...]:
        """The neurons no gradient reaches."""
        return tuple(u for u in self.neurons if u.dead)


def _neuron_of(graph: Graph) -> list[str | None]:
    """For each node, the neuron scope it belongs to (a parameter's scope or a scope under it)."""
    neuron_scopes = {n.scope for n in graph.nodes if n.role == "parameter" and n.scope}
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    for n in graph.nodes:
        s = n.scope
        if s is None or n.role in ("input", "constant"):
            out.append(None)
            continue
        if s not in cache:
            found = None
            parts = s.split(".")
            for k in range(len(parts), 0, -1):
                prefix = ".".join(parts[:k])
                if prefix in neuron_scopes:
                    found = prefix
                    break
            cache[s] = found
        out.append(cache[s])
    return out


def network_view(graph: Graph) -> NetworkView | None:
    """Read the network out of a graph built by ``nn`` modules.

    Args:
        graph: The traced graph (of a loss, or of a network's output).

    Returns:
        The view, or ``None`` if the graph has no neurons (no scope holds parameters that feed
        a computation).
    """
    nodes, edges = graph.nodes, graph.edges
    adj = graph.adjoints()
    neuron = _neuron_of(graph)
    ops_of: dict[str, list[int]] = {}
    for n in nodes:
        s = neuron[n.index]
        if s is not None and n.role != "parameter":
            ops_of.setdefault(s, []).append(n.index)
    if not ops_of:
        return None

    # Layers: a neuron's parent scope; in the order they compute, neurons in name order.
    layer_of = {s: s.rsplit(".", 1)[0] if "." in s else "" for s in ops_of}
    first: dict[str, int] = {}
    for s, members in ops_of.items():
        first[layer_of[s]] = min(first.get(layer_of[s], members[0]), members[0])
    layers = sorted(first, key=first.__getitem__)
    by_layer: dict[str, list[str]] = {layer: [] for layer in layers}
    for s in ops_of:
        by_layer[layer_of[s]].append(s)
    for layer in layers:
        by_layer[layer].sort(key=lambda s: natural_key(s.rsplit(".", 1)[-1]))
    column_of = {s: c + 1 for c, layer in enumerate(layers) for s in by_layer[layer]}
    position = {s: k for layer in layers for k, s in enumerate(by_layer[layer])}

    # Weights: in each node of a neuron that uses the neuron's own parameters, the k-th such
    # parameter pairs with the k-th input from outside the neuron (dot's w₁…wₙ with x₁…xₙ,
    # or w·x); a parameter left without a partner is the bias.
    pairs: dict[str, list[tuple[int, int]]] = {s: [] for s in ops_of}
    bias: dict[str, set[int]] = {s: set() for s in ops_of}
    entry: dict[str, list[int]] = {s: [] for s in ops_of}
    for s, members in ops_of.items():
        for i in members:
            params, outside = [], []
            for k in graph.edge_indices_into(i):
                e = edges[k]
                src = nodes[e.source]
                if src.role == "parameter" and neuron[e.source] == s:
                    params.append(e.source)
                elif neuron[e.source] != s or src.role in ("input", "constant"):
                    outside.append(e.source)
            if params:
                entry[s].append(i)
                pairs[s].extend(zip(params, outside))
                bias[s].update(params[len(outside) :])

    # Where each weight's input comes from: another neuron's output, or input number k.
    n_inputs = 0
    weights: dict[tuple[str, str], dict[int, None]] = {}
    for s in ops_of:
        order = sorted({w for w, _ in pairs[s]})
        rank = {w: k for k, w in enumerate(order)}
        for w, feeder in pairs[s]:
            other = neuron[feeder]
            if other is not None and other in ops_of and other != s:
                tail = f"c{column_of[other]}u{position[other]}"
            else:
                tail = f"c0u{rank[w]}"
                n_inputs = max(n_inputs, rank[w] + 1)
            weights.setdefault((tail, s), {})[w] = None

    # Outside the neurons: the values computed from the network's outputs (the loss, per
    # sample and summed), and those computed from parameters alone (a penalty).
    from_net = [False] * len(nodes)
    from_params = [False] * len(nodes)
    for n in nodes:
        i = n.index
        if neuron[i] is not None:
            from_net[i] = n.role != "parameter"
            from_params[i] = n.role == "parameter"
            continue
        for k in graph.edge_indices_into(i):
            e = edges[k]
            from_net[i] = from_net[i] or from_net[e.source]
            from_params[i] = from_params[i] or from_params[e.source]
    root = graph.root
    loss_members = [i for i in range(len(nodes)) if neuron[i] is None and from_net[i] and i != root]
    penalty = [
        i
        for i in range(len(nodes))
        if neuron[i] is None and from_params[i] and not from_net[i] and nodes[i].op is not None
    ]
    has_loss = neuron[root] is None

    def unit_id(s: str) -> str:
        return f"c{column_of[s]}u{position[s]}"

    columns: list[Column] = [
        Column(
            "inputs",
            tuple(
                Unit(f"c0u{k}", "input", f"x{k + 1}", None, None, 0.0, None, False, None, ())
                for k in range(n_inputs)
            ),
        )
    ]
    samples = 0
    for layer in layers:
        units = []
        for s in by_layer[layer]:
            members = ops_of[s]
            ws = sorted({w for w, _ in pairs[s]})
            outs = [
                i
                for i in members
                if i == root or any(neuron[e.destination] != s for e in graph.edges_from(i))
            ]
            samples = max(samples, len(outs))
            acts = {nodes[i].op or "" for i in outs}
            act = acts.pop() if len(acts) == 1 else "mixed"
            if act in ("dot", "add", "sum", ""):
                act = "linear"
            b = sorted(bias[s])
            units.append(
                Unit(
                    unit_id(s),
                    "neuron",
                    s.rsplit(".", 1)[-1],
                    s,
                    act,
                    sum(abs(adj[w]) for w in ws) / len(ws) if ws else 0.0,
                    sum(adj[i] for i in b) if b else None,
                    all(adj[i] == 0.0 for i in entry[s]),
                    None,
                    tuple(members),
                )
            )
        title = layer.rsplit(".", 1)[-1] if layer else "neurons"
        columns.append(Column(title, tuple(units)))

    connections = [
        Connection(
            "weight",
            tail,
            unit_id(s),
            sum(adj[w] for w in ws),
            abs(sum(adj[w] for w in ws)),
            nodes[next(iter(ws))].data if len(ws) == 1 else None,
            tuple(ws),
        )
        for (tail, s), ws in sorted(
            weights.items(),
            key=lambda kv: (column_of[kv[0][1]], position[kv[0][1]], _unit_order(kv[0][0])),
        )
    ]
    if has_loss:
        loss_id = f"c{len(columns)}u0"
        loss_units = [
            Unit(
                loss_id,
                "loss",
                nodes[root].name,
                None,
                None,
                0.0,
                None,
                False,
                nodes[root].data,
                tuple([*loss_members, root]),
            )
        ]
        into: dict[str, tuple[float, float, list[int]]] = {}
        loss_set = set(loss_members) | {root}
        penalty_set = set(penalty)
        for e in graph.edges:
            if e.destination not in loss_set:
                continue
            s = neuron[e.source]
            if s is not None and s in ops_of and nodes[e.source].role != "parameter":
                tail = unit_id(s)
            elif e.source in penalty_set:
                tail = f"c{len(columns)}u1"
            else:
                continue
            g, m, members = into.get(tail, (0.0, 0.0, []))
            members.append(e.source)
            flow = e.partial * adj[e.destination]
            into[tail] = (g + flow, m + abs(flow), members)
        if penalty:
            value = sum(
                nodes[i].data
                for i in set(penalty)
                if any(e.destination in loss_set for e in graph.edges_from(i))
            )
            loss_units.append(
                Unit(
                    f"c{len(columns)}u1",
                    "penalty",
                    penalty_name(graph, penalty),
                    None,
                    None,
                    0.0,
                    None,
                    False,
                    value,
                    tuple(penalty),
                )
            )
        columns.append(Column("loss", tuple(loss_units)))
        for tail in sorted(into, key=_unit_order):
            g, m, members = into[tail]
            connections.append(Connection("loss", tail, loss_id, g, m, None, tuple(members)))
    n_parameters = sum(1 for n in nodes if n.role == "parameter")
    return NetworkView(tuple(columns), tuple(connections), samples, len(nodes), n_parameters)


def _unit_order(uid: str) -> tuple[int, int]:
    c, u = uid[1:].split("u")
    return int(c), int(u)


def penalty_name(graph: Graph, members: Iterable[int]) -> str:
    """``L2 penalty`` if the terms square parameters (``p*p`` or ``p**2``), else ``penalty``."""
    for i in members:
        n = graph.nodes[i]
        if n.op == "pow" and dict(n.params).get("k") == 2:
            return "L2 penalty"
        sources = [e.source for e in graph.edges_into(i)]
        if n.op == "mul" and len(sources) == 2 and sources[0] == sources[1]:
            return "L2 penalty"
    return "penalty"
