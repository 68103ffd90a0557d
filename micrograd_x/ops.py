"""The op records: every differentiable operation of micrograd_x, declared once.

An :class:`Op` holds an op's forward function and its *local partials* rule, which returns
d(out)/d(input) for each input. The engine stores those partials on each node, so the drawing,
the tests and the backward pass all read the same data. This module imports only ``math`` and
``operator``; it never imports ``Value`` at run time (the rules reach ``Value`` methods by duck
typing, which is how the same rule builds gradient graphs for higher-order derivatives).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from micrograd_x.value import Value

__all__ = [
    "ABS",
    "ADD",
    "CONST",
    "COS",
    "DIV",
    "DOT",
    "ELU",
    "ERF",
    "ERFC",
    "EXP",
    "GELU",
    "LEAKY_RELU",
    "LOG",
    "MAX",
    "MIN",
    "MUL",
    "NEG",
    "POW",
    "POWV",
    "RELU",
    "SIGMOID",
    "SILU",
    "SIN",
    "SOFTPLUS",
    "SQRT",
    "SUB",
    "SUM",
    "TANH",
    "Domain",
    "DomainError",
    "NonDifferentiableError",
    "Op",
    "cos",
    "erf",
    "erfc",
    "exp",
    "get",
    "log",
    "register",
    "registry",
    "sigmoid",
    "sin",
    "sqrt",
    "tanh",
]

Rule = Callable[..., tuple[Any, ...]]
"""A partials rule: ``(out, *inputs, **params) -> one partial per input``.

It is called with floats in the forward pass, and with the nodes themselves by
``backward(create_graph=True)``, so it may use only arithmetic and the float-or-Value functions of
this module (:func:`exp`, :func:`log`, ...).
"""


class DomainError(ValueError):
    """An op was applied outside its domain, e.g. ``log`` of a non-positive number.

    Attributes:
        op: The op's name.
        inputs: The offending input values.
    """

    def __init__(self, op: str, message: str, inputs: tuple[float, ...] = ()) -> None:
        super().__init__(f"{op}: {message}")
        self.op = op
        self.inputs = inputs


class NonDifferentiableError(DomainError):
    """The forward value exists but a local derivative is infinite, e.g. ``sqrt`` at 0."""


@dataclass(frozen=True, slots=True)
class Domain:
    """Where an op is defined and where it is smooth; read by docs and tests.

    Attributes:
        text: The domain in words, e.g. ``"x > 0"``.
        box: One ``(low, high)`` interval per input (n-ary ops: one for all inputs) inside which
            the op is defined and well conditioned: tests sample inputs from it.
        kinks: Input values (of a unary op) where the derivative jumps; the documented
            subgradient is used there.
        piecewise: Whether the op has branches (kinks), so a gradient check near a branch
            boundary is inconclusive rather than failed.
    """

    text: str = "all real numbers"
    box: tuple[tuple[float, float], ...] = ((-5.0, 5.0),)
    kinks: tuple[float, ...] = ()
    piecewise: bool = False


@dataclass(frozen=True, slots=True)
class Op:
    """One differentiable operation: forward, local partials, domain.

    Attributes:
        name: Registry key, ``Value`` method name and test id (e.g. ``"tanh"``).
        symbol: What a diagram prints for the op (e.g. ``"tanh"``, ``"×"``, ``"Σ"``).
        arity: Number of inputs, or ``None`` for an n-ary op (``sum``, ``dot``).
        forward: ``(*inputs, **params) -> float``; raises :class:`DomainError` (or
            ``ZeroDivisionError``/``OverflowError``) with a clear message outside the domain.
        partials: The :data:`Rule` giving d(out)/d(input) for each input.
        domain: Where the op is defined and smooth.
        params: Names of constant keyword parameters (an exponent, a slope), stored on the node.
        branch: For piecewise ops, ``(*inputs, **params) -> int`` naming the piece taken; a
            gradient check compares it at ``x`` and ``x ± h`` to detect kinks.
        checked_partials: Whether the partials can overflow for finite inputs (e.g. ``1/y**2``),
            so the engine checks them for finiteness.
        formula: The math in one line, for docs and diagrams' tooltips.
        micrograd: The string micrograd records in a node's ``_op`` for this op (``"+"``,
            ``"ReLU"``, ``"**{k}"``: a format string over ``params``); empty: the op's ``name``.
    """

    name: str
    symbol: str
    arity: int | None
    forward: Callable[..., float]
    partials: Rule
    domain: Domain = field(default_factory=Domain)
    params: tuple[str, ...] = ()
    branch: Callable[..., int] | None = None
    checked_partials: bool = False
    formula: str = ""
    micrograd: str = ""

    def micrograd_op(self, params: Mapping[str, float] | None = None) -> str:
        """The op's micrograd ``_op`` string for a node with these parameters (``"**2"``).

        Args:
            params: The node's parameters (``{"k": 2}`` for ``x ** 2``), or ``None``.

        Returns:
            micrograd's symbol where micrograd has the op, else the op's name.
        """
        return self.micrograd.format(**(params or {})) if self.micrograd else self.name

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


_REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry and return it.

    Args:
        op: The op record; its name must be new.

    Returns:
        The same record, so a registration reads ``TANH = register(Op(...))``.

    Raises:
        ValueError: If an op of that name is already registered.
    """
    if op.name in _REGISTRY:
        raise ValueError(f"an op named {op.name!r} is already registered")
    _REGISTRY[op.name] = op
    return op


