"""What a graph drawing shows, as plain data: boxes, the links between them, the level of detail.

A :class:`View` says which boxes a picture has (single values, one box per module scope, leaves
rolled up together, the part of a graph that is not shown) and which links join them, with the
gradient flowing along each. It is computed from a traced :class:`~micrograd_x.graph.Graph`
alone, so it can be tested without Graphviz; :mod:`micrograd_x.dot_text` turns it into DOT text.

Levels of detail: level 0 is every value; level ``d`` draws one box per module scope cut at
depth ``d`` (``mlp.layer1.neuron3`` at depth 2 is ``mlp.layer1``). A coarser level never has
more boxes than a finer one: in every collapsed level constants are left out (their users show
their values), leaves used only by boxes are rolled up by role, terms computed from parameters
alone (an L2 penalty) share one box, and when more than :data:`MAX_TOP_LEVEL` other values lie
outside any scope (a loss over a batch) they share one box. Imports :mod:`micrograd_x.graph`
and the standard library.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from micrograd_x.graph import Graph

__all__ = [
    "MAX_TOP_LEVEL",
    "Collapse",
    "Item",
    "Link",
    "View",
    "box_counts",
    "choose_view",
    "deepest_scope",
    "levels_within",
    "nodes_around",
    "nodes_near_output",
    "partial_view",
    "penalty_terms",
]

Collapse = Literal["auto"] | int | None
"""``"auto"``, a scope depth, or ``None``/0 for full detail."""

MAX_TOP_LEVEL = 8
"""In collapsed levels, more values than this outside any scope share one box."""

Kind = Literal["node", "group", "rollup", "hidden", "penalty"]


@dataclass(slots=True)
class Item:
    """One box of a picture.

    Attributes:
        id: The DOT id: ``v3`` for a single value (its trace id), ``g0`` for a module scope or
            the top-level values, ``r0`` for rolled-up leaves, ``h0`` for what is not shown.
        kind: ``"node"``, ``"group"``, ``"rollup"``, ``"hidden"`` or ``"penalty"`` (the
            terms computed from parameters alone, such as an L2 penalty, folded together).
        members: The indices of the values it stands for, in topological order.
        scope: The module scope of a node or group (``""`` for the top-level group).
        clusters: The scopes (outermost first) of the dashed clusters it is drawn in.
    """

    id: str
    kind: Kind
    members: list[int]
    scope: str | None
    clusters: tuple[str, ...] = ()


@dataclass(slots=True)
class Link:
    """The edges from one box to another, drawn as one arrow.

    Attributes:
        source: The tail box's id.
        destination: The head box's id.
        edges: The positions in ``graph.edges`` of the edges it stands for.
        flow: The sum of the absolute gradients flowing along them.
        net: The sum of the signed gradients flowing along them.
        on_chain: Whether one of them leaves a value on a highlighted path.
    """

    source: str
    destination: str
    edges: list[int] = field(default_factory=list)
    flow: float = 0.0
    net: float = 0.0
    on_chain: bool = False


@dataclass(slots=True)
class View:
    """The boxes and links of one picture.

    Attributes:
        items: The boxes, in topological order of their first value.
        links: The arrows.
        depth: The collapse level (0: every value is its own box).
        merged_top: Whether the values outside any scope share one box.
        partial: How a partial view was cut (``""`` for the whole graph).
    """

    items: list[Item]
    links: list[Link]
    depth: int
    merged_top: bool
    partial: str = ""

    @property
    def description(self) -> str:
        """The level of detail in words."""
        if self.partial:
            return self.partial
        if self.depth == 0:
            return "full detail"
        text = f"one box per module scope at depth {self.depth}"
        return text + ", top-level values merged" if self.merged_top else text


Key = tuple[str, ...]
"""Which box a node goes in: ``("node", id)``, ``("scope", s)``, ``("rollup", …)``, or
``("drop",)`` for a constant left out of a collapsed level."""

_DROP: Key = ("drop",)


def _prefixes(scope: str) -> tuple[str, ...]:
    parts = scope.split(".")
    return tuple(".".join(parts[: k + 1]) for k in range(len(parts)))


def deepest_scope(graph: Graph) -> int:
    """The nesting depth of the deepest module scope (0 when no value has a scope)."""
    return max((n.scope.count(".") + 1 for n in graph.nodes if n.scope), default=0)


def penalty_terms(graph: Graph) -> set[int]:
    """The values outside any scope computed from parameters (and constants) alone.

    An L2 penalty ``λ·Σp²`` is such a set; collapsed levels fold it into one box.
    """
    terms: set[int] = set()
    for n in graph.nodes:
        if n.scope is not None or n.role != "operation":
            continue
        sources = [graph.nodes[e.source] for e in graph.edges_into(n.index)]
        alone = all(s.role in ("parameter", "constant") or s.index in terms for s in sources)
        if alone and any(s.role == "parameter" or s.index in terms for s in sources):
            terms.add(n.index)
    return terms if len(terms) > 1 else set()


def _merge_top(graph: Graph, penalty: set[int]) -> bool:
    top = sum(
        1
        for n in graph.nodes
        if n.scope is None
        and n.role == "operation"
        and n.index != graph.root
        and n.index not in penalty
    )
    return top > MAX_TOP_LEVEL


def _group_keys(graph: Graph, depth: int) -> list[Key]:
    """One key per node at collapse level ``depth``; nodes with equal keys share a box."""
    root = graph.root
    if not depth:
        return [("node", n.id) for n in graph.nodes]
    penalty = penalty_terms(graph)
    merge_top = _merge_top(graph, penalty)
    cut: dict[str, Key] = {}
    keys: list[Key] = []
    for n in graph.nodes:
        scope = n.scope
        if n.role == "constant" and n.index != root:
            keys.append(_DROP)
        elif n.index in penalty:
            keys.append(("penalty",))
        elif scope is not None and n.index != root:
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


def _count(keys: Sequence[Key]) -> int:
    distinct = set(keys)
    return len(distinct) - (_DROP in distinct)


def box_counts(graph: Graph) -> dict[int, int]:
    """The number of boxes at each collapse level, from 0 (full detail) to the deepest scope."""
    return {d: _count(_group_keys(graph, d)) for d in range(deepest_scope(graph) + 1)}


def _build(
    graph: Graph,
    keys: Sequence[Key],
    chain: Collection[int],
    flows: Sequence[float],
) -> tuple[list[Item], list[Link]]:
    items: dict[Key, Item] = {}
    prefixes: dict[str, tuple[str, ...]] = {}
    n_groups = n_rollups = n_hidden = 0
    for n in graph.nodes:
        key = keys[n.index]
        if key == _DROP:
            continue
        item = items.get(key)
        if item is None:
            if key[0] == "node":
                clusters: tuple[str, ...] = ()
                if n.scope:
                    clusters = prefixes.get(n.scope) or prefixes.setdefault(
                        n.scope, _prefixes(n.scope)
                    )
                item = Item(n.id, "node", [], n.scope, clusters)
            elif key[0] == "scope":
                scope = key[1]
                clusters = _prefixes(scope)[:-1] if scope else ()
                item = Item(f"g{n_groups}", "group", [], scope, clusters)
                n_groups += 1
            elif key[0] == "hidden":
                item = Item(f"h{n_hidden}", "hidden", [], None)
                n_hidden += 1
            elif key[0] == "penalty":
                item = Item("p0", "penalty", [], None)
            else:
                item = Item(f"r{n_rollups}", "rollup", [], None)
                n_rollups += 1
            items[key] = item
        item.members.append(n.index)
    links: dict[tuple[str, str, int], Link] = {}
    for k, e in enumerate(graph.edges):
        ks, kd = keys[e.source], keys[e.destination]
        if _DROP in (ks, kd) or ks == kd:
            continue
        s, d = items[ks].id, items[kd].id
        # Between two single values every edge is drawn (x * x has two); between boxes the
        # edges merge into one link.
        pair = (s, d, k if ks[0] == kd[0] == "node" else -1)
        link = links.get(pair)
        if link is None:
            link = links[pair] = Link(s, d)
        link.edges.append(k)
        link.flow += abs(flows[k])
        link.net += flows[k]
        link.on_chain = link.on_chain or e.source in chain
    return list(items.values()), list(links.values())


def choose_view(
    graph: Graph,
    collapse: Collapse,
    budget: int,
    chain: Collection[int] = frozenset(),
    flows: Sequence[float] | None = None,
) -> View:
    """Collapse ``graph`` to a level of detail and list its boxes and links.

    Args:
        graph: The traced graph.
        collapse: ``"auto"``: full detail if the graph has at most ``budget`` values, else the
            finest level with at most ``budget`` boxes (or the coarsest level); an integer: that
            level; ``None`` or 0: full detail.
        budget: The most boxes ``"auto"`` aims for.
        chain: Node indices on a highlighted path (their links are marked).
        flows: The gradient flowing along each edge (default: ``graph.flows()``).

    Returns:
        The view.
    """
    if flows is None:
        flows = graph.flows()
    if collapse is None or collapse == 0:
        depth = 0
    elif collapse != "auto":
        depth = min(collapse, max(deepest_scope(graph), 1))
    elif len(graph) <= budget:
        depth = 0
    else:
        depth = 0
        for d in range(deepest_scope(graph), 0, -1):
            depth = d
            if _count(_group_keys(graph, d)) <= budget:
                break
    keys = _group_keys(graph, depth)
    items, links = _build(graph, keys, chain, flows)
    merged = depth > 0 and any(k == ("scope", "") for k in keys)
    return View(items, links, depth, merged)


def nodes_near_output(graph: Graph, levels: int) -> set[int]:
    """The nodes at most ``levels - 1`` edges from the output (``levels=1``: the output alone)."""
    seen = {graph.root}
    frontier = [graph.root]
    for _ in range(levels - 1):
        nxt = []
        for i in frontier:
            for e in graph.edges_into(i):
                if e.source not in seen:
                    seen.add(e.source)
                    nxt.append(e.source)
        frontier = nxt
    return seen


def levels_within(graph: Graph, budget: int, width: int = 6) -> int:
    """The most levels nearest the output whose partial view has at most ``budget`` boxes.

    At least 1 (the output alone); the boxes counted are the values kept, the constants they
    use, and the one box for the values not shown. A level of more than ``width`` values is
    not added either (side by side, they would not fit a notebook's width).
    """
    best = 1
    size = 0
    for k in range(1, len(graph) + 1):
        keep = nodes_near_output(graph, k)
        if len(keep) == size:  # the whole graph is in
            break
        if len(keep) - size > width:
            break
        size = len(keep)
        constants = {
            e.source
            for i in keep
            for e in graph.edges_into(i)
            if graph.nodes[e.source].role == "constant" and e.source not in keep
        }
        if len(keep) + len(constants) + (len(keep) < len(graph)) > budget:
            break
        best = k
    return best


def nodes_around(graph: Graph, node: int, radius: int) -> set[int]:
    """The nodes at most ``radius`` edges from ``node``, following edges either way."""
    seen = {node}
    queue = deque([(node, 0)])
    while queue:
        i, d = queue.popleft()
        if d == radius:
            continue
        nbrs = [e.source for e in graph.edges_into(i)]
        nbrs += [e.destination for e in graph.edges_from(i)]
        for j in nbrs:
            if j not in seen:
                seen.add(j)
                queue.append((j, d + 1))
    return seen


def partial_view(
    graph: Graph,
    keep: Collection[int],
    description: str,
    chain: Collection[int] = frozenset(),
    flows: Sequence[float] | None = None,
) -> View:
    """Every value in ``keep`` in full detail, and one box for all the values not shown.

    Constants used by a kept value are kept too (they are part of its op).

    Args:
        graph: The traced graph.
        keep: The indices of the values to show.
        description: How the part was chosen (shown in the caption).
        chain: Node indices on a highlighted path.
        flows: The gradient flowing along each edge (default: ``graph.flows()``).

    Returns:
        The view.
    """
    if flows is None:
        flows = graph.flows()
    shown = set(keep)
    for e in graph.edges:
        if e.destination in shown and graph.nodes[e.source].role == "constant":
            shown.add(e.source)
    keys: list[Key] = [("node", n.id) if n.index in shown else ("hidden",) for n in graph.nodes]
    items, links = _build(graph, keys, chain, flows)
    return View(items, links, 0, False, description)
