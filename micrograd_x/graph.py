"""Tracing: a computation graph as plain data (nodes, edges labelled with local partials).

:func:`trace` walks a ``Value`` graph iteratively and returns a :class:`Graph` of frozen records
with deterministic ids (``v0, v1, …`` in topological order), which drawing, explaining and JSON
export read. Imports the standard library, :mod:`micrograd_x.engine`, :mod:`micrograd_x.ops`
and :mod:`micrograd_x._text`; never graphviz.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from micrograd_x import ops
from micrograd_x._text import fmt
from micrograd_x.engine import Parameter, Value

__all__ = ["ROLES", "Edge", "Graph", "Node", "Role", "trace", "walk"]

Role = Literal["input", "parameter", "constant", "operation", "output"]
"""What a node is: a data input, a learned parameter, a plain number, an op's result, the root."""

ROLES: tuple[Role, ...] = ("input", "parameter", "constant", "operation", "output")


@dataclass(frozen=True, slots=True)
class Node:
    """One value of a traced graph.

    Attributes:
        index: Position in the graph's topological order (inputs first, the root last).
        label: The user's name for the value, or ``None``.
        op: The name of the op that made it (``"tanh"``, ``"const"``), or ``None`` for a leaf.
        symbol: The op's symbol for diagrams (``"tanh"``, ``"×"``), or ``None``.
        params: The op's constant parameters as ``(name, value)`` pairs (e.g. ``(("k", 2),)``).
        data: The value.
        grad: The value's stored ``grad`` (its number, when ``grad`` is a graph).
        role: See :data:`Role`.
        scope: The module scope the value was built in, or ``None``.
    """

    index: int
    label: str | None
    op: str | None
    symbol: str | None
    params: tuple[tuple[str, float], ...]
    data: float
    grad: float
    role: Role
    scope: str | None

    @property
    def id(self) -> str:
        """The deterministic id, ``"v"`` followed by the index."""
        return f"v{self.index}"

    @property
    def name(self) -> str:
        """The label, or for an unlabelled node its number (a constant) or its id."""
        if self.label:
            return self.label
        if self.role == "constant":
            return fmt(self.data)
        return self.id


@dataclass(frozen=True, slots=True)
class Edge:
    """An input of an op: ``destination`` used ``source`` as its argument number ``index``.

    Attributes:
        source: The input node's index.
        destination: The index of the node computed from it.
        index: The argument position (``x * x`` has two edges, positions 0 and 1).
        partial: The local partial derivative d(destination)/d(source) along this edge.
    """

    source: int
    destination: int
    index: int
    partial: float


