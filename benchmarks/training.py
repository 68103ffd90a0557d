"""Training-step benchmarks: micrograd's demo step (eager and replay), a bigger MLP with memory
watched across replay steps, and the render time of a collapsed MLP graph.

Imports micrograd_x, numpy, micrograd and (optionally) torch.
"""

from __future__ import annotations

import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from benchmarks._common import Row, Scale, gc_state, median, optional_torch
from benchmarks.scaling import one_thread, torch_sgd, torch_step
from micrograd_x import zero_grad
from micrograd_x.data import make_moons, to_signed
from micrograd_x.nn import MLP
from micrograd_x.replay import capture
from micrograd_x.train import make_loss_fn

__all__ = ["big_rows", "demo_rows", "render_rows"]

L2 = 1e-4


def _data(n: int, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    ds = make_moons(n, 0.1, seed=seed)
    return ds.X.tolist(), to_signed(ds.y).tolist()


def _lr(k: int) -> float:
    # micrograd's demo schedule.
    return 1.0 - 0.9 * (k % 100) / 100


# -- the engines' training steps ------------------------------------------------------------------


def _weights(model: MLP) -> list[tuple[list[list[float]], list[float]]]:
    """Each layer's weight rows and biases, to give every engine the same starting point."""
    return [
        ([[w.data for w in n.w] for n in layer.neurons], [float(n.b.data) for n in layer.neurons])  # type: ignore[union-attr]
        for layer in model.layers
    ]


def _micrograd_step(sizes: list[int], weights: Any, X: Any, y: Any) -> Callable[[int], float]:
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP

    model = MMLP(sizes[0], sizes[1:])  # its own random init is overwritten below
    for layer, (rows, biases) in zip(model.layers, weights):
        for neuron, row, b in zip(layer.neurons, rows, biases):
            for w, v in zip(neuron.w, row):
                w.data = v
            neuron.b.data = b
    params = model.parameters()

    def step(k: int) -> float:
        # The loss of micrograd's demo notebook, as written there.
        inputs = [list(map(MValue, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = L2 * sum(p * p for p in params)
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        lr = _lr(k)
        for p in params:
            p.data -= lr * p.grad
        return float(total.data)

    return step


def _eager_step(model: MLP, X: Any, y: Any) -> Callable[[int], float]:
    loss_fn = make_loss_fn("hinge", l2=L2)
    params = model.parameters()

    def step(k: int) -> float:
        loss, _ = loss_fn(model, X, y)
        zero_grad(params)
        loss.backward()
        lr = _lr(k)
        for p in params:
            p.data -= lr * p.grad  # type: ignore[operator]
        return loss.data

    return step


def _replay_step(model: MLP, X: Any, y: Any) -> tuple[Callable[[int], float], float]:
    loss_fn = make_loss_fn("hinge", l2=L2)
    params = model.parameters()
    t0 = time.perf_counter()
    r = capture(lambda: loss_fn(model, X, y)[0], params, check=0, keep_graph=False)
    took = time.perf_counter() - t0

    def step(k: int) -> float:
        zero_grad(params)
        loss = r.step()
        lr = _lr(k)
        for p in params:
            p.data -= lr * p.grad  # type: ignore[operator]
        return loss

    return step, took


def _torch_batched(sizes: list[int], weights: Any, X: Any, y: Any) -> Callable[[int], float]:
    step = torch_step(weights, X, y)
    assert step is not None
    return step


def _torch_scalars(sizes: list[int], weights: Any, X: Any, y: Any) -> Callable[[int], float]:
    torch = optional_torch()
    assert torch is not None
    f64 = torch.float64

    def t(x: float) -> Any:
        return torch.tensor(x, dtype=f64, requires_grad=True)

    layers = [([[t(w) for w in row] for row in rows], [t(b) for b in bs]) for rows, bs in weights]
    params = [p for rows, bs in layers for row in rows for p in row] + [
        b for _, bs in layers for b in bs
    ]
    last = len(layers) - 1

    def step(k: int) -> float:
        losses = []
        for row, yi in zip(X, y):
            h = [torch.tensor(v, dtype=f64) for v in row]
            for i, (rows, bs) in enumerate(layers):
                out = []
                for wrow, b in zip(rows, bs):
                    a = b
                    for w, xi in zip(wrow, h):
                        a = a + w * xi
                    out.append(a.relu() if i < last else a)
                h = out
            losses.append((1.0 - yi * h[0]).relu())
        total = sum(losses) * (1.0 / len(losses)) + L2 * sum(p * p for p in params)
        return torch_sgd(torch, params, total, k)

    return step


def _time_steps(step: Callable[[int], float], n: int, warmup: int = 1) -> list[float]:
    for k in range(warmup):
        step(k)
    out = []
    for k in range(warmup, warmup + n):
        t0 = time.perf_counter()
        step(k)
        out.append(time.perf_counter() - t0)
    return out


def _ms(xs: list[float]) -> list[float]:
    return [1e3 * x for x in xs]


# -- the demo step --------------------------------------------------------------------------------


def demo_rows(scale: Scale) -> list[Row]:
    """micrograd's demo step: MLP(2,[16,16,1]) on 100 moons, hinge loss + 1e-4 L2."""
    X, y = _data(scale.demo_points)
    sizes = [2, *scale.demo_sizes, 1]
    weights = _weights(MLP(2, sizes[1:], seed=0))
    slow = max(2, scale.repeats)  # steps of the slow engines (each ~1 s for micrograd)
    fast = 50 * scale.repeats
    rows: list[Row] = []
    case = "demo"
    for gc_on in (True, False):
        variant = "GC on" if gc_on else "GC off"
        with gc_state(gc_on):
            gc.collect()
            ms = _ms(_time_steps(_micrograd_step(sizes, weights, X, y), slow))
            rows.append(Row(case, "micrograd", variant, "step", median(ms), "ms", ms))
            gc.collect()
            ms = _ms(_time_steps(_eager_step(MLP(2, sizes[1:], seed=0), X, y), slow + 2))
            rows.append(Row(case, "micrograd_x", f"eager, {variant}", "step", median(ms), "ms", ms))
            gc.collect()
            step, took = _replay_step(MLP(2, sizes[1:], seed=0), X, y)
            ms = _ms(_time_steps(step, fast, warmup=5))
            rows.append(
                Row(
                    case,
                    "micrograd_x",
                    f"replay, {variant}",
                    "step",
                    median(ms),
                    "ms",
                    ms,
                    note=f"capture (once): {1e3 * took:.0f} ms" if gc_on else "",
                )
            )
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(1)
        gc.collect()
        ms = _ms(_time_steps(_torch_scalars(sizes, weights, X, y), max(1, slow // 2)))
        rows.append(Row(case, "torch", "scalars, float64", "step", median(ms), "ms", ms))
        ms = _ms(_time_steps(_torch_batched(sizes, weights, X, y), fast, warmup=20))
        rows.append(Row(case, "torch", "batched, float64", "step", median(ms), "ms", ms))
    _ratios(rows)
    return rows


def _ratios(rows: list[Row]) -> None:
    ref = {r.variant.split(", ")[-1]: r.median for r in rows if r.engine == "micrograd"}
    tb = next((r.median for r in rows if r.variant.startswith("batched")), None)
    for r in rows:
        base = ref.get(r.variant.split(", ")[-1], ref.get("GC on"))
        if base and r.median:
            r.vs_micrograd = base / r.median
        if tb and r.median:
            r.vs_torch = r.median / tb


# -- the bigger case ------------------------------------------------------------------------------


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):  # not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_rows(scale: Scale) -> list[Row]:
    """MLP(2,[64,64,1]) on 1,000 points: replay steps, memory across them, and the others.

    BLAS and PyTorch run on one thread, as in the ``table`` case: on a shared machine, BLAS
    threads waiting for a busy core make a step's time swing by several times.
    """
    with one_thread() as pinned:
        rows = _big_rows(scale)
    if rows:
        rows[0].note += ("; " if rows[0].note else "") + pinned
    return rows


def _big_rows(scale: Scale) -> list[Row]:
    X, y = _data(scale.big_points, seed=1)
    sizes = [2, *scale.big_sizes, 1]
    weights = _weights(MLP(2, sizes[1:], seed=0))
    case = "big"
    rows: list[Row] = []
    gc.collect()
    ms = _ms(_time_steps(_eager_step(MLP(2, sizes[1:], seed=0), X, y), 1))
    rows.append(Row(case, "micrograd_x", "eager, GC on", "step", median(ms), "ms", ms))
    gc.collect()
    # micrograd needs ~700 bytes per node: on the full data set its graph would not fit in a
    # laptop's memory, so it runs on a tenth of the points and the time is scaled up.
    part = max(2, len(X) // 10)
    factor = len(X) / part
    note = f"measured on {part} of the {len(X)} points, scaled ×{factor:g}"
    step_m = _micrograd_step(sizes, weights, X[:part], y[:part])
    try:
        ms = _ms(_time_steps(step_m, 1))
    except RecursionError:
        # Its L2 term sums the parameters one add at a time: a chain deeper than the default
        # recursion limit for its recursive topological sort.
        note += "; RecursionError at the default recursion limit, timed with a limit of 20,000"
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(20_000)
        try:
            ms = _ms(_time_steps(step_m, 1))
        finally:
            sys.setrecursionlimit(old)
    ms = [m * factor for m in ms]
    rows.append(
        Row(
            case,
            "micrograd",
            "GC on",
            "step",
            median(ms),
            "ms",
            ms,
            note=note,
        )
    )
    gc.collect()
    model = MLP(2, sizes[1:], seed=0)
    step, took = _replay_step(model, X, y)
    for k in range(3):
        step(k)
    gc.collect()
    rss0 = _rss_mb()
    times = []
    losses = []
    for k in range(scale.big_steps):
        t0 = time.perf_counter()
        losses.append(step(k))
        times.append(time.perf_counter() - t0)
    rss1 = _rss_mb()
    # Then Python's own allocations over more steps (tracemalloc slows them, so not timed).
    # The first traced steps replace arrays allocated before tracing began: not growth.
    window = min(100, scale.big_steps)
    tracemalloc.start()
    for k in range(3):
        step(k)
    traced0 = tracemalloc.get_traced_memory()[0]
    for k in range(window):
        step(k)
    traced1, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ms = _ms(times)
    rows.append(
        Row(
            case,
            "micrograd_x",
            "replay, GC on",
            "step",
            median(ms),
            "ms",
            ms,
            note=f"capture (once): {took:.1f} s; loss {losses[0]:.4f} → {losses[-1]:.4f} "
            f"over {scale.big_steps} steps",
        )
    )
    rows.append(
        Row(
            case,
            "micrograd_x",
            "replay",
            f"RSS growth / {scale.big_steps} steps",
            rss1 - rss0,
            "MB",
            [rss0, rss1],
            note=f"RSS {rss0:.0f} → {rss1:.0f} MB; traced heap over {window} more steps "
            f"{traced0 / 1e6:.2f} → {traced1 / 1e6:.2f} MB (peak {peak / 1e6:.1f} MB)",
        )
    )
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(1)
        ms = _ms(_time_steps(_torch_batched(sizes, weights, X, y), 20 * scale.repeats, 5))
        rows.append(Row(case, "torch", "batched, float64", "step", median(ms), "ms", ms))
    _ratios(rows)
    return rows


# -- rendering ------------------------------------------------------------------------------------


def render_rows(scale: Scale) -> list[Row]:
    """Drawing the demo's loss graph collapsed by module: DOT text, then the dot layout."""
    try:
        from micrograd_x.render import GraphvizNotFoundError, draw
    except ImportError:
        return [
            Row(
                "render",
                "micrograd_x",
                "collapsed MLP",
                "draw",
                None,
                "ms",
                note="skipped: micrograd_x.render is not available",
            )
        ]
    X, y = _data(scale.demo_points)
    model = MLP(2, [*scale.demo_sizes, 1], seed=0)
    loss_fn = make_loss_fn("hinge", l2=L2)
    params = model.parameters()
    r = capture(lambda: loss_fn(model, X, y)[0], params, check=0)
    zero_grad(params)
    r.step()
    rows: list[Row] = []
    case = "render"
    t_sync = []
    t_dot = []
    t_svg = []
    drawing = None
    for _ in range(max(1, scale.repeats // 2)):
        t0 = time.perf_counter()
        r.sync()
        t1 = time.perf_counter()
        assert r.root is not None
        drawing = draw(r.root, collapse="auto")
        t2 = time.perf_counter()
        t_sync.append(t1 - t0)
        t_dot.append(t2 - t1)
        try:
            drawing.to_svg()
            t_svg.append(time.perf_counter() - t2)
        except GraphvizNotFoundError:
            pass
    assert drawing is not None
    n = len(r.nodes)
    what = f"{n:,} nodes → {drawing.visible_nodes} boxes ({drawing.level})"
    rows.append(Row(case, "micrograd_x", "replay → nodes", "sync", 1e3 * median(t_sync), "ms"))
    rows.append(Row(case, "micrograd_x", "collapsed", "DOT text", 1e3 * median(t_dot), "ms"))
    rows.append(
        Row(
            case,
            "micrograd_x",
            "collapsed",
            "SVG (dot)",
            1e3 * median(t_svg) if t_svg else None,
            "ms",
            note=what + ("" if t_svg else "; Graphviz's dot is not installed"),
        )
    )
    rows.append(
        Row(
            case,
            "micrograd",
            "—",
            "draw",
            None,
            "ms",
            note="micrograd 0.1.0 ships no renderer (draw_dot lives in a notebook)",
        )
    )
    for row in rows:
        row.samples = [] if row.median is None else [row.median]
    return rows
