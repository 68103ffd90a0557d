"""The raw op graph: forward and backward time per node, and bytes per node, on a wide, shallow
graph of mixed binary and unary ops, and the deep chain that micrograd's recursion cannot take.

Imports micrograd_x, numpy, micrograd and (optionally) torch.
"""

from __future__ import annotations

import gc
import operator
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks._common import Row, Scale, gc_state, median, optional_torch, timed
from micrograd_x import Value, topological_order

__all__ = ["Plan", "build", "chain_rows", "make_plan", "raw_rows"]

# The op mix: every one of these exists in micrograd 0.1.0 too.
OPS: tuple[str, ...] = ("add", "mul", "sub", "relu", "pow2", "div")


def _relu(x: Any, _y: Any) -> Any:
    return x.relu()


def _pow2(x: Any, _y: Any) -> Any:
    return x**2


# The same Python-level calls drive every engine (duck typing), so the harness costs them alike.
FNS: tuple[Callable[[Any, Any], Any], ...] = (
    operator.add,
    operator.mul,
    operator.sub,
    _relu,
    _pow2,
    operator.truediv,
)


@dataclass(frozen=True)
class Plan:
    """A pre-generated random graph: leaves, then layers of (op code, input a, input b).

    Attributes:
        leaves: The input values (layer 0).
        layers: Each layer's nodes as (op code into :data:`OPS`, index a, index b) into the
            previous layer; unary ops ignore b.
        nodes: Nodes of the whole graph: leaves, layer nodes and the adds of the final pairwise
            reduction to one root.
    """

    leaves: list[float]
    layers: list[list[tuple[int, int, int]]]
    nodes: int


def _eval(op: int, x: float, y: float) -> float | None:
    if op == 0:
        return x + y
    if op == 1:
        return x * y
    if op == 2:
        return x - y
    if op == 3:
        return x if x > 0 else 0.0
    if op == 4:
        return x * x
    return x / y if abs(y) >= 0.5 else None


def make_plan(width: int, depth: int, seed: int = 0) -> Plan:
    """Draw a random layered graph whose values all stay in [-4, 4].

    Each node applies a random op to random nodes of the previous layer; every node is some
    node's first input, so the whole graph reaches the root. The plan is simulated in
    floats while it is drawn: an op whose result would leave [-4, 4] (or a division by a number
    smaller than 0.5) becomes a relu, so no engine ever meets an overflow or a domain error.

    Args:
        width: Nodes per layer.
        depth: Number of layers.
        seed: Seed of the generator.

    Returns:
        The plan.
    """
    rng = np.random.default_rng(seed)
    vals = rng.uniform(-1.0, 1.0, width).tolist()
    leaves = list(vals)
    layers = []
    for _ in range(depth):
        codes = rng.integers(0, len(OPS), width).tolist()
        # Input a is a permutation, so every node feeds the next layer and reaches the root.
        a_idx = rng.permutation(width).tolist()
        b_idx = rng.integers(0, width, width).tolist()
        layer = []
        new = []
        for op, a, b in zip(codes, a_idx, b_idx):
            v = _eval(op, vals[a], vals[b])
            if v is None or abs(v) > 4.0:
                op = 3
                v = _eval(op, vals[a], vals[b])
            assert v is not None
            layer.append((op, a, b))
            new.append(v)
        layers.append(layer)
        vals = new
    return Plan(leaves, layers, width + width * depth + (width - 1))


def build(leaf: Callable[[float], Any], plan: Plan) -> Any:
    """Build the plan's graph with an engine's leaf constructor; return the root.

    The last layer is summed by a balanced tree of adds, so the graph stays shallow enough for
    micrograd's recursive topological sort.
    """
    fns = FNS
    prev = [leaf(x) for x in plan.leaves]
    for layer in plan.layers:
        prev = [fns[op](prev[a], prev[b]) for op, a, b in layer]
    while len(prev) > 1:
        nxt = [prev[i] + prev[i + 1] for i in range(0, len(prev) - 1, 2)]
        if len(prev) % 2:
            nxt.append(prev[-1])
        prev = nxt
    return prev[0]


def _micrograd_nodes(root: Any) -> int:
    seen = {id(root)}
    stack = [root]
    while stack:
        v = stack.pop()
        for p in v._prev:
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def _graph_bytes(leaf: Callable[[float], Any], plan: Plan) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        root = build(leaf, plan)
        used = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del root
    gc.collect()
    return int(used)


def _time_engine(
    leaf: Callable[[float], Any], plan: Plan, repeats: int, gc_on: bool
) -> tuple[list[float], list[float]]:
    """Seconds of forward (build) and backward per repeat; the first, warm-up, run is dropped.

    With the GC on nothing is collected by hand: a graph left to the cyclic collector costs time
    in the following runs, as it does in a training loop. With the GC off, garbage is collected
    between runs, outside the timing.
    """
    fwd: list[float] = []
    bwd: list[float] = []
    gc.collect()
    with gc_state(gc_on):
        for r in range(repeats + 1):
            tf, root = timed(lambda: build(leaf, plan))
            tb, _ = timed(root.backward)
            root = None
            if not gc_on:
                gc.collect()
            if r:
                fwd.append(tf)
                bwd.append(tb)
    gc.collect()
    return fwd, bwd