def registry() -> Iterator[Op]:
    """Iterate over every registered op, in registration order."""
    return iter(tuple(_REGISTRY.values()))


def get(name: str) -> Op:
    """Return the op registered under ``name``.

    Raises:
        KeyError: If no op has that name; the message lists the known names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(_REGISTRY)}") from None


# ---------------------------------------------------------------------------------------------
# Functions that accept a float or a Value. Rules use them, so one rule serves both the float
# fast path and the gradient graphs of backward(create_graph=True).


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float))


def _num(x: Any) -> float:
    """The number of a float or of a Value (its ``data``), for choosing a rule's branch."""
    return x if _is_number(x) else x.data  # type: ignore[no-any-return]


@overload
def exp(x: float) -> float: ...
@overload
def exp(x: Value) -> Value: ...
def exp(x: Any) -> Any:
    """e**x of a float (a float) or of a Value (a node)."""
    return _exp(x) if _is_number(x) else x.exp()


@overload
def log(x: float) -> float: ...
@overload
def log(x: Value) -> Value: ...
def log(x: Any) -> Any:
    """Natural logarithm of a float (a float) or of a Value (a node)."""
    return _log(x) if _is_number(x) else x.log()


@overload
def sqrt(x: float) -> float: ...
@overload
def sqrt(x: Value) -> Value: ...
def sqrt(x: Any) -> Any:
    """Square root of a float (a float) or of a Value (a node)."""
    return _sqrt(x) if _is_number(x) else x.sqrt()


@overload
def sin(x: float) -> float: ...
@overload
def sin(x: Value) -> Value: ...
def sin(x: Any) -> Any:
    """Sine of a float (a float) or of a Value (a node)."""
    return math.sin(x) if _is_number(x) else x.sin()


@overload
def cos(x: float) -> float: ...
@overload
def cos(x: Value) -> Value: ...
def cos(x: Any) -> Any:
    """Cosine of a float (a float) or of a Value (a node)."""
    return math.cos(x) if _is_number(x) else x.cos()


@overload
def tanh(x: float) -> float: ...
@overload
def tanh(x: Value) -> Value: ...
def tanh(x: Any) -> Any:
    """Hyperbolic tangent of a float (a float) or of a Value (a node)."""
    return math.tanh(x) if _is_number(x) else x.tanh()


@overload
def sigmoid(x: float) -> float: ...
@overload
def sigmoid(x: Value) -> Value: ...
def sigmoid(x: Any) -> Any:
    """Logistic sigmoid of a float (a float) or of a Value (a node)."""
    return _sigmoid(x) if _is_number(x) else x.sigmoid()


@overload
def erfc(x: float) -> float: ...
@overload
def erfc(x: Value) -> Value: ...
def erfc(x: Any) -> Any:
    """Complementary error function 1 − erf x of a float (a float) or of a Value (a node)."""
    return math.erfc(x) if _is_number(x) else x.erfc()


@overload
def erf(x: float) -> float: ...
@overload
def erf(x: Value) -> Value: ...
def erf(x: Any) -> Any:
    """Error function of a float (a float) or of a Value (a node)."""
    return math.erf(x) if _is_number(x) else x.erf()


