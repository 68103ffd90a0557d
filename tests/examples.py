"""Example graphs shared by several test modules."""

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


def training_case(
    loss: str, seed: int, n: int, noise: float = 0.0
) -> tuple[np.ndarray, list[Any], int]:
    """A small data set for a named loss: inputs (n × 2), targets, and the outputs a model needs.

    Labels ±1 for ``hinge``, 0/1 for ``bce``, three classes for ``cross_entropy``, and a smooth
    regression target (plus ``noise`` times a normal draw) for the others.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    if loss == "hinge":
        return X, [1.0 if a * b > 0 else -1.0 for a, b in X], 1
    if loss == "bce":
        return X, [1.0 if a > b else 0.0 for a, b in X], 1
    if loss == "cross_entropy":
        return X, [int(a > 0) + int(b > 0) for a, b in X], 3
    target = X[:, 0] * X[:, 1]
    if noise:
        target = target + noise * rng.normal(size=n)
    return X, target.tolist(), 1