def _engines() -> list[tuple[str, Callable[[float], Any]]]:
    import micrograd.engine

    engines: list[tuple[str, Callable[[float], Any]]] = [
        ("micrograd_x", Value),
        ("micrograd", micrograd.engine.Value),
    ]
    return engines


def raw_rows(scale: Scale, seed: int = 0) -> list[Row]:
    """Time and memory of the raw op graph for each engine, with the GC on and off."""
    plan = make_plan(scale.raw_width, scale.raw_depth, seed)
    n = plan.nodes
    rows: list[Row] = []
    us: dict[tuple[str, bool, str], float] = {}
    for gc_on in (True, False):
        for name, leaf in _engines():
            fwd, bwd = _time_engine(leaf, plan, scale.repeats, gc_on)
            tot = [f + b for f, b in zip(fwd, bwd)]
            variant = "GC on" if gc_on else "GC off"
            for metric, xs in (("forward", fwd), ("backward", bwd), ("fwd+bwd", tot)):
                per = [1e6 * x / n for x in xs]
                us[name, gc_on, metric] = median(per)
                rows.append(Row("raw", name, variant, metric, median(per), "µs/node", per))
    torch = optional_torch()
    if torch is not None:
        f64 = torch.float64

        def tleaf(x: float) -> Any:
            return torch.tensor(x, dtype=f64, requires_grad=True)

        fwd, bwd = _time_engine(tleaf, plan, max(1, scale.repeats // 2), True)
        tot = [f + b for f, b in zip(fwd, bwd)]
        for metric, xs in (("forward", fwd), ("backward", bwd), ("fwd+bwd", tot)):
            per = [1e6 * x / n for x in xs]
            us["torch", True, metric] = median(per)
            rows.append(Row("raw", "torch", "scalars, GC on", metric, median(per), "µs/node", per))
    for r in rows:
        gc_on = r.variant.endswith("GC on")
        ref = us.get(("micrograd", gc_on, r.metric))
        if ref is not None and r.median:
            r.vs_micrograd = ref / r.median
    import micrograd.engine

    ours = _graph_bytes(Value, plan)
    theirs = _graph_bytes(micrograd.engine.Value, plan)
    root = build(micrograd.engine.Value, plan)
    own = _micrograd_nodes(root)
    del root
    gc.collect()
    root2 = build(Value, plan)
    ours_nodes = len(topological_order(root2))
    del root2
    rows.append(
        Row(
            "raw",
            "micrograd_x",
            "graph",
            "memory",
            ours / n,
            "B/node",
            [ours / n],
            theirs / ours,
            note=f"{n:,} nodes ({ours_nodes:,} Values)",
        )
    )
    rows.append(
        Row(
            "raw",
            "micrograd",
            "graph",
            "memory",
            theirs / n,
            "B/node",
            [theirs / n],
            1.0,
            note=f"{theirs / own:.0f} B per micrograd Value: its − and ÷ make {own:,} Values",
        )
    )
    gc.collect()
    return rows


def _chain(leaf: Callable[[float], Any], n: int) -> Any:
    # x ← relu(x · w): a chain of n nodes (n/2 products, n/2 relus) on a shared leaf w.
    x = leaf(0.5)
    w = leaf(0.99999)
    for _ in range(n // 2):
        x = (x * w).relu()
    return x


def chain_rows(scale: Scale) -> list[Row]:
    """A chain of ``scale.chain`` nodes: forward and backward, and micrograd's RecursionError."""
    n = scale.chain
    rows: list[Row] = []
    engines: Sequence[tuple[str, Callable[[float], Any]]] = _engines()
    torch = optional_torch()
    if torch is not None:

        def tleaf(x: float) -> Any:
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

        engines = [*engines, ("torch", tleaf)]
    for name, leaf in engines:
        fwd: list[float] = []
        bwd: list[float] = []
        note = ""
        reps = 1 if name != "micrograd_x" else max(1, scale.repeats // 2)
        gc.collect()
        for _ in range(reps):
            tf, root = timed(lambda leaf=leaf: _chain(leaf, n))
            fwd.append(tf)
            try:
                tb, _ = timed(root.backward)
                bwd.append(tb)
            except RecursionError as e:
                note = f"backward: RecursionError ({e})"
            del root
            gc.collect()
        variant = "scalars" if name == "torch" else "GC on"
        rows.append(Row("chain", name, variant, "forward", 1e6 * median(fwd) / n, "µs/node"))
        rows.append(
            Row(
                "chain",
                name,
                variant,
                "backward",
                1e6 * median(bwd) / n if bwd else None,
                "µs/node",
                note=note,
            )
        )
    for r in rows:
        r.samples = [] if r.median is None else [r.median]
    return rows
