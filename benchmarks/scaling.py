"""The scaling table: replayed training through ``fit`` against PyTorch and a numpy floor.

``MLP(2, [w, w, 1])`` (ReLU) on ``n`` moons, hinge loss + 1e-4 L2, SGD with micrograd's linear
schedule, for widths 16/64/128 × 100/1,000/4,000 points. Each engine runs the same math from the
same weights, float64, with BLAS and PyTorch on one thread:

- micrograd_x: ``fit`` as users run it (history, accuracy, schedule included); the time of a
  step is the slope of the run time over the number of steps (two runs of different lengths,
  so the capture before the first step cancels out).
- the capture: in a fresh Python process that only builds the model and the data, the time and
  the ``tracemalloc`` peak (Python's allocations, numpy arrays included) of everything ``fit``
  does before its first replayed step (``replayrun.BatchRun``: the per-sample capture, the flat
  parameter array, the targets' check).
- numpy floor: a hand-written dense step (forward, backward, update) on the same arrays.
- PyTorch batched float64 (when installed) and jax jit float64 (when installed).

Imports the standard library, numpy and micrograd_x; threadpoolctl and torch when installed.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from benchmarks._common import Row, Scale, median, optional_torch
from micrograd_x import optim
from micrograd_x.data import make_moons, to_signed
from micrograd_x.nn import MLP
from micrograd_x.train import fit

__all__ = ["one_thread", "table_rows", "torch_sgd", "torch_step"]

L2 = 1e-4
SIZES = {
    "full": ((16, 64, 128), (100, 1000, 4000)),
    "quick": ((16, 64), (100, 1000)),
    "smoke": ((4,), (8,)),
}


@contextlib.contextmanager
def one_thread() -> Iterator[str]:
    """BLAS (and PyTorch) on one thread; yields how the BLAS threads were pinned."""
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield "BLAS threads not pinned (threadpoolctl not installed)"
        return
    with threadpool_limits(limits=1):
        yield "BLAS pinned to 1 thread (threadpoolctl)"


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    ds = make_moons(n, 0.1, seed=1)
    return np.asarray(ds.X, dtype=np.float64), np.asarray(to_signed(ds.y), dtype=np.float64)


def _lr(k: int) -> float:
    return 1.0 - 0.9 * (k % 100) / 100


def _weights(model: MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons])
        b = np.array([n.b.data for n in layer.neurons])  # type: ignore[union-attr]
        out.append((W, b))
    return out


def _fit_seconds(width: int, X: np.ndarray, y: np.ndarray, steps: int) -> tuple[float, float]:
    """Seconds of one ``fit`` run of ``steps`` steps (capture included) and its final loss."""
    model = MLP(2, [width, width, 1], seed=0)
    sched = optim.Linear(1.0, total_steps=100, end_factor=0.1)
    t0 = time.perf_counter()
    hist = fit(model, X, y, loss="hinge", l2=L2, schedule=sched, steps=steps, replay=True)
    took = time.perf_counter() - t0
    assert hist.mode == "replay" and hist.capture == "per-sample"
    return took, hist.loss[-1]


def _steps_seconds(step: Callable[[int], float], start: int, k: int) -> float:
    """Mean seconds per step over ``k`` steps."""
    t0 = time.perf_counter()
    for i in range(start, start + k):
        step(i)
    return (time.perf_counter() - t0) / k


_CAPTURE_SCRIPT = """
import json, sys, time, tracemalloc
import numpy as np
from micrograd_x.data import make_moons, to_signed
from micrograd_x.nn import MLP
from micrograd_x.replayrun import BatchRun
from micrograd_x.train import Trainer
width, n = int(sys.argv[1]), int(sys.argv[2])
ds = make_moons(n, 0.1, seed=1)
X = np.asarray(ds.X, dtype=np.float64)
ys = to_signed(ds.y).tolist()
rows = X.tolist()
warm = Trainer(MLP(2, [3, 1], seed=0), loss="hinge", l2=1e-4)  # first-use imports, not timed
BatchRun(warm, X[:2], rows[:2], ys[:2])
tr = Trainer(MLP(2, [width, width, 1], seed=0), loss="hinge", l2=1e-4)
tracemalloc.start()
t0 = time.perf_counter()
run = BatchRun(tr, X, rows, ys)
took = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
t0 = time.perf_counter()
run = BatchRun(tr, X, rows, ys)
untraced = time.perf_counter() - t0
print(json.dumps({"seconds": untraced, "traced_seconds": took, "peak": peak}))
"""


def _capture(width: int, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CAPTURE_SCRIPT, str(width), str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def _numpy_step(weights: Any, X: np.ndarray, y: np.ndarray) -> Callable[[int], float]:
    """The same step written by hand on dense arrays: the floor for any numpy replay."""
    Ws = [W.copy() for W, _ in weights]
    bs = [b.copy() for _, b in weights]
    n = len(y)
    last = len(Ws) - 1

    def step(k: int) -> float:
        hs = [X]
        zs = []
        h = X
        for i, (W, b) in enumerate(zip(Ws, bs)):
            z = h @ W.T + b
            zs.append(z)
            h = np.maximum(z, 0.0) if i < last else z
            hs.append(h)
        m = 1.0 - y * h[:, 0]
        loss = np.maximum(m, 0.0).sum() / n + L2 * sum((p * p).sum() for p in (*Ws, *bs))
        g = (np.where(m > 0.0, -y, 0.0) / n)[:, None]
        lr = _lr(k)
        for i in range(last, -1, -1):
            gW = g.T @ hs[i] + 2 * L2 * Ws[i]
            gb = g.sum(axis=0) + 2 * L2 * bs[i]
            if i:
                g = (g @ Ws[i]) * (zs[i - 1] > 0.0)
            Ws[i] -= lr * gW
            bs[i] -= lr * gb
        return float(loss)

    return step


def torch_step(weights: Any, X: Any, y: Any) -> Callable[[int], float] | None:
    """PyTorch's batched float64 step of the same training (hinge + L2, the demo's schedule)."""
    torch = optional_torch()
    if torch is None:
        return None
    f64 = torch.float64
    Xt, yt = torch.tensor(X, dtype=f64), torch.tensor(y, dtype=f64)
    Ws = [torch.tensor(W, dtype=f64, requires_grad=True) for W, _ in weights]
    bs = [torch.tensor(b, dtype=f64, requires_grad=True) for _, b in weights]
    params = Ws + bs
    last = len(Ws) - 1

    def step(k: int) -> float:
        h = Xt
        for i, (W, b) in enumerate(zip(Ws, bs)):
            h = h @ W.T + b
            if i < last:
                h = h.relu()
        loss = (1.0 - yt * h[:, 0]).relu().mean() + L2 * sum((p * p).sum() for p in params)
        return torch_sgd(torch, params, loss, k)

    return step


def torch_sgd(torch: Any, params: list[Any], loss: Any, k: int) -> float:
    """PyTorch's backward and SGD update of step ``k`` (the demo's schedule); the loss value."""
    for p in params:
        p.grad = None
    loss.backward()
    lr = _lr(k)
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    return float(loss.detach())


def _jax_step(weights: Any, X: np.ndarray, y: np.ndarray) -> Callable[[int], float] | None:
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in weights]
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def loss_fn(ps: Any) -> Any:
        h = Xj
        for i, (W, b) in enumerate(ps):
            h = h @ W.T + b
            if i < len(ps) - 1:
                h = jnp.maximum(h, 0.0)
        reg = sum((W * W).sum() + (b * b).sum() for W, b in ps)
        return jnp.maximum(1.0 - yj * h[:, 0], 0.0).mean() + L2 * reg

    @jax.jit
    def update(ps: Any, lr: float) -> Any:
        loss, g = jax.value_and_grad(loss_fn)(ps)
        return loss, [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(ps, g)]

    state = [params]

    def step(k: int) -> float:
        loss, state[0] = update(state[0], _lr(k))
        return float(loss)

    return step


def _row(size: str, tb: float | None, engine: str, variant: str, ms: float, note: str = "") -> Row:
    r = Row("table", engine, f"{size} {variant}", "step", ms, "ms", [ms], note=note)
    if tb:
        r.vs_torch = ms / (1e3 * tb)
    return r


def table_rows(scale: Scale) -> list[Row]:
    """The scaling table (see the module docstring).

    The machine may be shared, so the engines take turns: each round times a short and a long
    ``fit`` run (the step is the slope over ``k`` more steps, ``k`` chosen so they take about
    half a second), then ``k`` steps of each other engine; ratios are taken within a round and
    the median over the rounds is reported.
    """
    widths, points = SIZES[scale.name]
    rows: list[Row] = []
    rounds = max(1, scale.repeats)
    k = 20 if scale.name != "smoke" else 2
    with one_thread() as pinned:
        for width in widths:
            for n in points:
                size = f"{width}×{n:,}"
                X, y = _data(n)
                weights = _weights(MLP(2, [width, width, 1], seed=0))
                others: dict[str, Callable[[int], float] | None] = {
                    "numpy": _numpy_step(weights, X, y),
                    "torch": torch_step(weights, X, y),
                    "jax": _jax_step(weights, X, y),
                }
                live = {name: f for name, f in others.items() if f is not None}
                for f in live.values():  # warm-up (jax compiles here)
                    _steps_seconds(f, 0, 2)
                # Enough steps that the fit runs' difference is not lost in the capture's own
                # variation (about 0.1 s): half a second of the floor's steps, 20 at least.
                if scale.name != "smoke":
                    floor_s = _steps_seconds(live["numpy"], 2, 5)
                    k = min(1000, max(20, int(0.5 / max(floor_s, 1e-6))))
                times: dict[str, list[float]] = {name: [] for name in ["fit", *live]}
                loss = 0.0
                for r in range(rounds):
                    short, _ = _fit_seconds(width, X, y, 5)
                    long, loss = _fit_seconds(width, X, y, 5 + k)
                    times["fit"].append((long - short) / k)
                    for name, f in live.items():
                        times[name].append(_steps_seconds(f, 7 + r * k, k))
                ms = {name: [1e3 * t for t in ts] for name, ts in times.items()}

                def ratio(a: str, b: str) -> float:
                    return median([x / z for x, z in zip(ms[a], ms[b])])  # noqa: B023

                has_torch = "torch" in ms
                fit_row = Row(
                    "table",
                    "micrograd_x",
                    f"{size} fit (replay)",
                    "step",
                    median(ms["fit"]),
                    "ms",
                    ms["fit"],
                    vs_torch=ratio("fit", "torch") if has_torch else None,
                    note=f"{ratio('fit', 'numpy'):.2f}× the numpy floor (median of per-round "
                    f"ratios); loss after {5 + k} steps {loss:.4f}",
                )
                rows.append(fit_row)
                cap = _capture(width, n)
                rows.append(
                    Row(
                        "table",
                        "micrograd_x",
                        f"{size} capture",
                        "time",
                        1e3 * cap["seconds"],
                        "ms",
                        [1e3 * cap["seconds"]],
                        note="fresh process: everything fit does before its first replayed step",
                    )
                )
                rows.append(
                    Row(
                        "table",
                        "micrograd_x",
                        f"{size} capture",
                        "memory",
                        cap["peak"] / 1e6,
                        "MB",
                        [cap["peak"] / 1e6],
                        note="tracemalloc peak of that capture (Python allocations, numpy "
                        "arrays included)",
                    )
                )
                labels = {
                    "numpy": ("numpy", "hand-written"),
                    "jax": ("jax", "jit, float64"),
                    "torch": ("torch", "batched, float64"),
                }
                for name in live:
                    engine, variant = labels[name]
                    rows.append(
                        Row(
                            "table",
                            engine,
                            f"{size} {variant}",
                            "step",
                            median(ms[name]),
                            "ms",
                            ms[name],
                            vs_torch=ratio(name, "torch") if has_torch else None,
                        )
                    )
        if rows:
            rows[0].note += f"; {pinned}"
    return rows
