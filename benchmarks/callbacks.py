"""What a callback costs a replayed ``fit``: none, one that never reads the model, one that reads a
weight at every step.

A replayed run keeps the parameters in one array and writes them into the ``Value``s only when a
callback first reads one (:mod:`micrograd_x.staleparams`). Each row is the per-step time of
``fit`` on ``MLP(2,[64,64,1])`` (4,417 parameters), 100 moons, hinge loss, SGD or Adam: the time
of a (1 + k)-step run minus that of a 1-step run (the capture cancels out), divided by k.
Imports the standard library, numpy (through micrograd_x) and micrograd_x; threadpoolctl when
installed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import Row, Scale, median
from benchmarks.scaling import one_thread
from micrograd_x import data, nn, optim
from micrograd_x.train import fit

__all__ = ["callback_rows"]

# Model widths, points and the k extra steps per scale.
SIZES = {"full": (64, 100, 100), "quick": (64, 100, 40), "smoke": (4, 8, 2)}


def _callbacks(model: nn.MLP, kind: str) -> list[Callable[..., Any]]:
    if kind == "none":
        return []
    if kind == "no-op":
        return [lambda rec, trainer: None]
    w = model.layers[0].neurons[0].w[0]
    seen: list[float] = []
    return [lambda rec, trainer: seen.append(w.data)]


def _run(width: int, points: int, steps: int, opt: str, kind: str) -> float:
    X, y = data.make_moons(points, noise=0.1, seed=0)
    ys = data.to_signed(y)
    model = nn.MLP(2, [width, width, 1], seed=0)
    params = model.parameters()
    o = optim.SGD(params, lr=0.05) if opt == "SGD" else optim.Adam(params, lr=0.01)
    t0 = time.perf_counter()
    fit(model, X, ys, optimizer=o, steps=steps, replay=True, callbacks=_callbacks(model, kind))
    return time.perf_counter() - t0


def callback_rows(scale: Scale) -> list[Row]:
    """Per-step time of a replayed ``fit`` with no callback, a no-op one and a reading one."""
    width, points, k = SIZES.get(scale.name, SIZES["full"])
    rows: list[Row] = []
    with one_thread() as pinned:
        for opt in ("SGD", "Adam"):
            for kind in ("none", "no-op", "reads a weight"):
                samples = [
                    (_run(width, points, 1 + k, opt, kind) - _run(width, points, 1, opt, kind))
                    / k
                    * 1e3
                    for _ in range(max(scale.repeats, 3))
                ]
                rows.append(
                    Row(
                        "callbacks",
                        "micrograd_x",
                        f"{width}×{points} {opt}, callback: {kind}",
                        "step",
                        median(samples),
                        "ms",
                        samples=samples,
                        note=pinned if (opt, kind) == ("SGD", "none") else "",
                    )
                )
    return rows