# ---------------------------------------------------------------------------------------------
# Forward functions that need more than one expression: stable forms and clear domain errors.


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(
            f"exp: result overflows a float for input {x!r} (exp(x) is finite only for "
            f"x <= 709.78); rescale the input, or use a stable composition such as softplus"
        ) from None


def _log(x: float) -> float:
    if x <= 0.0:
        raise DomainError("log", f"input must be > 0, got {x!r}", (x,))
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0.0:
        raise DomainError("sqrt", f"input must be >= 0, got {x!r}", (x,))
    return math.sqrt(x)


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({x!r} / {y!r})")
    return x / y


def _tanh_partials(out: Any, x: Any) -> tuple[Any, ...]:
    # 1 − tanh² x cancels to 0 once tanh x rounds to ±1 (|x| > 19), though the derivative is
    # 4e/(1 + e)² with e = exp(−2|x|) > 0; as a graph, the same is 4σ(2x)σ(−2x).
    if _is_number(x):
        e = math.exp(-2.0 * abs(x))
        return (4.0 * e / ((1.0 + e) * (1.0 + e)),)
    if abs(x.data) > 400.0:  # e underflows to 0, and so does every derivative: no 2x to overflow
        return (0.0,)
    return (4.0 * sigmoid(2.0 * x) * sigmoid(-2.0 * x),)


def _sigmoid(x: float) -> float:
    # Two branches so exp never overflows: exp(-|x|) <= 1.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for every finite x.
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _pow(x: float, k: float) -> float:
    if x == 0.0 and k < 0:
        raise ZeroDivisionError(f"pow: 0.0 ** {k!r} is a division by zero")
    if x < 0.0 and not float(k).is_integer():
        raise DomainError(
            "pow",
            f"a negative base {x!r} with the non-integer exponent {k!r} has no real value",
            (x,),
        )
    try:
        return float(x**k)
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {k!r} overflows a float") from None


def _pow_partials(out: Any, x: Any, k: float) -> tuple[Any, ...]:
    # d/dx x^k = k x^(k-1); k == 0 is a constant, and x^(k-1) at x = 0 with k < 1 is infinite.
    if k == 0:
        return (0.0,)
    if k == 1:
        return (1.0,)
    if _is_number(x):
        if x == 0.0 and k < 1:
            raise NonDifferentiableError("pow", f"d/dx x**{k!r} is infinite at x = 0.0", (x,))
        try:
            return (k * x ** (k - 1),)
        except OverflowError:
            # x**(k-1) overflows while k·x^(k-1) need not (x = k = 2.2e-313: it is about 1):
            # k·x^k / x, from the finite output, in the order that keeps it finite.
            d = (k / x) * out
            return (d if d - d == 0.0 else k * (out / x),)
    return (k * x ** (k - 1),)


def _powv(a: float, b: float) -> float:
    if a < 0.0:
        raise DomainError(
            "powv",
            f"the base must be >= 0 when the exponent is a Value (got base {a!r}): "
            "d/db a**b = a**b·log(a) has no real value for a < 0; use a number exponent",
            (a, b),
        )
    if a == 0.0 and b < 0.0:
        raise ZeroDivisionError(f"powv: 0.0 ** {b!r} is a division by zero")
    return _pow(a, b)


def _powv_partials(out: Any, a: Any, b: Any) -> tuple[Any, ...]:
    # d/da a^b = b a^(b-1);  d/db a^b = a^b log a   (a = 0: a^b = 0 for b > 0, so 0 · log 0 := 0).
    if _num(a) == 0.0:  # also as a graph (create_graph), where log(a) would be taken of 0
        if _num(b) < 1:
            raise NonDifferentiableError(
                "powv", f"d/da a**{_num(b)!r} is infinite at a = 0.0", (0.0, _num(b))
            )
        return (b * a ** (b - 1), 0.0)
    return (b * a ** (b - 1), out * log(a))


def _elu(x: float, alpha: float = 1.0) -> float:
    return x if x > 0.0 else alpha * math.expm1(x)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


_SQRT_HALF_LO = -4.833646656726457e-17  # √½ − _SQRT_HALF: the part a float cannot hold


def _split(a: float) -> tuple[float, float]:
    # Veltkamp's split of a float into two halves whose products are exact.
    c = 134217729.0 * a
    hi = c - (c - a)
    return hi, a - hi


