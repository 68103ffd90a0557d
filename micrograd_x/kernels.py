"""Kernels: the numpy form of every op, forward next to its partials.

Each kernel works elementwise on arrays of any shape (a trailing batch axis included) and mirrors
the op record's float rule in :mod:`micrograd_x.ops`, so a replayed value or partial equals the
eager one (to rounding). :data:`KERNELS` maps each op record to its :class:`Kernel`; the replays
(:mod:`micrograd_x.replay`, :mod:`micrograd_x.batchreplay`) and the layer statistics run graphs
through it. An op without a kernel here runs in eager mode only.
Imports numpy and :mod:`micrograd_x.ops`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.ops import Op

__all__ = ["KERNELS", "Kernel"]

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Kernel:
    """The vectorized form of one op.

    Attributes:
        forward: ``(*inputs, **params) -> out`` on arrays. Outside the op's domain it returns a
            non-finite number (the replay then reports the op's own error).
        partials: ``(out, *inputs, **params) -> one partial per input``, each an array or a
            plain number. For ``sum`` and ``dot`` the inputs are grouped (see :func:`_dot_fwd`).
        forward_into: ``(out, x)``: the forward of a unary op without parameters written into
            the array ``out`` (no temporary), or ``None`` when the op has no such form.
    """

    forward: Callable[..., Any]
    partials: Callable[..., tuple[Any, ...]]
    forward_into: Callable[[Array, Array], Any] | None = None


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
# numpy has no erf or erfc: these call the float functions per element (a C loop calling a
# Python function: slower than the other kernels), so erf and gelu match eager mode exactly.
_erf_ufunc = np.frompyfunc(math.erf, 1, 1)
_erfc_ufunc = np.frompyfunc(math.erfc, 1, 1)
_gelu_ufunc = np.frompyfunc(ops.GELU.forward, 1, 1)
# Below this x·Φ(x) underflows to -0.0 (Φ(-39) ≈ 1e-333); the float rule is not asked there,
# so its intermediate products cannot overflow (x = -1.35e300).
_GELU_ZERO_BELOW = -40.0


def _gelu(x: Array) -> Array:
    tail = x < _GELU_ZERO_BELOW
    out = np.asarray(_gelu_ufunc(np.where(tail, _GELU_ZERO_BELOW, x)), dtype=np.float64)
    return np.where(tail, -0.0, out)


def _erf(x: Array) -> Array:
    return np.asarray(_erf_ufunc(x), dtype=np.float64)


def _erfc(x: Array) -> Array:
    return np.asarray(_erfc_ufunc(x), dtype=np.float64)


def _sigmoid(x: Array) -> Array:
    # The two stable branches of ops._sigmoid: exp never sees a positive argument.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _tanh_partials(out: Array, x: Array) -> tuple[Any, ...]:
    # As ops: 4e/(1 + e)² with e = exp(−2|x|), exact where 1 − tanh² x cancels.
    e = np.exp(-2.0 * np.abs(x))
    return (4.0 * e / ((1.0 + e) * (1.0 + e)),)


def _pow_fwd(x: Array, k: float) -> Array:
    return np.power(x, k)


def _pow_partials(out: Array, x: Array, k: float) -> tuple[Any, ...]:
    if k == 0:
        return (0.0,)
    if k == 1:
        return (1.0,)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        d = k * np.power(x, k - 1)
        # As ops._pow_partials: where x**(k-1) overflows though k·x^(k-1) need not (x = k =
        # 2.2e-313), take k·x^k / x from the finite output.
        bad = ~np.isfinite(d) & (x != 0.0)
        if np.any(bad):
            d = np.where(bad, (k / np.where(bad, x, 1.0)) * out, d)
    return (d,)


def _powv_fwd(a: Array, b: Array) -> Array:
    # A negative base has no real a**b·log(a): NaN, which the replay reports as the op's error.
    return np.where(a >= 0.0, np.power(a, b), np.nan)


def _powv_partials(out: Array, a: Array, b: Array) -> tuple[Any, ...]:
    # d/db at a = 0 is 0 (a**b = 0 for b > 0), as in ops._powv_partials.
    return (b * np.power(a, b - 1.0), np.where(a == 0.0, 0.0, out * np.log(a)))


def _gelu_partials(out: Array, x: Array) -> tuple[Any, ...]:
    # x·φ(x) is 0 to double precision for |x| > 40; clipping keeps x·x from overflowing.
    xc = np.clip(x, _GELU_ZERO_BELOW, -_GELU_ZERO_BELOW)
    return (0.5 * _erfc(-x * _SQRT_HALF) + xc * _INV_SQRT_2PI * np.exp(-0.5 * xc * xc),)


def _silu_partials(out: Array, x: Array) -> tuple[Any, ...]:
    return (_sigmoid(x) * (1.0 + x * _sigmoid(-x)),)


def _sum_fwd(xs: Array) -> Array:
    # xs: (nodes, inputs, *batch)
    return np.asarray(xs.sum(axis=1))


def _dot_fwd(ws: Array, xs: Array, b: Array) -> Array:
    # ws, xs: (nodes, pairs, *batch); b: (nodes, *batch), 0 where a node has no bias.
    if ws.ndim == 2:
        return np.asarray(np.einsum("ij,ij->i", ws, xs) + b)
    return np.asarray((ws * xs).sum(axis=1) + b)


def _dot_partials(out: Array, ws: Array, xs: Array, b: Array) -> tuple[Any, ...]:
    return (xs, ws, 1.0)


KERNELS: Mapping[Op, Kernel] = {
    ops.CONST: Kernel(lambda: None, lambda out: ()),  # a leaf: never computed
    ops.ADD: Kernel(np.add, lambda out, x, y: (1.0, 1.0)),
    ops.SUB: Kernel(np.subtract, lambda out, x, y: (1.0, -1.0)),
    ops.MUL: Kernel(np.multiply, lambda out, x, y: (y, x)),
    ops.DIV: Kernel(np.divide, lambda out, x, y: (1.0 / y, -out / y)),
    ops.NEG: Kernel(np.negative, lambda out, x: (-1.0,)),
    ops.POW: Kernel(_pow_fwd, _pow_partials),
    ops.POWV: Kernel(_powv_fwd, _powv_partials),
    ops.EXP: Kernel(np.exp, lambda out, x: (out,), lambda out, x: np.exp(x, out=out)),
    ops.LOG: Kernel(np.log, lambda out, x: (1.0 / x,)),
    ops.SQRT: Kernel(np.sqrt, lambda out, x: (0.5 / out,)),
    ops.ABS: Kernel(np.abs, lambda out, x: (np.sign(x),)),
    ops.SIN: Kernel(np.sin, lambda out, x: (np.cos(x),)),
    ops.COS: Kernel(np.cos, lambda out, x: (-np.sin(x),)),
    ops.TANH: Kernel(np.tanh, _tanh_partials, lambda out, x: np.tanh(x, out=out)),
    ops.SIGMOID: Kernel(_sigmoid, lambda out, x: (out * _sigmoid(-x),)),
    ops.RELU: Kernel(
        lambda x: np.maximum(x, 0.0),
        lambda out, x: (x > 0.0,),
        lambda out, x: np.maximum(x, 0.0, out=out),
    ),
    ops.LEAKY_RELU: Kernel(
        lambda x, slope=0.01: np.where(x > 0.0, x, slope * x),
        lambda out, x, slope=0.01: (np.where(x > 0.0, 1.0, slope),),
    ),
    ops.ELU: Kernel(
        lambda x, alpha=1.0: np.where(x > 0.0, x, alpha * np.expm1(np.minimum(x, 0.0))),
        # As ops: α·eˣ below 0 (out + α cancels for x far below 0).
        lambda out, x, alpha=1.0: (np.where(x > 0.0, 1.0, alpha * np.exp(np.minimum(x, 0.0))),),
    ),
    ops.SOFTPLUS: Kernel(
        lambda x: np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))),
        lambda out, x: (_sigmoid(x),),
    ),
    ops.ERF: Kernel(_erf, lambda out, x: (_TWO_OVER_SQRT_PI * np.exp(-(x * x)),)),
    ops.ERFC: Kernel(_erfc, lambda out, x: (-_TWO_OVER_SQRT_PI * np.exp(-(x * x)),)),
    ops.GELU: Kernel(_gelu, _gelu_partials),
    ops.SILU: Kernel(lambda x: x * _sigmoid(x), _silu_partials),
    ops.MAX: Kernel(lambda x, y: np.where(x >= y, x, y), lambda out, x, y: (x >= y, x < y)),
    ops.MIN: Kernel(lambda x, y: np.where(x <= y, x, y), lambda out, x, y: (x <= y, x > y)),
    ops.SUM: Kernel(_sum_fwd, lambda out, xs: (1.0,)),
    ops.DOT: Kernel(_dot_fwd, _dot_partials),
}
"""The numpy kernel of every registered op, keyed by the op record."""