@dataclass(frozen=True, slots=True)
class Graph:
    """A traced computation graph: nodes in topological order and edges in argument order.

    Attributes:
        nodes: Every node the root depends on, inputs first, the root last.
        edges: One edge per op input, ordered by destination, then argument position.
        root: The root's index (always the last node).
    """

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    root: int
    _into: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    _out: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.nodes)
        if not n or self.root != n - 1:
            raise ValueError(f"Graph: the root must be the last of the {n} nodes, got {self.root}")
        into: list[list[int]] = [[] for _ in range(n)]
        out: list[list[int]] = [[] for _ in range(n)]
        for k, e in enumerate(self.edges):
            if not 0 <= e.source < e.destination < n:
                raise ValueError(
                    f"Graph: edge {k} goes from {e.source} to {e.destination}; an edge must go "
                    f"from an earlier node to a later one among {n} nodes"
                )
            into[e.destination].append(k)
            out[e.source].append(k)
        object.__setattr__(self, "_into", tuple(map(tuple, into)))
        object.__setattr__(self, "_out", tuple(map(tuple, out)))

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def edges_into(self, node: int) -> tuple[Edge, ...]:
        """The edges into ``node`` (its inputs), in argument order."""
        return tuple(self.edges[k] for k in self._into[node])

    def edge_indices_into(self, node: int) -> tuple[int, ...]:
        """The positions in :attr:`edges` of the edges into ``node``, in argument order."""
        return self._into[node]

    def edges_from(self, node: int) -> tuple[Edge, ...]:
        """The edges out of ``node`` (the ops that used it)."""
        return tuple(self.edges[k] for k in self._out[node])

    def node(self, id: str) -> Node:
        """The node with id ``id`` (``"v3"``).

        Raises:
            KeyError: If there is no such node.
        """
        if id.startswith("v") and id[1:].isdigit() and int(id[1:]) < len(self.nodes):
            return self.nodes[int(id[1:])]
        raise KeyError(f"Graph.node: no node {id!r}; ids run from 'v0' to 'v{len(self) - 1}'")

    def adjoints(self) -> tuple[float, ...]:
        """d(root)/d(node) for every node, from the edge partials alone (the chain rule).

        Each node's entry is the sum, over the paths from it to the root, of the product of the
        partials along the path, computed in one sweep in reverse topological order.
        """
        adj = [0.0] * len(self.nodes)
        adj[self.root] = 1.0
        edges = self.edges
        for i in range(self.root, -1, -1):
            a = adj[i]
            if a:
                for k in self._into[i]:
                    e = edges[k]
                    adj[e.source] += e.partial * a
        return tuple(adj)

    def flows(self) -> tuple[float, ...]:
        """The gradient flowing along each edge: its partial times d(root)/d(destination)."""
        adj = self.adjoints()
        return tuple(e.partial * adj[e.destination] for e in self.edges)

    def descendants(self, node: int) -> frozenset[int]:
        """The nodes that depend on ``node``, itself included: the nodes on its paths to the root.

        Raises:
            IndexError: If ``node`` is not a node index.
        """
        if not 0 <= node < len(self.nodes):
            raise IndexError(f"Graph.descendants: no node {node!r} among {len(self)} nodes")
        seen = {node}
        stack = [node]
        while stack:
            for k in self._out[stack.pop()]:
                d = self.edges[k].destination
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return frozenset(seen)

    def count_paths(self, node: int) -> int:
        """The number of distinct edge paths from ``node`` to the root (exact, may be huge)."""
        on = self.descendants(node)
        count = dict.fromkeys(on, 0)
        count[self.root] = 1
        for i in sorted(on, reverse=True):
            c = count[i]
            if c:
                for k in self._into[i]:
                    s = self.edges[k].source
                    if s in on:
                        count[s] += c
        return count[node]

    # -- JSON -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The graph as JSON-ready data: ``{"format", "root", "nodes", "edges"}``."""
        return {
            "format": "micrograd_x.graph/1",
            "root": self.nodes[self.root].id,
            "nodes": [
                {
                    "id": n.id,
                    "label": n.label,
                    "op": n.op,
                    "symbol": n.symbol,
                    "params": dict(n.params),
                    "data": n.data,
                    "grad": n.grad,
                    "role": n.role,
                    "scope": n.scope,
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "source": self.nodes[e.source].id,
                    "destination": self.nodes[e.destination].id,
                    "index": e.index,
                    "partial": e.partial,
                }
                for e in self.edges
            ],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The graph as JSON text (see :meth:`to_dict`); deterministic for a given graph."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Graph:
        """Rebuild a graph from :meth:`to_dict` data.

        Raises:
            TypeError: If ``data`` is not a mapping.
            ValueError: If the data is not a graph in this format.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"Graph.from_dict: expected a mapping, got {type(data).__name__}")
        if data.get("format") != "micrograd_x.graph/1":
            got = data.get("format")
            raise ValueError(f"Graph.from_dict: expected format 'micrograd_x.graph/1', got {got!r}")
        try:
            nodes = tuple(_node_from_dict(k, d) for k, d in enumerate(data["nodes"]))
            index = {n.id: n.index for n in nodes}
            edges = tuple(
                Edge(
                    index[d["source"]],
                    index[d["destination"]],
                    int(d["index"]),
                    _finite(d["partial"], "partial"),
                )
                for d in data["edges"]
            )
            root = index[data["root"]]
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValueError(f"Graph.from_dict: malformed graph data ({e!r})") from None
        return cls(nodes, edges, root)

    @classmethod
    def from_json(cls, text: str) -> Graph:
        """Rebuild a graph from :meth:`to_json` text.

        Raises:
            ValueError: If the text is not JSON of a graph in this format.
        """
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"Graph.from_json: expected a JSON object, got {type(data).__name__}")
        return cls.from_dict(data)


def _node_from_dict(k: int, d: Mapping[str, Any]) -> Node:
    if d["id"] != f"v{k}":
        raise KeyError(f"node {k} has id {d['id']!r}, expected 'v{k}'")
    if d["role"] not in ROLES:
        raise KeyError(f"node {k} has role {d['role']!r}")
    return Node(
        k,
        d["label"],
        d["op"],
        d["symbol"],
        tuple((str(p), _finite(v, "param")) for p, v in d["params"].items()),
        _finite(d["data"], "data"),
        _finite(d["grad"], "grad"),
        d["role"],
        d["scope"],
    )


def _finite(x: Any, what: str) -> float:
    """A stored number as a finite float; anything else is malformed data."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise ValueError(f"{what} {x!r} is not a finite number")
    return float(x)


def _number(x: Any) -> float:
    """A stored number as a float (a gradient or partial may be a ``Value`` graph)."""
    return float(x.data) if isinstance(x, Value) else float(x)


def _role(v: Value, is_root: bool) -> Role:
    if is_root:
        return "output"
    if v.op is ops.CONST:
        return "constant"
    if isinstance(v, Parameter):
        return "parameter"
    return "input" if v.is_leaf else "operation"


def walk(root: Value) -> tuple[Graph, dict[Value, int]]:
    """Trace ``root`` (see :func:`trace`); also return the map from each ``Value`` to its index.

    Args:
        root: The output value.

    Returns:
        The graph and, for every traced ``Value``, its node index (``graph.nodes[index]``); the
        map lists the values in node order, so ``list(index)[k]`` is node ``vk``'s value.

    Raises:
        TypeError: If ``root`` is not a ``Value``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace: expected a Value, got {type(root).__name__} {root!r}")
    # Iterative depth-first post-order, parents in argument order: the ids follow the order in
    # which the expression was written (x1, w1, x1*w1, …), whatever its depth.
    index: dict[Value, int] = {}
    order: list[Value] = []
    seen = {root}
    stack: list[tuple[Value, tuple[Value, ...], int]] = [(root, root.parents, 0)]
    while stack:
        v, parents, i = stack[-1]
        if i < len(parents):
            stack[-1] = (v, parents, i + 1)
            p = parents[i]
            if p not in seen:
                seen.add(p)
                stack.append((p, p.parents, 0))
        else:
            stack.pop()
            index[v] = len(order)
            order.append(v)
    last = len(order) - 1
    nodes: list[Node] = []
    edges: list[Edge] = []
    for k, v in enumerate(order):
        op = v.op
        nodes.append(
            Node(
                k,
                v.label,
                None if op is None else op.name,
                None if op is None else op.symbol,
                tuple((p, float(x)) for p, x in v.params.items()) if v.params else (),
                v.data,
                _number(v.grad),
                _role(v, k == last),
                v.scope,
            )
        )
        for a, (p, d) in enumerate(zip(v.parents, v.partials)):
            edges.append(Edge(index[p], k, a, _number(d)))
    return Graph(tuple(nodes), tuple(edges), last), index


def trace(root: Value) -> Graph:
    """Trace the computation graph that ``root`` depends on.

    The walk is iterative (any depth works) and deterministic: node ids ``v0, v1, …`` follow a
    depth-first post-order with inputs visited in argument order, so the root is last and
    rebuilding the same expression gives the same ids.

    Args:
        root: The output value.

    Returns:
        The graph: nodes (with roles ``input``, ``parameter``, ``constant``, ``operation`` and
        ``output`` for the root) and edges labelled with their local partials.

    Raises:
        TypeError: If ``root`` is not a ``Value``.
    """
    return walk(root)[0]
