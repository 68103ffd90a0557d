"""Per-layer statistics of a training step: the vanishing/exploding-gradient diagnostic.

For each layer of a model built from :mod:`micrograd_x.nn` modules, one step's statistics are the
L2 norm of the gradients of its weights and biases, the mean and standard deviation of its
outputs (after the activation) over the batch and its neurons, and the fraction of its neurons
that are *dead* on the batch: the activation's local derivative is 0 at every sample, so no
gradient reaches the neuron's weights (a ReLU whose input is negative for the whole batch).
:meth:`micrograd_x.train.Trainer.fit` records them with ``layer_stats=True``.

The activations are recomputed from the parameters' current values as dense numpy arrays (the
same numbers as the loss graph's nodes, to rounding), so the statistics are the same whether the
step ran eagerly or replayed. Imports numpy, :mod:`micrograd_x.ops`, :mod:`micrograd_x.engine`,
:mod:`micrograd_x.nn` and :mod:`micrograd_x.kernels` (the numpy kernels).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.engine import Value, gradients
from micrograd_x.kernels import KERNELS
from micrograd_x.nn import ACTIVATIONS, MLP, Layer, Module, Neuron

__all__ = ["STATS", "LayerStats", "layer_stats", "model_layers"]

STATS = ("grad_norm", "act_mean", "act_std", "dead_fraction")
"""The statistics recorded for each layer, in order."""

LayerStats = dict[str, float]
"""One layer's statistics: a number for each name of :data:`STATS`."""

Array = NDArray[np.float64]


def model_layers(model: Module) -> list[tuple[str, list[Neuron]]]:
    """The layers of a model, by name, each as its list of neurons.

    An :class:`~micrograd_x.nn.MLP` has its layers (named ``layer1``, …), a
    :class:`~micrograd_x.nn.Layer` is one layer, a :class:`~micrograd_x.nn.Neuron` a layer of one.

    Raises:
        TypeError: If the model is another kind of module (its forward pass is unknown here).
    """
    if isinstance(model, MLP):
        return [(layer.name, list(layer.neurons)) for layer in model.layers]
    if isinstance(model, Layer):
        return [(model.name, list(model.neurons))]
    if isinstance(model, Neuron):
        return [(model.name, [model])]
    raise TypeError(
        f"layer statistics: the model must be an MLP, Layer or Neuron, got {type(model).__name__}"
    )


def _named(name: str, z: Array) -> tuple[Array, Array]:
    """A named activation and its local derivative on the pre-activations ``z``."""
    fn = ACTIVATIONS[name]
    if fn is None:
        return z, np.ones_like(z)
    kernel = KERNELS[ops.get(name)]
    with np.errstate(all="ignore"):
        out = np.asarray(kernel.forward(z), dtype=np.float64)
        (d,) = kernel.partials(out, z)
    return out, np.broadcast_to(np.asarray(d, dtype=np.float64), z.shape)


def _custom(neuron: Neuron, a: Array) -> tuple[Array, Array]:
    # A custom activation function: run the neuron itself through Values, sample by sample
    # (slow but exact); its derivative shows as the gradient reaching the neuron's parameters.
    params = [p for _, p in neuron.own_parameters()]
    out, d = np.empty(len(a)), np.empty(len(a))
    for i, row in enumerate(a.tolist()):
        y = neuron(row)
        grads = gradients(y, params)
        out[i] = y.data
        d[i] = max(abs(_number(g)) for g in grads)
    return out, d


def _number(g: Any) -> float:
    return float(g.data if isinstance(g, Value) else g)


def layer_stats(model: Module, X: Sequence[Sequence[float]] | Array) -> dict[str, LayerStats]:
    """Each layer's statistics for a batch, at the parameters' current values and gradients.

    Args:
        model: An :class:`~micrograd_x.nn.MLP`, :class:`~micrograd_x.nn.Layer` or
            :class:`~micrograd_x.nn.Neuron` (gradients as the last ``backward`` left them).
        X: The batch's inputs, one row per sample.

    Returns:
        ``{layer name: {"grad_norm": …, "act_mean": …, "act_std": …, "dead_fraction": …}}``,
        layers in order.

    Raises:
        TypeError: If the model is not built from those modules.
        ValueError: If ``X`` does not have one row of ``model.nin`` numbers per sample.
    """
    layers = model_layers(model)
    a = np.asarray(X, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] != model.nin:
        raise ValueError(
            f"layer statistics: X must have shape (samples, {model.nin}), got {a.shape}"
        )
    out: dict[str, LayerStats] = {}
    for name, neurons in layers:
        w = np.array([[p.data for p in n.w] for n in neurons], dtype=np.float64)
        b = np.array([0.0 if n.b is None else n.b.data for n in neurons], dtype=np.float64)
        if neurons[0].activation in ACTIVATIONS:
            # Neurons of one layer share an activation; a Neuron-only "layer" has one neuron.
            act, d = _named(neurons[0].activation, a @ w.T + b)
        else:
            cols = [_custom(n, a) for n in neurons]
            act = np.stack([c[0] for c in cols], axis=1)
            d = np.stack([c[1] for c in cols], axis=1)
        sq = math.fsum(_number(p.grad) ** 2 for n in neurons for _, p in n.own_parameters())
        dead = np.all(d == 0.0, axis=0)
        out[name] = {
            "grad_norm": math.sqrt(sq),
            "act_mean": float(act.mean()),
            "act_std": float(act.std()),
            "dead_fraction": float(dead.mean()),
        }
        a = act
    return out