def _gelu(x: float) -> float:
    # x·Φ(x) with Φ(x) = erfc(-x/√2)/2: no cancellation in the left tail, unlike 1 + erf(x/√2).
    z = x * _SQRT_HALF
    if x >= -1.0 or x < -40.0:  # below -40 the result underflows to -0.0 (and x·2^27 may overflow)
        return 0.5 * x * math.erfc(-z)
    # In the left tail erfc magnifies the rounding of x/√2 (its condition number is about 2z²,
    # 60 at x = -8), so correct for it to first order: dz = x/√2 - z, computed exactly.
    xh, xl = _split(x)
    sh, sl = _split(_SQRT_HALF)
    dz = ((xh * sh - z) + xh * sl + xl * sh) + xl * sl + x * _SQRT_HALF_LO
    return 0.5 * x * (math.erfc(-z) + _TWO_OVER_SQRT_PI * math.exp(-z * z) * dz)


def _gauss(x: Any) -> Any:
    # e^(−x²): 0 in floats for |x| > 27.3, and so is every derivative; as a graph, x·x would
    # overflow for |x| > 1.3e154, so far out the constant 0 stands in for it.
    if not _is_number(x) and abs(x.data) > 27.5:
        return 0.0
    return exp(-(x * x))


def _gelu_partials(out: Any, x: Any) -> tuple[Any, ...]:
    # Φ(x) + x·φ(x). Beyond |x| = 40, φ(x) underflows to 0 and Φ(x) rounds to 0 or 1 (every
    # higher derivative underflows too); as a graph, x·x would overflow for |x| > 1.3e154.
    if not _is_number(x) and abs(x.data) > 40.0:
        return (1.0 if x.data > 0.0 else 0.0,)
    return (0.5 * erfc(-x * _SQRT_HALF) + x * _INV_SQRT_2PI * exp(-0.5 * x * x),)


def _dot(*args: float) -> float:
    # b + w₁x₁ + w₂x₂ + … by the builtin sum (as micrograd_x.applying.dot computes it, so the
    # fast path has the same bits on every Python version).
    n = len(args) // 2
    return sum(map(operator.mul, args[:n], args[n : 2 * n]), args[-1] if len(args) % 2 else 0.0)


def _dot_partials(out: Any, *args: Any) -> tuple[Any, ...]:
    # d/dw_i = x_i, d/dx_i = w_i, d/db = 1.
    n = len(args) // 2
    ws, xs = args[:n], args[n : 2 * n]
    return (*xs, *ws, 1.0) if len(args) % 2 else (*xs, *ws)


def _sum(*args: float) -> float:
    total = 0.0
    for a in args:
        total += a
    return total


def _const(*args: float) -> float:
    raise TypeError("const: constants are leaves and take no inputs")


_ONE = (1.0,)
_ONE_ONE = (1.0, 1.0)
_ONE_MINUS_ONE = (1.0, -1.0)
_MINUS_ONE = (-1.0,)
_WIDE = ((-5.0, 5.0),)
_EXTREME = ((-1000.0, 1000.0),)


# ---------------------------------------------------------------------------------------------
# The registry. Each entry: a one-line math comment, then the record.

# A leaf holding a plain number that took part in an op (e.g. the 2 in `2 * x`).
CONST = register(
    Op("const", "const", 0, _const, lambda out: (), Domain(box=()), formula="c (a number)")
)

# x + y;  d/dx = 1, d/dy = 1
ADD = register(
    Op(
        "add",
        "+",
        2,
        lambda x, y: x + y,
        lambda out, x, y: _ONE_ONE,
        Domain(box=_WIDE * 2),
        micrograd="+",
        formula="x + y",
    )
)

# x - y;  d/dx = 1, d/dy = -1
SUB = register(
    Op(
        "sub",
        "−",
        2,
        lambda x, y: x - y,
        lambda out, x, y: _ONE_MINUS_ONE,
        Domain(box=_WIDE * 2),
        micrograd="-",
        formula="x − y",
    )
)

# x · y;  d/dx = y, d/dy = x
MUL = register(
    Op(
        "mul",
        "×",
        2,
        lambda x, y: x * y,
        lambda out, x, y: (y, x),
        Domain(box=_WIDE * 2),
        micrograd="*",
        formula="x · y",
    )
)

