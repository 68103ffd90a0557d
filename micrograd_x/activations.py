"""Activations by name: the one table every model part resolves an activation through.

A model's activation is a name from :data:`ACTIVATIONS` (one op each, so a named activation
never looks at a value), ``None`` for linear, or a function of a ``Value`` (which has no portable
name and cannot be saved). :data:`RELU_LIKE` says which names get He initialization by default.
Imports: :mod:`micrograd_x.engine`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from micrograd_x.engine import Value

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_ACTIVATION",
    "RELU_LIKE",
    "Activation",
    "activation_name",
    "portable_activation",
    "resolve_activation",
]

Activation: TypeAlias = str | Callable[[Value], Value] | None
"""An activation given by name (see :data:`ACTIVATIONS`), as a function, or ``None`` (linear)."""

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
    "elu": Value.elu,
    "gelu": Value.gelu,
    "silu": Value.silu,
    "softplus": Value.softplus,
    "linear": None,
}
"""Activations by name; ``"linear"`` (or ``None``) adds no node."""

DEFAULT_ACTIVATION = "relu"
"""The activation of a ``Neuron``, a ``Layer`` and an MLP's hidden layers when none is given."""

RELU_LIKE = frozenset({"relu", "leaky_relu", "elu", "gelu", "silu", "softplus"})
"""Activations for which He initialization is the right default; the others get Xavier."""


def resolve_activation(activation: Activation) -> tuple[str, Callable[[Value], Value] | None]:
    """Return ``(name, function)`` for an activation given by name, as a function, or ``None``.

    Args:
        activation: A name from :data:`ACTIVATIONS`, ``None`` (linear) or a function of a Value.

    Returns:
        The activation's name and its function (``None`` for linear).

    Raises:
        ValueError: If the name is unknown.
        TypeError: If ``activation`` is neither a name, ``None`` nor callable.
    """
    if activation is None:
        return "linear", None
    if isinstance(activation, str):
        try:
            return activation, ACTIVATIONS[activation]
        except KeyError:
            raise ValueError(
                f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)} "
                "(or None, or a function of a Value)"
            ) from None
    if callable(activation):
        return getattr(activation, "__name__", "custom"), activation
    raise TypeError(
        f"activation must be a name, None or a function, got {type(activation).__name__} "
        f"{activation!r}"
    )


def activation_name(activation: Activation) -> str:
    """The name of an activation (``"linear"`` for ``None``)."""
    return resolve_activation(activation)[0]


def portable_activation(module: str, name: str) -> str | None:
    """An activation's name as a saved architecture holds it (``None`` for linear).

    Args:
        module: The module whose activation it is, as the message names it.
        name: The activation's name.

    Returns:
        The name, or ``None`` for ``"linear"``.

    Raises:
        ValueError: If the name is not in :data:`ACTIVATIONS` (a custom function).
    """
    if name not in ACTIVATIONS:
        raise ValueError(
            f"{module}: the custom activation {name!r} cannot be saved; "
            f"use one of {', '.join(ACTIVATIONS)}"
        )
    return None if name == "linear" else name
