"""Example graphs and data sets shared by several test modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from micrograd_x import Parameter, Value


def lecture(a: Value, b: Value, c: Value, f: Value) -> Value:
    """The micrograd lecture's example L = (a·b + c)·f, labelled as in the lecture."""
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    out = d * f
    out.label = "L"
    return out


def used_three_times(x0: float = 3.0) -> tuple[Value, Value]:
    """``z = y + x`` with ``y = x·x``: x is used three times, so three paths lead from x to z.

    Returns:
        The output ``z`` (not yet backpropagated) and the input ``x``, labelled x, y, z.
    """
    x = Value(x0, label="x")
    y = x * x
    y.label = "y"
    z = y + x
    z.label = "z"
    return z, x


def neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron ``o = tanh(x1·w1 + x2·w2 + b)``, not yet backpropagated.

    Returns:
        The output ``o`` and its values by label (``x1``, ``x2``, ``w1``, ``w2``, ``b``, ``n``).
    """
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Parameter(-3.0, label="w1"), Parameter(1.0, label="w2")
    b = Parameter(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


def training_set(
    loss: str, seed: int, *, rows: int, noise: float = 0.0
) -> tuple[np.ndarray, list[Any], int]:
    """A small data set of two Gaussian features, labelled for the loss ``loss``.

    ``hinge`` gets ±1 labels (the sign of x0·x1), ``bce`` 0/1 labels (x0 > x1),
    ``cross_entropy`` three classes (how many features are positive), any other loss the target
    x0·x1 plus Gaussian noise of standard deviation ``noise``.

    Returns:
        The inputs (``rows`` × 2), the targets and how many outputs a model needs for them.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 2))
    if loss == "hinge":
        return X, [1.0 if a * b > 0 else -1.0 for a, b in X], 1
    if loss == "bce":
        return X, [1.0 if a > b else 0.0 for a, b in X], 1
    if loss == "cross_entropy":
        return X, [int(a > 0) + int(b > 0) for a, b in X], 3
    y = X[:, 0] * X[:, 1]
    if noise:
        y = y + noise * rng.normal(size=rows)
    return X, y.tolist(), 1
