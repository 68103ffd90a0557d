"""Functional transforms: grad, value_and_grad and hessian turn functions into functions.

They are built on :func:`micrograd_x.engine.gradients` (a backward pass that leaves every node's
``grad`` alone), so they compose: ``grad(grad(f))`` is the second derivative, as in JAX and HIPS
autograd. Imports: the standard library and :mod:`micrograd_x.engine`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x.engine import Value, gradients

__all__ = ["grad", "hessian", "value_and_grad"]


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    idx = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in idx:
        if not -nargs <= i < nargs:
            raise IndexError(f"grad: argnums {i} is out of range for {nargs} argument(s)")
    return tuple(i % nargs for i in idx)


def value_and_grad(
    f: Callable[..., Value | float], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[Any, Any]]:
    """Turn ``f`` into a function returning ``(f(*args), df/d args[argnums])``.

    Called with numbers, the result holds floats and ``f`` sees fresh leaves. Called with
    ``Value`` arguments, the gradients are ``Value`` graphs of them, so transforms compose:
    ``grad(grad(f))(x)`` is the second derivative.

    Args:
        f: A function of scalars returning a ``Value`` (or a plain number).
        argnums: The position, or positions, of the arguments to differentiate.

    Returns:
        A function returning ``(value, gradient)``, the gradient a tuple when ``argnums`` is.
    """

    def wrapped(*args: Value | float) -> tuple[Any, Any]:
        idx = _argnums(argnums, len(args))
        # Any Value argument (not only the differentiated ones) may be an outer transform's
        # variable, so the gradient must stay a graph of it.
        nested = any(isinstance(a, Value) for a in args)
        call: list[Any] = list(args)
        for i in idx:
            if not isinstance(call[i], Value):
                call[i] = Value(call[i])
        out = f(*call)
        wrt: list[Value] = [call[i] for i in idx]
        gs = gradients(out, wrt, create_graph=nested)  # type: ignore[arg-type]
        value = out if nested or not isinstance(out, Value) else out.data
        return value, (gs[0] if isinstance(argnums, int) else tuple(gs))

    return wrapped


def grad(f: Callable[..., Value | float], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """Turn ``f`` into a function returning df/d args[argnums]; see :func:`value_and_grad`."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Value | float) -> Any:
        return vg(*args)[1]

    return wrapped


def hessian(f: Callable[..., Value | float]) -> Callable[..., list[list[float]]]:
    """Turn ``f`` into a function returning its matrix of second derivatives at the arguments.

    Meant for small functions: it builds the gradient graphs once, then differentiates each.
    """

    def wrapped(*args: float) -> list[list[float]]:
        leaves = [Value(a) for a in args]
        out = f(*leaves)
        first = gradients(out, leaves, create_graph=True)  # type: ignore[arg-type]
        rows = []
        for g in first:
            row = gradients(g, leaves) if isinstance(g, Value) else [0.0] * len(leaves)
            rows.append([float(x) for x in row])
        return rows

    return wrapped