# x / y;  d/dx = 1/y, d/dy = -x/y²
DIV = register(
    Op(
        "div",
        "÷",
        2,
        _div,
        lambda out, x, y: (1.0 / y, -out / y),
        Domain("y ≠ 0", ((-5.0, 5.0), (0.25, 5.0))),
        checked_partials=True,
        micrograd="/",
        formula="x / y",
    )
)

# -x;  d/dx = -1
NEG = register(Op("neg", "−", 1, lambda x: -x, lambda out, x: _MINUS_ONE, formula="−x"))

# x^k for a number k;  d/dx = k·x^(k-1)
POW = register(
    Op(
        "pow",
        "^",
        1,
        _pow,
        _pow_partials,
        Domain("x > 0 for any k; any x for integer k ≥ 0", ((0.25, 4.0),)),
        params=("k",),
        checked_partials=True,
        micrograd="**{k}",
        formula="x^k",
    )
)

# a^b for a Value exponent;  d/da = b·a^(b-1), d/db = a^b·log a
POWV = register(
    Op(
        "powv",
        "^",
        2,
        _powv,
        _powv_partials,
        Domain("a > 0", ((0.25, 4.0), (-3.0, 3.0))),
        checked_partials=True,
        micrograd="**",
        formula="a^b",
    )
)

# e^x;  d/dx = e^x (the output itself)
EXP = register(
    Op(
        "exp",
        "exp",
        1,
        _exp,
        lambda out, x: (out,),
        Domain("x ≤ 709.78 (larger overflows)", _WIDE),
        micrograd="exp",
        formula="e^x",
    )
)

# log x;  d/dx = 1/x
LOG = register(
    Op(
        "log",
        "log",
        1,
        _log,
        lambda out, x: (1.0 / x,),
        Domain("x > 0", ((0.05, 20.0),)),
        checked_partials=True,
        formula="ln x",
    )
)

# √x;  d/dx = 1/(2√x)  (infinite at 0)
SQRT = register(
    Op(
        "sqrt",
        "√",
        1,
        _sqrt,
        lambda out, x: (0.5 / out,),
        Domain("x ≥ 0 (differentiable for x > 0)", ((0.05, 20.0),)),
        checked_partials=True,
        formula="√x",
    )
)

# |x|;  d/dx = sign x  (subgradient 0 at the kink x = 0)
ABS = register(
    Op(
        "abs",
        "|x|",
        1,
        abs,
        lambda out, x: (1.0 if x > 0 else -1.0 if x < 0 else 0.0,),
        Domain(kinks=(0.0,), piecewise=True),
        branch=lambda x: (x > 0) - (x < 0),
        formula="|x|",
    )
)

# sin x;  d/dx = cos x
SIN = register(Op("sin", "sin", 1, math.sin, lambda out, x: (cos(x),), formula="sin x"))

# cos x;  d/dx = -sin x
COS = register(Op("cos", "cos", 1, math.cos, lambda out, x: (-sin(x),), formula="cos x"))

# tanh x;  d/dx = 1 - tanh² x, computed without cancellation where tanh x is near ±1
TANH = register(
    Op(
        "tanh",
        "tanh",
        1,
        math.tanh,
        _tanh_partials,
        Domain(box=_EXTREME),
        micrograd="tanh",
        formula="tanh x",
    )
)

# σ(x) = 1/(1 + e^-x);  d/dx = σ(x)(1 - σ(x)) = σ(x)σ(−x) (no cancellation where σ(x) ≈ 1)
SIGMOID = register(
    Op(
        "sigmoid",
        "σ",
        1,
        _sigmoid,
        lambda out, x: (out * sigmoid(-x),),
        Domain(box=_EXTREME),
        formula="1 / (1 + e^−x)",
    )
)

# max(x, 0);  d/dx = 1 for x > 0, else 0 (subgradient 0 at the kink, as PyTorch)
RELU = register(
    Op(
        "relu",
        "ReLU",
        1,
        lambda x: x if x > 0.0 else 0.0,
        lambda out, x: (1.0 if x > 0 else 0.0,),
        Domain(kinks=(0.0,), piecewise=True),
        branch=lambda x: int(x > 0),
        micrograd="ReLU",
        formula="max(x, 0)",
    )
)

# x for x > 0, else slope·x;  d/dx = 1 or slope
LEAKY_RELU = register(
    Op(
        "leaky_relu",
        "LeakyReLU",
        1,
        lambda x, slope=0.01: x if x > 0.0 else slope * x,
        lambda out, x, slope=0.01: (1.0 if x > 0 else slope,),
        Domain(kinks=(0.0,), piecewise=True),
        params=("slope",),
        branch=lambda x, slope=0.01: int(x > 0),
        formula="x if x > 0 else slope·x",
    )
)

