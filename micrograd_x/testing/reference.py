"""Derivatives from mpmath: an oracle independent of the engine's rules, at high precision.

``reference_grad`` and ``reference_hessian`` evaluate a function written with operators and
``Value`` methods on :class:`~micrograd_x.testing._reference.MPValue` stand-ins and differentiate
it with ``mpmath.diff``. Imports the standard library and the engine; mpmath only when called.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x import Value
from micrograd_x.testing._reference import MPValue, mp_context
from micrograd_x.testing.differences import Function, as_floats

__all__ = ["reference_grad", "reference_hessian"]


def _mp_function(f: Function, ctx: Any) -> Callable[..., Any]:
    def g(*xs: Any) -> Any:
        out = f(*[MPValue(v, ctx) for v in xs])
        if isinstance(out, MPValue):
            return out.x
        if isinstance(out, Value):
            raise TypeError(
                "reference_grad: the function built a Value from MPValue arguments; use "
                "operators and Value methods (micrograd_x.sum/dot need real Values)"
            )
        return ctx.convert(out)

    return g


def reference_grad(
    f: Function, inputs: Sequence[float | Value], *, dps: int = 40
) -> tuple[float, list[float]]:
    """The value and gradient of ``f`` at ``inputs`` computed with mpmath at ``dps`` digits.

    ``f`` is called with :class:`~micrograd_x.testing._reference.MPValue` stand-ins that support
    the operators and op methods of ``Value``, so the same function serves the engine and the
    reference. Derivatives come from ``mpmath.diff``: independent of the engine's rules.

    Args:
        f: A function written with operators and ``Value`` methods, returning one scalar.
        inputs: The point.
        dps: Working precision in decimal digits.

    Returns:
        ``(value, [df/dx_0, df/dx_1, ...])`` rounded to floats.

    Raises:
        TypeError: If an input is not a number, or ``f`` needs real Values.
    """
    x = as_floats(inputs, "reference_grad")
    ctx = mp_context(int(dps))
    g = _mp_function(f, ctx)
    point = [ctx.mpf(v) for v in x]
    value = g(*point)
    grads = []
    for j in range(len(x)):
        order = [0] * len(x)
        order[j] = 1
        grads.append(float(ctx.diff(g, point, order)))
    return float(value), grads


def reference_hessian(
    f: Function, inputs: Sequence[float | Value], *, dps: int = 40
) -> list[list[float]]:
    """The Hessian of ``f`` at ``inputs`` computed with mpmath at ``dps`` digits.

    Args:
        f: As for :func:`reference_grad`.
        inputs: The point.
        dps: Working precision in decimal digits.

    Returns:
        The matrix of second derivatives, as floats.
    """
    x = as_floats(inputs, "reference_hessian")
    ctx = mp_context(int(dps))
    g = _mp_function(f, ctx)
    point = [ctx.mpf(v) for v in x]
    n = len(x)
    rows = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            order = [0] * n
            order[i] += 1
            order[j] += 1
            rows[i][j] = rows[j][i] = float(ctx.diff(g, point, order))
    return rows
