"""The explorer: how long a slider change takes on the Python side for a 200-node graph.

A slider change reruns the function (forward), a private copy's backward, the trace, the backward
schedule and every text of the new state; the layout is reused. Target: at most 50 ms. Measured
through ``Explorer.set_input`` and through the widget's message handler (which also updates its
synced traits, timed here with their JSON encoding, as a kernel would send them). Imports
micrograd_x and the standard library; the widget row needs anywidget.
"""

from __future__ import annotations

import json
import time
from typing import Any

from benchmarks._common import Row, Scale, median
from micrograd_x import Value, explore

__all__ = ["UNITS", "function", "rows"]

UNITS = 18
"""Hidden tanh units of the benchmark function: 2 inputs, 18·11 − 1 values, a tanh: 200."""


def function(x: Value, y: Value) -> Value:
    """A one-hidden-layer network of two inputs with fixed weights: 200 values in all."""
    out: Value | None = None
    for k in range(UNITS):
        h = (x * (0.1 * k - 0.8) + y * (0.5 - 0.05 * k) + 0.01 * k).tanh()
        term = h * (0.3 if k % 2 else -0.2)
        out = term if out is None else out + term
    assert out is not None
    return out.tanh()


def _time(set_value: Any, repeats: int) -> list[float]:
    samples = []
    for k in range(repeats):
        value = 0.5 + 0.001 * k  # a new value each time, as a dragged slider gives
        t0 = time.perf_counter()
        set_value(value)
        samples.append(1e3 * (time.perf_counter() - t0))
    return samples


def _slider_row(variant: str, metric: str, samples: list[float]) -> Row:
    """A slider change's timings as a row, against the 50 ms target."""
    return Row(
        "explore",
        "micrograd_x",
        variant,
        metric,
        median(samples),
        "ms",
        samples,
        note="target ≤ 50 ms",
    )


def rows(scale: Scale) -> list[Row]:
    """The explorer's figures: first layout, and a slider change (explorer and widget)."""
    repeats = max(5, 3 * scale.repeats)
    t0 = time.perf_counter()
    ex = explore(function, x=0.5, y=-1.0)
    first = 1e3 * (time.perf_counter() - t0)
    n = len(ex.graph.nodes)
    variant = f"{n} nodes"
    out = [Row("explore", "micrograd_x", variant, "first layout", first, "ms", [first])]
    out.append(
        _slider_row(variant, "slider change", _time(lambda v: ex.set_input("x", v), repeats))
    )
    try:
        widget = ex.widget
    except ImportError as e:
        skipped = f"skipped: {e}"
        out.append(
            Row("explore", "micrograd_x", variant, "widget message", None, "ms", note=skipped)
        )
        return out

    def message(v: float) -> None:
        widget._on_message(widget, {"type": "set", "name": "y", "value": v}, [])
        # What a kernel would send back: the changed traits as JSON.
        json.dumps(widget.get_state(["state", "inputs", "step", "error"]))

    out.append(_slider_row(variant, "widget message", _time(message, repeats)))
    return out
