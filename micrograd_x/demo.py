"""``micrograd-x demo``: train micrograd's demo network on two moons and draw what happened.

:func:`run_demo` trains ``MLP(2, [16, 16, 1])`` with the hinge loss and an L2 penalty, then writes
three figures (:data:`DEMO_FILES`): the loss and accuracy curves, the decision boundary, and the
network view of the gradient flow, every file atomically. Imports the standard library and
:mod:`micrograd_x._files`; numpy, matplotlib, training and drawing when the demo runs, so the
command line's ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from micrograd_x._files import write_atomic_with

__all__ = ["DEMO_FILES", "L2", "LOSS", "DemoError", "run_demo"]


LOSS = "hinge"
"""The demo's data loss (micrograd's demo: the SVM max-margin loss)."""

L2 = 1e-4
"""The weight of the demo's L2 penalty on every parameter."""


class DemoError(RuntimeError):
    """The demo cannot run: matplotlib is missing, or the network cannot be drawn."""


DEMO_FILES = ("loss.png", "decision_boundary.png", "gradient_flow.svg")
"""What ``micrograd-x demo`` writes into its output folder."""


def run_demo(
    folder: Path, *, steps: int, seed: int, replay: bool | None, progress: bool, out: TextIO
) -> None:
    """Train micrograd's demo network on two moons and write :data:`DEMO_FILES` into ``folder``.

    Args:
        folder: Where the figures go (created if needed).
        steps: Training steps.
        seed: The seed of the data and the model.
        replay: Capture the loss graph once and replay it (``None``: when the run is long
            enough); see :func:`micrograd_x.train.fit`.
        progress: Show a progress bar.
        out: Where the report lines go.

    Raises:
        DemoError: If matplotlib is missing or the network cannot be drawn.
        OSError: If a figure cannot be written (the file is then left as it was).
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise DemoError(
            "demo: the figures need matplotlib: pip install 'micrograd-x[demo]'"
        ) from None
    import numpy as np

    from micrograd_x import data, optim
    from micrograd_x.nn import MLP
    from micrograd_x.render import draw
    from micrograd_x.train import accuracy, fit, make_loss_fn, predict

    X, labels = data.make_moons(100, noise=0.1, seed=seed)
    y = data.to_signed(labels)
    model = MLP(2, [16, 16, 1], activation="relu", seed=seed)
    print(f"two moons: {len(X)} points; model: {model}", file=out)
    print(f"hinge loss + 1e-4·Σp², SGD, learning rate 1.0 → 0.1 (linear), {steps} steps", file=out)
    schedule = optim.Linear(1.0, total_steps=steps, end_factor=0.1)
    history = fit(
        model,
        X,
        y,
        loss=LOSS,
        l2=L2,
        schedule=schedule,
        steps=steps,
        replay=replay,
        progress=progress,
    )
    final = accuracy(predict(model, X), list(y))
    first = history.first_step(1.0)
    print(f"steps run in {history.mode} mode", file=out)

    # The figures: every file goes through a temporary file and a rename.
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in DEMO_FILES]
    fig = _loss_figure(Figure, history.loss, history.accuracy, history.lr)
    write_atomic_with(paths[0], lambda tmp: fig.savefig(tmp, dpi=100))
    fig = _boundary_figure(Figure, np, model, X, labels, final)
    write_atomic_with(paths[1], lambda tmp: fig.savefig(tmp, dpi=100))
    # The data loss alone: the L2 term would feed every parameter a little gradient and hide the
    # neurons that pass none back (dead ReLUs, drawn dashed).
    loss, _ = make_loss_fn(LOSS)(model, X.tolist(), list(y))
    model.zero_grad()
    loss.backward()
    loss.label = "hinge loss"
    try:
        draw(loss, view="network").save(paths[2])
    except (OSError, RuntimeError) as err:
        raise DemoError(f"demo: cannot draw the network: {err}") from None
    for path in paths:
        print(f"wrote {path}", file=out)
    reached = f" (first reached at step {first})" if first is not None else ""
    print(f"final accuracy: {final:.0%}{reached}", file=out)


def _loss_figure(figure: Any, loss: list[float], acc: list[float | None], lr: list[float]) -> Any:
    fig = figure(figsize=(9, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(loss, color="#d55e00")
    left.set(title="training loss", xlabel="step", ylabel="hinge loss + L2", yscale="log")
    rate = left.twinx()
    rate.plot(lr, color="#777777", linestyle="--", linewidth=1)
    rate.set_ylabel("learning rate (dashed)", color="#777777")
    right.plot([a if a is not None else float("nan") for a in acc], color="#0072b2")
    right.set(title="training accuracy", xlabel="step", ylim=(0.4, 1.02))
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig


def _boundary_figure(figure: Any, np: Any, model: Any, X: Any, labels: Any, acc: float) -> Any:
    from micrograd_x.train import predict

    pad, n = 0.5, 60
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, n)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, n)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    scores = np.array(predict(model, grid)).reshape(gx.shape)
    fig = figure(figsize=(5, 4), layout="constrained")
    ax = fig.subplots()
    ax.contourf(gx, gy, scores > 0, levels=[-0.5, 0.5, 1.5], colors=["#b2abd2", "#fdb863"])
    ax.contour(gx, gy, scores, levels=[0.0], colors="#333333", linewidths=1)
    for label, colour in ((0, "#5e3c99"), (1, "#e66101")):
        pts = X[labels == label]
        ax.scatter(pts[:, 0], pts[:, 1], s=18, c=colour, edgecolors="white", linewidths=0.5)
    ax.set(title=f"decision boundary (accuracy {acc:.0%})", xlabel="x₁", ylabel="x₂")
    return fig