# x for x > 0, else α(e^x - 1);  d/dx = 1 or α e^x (not out + α, which cancels for x < -28)
ELU = register(
    Op(
        "elu",
        "ELU",
        1,
        _elu,
        lambda out, x, alpha=1.0: (1.0 if x > 0 else alpha * exp(x),),
        Domain(kinks=(0.0,), piecewise=True),
        params=("alpha",),
        branch=lambda x, alpha=1.0: int(x > 0),
        formula="x if x > 0 else α(e^x − 1)",
    )
)

# log(1 + e^x), computed stably;  d/dx = σ(x)
SOFTPLUS = register(
    Op(
        "softplus",
        "softplus",
        1,
        _softplus,
        lambda out, x: (sigmoid(x),),
        Domain(box=_EXTREME),
        formula="log(1 + e^x)",
    )
)

# erf x = 2/√π ∫₀ˣ e^(−t²) dt;  d/dx = 2/√π · e^(−x²)
ERF = register(
    Op(
        "erf",
        "erf",
        1,
        math.erf,
        lambda out, x: (_TWO_OVER_SQRT_PI * _gauss(x),),
        formula="erf x",
    )
)

# erfc x = 1 − erf x, accurate where erf x is near 1;  d/dx = −2/√π · e^(−x²)
ERFC = register(
    Op(
        "erfc",
        "erfc",
        1,
        math.erfc,
        lambda out, x: (-_TWO_OVER_SQRT_PI * _gauss(x),),
        formula="1 − erf x",
    )
)

# GELU, exact (erf) form: x·Φ(x);  d/dx = Φ(x) + x·φ(x), with Φ(x) = erfc(−x/√2)/2 (accurate in
# the left tail, where 1 + erf(x/√2) cancels)
GELU = register(
    Op(
        "gelu",
        "GELU",
        1,
        _gelu,
        _gelu_partials,
        Domain(box=((-8.0, 8.0),)),
        formula="x·Φ(x), Φ the standard normal CDF (exact erf form, PyTorch's default)",
    )
)

# SiLU (swish): x·σ(x);  d/dx = σ(x)(1 + x(1 − σ(x))), with 1 − σ(x) = σ(−x)
SILU = register(
    Op(
        "silu",
        "SiLU",
        1,
        lambda x: x * _sigmoid(x),
        lambda out, x: (sigmoid(x) * (1.0 + x * sigmoid(-x)),),
        Domain(box=((-30.0, 30.0),)),
        formula="x·σ(x)",
    )
)

# max(x, y);  d/dx = 1 where x ≥ y (ties go to x), d/dy the other one
MAX = register(
    Op(
        "max",
        "max",
        2,
        lambda x, y: x if x >= y else y,
        lambda out, x, y: (1.0, 0.0) if x >= y else (0.0, 1.0),
        Domain("all real numbers; kink where x = y", _WIDE * 2, piecewise=True),
        branch=lambda x, y: int(x >= y),
        formula="max(x, y)",
    )
)

# min(x, y);  d/dx = 1 where x ≤ y (ties go to x), d/dy the other one
MIN = register(
    Op(
        "min",
        "min",
        2,
        lambda x, y: x if x <= y else y,
        lambda out, x, y: (1.0, 0.0) if x <= y else (0.0, 1.0),
        Domain("all real numbers; kink where x = y", _WIDE * 2, piecewise=True),
        branch=lambda x, y: int(x <= y),
        formula="min(x, y)",
    )
)

# Σ xᵢ;  d/dxᵢ = 1
SUM = register(
    Op(
        "sum",
        "Σ",
        None,
        _sum,
        lambda out, *xs: _ONE * len(xs),
        formula="Σᵢ xᵢ",
    )
)

# Σ wᵢxᵢ + b, inputs ordered (w₁…wₙ, x₁…xₙ, b) with b optional;  d/dwᵢ = xᵢ, d/dxᵢ = wᵢ, d/db = 1
DOT = register(
    Op(
        "dot",
        "Σwx+b",
        None,
        _dot,
        _dot_partials,
        formula="Σᵢ wᵢ·xᵢ + b",
    )
)
