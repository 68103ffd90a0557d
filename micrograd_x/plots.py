"""Training plots with matplotlib: per-layer statistics over the steps of a run.

matplotlib is imported when a plot is drawn (``pip install 'micrograd-x[plot]'``), so importing
this module costs nothing. Imports: the standard library and :mod:`micrograd_x.layerstats`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from micrograd_x.layerstats import STATS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from micrograd_x.train import History

__all__ = ["plot_layer_stats"]

_LABELS = {
    "grad_norm": ("gradient norm", "L2 norm of the weight and bias gradients"),
    "act_mean": ("activation mean", "mean of the layer's outputs"),
    "act_std": ("activation spread", "standard deviation of the layer's outputs"),
    "dead_fraction": ("dead units", "fraction of units with no gradient on the batch"),
}
# Layers whose lines coincide (e.g. several at 0 dead units) stay visible by their dashes.
_STYLES = ("-", "--", "-.", ":")


def plot_layer_stats(history: History, stat: str = "grad_norm", ax: Axes | None = None) -> Axes:
    """Plot one per-layer statistic against the step, one line per layer.

    ``grad_norm`` and ``act_std`` are drawn on a log scale (vanishing and exploding gradients
    show as lines that fall or climb by decades); ``act_mean`` and ``dead_fraction`` on a linear
    one (they can be 0 or negative).

    Args:
        history: A run's history recorded with ``fit(..., layer_stats=True)``.
        stat: One of :data:`micrograd_x.layerstats.STATS`.
        ax: The axes to draw on (default: a new figure's).

    Returns:
        The axes.

    Raises:
        ValueError: If ``stat`` is unknown or the history holds no layer statistics.
        ImportError: If matplotlib is not installed.
    """
    if stat not in STATS:
        raise ValueError(f"plot_layer_stats: stat must be one of {', '.join(STATS)}, got {stat!r}")
    entries = history.layer_stats
    if not entries:
        raise ValueError(
            "plot_layer_stats: the history has no layer statistics; train with "
            "fit(..., layer_stats=True)"
        )
    if ax is None:
        try:
            from matplotlib.figure import Figure
        except ImportError as e:  # pragma: no cover - matplotlib is a test dependency
            raise ImportError(
                "plot_layer_stats needs matplotlib: pip install 'micrograd-x[plot]'"
            ) from e
        ax = Figure(figsize=(6.4, 4.0), layout="constrained").add_subplot()
    records = history.records
    steps = [r.step for r in records] if len(records) == len(entries) else list(range(len(entries)))
    log = stat in ("grad_norm", "act_std")
    for k, name in enumerate(entries[0]):
        ys: list[Any] = [e[name][stat] if name in e else None for e in entries]
        if log:
            # A zero gradient (a dead layer) has no logarithm: leave a gap there.
            ys = [y if y is not None and y > 0.0 else float("nan") for y in ys]
        ax.plot(steps, ys, _STYLES[k % len(_STYLES)], label=name, linewidth=1.8)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    title, ylabel = _LABELS[stat]
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} per layer")
    ax.grid(True, which="major", alpha=0.35)
    ax.legend(title="layer", fontsize="small")
    return ax
