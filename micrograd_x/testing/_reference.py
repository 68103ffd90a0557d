"""Independent evaluations of every op: naive ``math`` formulas and mpmath at high precision.

These never call the engine's forward functions, so tests can compare the engine against them.
Imports the standard library only; mpmath is imported lazily, by :func:`mp_context`.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["FLOAT_FORWARD", "MPValue", "mp_context", "mp_dot", "mp_forward", "mp_sum"]


def _f_pow(x: float, k: float) -> float:
    return float(x**k)


def _f_sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700.0 else math.exp(x)


def _f_softplus(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))


def _f_dot(*args: float) -> float:
    n = len(args) // 2
    total = math.fsum(w * x for w, x in zip(args[:n], args[n : 2 * n]))
    return total + args[-1] if len(args) % 2 else total


FLOAT_FORWARD: dict[str, Callable[..., float]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "neg": lambda x: -x,
    "pow": _f_pow,
    "powv": lambda a, b: float(a**b),
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "sigmoid": _f_sigmoid,
    "relu": lambda x: max(x, 0.0),
    "leaky_relu": lambda x, slope=0.01: x if x > 0.0 else slope * x,
    "elu": lambda x, alpha=1.0: x if x > 0.0 else alpha * math.expm1(x),
    "softplus": _f_softplus,
    "erf": math.erf,
    "erfc": math.erfc,
    "gelu": lambda x: 0.5 * x * math.erfc(-x / math.sqrt(2.0)),
    "silu": lambda x: x * _f_sigmoid(x),
    "max": lambda x, y: x if x >= y else y,
    "min": lambda x, y: x if x <= y else y,
    "sum": lambda *xs: math.fsum(xs),
    "dot": _f_dot,
}
"""Plain-float forward of each op, written from the math (not from :mod:`micrograd_x.ops`)."""


@functools.lru_cache(maxsize=8)
def mp_context(dps: int) -> Any:
    """A private mpmath context working at ``dps`` decimal digits (mpmath imported here)."""
    import mpmath  # type: ignore[import-untyped]

    ctx = mpmath.MPContext()
    ctx.dps = dps
    return ctx


def mp_forward(ctx: Any, name: str, args: Sequence[Any], params: dict[str, float]) -> Any:
    """Evaluate op ``name`` on mpmath numbers in ``ctx``.

    Raises:
        KeyError: If the op has no mpmath form here (a newly registered op needs one).
    """
    x: Any = args[0] if args else None
    if name == "add":
        return args[0] + args[1]
    if name == "sub":
        return args[0] - args[1]
    if name == "mul":
        return args[0] * args[1]
    if name == "div":
        return args[0] / args[1]
    if name == "neg":
        return -x
    if name == "pow":
        k = params["k"]
        return x ** (int(k) if float(k).is_integer() else ctx.mpf(k))
    if name == "powv":
        return args[0] ** args[1]
    if name == "exp":
        return ctx.exp(x)
    if name == "log":
        return ctx.log(x)
    if name == "sqrt":
        return ctx.sqrt(x)
    if name == "abs":
        return abs(x)
    if name == "sin":
        return ctx.sin(x)
    if name == "cos":
        return ctx.cos(x)
    if name == "tanh":
        return ctx.tanh(x)
    if name == "sigmoid":
        return 1 / (1 + ctx.exp(-x))
    if name == "relu":
        return x if x > 0 else ctx.zero
    if name == "leaky_relu":
        return x if x > 0 else ctx.mpf(params.get("slope", 0.01)) * x
    if name == "elu":
        return x if x > 0 else ctx.mpf(params.get("alpha", 1.0)) * ctx.expm1(x)
    if name == "softplus":
        return ctx.log1p(ctx.exp(x))
    if name == "erf":
        return ctx.erf(x)
    if name == "erfc":
        return ctx.erfc(x)
    if name == "gelu":
        return x * ctx.erfc(-x / ctx.sqrt(2)) / 2
    if name == "silu":
        return x / (1 + ctx.exp(-x))
    if name == "max":
        return args[0] if args[0] >= args[1] else args[1]
    if name == "min":
        return args[0] if args[0] <= args[1] else args[1]
    if name == "sum":
        return ctx.fsum(args)
    if name == "dot":
        n = len(args) // 2
        total = ctx.fsum(w * v for w, v in zip(args[:n], args[n : 2 * n]))
        return total + args[-1] if len(args) % 2 else total
    raise KeyError(f"no mpmath form for the op {name!r}")


def _unwrap(x: object) -> Any:
    return x.x if isinstance(x, MPValue) else x


class MPValue:
    """A stand-in for ``Value`` that computes with mpmath numbers instead of building a graph.

    It supports the operators and the op methods of ``Value``, so a function written against
    ``Value`` (``lambda x, y: (x * y).tanh() + x.exp()``) can be evaluated at 40 digits.
    """

    __slots__ = ("ctx", "x")

    def __init__(self, x: Any, ctx: Any) -> None:
        self.ctx = ctx
        self.x = ctx.convert(_unwrap(x))

    @property
    def data(self) -> Any:
        """The mpmath number (named as on ``Value``)."""
        return self.x

    def _op(self, name: str, *others: object, **params: float) -> MPValue:
        ctx = self.ctx
        args = [self.x] + [ctx.convert(_unwrap(o)) for o in others]
        return MPValue(mp_forward(ctx, name, args, params), ctx)

    def _r(self, name: str, other: object) -> MPValue:
        return MPValue(other, self.ctx)._op(name, self)

    def __float__(self) -> float:
        return float(self.x)

    def __repr__(self) -> str:
        return f"MPValue({self.x})"

    def __add__(self, o: object) -> MPValue:
        return self._op("add", o)

    def __radd__(self, o: object) -> MPValue:
        return self._r("add", o)

    def __sub__(self, o: object) -> MPValue:
        return self._op("sub", o)

    def __rsub__(self, o: object) -> MPValue:
        return self._r("sub", o)

    def __mul__(self, o: object) -> MPValue:
        return self._op("mul", o)

    def __rmul__(self, o: object) -> MPValue:
        return self._r("mul", o)

    def __truediv__(self, o: object) -> MPValue:
        return self._op("div", o)

    def __rtruediv__(self, o: object) -> MPValue:
        return self._r("div", o)

    def __pow__(self, o: object) -> MPValue:
        if isinstance(o, MPValue):
            return self._op("powv", o)
        if isinstance(o, numbers.Real):
            return self._op("pow", k=float(o))
        return NotImplemented

    def __rpow__(self, o: object) -> MPValue:
        return self._r("powv", o)

    def __neg__(self) -> MPValue:
        return self._op("neg")

    def __abs__(self) -> MPValue:
        return self._op("abs")

    def __lt__(self, o: object) -> bool:
        return bool(self.x < _unwrap(o))

    def __gt__(self, o: object) -> bool:
        return bool(self.x > _unwrap(o))

    def __le__(self, o: object) -> bool:
        return bool(self.x <= _unwrap(o))

    def __ge__(self, o: object) -> bool:
        return bool(self.x >= _unwrap(o))

    def exp(self) -> MPValue:
        """e**x."""
        return self._op("exp")

    def log(self) -> MPValue:
        """Natural logarithm."""
        return self._op("log")

    def sqrt(self) -> MPValue:
        """Square root."""
        return self._op("sqrt")

    def sin(self) -> MPValue:
        """Sine."""
        return self._op("sin")

    def cos(self) -> MPValue:
        """Cosine."""
        return self._op("cos")

    def tanh(self) -> MPValue:
        """Hyperbolic tangent."""
        return self._op("tanh")

    def sigmoid(self) -> MPValue:
        """Logistic sigmoid."""
        return self._op("sigmoid")

    def relu(self) -> MPValue:
        """max(x, 0)."""
        return self._op("relu")

    def leaky_relu(self, slope: float = 0.01) -> MPValue:
        """X for x > 0, else slope·x."""
        return self._op("leaky_relu", slope=slope)

    def elu(self, alpha: float = 1.0) -> MPValue:
        """X for x > 0, else alpha·(e**x - 1)."""
        return self._op("elu", alpha=alpha)

    def softplus(self) -> MPValue:
        """log(1 + e**x)."""
        return self._op("softplus")

    def gelu(self) -> MPValue:
        """x·Φ(x)."""
        return self._op("gelu")

    def silu(self) -> MPValue:
        """x·σ(x)."""
        return self._op("silu")

    def erf(self) -> MPValue:
        """The error function."""
        return self._op("erf")

    def erfc(self) -> MPValue:
        """The complementary error function."""
        return self._op("erfc")

    def max(self, o: object) -> MPValue:
        """The larger of the two."""
        return self._op("max", o)

    def min(self, o: object) -> MPValue:
        """The smaller of the two."""
        return self._op("min", o)


def mp_sum(values: Sequence[object]) -> MPValue:
    """Σ of MPValues and numbers (the stand-in for ``micrograd_x.sum``)."""
    ctx = next(v.ctx for v in values if isinstance(v, MPValue))
    return MPValue(mp_forward(ctx, "sum", [ctx.convert(_unwrap(v)) for v in values], {}), ctx)


def mp_dot(weights: Sequence[object], inputs: Sequence[object], bias: object = None) -> MPValue:
    """Σ wᵢxᵢ + b of MPValues and numbers (the stand-in for ``micrograd_x.dot``)."""
    everything = [*weights, *inputs] + ([] if bias is None else [bias])
    ctx = next(v.ctx for v in everything if isinstance(v, MPValue))
    args = [ctx.convert(_unwrap(v)) for v in everything]
    return MPValue(mp_forward(ctx, "dot", args, {}), ctx)
