"""Shared pieces of the benchmark suite: sizes, timing, result rows, the table and the JSON file.

Imports the standard library and numpy only.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from micrograd_x._files import write_atomic

__all__ = [
    "SCALES",
    "Row",
    "Scale",
    "environment",
    "format_table",
    "gc_state",
    "median",
    "optional_torch",
    "rows_payload",
    "timed",
    "write_json",
]


@dataclass(frozen=True)
class Scale:
    """Problem sizes for one run of the suite.

    Attributes:
        name: ``full`` (the figures quoted in the README), ``quick`` or ``smoke`` (a test run).
        repeats: Timed repeats per measurement (the median is reported).
        raw_width: Nodes per layer of the raw op graph.
        raw_depth: Layers of the raw op graph.
        chain: Nodes in the deep chain.
        demo_points: Points of the moons data set in the demo step.
        demo_sizes: Hidden sizes of the demo MLP.
        big_points: Points of the bigger case.
        big_sizes: Hidden sizes of the bigger case's MLP.
        big_steps: Replay steps over which the bigger case's memory is watched.
    """

    name: str
    repeats: int
    raw_width: int
    raw_depth: int
    chain: int
    demo_points: int
    demo_sizes: tuple[int, ...]
    big_points: int
    big_sizes: tuple[int, ...]
    big_steps: int


SCALES = {
    "full": Scale("full", 7, 1000, 200, 1_000_000, 100, (16, 16), 1000, (64, 64), 1000),
    "quick": Scale("quick", 3, 1000, 50, 100_000, 100, (16, 16), 200, (64, 64), 50),
    "smoke": Scale("smoke", 1, 20, 4, 2_000, 8, (4, 4), 8, (4, 4), 3),
}


@dataclass
class Row:
    """One measured figure.

    Attributes:
        case: The benchmark case (``raw``, ``chain``, ``demo``, ...).
        engine: ``micrograd_x``, ``micrograd``, ``torch``, ...
        variant: How it ran (``GC on``, ``replay``, ``batched``, ...).
        metric: What was measured (``fwd+bwd``, ``bytes``, ``step``, ...).
        median: The median over the repeats, in ``unit``; ``None`` when the run failed.
        unit: ``µs/node``, ``ms``, ``B/node``, ...
        samples: Every repeat's figure.
        vs_micrograd: micrograd's median over this one (same case, metric and GC state): how
            many times faster (or smaller) this row is.
        vs_torch: This median over PyTorch batched float64's (same case and metric): how many
            times slower this row is.
        note: Anything the figure needs, e.g. ``RecursionError``.
    """

    case: str
    engine: str
    variant: str
    metric: str
    median: float | None
    unit: str
    samples: list[float] = field(default_factory=list)
    vs_micrograd: float | None = None
    vs_torch: float | None = None
    note: str = ""


def median(xs: list[float]) -> float:
    """The median of a non-empty list."""
    return float(statistics.median(xs))


@contextmanager
def gc_state(enabled: bool) -> Iterator[None]:
    """Run a block with Python's cyclic garbage collector on or off, then restore it."""
    was = gc.isenabled()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Call ``fn`` once; return (seconds, its result)."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def optional_torch() -> Any:
    """The ``torch`` module, or ``None`` when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def environment() -> dict[str, Any]:
    """The machine and library versions the figures were measured with."""
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "system": platform.system(),
        "cpus": os.cpu_count(),
    }
    try:
        from importlib.metadata import version

        env["micrograd"] = version("micrograd")
    except Exception:
        env["micrograd"] = None
    torch = optional_torch()
    env["torch"] = None if torch is None else torch.__version__
    return env


def _fmt_num(x: float | None, unit: str) -> str:
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _fmt_ratio(x: float | None) -> str:
    if x is None:
        return ""
    return f"{x:,.0f}×" if x >= 100 else f"{x:.2f}×" if x < 10 else f"{x:.1f}×"


def format_table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table, one block per case."""
    head = ("case", "engine", "variant", "metric", "median", "unit", "vs micrograd", "vs torch")
    body = [
        (
            r.case,
            r.engine,
            r.variant,
            r.metric,
            _fmt_num(r.median, r.unit),
            r.unit,
            _fmt_ratio(r.vs_micrograd),
            _fmt_ratio(r.vs_torch),
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    right = {4, 6, 7}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    out = [line(head), line(tuple("-" * w for w in widths))]
    last = None
    for r, cells in zip(rows, body):
        if last is not None and r.case != last:
            out.append("")
        out.append(line(cells))
        if r.note:
            out.append(" " * (widths[0] + 2) + "↳ " + r.note)
        last = r.case
    return "\n".join(out)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def rows_payload(rows: list[Row]) -> list[dict[str, Any]]:
    """The rows as plain dicts for JSON."""
    return [asdict(r) for r in rows]
