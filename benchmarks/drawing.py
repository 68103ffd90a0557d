"""Drawing benchmarks: the demo network's picture, and refusing a graph too large to lay out.

- ``network view``: ``draw(loss, view="network")`` of the demo's hinge loss (MLP(2,[16,16,1]) on
  100 moons points at full scale): tracing, reading the network and writing DOT; then Graphviz's
  layout and SVG. The target is at most 1 s for both together.
- ``refusal``: ``draw(root)`` of a scope-less expression graph of 2×10⁵ values (full and quick
  scale), then asking for the picture, which raises ``GraphTooLargeError``. The values are
  counted before anything is traced or written, so the target is at most 0.5 s.

Imports the standard library, numpy (through the shared helpers) and micrograd_x.
"""

from __future__ import annotations

import math
import random
import time

from benchmarks._common import Row, Scale, median
from micrograd_x import Value, data, trace
from micrograd_x.nn import MLP
from micrograd_x.render import GraphTooLargeError, GraphvizNotFoundError, draw
from micrograd_x.train import make_loss_fn

__all__ = ["REFUSAL_NODES", "drawing_rows", "expression_graph"]

REFUSAL_NODES = {"full": 200_000, "quick": 200_000, "smoke": 5_000}
"""How many values the refused expression graph has, per scale."""


def expression_graph(n: int, seed: int = 0) -> Value:
    """A scope-less graph of ``n`` values or slightly more: mixed ops over 100 inputs."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(100)]
    size = len(nodes)
    while size < n:
        # Each step makes two values and uses the last one, so the root depends on every value.
        a, b = nodes[-1], nodes[rng.randrange(len(nodes))]
        nodes.append((a * b).tanh() if rng.random() < 0.5 else (a + b).sin())
        size += 2
    return nodes[-1]


def _demo_loss(scale: Scale) -> Value:
    X, labels = data.make_moons(scale.demo_points, noise=0.1, seed=0)
    model = MLP(2, [*scale.demo_sizes, 1], seed=0)
    loss, _ = make_loss_fn("hinge")(model, X.tolist(), list(data.to_signed(labels)))
    model.zero_grad()
    loss.backward()
    loss.label = "hinge loss"
    return loss


def drawing_rows(scale: Scale) -> list[Row]:
    """Measure the network view and the refusal."""
    rows: list[Row] = []
    loss = _demo_loss(scale)
    t_draw: list[float] = []
    t_svg: list[float] = []
    note = ""
    for _ in range(scale.repeats):
        t0 = time.perf_counter()
        drawing = draw(loss, view="network")
        t1 = time.perf_counter()
        t_draw.append(t1 - t0)
        try:
            drawing.to_svg()
            t_svg.append(time.perf_counter() - t1)
        except GraphvizNotFoundError:
            note = "Graphviz's dot is not installed"
        note = note or f"{len(drawing.graph):,} values → {drawing.visible_nodes} boxes"
    total = [a + b for a, b in zip(t_draw, t_svg)]
    rows.append(
        Row("drawing", "micrograd_x", "network view", "draw", 1e3 * median(t_draw), "ms", note=note)
    )
    rows.append(
        Row(
            "drawing",
            "micrograd_x",
            "network view",
            "draw + SVG",
            1e3 * median(total) if total else None,
            "ms",
            note="target ≤ 1000 ms",
        )
    )

    root = expression_graph(REFUSAL_NODES.get(scale.name, 200_000))
    n = len(trace(root))
    t_refuse: list[float] = []
    for _ in range(scale.repeats):
        t0 = time.perf_counter()
        d = draw(root)
        try:
            d.to_svg()
        except GraphTooLargeError:
            pass
        else:  # pragma: no cover - the graph is always over the limit
            raise AssertionError("the expression graph was laid out")
        t_refuse.append(time.perf_counter() - t0)
    rows.append(
        Row(
            "drawing",
            "micrograd_x",
            f"{n:,} values, no scopes",
            "refusal",
            1e3 * median(t_refuse),
            "ms",
            note="target ≤ 500 ms",
        )
    )
    for row in rows:
        row.samples = [] if row.median is None or math.isnan(row.median) else [row.median]
    return rows
