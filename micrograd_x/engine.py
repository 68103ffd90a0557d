"""The engine: ``Value`` nodes and op application.

A ``Value`` keeps its op, its inputs in order and the local partial derivative of its output with
respect to each input, as plain data; :func:`apply` (and the operators and methods of ``Value``)
build such nodes through the op records of :mod:`micrograd_x.ops`, and :func:`name_scope` tags
them with the module that made them. Nodes never refer back to themselves, so reference counting
frees a graph as soon as it is dropped. Reverse mode (``backward``, ``gradients``,
``topological_order``, ``zero_grad``) lives in :mod:`micrograd_x.backward` and is re-exported here.
Imports: the standard library, :mod:`micrograd_x.ops` and (at the end, once ``Value`` exists)
:mod:`micrograd_x.backward`.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any, cast

from micrograd_x import ops
from micrograd_x.ops import (
    ABS,
    ADD,
    CONST,
    COS,
    DIV,
    DOT,
    ELU,
    ERF,
    ERFC,
    EXP,
    GELU,
    LEAKY_RELU,
    LOG,
    MAX,
    MIN,
    MUL,
    NEG,
    POW,
    POWV,
    RELU,
    SIGMOID,
    SILU,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    SUM,
    TANH,
    NonDifferentiableError,
    Op,
)

__all__ = [
    "Parameter",
    "Value",
    "apply",
    "backward",
    "constant",
    "dot",
    "gradients",
    "name_scope",
    "sum",
    "to_float",
    "topological_order",
    "zero_grad",
]

_SCOPE: ContextVar[str | None] = ContextVar("micrograd_x.name_scope", default=None)
"""The module scope new nodes are tagged with (set by :func:`name_scope`), per thread and task."""
_scope_now = _SCOPE.get
_scoped = False
"""Whether :func:`name_scope` was ever entered: until then every node's scope is ``None``, and
making a node skips the context variable."""

_new = object.__new__
_exp = math.exp
_tanh = math.tanh
_tick = itertools.count().__next__
"""The next creation number: nodes are numbered as they are made, so parents come first."""
_POW_PARAMS = {k: MappingProxyType({"k": k}) for k in range(2, 65)}
"""The shared, read-only parameters of ``x ** k`` nodes for the fast path's exponents."""


def to_float(x: object, where: str) -> float:
    """Validate a plain number and return it as a finite float.

    Args:
        x: The number (an ``int``, ``float`` or other real; not ``bool``, not a ``Value``).
        where: What the messages name (``"Value.data"``, ``"backward: gradient"``).

    Raises:
        TypeError: If ``x`` is not a real number.
        ValueError: If it is NaN or infinite.
        OverflowError: If it is an integer too large for a float.
    """
    t = type(x)
    if t is float:
        f: float = x  # type: ignore[assignment]
    elif t is int or (isinstance(x, numbers.Real) and t is not bool):
        try:
            f = float(x)  # type: ignore[arg-type]
        except OverflowError:
            raise OverflowError(
                f"{where}: the integer {_int_text(x)} is too large for a float"  # type: ignore[arg-type]
            ) from None
    elif isinstance(x, Value):
        raise TypeError(f"{where}: expected a number, got a Value; pass v.data to copy its number")
    else:
        raise TypeError(f"{where}: expected a real number (int or float), got {t.__name__} {x!r}")
    if not f - f == 0.0:
        raise ValueError(f"{where}: {f!r} is not a finite number; every Value holds a finite float")
    return f


def _int_text(x: int) -> str:
    """An integer for an error message; past Python's 4,300-digit ``repr`` limit, its size."""
    bits = int(x).bit_length()
    if bits < 14_000:
        return repr(int(x))
    return f"of about {int(bits * 0.30103)} digits ({'-' if x < 0 else ''}2**{bits - 1} or more)"


@contextmanager
def name_scope(name: str) -> Iterator[str]:
    """Tag every node created inside the block with a module scope, for grouping in diagrams.

    Scopes nest with dots: ``name_scope("layer1")`` then ``name_scope("neuron3")`` gives
    ``"layer1.neuron3"``. The scope lives in a :class:`contextvars.ContextVar`, so threads (and
    asyncio tasks) building models at the same time each see only their own.

    Args:
        name: The scope's name (a module's name).

    Yields:
        The full dotted scope.
    """
    global _scoped
    _scoped = True
    outer = _SCOPE.get()
    scope = name if outer is None else f"{outer}.{name}"
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


class Value:
    """A scalar node of a computation graph.

    Attributes:
        data: The node's value, always a finite float.
        grad: d(root)/d(this node) after ``backward``: a float, or a ``Value`` after
            ``backward(create_graph=True)``.
        op: The :class:`~micrograd_x.ops.Op` that made the node; ``None`` for a leaf, ``CONST``
            for a plain number that took part in an op.
        parents: The op's inputs, in order; duplicates kept (``x * x`` has two edges).
        partials: d(data)/d(parent) for each parent, in the same order.
        params: The op's constant parameters (e.g. ``{"k": 2}`` for ``x ** 2``), or ``None``.
        label: An optional name, shown in diagrams and reprs.
        scope: The module scope the node was built in (see :func:`name_scope`), or ``None``.

    Backward contract (as PyTorch): ``root.backward()`` *adds* d(root)/d(leaf) into each leaf's
    ``grad`` (call ``zero_grad`` between steps), and sets every interior node's ``grad`` afresh
    to its gradient in this call. Equality and hashing are by identity; ``<``, ``<=``, ``>``,
    ``>=`` compare ``data`` and return a bool.
    """

    # Inputs and partials of unary and binary ops live in four slots rather than two tuples, so a
    # node is a single object for Python's cyclic garbage collector: it traverses half as much,
    # and a forward pass with the GC on costs far less. n-ary ops (sum, dot) use the tuples.
    __slots__ = (
        "_d0",
        "_d1",
        "_data",
        "_dn",
        "_grad",
        "_i",
        "_n",
        "_p0",
        "_p1",
        "_pn",
        "label",
        "op",
        "params",
        "scope",
    )

    _data: float
    _grad: float | Value
    op: Op | None
    params: Mapping[str, float] | None
    label: str | None
    scope: str | None
    _p0: Value | None
    _p1: Value | None
    _pn: tuple[Value, ...] | None
    _d0: Any
    _d1: Any
    _dn: tuple[Any, ...] | None
    _i: int  # creation number: a node is always newer than its parents
    _n: int  # the number of the last float backward pass that reached the node (0: none)

    def __init__(
        self, data: float, label: str | None = None, *micrograd: object, **kwargs: object
    ) -> None:
        """Create a leaf.

        Interior nodes are made by ops (``a + b``, ``a.tanh()``, :func:`apply`), never by this
        constructor: micrograd's ``Value(data, _children, _op)`` raises a ``TypeError`` that
        says so.

        Args:
            data: A real number (int or float, finite).
            label: An optional name for diagrams and reprs.
            *micrograd: Refused (micrograd's ``_children`` and ``_op``), with advice.
            **kwargs: Refused (``_children=``, ``_op=``), with advice.

        Raises:
            TypeError: If ``data`` is not a real number (a string, ``None``, a complex number),
                ``label`` is not a string, or children or an op are given.
            ValueError: If ``data`` is NaN or infinite.
        """
        if micrograd or kwargs or (label is not None and not isinstance(label, str)):
            _refuse_constructor(label, micrograd, kwargs)
        _init_leaf(self, to_float(data, "Value"), None, label)

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs, in order; duplicates kept (``x * x`` has two edges)."""
        p0 = self._p0
        if p0 is None:
            return self._pn or ()
        p1 = self._p1
        return (p0,) if p1 is None else (p0, p1)

    @property
    def partials(self) -> tuple[Any, ...]:
        """d(data)/d(parent) for each parent, in the same order as :attr:`parents`."""
        if self._p0 is None:
            return self._dn or ()
        return (self._d0,) if self._p1 is None else (self._d0, self._d1)

    @property
    def data(self) -> float:
        """The node's value, always a finite float (assigning validates as the constructor)."""
        return self._data

    @data.setter
    def data(self, value: float) -> None:
        self._data = (
            value
            if type(value) is float and value - value == 0.0
            else to_float(value, "Value.data")
        )

    @property
    def grad(self) -> float | Value:
        """d(root)/d(this node) after ``backward`` (assigning validates as the constructor).

        A finite float, or a ``Value`` graph after ``backward(create_graph=True)``.
        """
        return self._grad

    @grad.setter
    def grad(self, value: float | Value) -> None:
        if (type(value) is float and value - value == 0.0) or isinstance(value, Value):
            self._grad = value
        elif value is None:
            raise TypeError("Value.grad: expected a real number, got None; write 0.0 to zero it")
        else:
            self._grad = to_float(value, "Value.grad")

    # -- micrograd's names ----------------------------------------------------------------------

    @property
    def _prev(self) -> frozenset[Value]:
        """The set of distinct parents, micrograd's name (read-only; see :attr:`parents`)."""
        return frozenset(self.parents)

    @property
    def _op(self) -> str:
        """The op's symbol as micrograd writes it, micrograd's name (see :attr:`op`).

        ``"+"``, ``"*"``, ``"ReLU"``, ``"tanh"``, ``"**2"``, …; ``""`` for a leaf or a constant.
        """
        op = self.op
        return "" if op is None or op is CONST else op.micrograd_op(self.params)

    def _backward(self) -> None:
        """This node's chain-rule step: add ``grad`` × each local partial into its parents.

        micrograd's per-node step, for stepping through backpropagation by hand: set
        ``out.grad = 1.0``, then call ``_backward()`` on each node from the output down.
        :meth:`backward` does the whole pass (and checks it).
        """
        g = self._grad
        for parent, d in zip(self.parents, self.partials):
            parent._grad = parent._grad + d * g

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails, so it costs nothing on the hot path.
        hint = _HINTS.get(name)
        if hint is None and not name.startswith("__"):
            import difflib

            close = difflib.get_close_matches(name, _public_names(), n=1)
            hint = close[0] if close else None
        more = f"; did you mean {hint}?" if hint else ""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}{more}")

    # -- introspection ------------------------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """Whether the node has no inputs (a variable, a parameter or a constant)."""
        return self._p0 is None and self._pn is None

    @property
    def is_constant(self) -> bool:
        """Whether the node is a plain number that took part in an op."""
        return self.op is CONST

    def __repr__(self) -> str:
        parts = [f"data={self._data:.6g}", f"grad={_fmt(self._grad)}"]
        if self.op is not None:
            op = self.op.name
            if self.params:
                op += "(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")"
            parts.append(f"op={op}")
        if self.label is not None:
            parts.append(f"label={self.label!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def item(self) -> float:
        """The node's number (``data``), as PyTorch's ``Tensor.item()``; it leaves the graph."""
        return self._data

    def __float__(self) -> float:
        # math.tanh(x), float(x) and numpy's float conversion all come here: returning the
        # number would silently drop x from the graph (its gradient would be wrong, not absent).
        raise TypeError(
            "a Value cannot become a float implicitly (float(x), math.tanh(x), ...): that "
            "would drop it from the graph and its gradient would be silently wrong. Use the "
            "Value's own op (x.tanh(), x.exp(), or micrograd_x.tanh(x), micrograd_x.exp(x), ...) "
            "to stay differentiable, or x.item() / x.data for the number."
        )

    # -- comparisons on data (equality and hashing stay by identity) --------------------------

    def __lt__(self, other: Value | float) -> bool:
        return self._data < (other._data if isinstance(other, Value) else other)

    def __le__(self, other: Value | float) -> bool:
        return self._data <= (other._data if isinstance(other, Value) else other)

    def __gt__(self, other: Value | float) -> bool:
        return self._data > (other._data if isinstance(other, Value) else other)

    def __ge__(self, other: Value | float) -> bool:
        return self._data >= (other._data if isinstance(other, Value) else other)

    __hash__ = object.__hash__

    # -- arithmetic ---------------------------------------------------------------------------

    # The fast paths of +, −, × and ÷ between Values, and of relu, tanh and exp: the op records'
    # float rules spelled out (tests compare them with the records bit for bit); a non-finite
    # result takes the general path, which raises the record's error.

    def __add__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            out = self._data + other._data
            if out - out == 0.0:
                return _node2(ADD, self, other, out, 1.0, 1.0)
            return _apply2(ADD, self, other)
        o = _coerce(other, "add")
        return NotImplemented if o is None else _apply2(ADD, self, o)

    def __radd__(self, other: float) -> Value:
        o = _coerce(other, "add")
        return NotImplemented if o is None else _apply2(ADD, o, self)

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            out = self._data - other._data
            if out - out == 0.0:
                return _node2(SUB, self, other, out, 1.0, -1.0)
            return _apply2(SUB, self, other)
        o = _coerce(other, "sub")
        return NotImplemented if o is None else _apply2(SUB, self, o)

    def __rsub__(self, other: float) -> Value:
        o = _coerce(other, "sub")
        return NotImplemented if o is None else _apply2(SUB, o, self)

    def __mul__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            a = self._data
            b = other._data
            out = a * b
            if out - out == 0.0:
                return _node2(MUL, self, other, out, b, a)
            return _apply2(MUL, self, other)
        o = _coerce(other, "mul")
        return NotImplemented if o is None else _apply2(MUL, self, o)

    def __rmul__(self, other: float) -> Value:
        o = _coerce(other, "mul")
        return NotImplemented if o is None else _apply2(MUL, o, self)

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            a = self._data
            b = other._data
            if b != 0.0:
                out = a / b
                d0 = 1.0 / b
                d1 = -out / b
                if out - out == 0.0 and d0 - d0 == 0.0 and d1 - d1 == 0.0:
                    return _node2(DIV, self, other, out, d0, d1)
            return _apply2(DIV, self, other)
        o = _coerce(other, "div")
        return NotImplemented if o is None else _apply2(DIV, self, o)

    def __rtruediv__(self, other: float) -> Value:
        o = _coerce(other, "div")
        return NotImplemented if o is None else _apply2(DIV, o, self)

    def __pow__(self, other: Value | float) -> Value:
        if type(other) is int and 2 <= other <= 64:
            # The fast path for x**2 and its kin: for these exponents the result and its
            # derivative k·x^(k-1) are finite together (|x|^k finite bounds k|x|^(k-1) by
            # max(k^k, |x|^k)), and float ** int raises OverflowError itself.
            a = self._data
            try:
                out = a**other
            except OverflowError:
                return _apply1(POW, self, _POW_PARAMS[other])  # the general path's message
            return _node1(POW, self, out, other * a ** (other - 1), _POW_PARAMS[other])
        if isinstance(other, Value):
            return _apply2(POWV, self, other)
        if type(other) is bool or not isinstance(other, numbers.Real):
            return NotImplemented
        k = to_float(other, "pow")
        # Keep integer exponents integral so a negative base stays legal and the label reads x^2.
        return _apply1(POW, self, {"k": int(k) if k.is_integer() else k})

    def __rpow__(self, other: float) -> Value:
        o = _coerce(other, "powv")
        return NotImplemented if o is None else _apply2(POWV, o, self)

    def __neg__(self) -> Value:
        return _apply1(NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply1(ABS, self)

    # -- unary ops (each is one record in micrograd_x.ops) --------------------------------------

    def exp(self) -> Value:
        """e**self."""
        a = self._data
        if a <= 709.0:  # e**709 < 1.8e308: finite, and so is its derivative (itself)
            out = _exp(a)
            return _node1(EXP, self, out, out, None)
        return _apply1(EXP, self)

    def log(self) -> Value:
        """Natural logarithm; raises ``DomainError`` for data <= 0."""
        return _apply1(LOG, self)

    def sqrt(self) -> Value:
        """Square root; raises ``DomainError`` for data < 0 (and at 0, where d/dx is infinite)."""
        return _apply1(SQRT, self)

    def sin(self) -> Value:
        """Sine."""
        return _apply1(SIN, self)

    def cos(self) -> Value:
        """Cosine."""
        return _apply1(COS, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        a = self._data
        e = _exp(-2.0 * abs(a))  # the record's partials rule, finite for every input
        return _node1(TANH, self, _tanh(a), 4.0 * e / ((1.0 + e) * (1.0 + e)), None)

    def sigmoid(self) -> Value:
        """Logistic sigmoid 1/(1 + e^-x), stable for any input."""
        return _apply1(SIGMOID, self)

    def relu(self) -> Value:
        """max(x, 0); the derivative at 0 is 0."""
        if self._data > 0.0:
            return _node1(RELU, self, self._data, 1.0, None)
        return _node1(RELU, self, 0.0, 0.0, None)

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """X for x > 0, else ``slope * x``."""
        return _apply1(LEAKY_RELU, self, {"slope": to_float(slope, "leaky_relu")})

    def elu(self, alpha: float = 1.0) -> Value:
        """X for x > 0, else ``alpha * (e**x - 1)``."""
        return _apply1(ELU, self, {"alpha": to_float(alpha, "elu")})

    def softplus(self) -> Value:
        """log(1 + e**x), stable for any input."""
        return _apply1(SOFTPLUS, self)

    def gelu(self) -> Value:
        """GELU in its exact form x·Φ(x) (Φ: standard normal CDF)."""
        return _apply1(GELU, self)

    def silu(self) -> Value:
        """SiLU (swish): x·σ(x)."""
        return _apply1(SILU, self)

    def erf(self) -> Value:
        """The error function."""
        return _apply1(ERF, self)

    def erfc(self) -> Value:
        """The complementary error function 1 − erf x."""
        return _apply1(ERFC, self)

    def max(self, other: Value | float) -> Value:
        """The larger of ``self`` and ``other``; ties send the gradient to ``self``."""
        return _apply2(MAX, self, _coerce_or_raise(other, "max"))

    def min(self, other: Value | float) -> Value:
        """The smaller of ``self`` and ``other``; ties send the gradient to ``self``."""
        return _apply2(MIN, self, _coerce_or_raise(other, "min"))

    # -- differentiation ----------------------------------------------------------------------

    def backward(self, gradient: float = 1.0, *, create_graph: bool = False) -> None:
        """Backpropagate from this node; see :func:`backward`."""
        backward(self, gradient, create_graph=create_graph)


class Parameter(Value):
    """A leaf that a model learns (a weight or a bias); diagrams style it apart from inputs."""

    __slots__ = ()


_HINTS = {
    "_children": "parents (the op's inputs in order; _prev is their set)",
    "children": "parents (the op's inputs in order; _prev is their set)",
    "prev": "parents (the op's inputs in order; _prev is their set)",
    "grad_fn": "op (the op record) and partials (its local derivatives)",
    "_partials": "partials",
    "local_grads": "partials",
    "requires_grad": "is_constant (constants need no gradient)",
    "numpy": "item() or data (the float)",
    "tolist": "item() or data (the float)",
}
"""micrograd and PyTorch names that a Value spells differently."""


_data_of: Any = Value.__dict__["_data"].__get__
"""``_data_of(v)``: a Value's number; a TypeError for anything that is not a Value."""


def _public_names() -> list[str]:
    return [n for n in dir(Value) if not n.startswith("__")]


def _refuse_constructor(
    label: object, extra: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    micrograd = bool(extra) or "_children" in kwargs or "_op" in kwargs
    if not micrograd and kwargs:
        raise TypeError(f"Value: unexpected keyword argument(s) {sorted(kwargs)}")
    if micrograd or isinstance(label, (tuple, list, set, frozenset)):
        raise TypeError(
            "Value(data, _children, _op) is micrograd's internal constructor; in micrograd_x "
            "Value(data, label=None) makes a leaf, and interior nodes are made by applying ops "
            "(a + b, a * b, a.tanh(), micrograd_x.apply('add', a, b)), which store each local "
            "partial derivative as data. A new op is an Op record (forward and partials rule) "
            "added with micrograd_x.ops.register, then applied with apply()."
        )
    raise TypeError(f"Value: label must be a str or None, got {type(label).__name__}")


def _fmt(g: float | Value) -> str:
    return f"{g:.6g}" if isinstance(g, float) else f"<graph {g._data:.6g}>"


# -------------------------------------------------------------------------------------------
# Applying ops. The three specialised paths (unary, binary, n-ary) do the same thing: call the
# op's forward and partials on floats, check the results are finite, and record one node.


def constant(x: float) -> Value:
    """A leaf node for a plain number taking part in an op (its ``op`` is ``CONST``)."""
    v = Value(to_float(x, "constant"))
    v.op = CONST
    return v


def _coerce(x: object, op: str) -> Value | None:
    """A constant node for a plain number, or ``None`` (so the operator returns NotImplemented)."""
    if type(x) is bool or not isinstance(x, numbers.Real):
        return None
    v = _new(Value)
    _init_leaf(v, to_float(x, op), CONST, None)
    return v


def _coerce_or_raise(x: object, op: str) -> Value:
    if isinstance(x, Value):
        return x
    c = _coerce(x, op)
    if c is None:
        raise TypeError(f"{op}: expected a Value or a real number, got {type(x).__name__} {x!r}")
    return c


def _not_finite(op: Op, out: float, inputs: tuple[float, ...]) -> OverflowError:
    args = ", ".join(repr(a) for a in inputs)
    return OverflowError(f"{op.name}: the result {out!r} is not finite for inputs ({args})")


def _infinite_partial(op: Op, inputs: tuple[float, ...]) -> NonDifferentiableError:
    args = ", ".join(repr(a) for a in inputs)
    return NonDifferentiableError(
        op.name, f"a local derivative is infinite at inputs ({args})", inputs
    )


def _overflowing_partial(op: Op, inputs: tuple[float, ...]) -> OverflowError:
    args = ", ".join(repr(a) for a in inputs)
    return OverflowError(f"{op.name}: a local derivative overflows a float at inputs ({args})")


def _check_partials(op: Op, parts: tuple[Any, ...], inputs: tuple[float, ...]) -> None:
    for p in parts:
        if not p - p == 0.0:
            raise _overflowing_partial(op, inputs)


def _apply1(op: Op, x: Value, params: Mapping[str, float] | None = None) -> Value:
    a = x._data
    out = op.forward(a, **params) if params else op.forward(a)
    try:
        (d,) = op.partials(out, a, **params) if params else op.partials(out, a)
    except ZeroDivisionError:  # the rule divided by zero: the derivative is infinite
        raise _infinite_partial(op, (a,)) from None
    except OverflowError:
        raise _overflowing_partial(op, (a,)) from None
    if not out - out == 0.0:
        raise _not_finite(op, out, (a,))
    if op.checked_partials and not d - d == 0.0:
        raise _overflowing_partial(op, (a,))
    return _node1(op, x, out, d, params)


def _apply2(op: Op, x: Value, y: Value) -> Value:
    a = x._data
    b = y._data
    out = op.forward(a, b)
    try:
        d0, d1 = op.partials(out, a, b)
    except ZeroDivisionError:  # the rule divided by zero: the derivative is infinite
        raise _infinite_partial(op, (a, b)) from None
    except OverflowError:
        raise _overflowing_partial(op, (a, b)) from None
    if not out - out == 0.0:
        raise _not_finite(op, out, (a, b))
    if op.checked_partials and not (d0 - d0 == 0.0 and d1 - d1 == 0.0):
        raise _overflowing_partial(op, (a, b))
    return _node2(op, x, y, out, d0, d1)


# The node makers: one store per slot, spelled out for each shape (the hot path of every forward
# pass; a shared helper with a parameter per slot measured slower).


def _init_leaf(v: Value, data: float, op: Op | None, label: str | None) -> None:
    """Fill the slots of a new leaf (``op`` ``None``) or constant (``op`` ``CONST``)."""
    v._i = _tick()
    v._n = 0
    v._data = data
    v._grad = 0.0
    v.op = op
    v.params = None
    v.label = label
    v.scope = _scope_now() if _scoped else None
    v._p0 = v._p1 = v._pn = v._d0 = v._d1 = v._dn = None


def _node1(op: Op, x: Value, out: float, d: Any, params: Mapping[str, float] | None) -> Value:
    """A checked unary node: ``out = op(x)`` with partial ``d``."""
    v = _new(Value)
    v._i = _tick()
    v._n = 0
    v._data = out
    v._grad = 0.0
    v.op = op
    v.params = params
    v.label = None
    v.scope = _scope_now() if _scoped else None
    v._p0 = x
    v._d0 = d
    v._p1 = v._d1 = v._pn = v._dn = None
    return v


def _node2(op: Op, x: Value, y: Value, out: float, d0: Any, d1: Any) -> Value:
    """A checked binary node: ``out = op(x, y)`` with partials ``d0``, ``d1``."""
    v = _new(Value)
    v._i = _tick()
    v._n = 0
    v._data = out
    v._grad = 0.0
    v.op = op
    v.params = None
    v.label = None
    v.scope = _scope_now() if _scoped else None
    v._p0 = x
    v._p1 = y
    v._d0 = d0
    v._d1 = d1
    v._pn = v._dn = None
    return v


def _noden(
    op: Op,
    parents: tuple[Value, ...],
    out: float,
    parts: tuple[Any, ...],
    params: Mapping[str, float] | None,
) -> Value:
    """A checked n-ary node: ``out = op(*parents)`` with ``parts``, one partial per parent."""
    v = _new(Value)
    v._i = _tick()
    v._n = 0
    v._data = out
    v._grad = 0.0
    v.op = op
    v.params = params
    v.label = None
    v.scope = _scope_now() if _scoped else None
    v._p0 = v._p1 = v._d0 = v._d1 = None
    v._pn = parents
    v._dn = parts
    return v


def _applyn(op: Op, parents: tuple[Value, ...], params: Mapping[str, float] | None) -> Value:
    datas = tuple([p._data for p in parents])
    kw = params or {}
    out = op.forward(*datas, **kw)
    try:
        parts = tuple(op.partials(out, *datas, **kw))
    except ZeroDivisionError:  # the rule divided by zero: the derivative is infinite
        raise _infinite_partial(op, datas) from None
    except OverflowError:
        raise _overflowing_partial(op, datas) from None
    if not out - out == 0.0:
        raise _not_finite(op, out, datas)
    if op.checked_partials:
        _check_partials(op, parts, datas)
    return _noden(op, parents, out, parts, params)


def apply(op: Op | str, *inputs: Value | float, **params: float) -> Value:
    """Apply any registered op to Values or numbers.

    Args:
        op: The op record or its registered name.
        *inputs: The op's inputs; plain numbers become constant nodes.
        **params: The op's constant parameters (e.g. ``k=2`` for ``pow``).

    Returns:
        The new node.

    Raises:
        TypeError: If the number of inputs or the parameter names do not fit the op, or an
            input is not a number.
    """
    rec = ops.get(op) if isinstance(op, str) else op
    if not isinstance(rec, Op):
        raise TypeError(f"apply: expected an Op or an op name, got {type(rec).__name__} {rec!r}")
    if rec.arity is not None and len(inputs) != rec.arity:
        raise TypeError(f"{rec.name}: takes {rec.arity} input(s), got {len(inputs)}")
    if rec.arity is None and not inputs:
        raise TypeError(f"{rec.name}: needs at least one input")
    unknown = set(params) - set(rec.params)
    if unknown:
        raise TypeError(
            f"{rec.name}: unknown parameter(s) {sorted(unknown)}; it takes {list(rec.params)}"
        )
    missing = [k for k in rec.params if k not in params and _required(rec, k)]
    if missing:
        raise TypeError(f"{rec.name}: missing parameter(s) {missing}; it takes {list(rec.params)}")
    nodes = tuple(_coerce_or_raise(x, rec.name) for x in inputs)
    kw = {k: to_float(v, rec.name) for k, v in params.items()} or None
    if rec.arity == 1:
        return _apply1(rec, nodes[0], kw)
    if rec.arity == 2 and kw is None:
        return _apply2(rec, nodes[0], nodes[1])
    return _applyn(rec, nodes, kw)


def _required(op: Op, param: str) -> bool:
    """Whether the op's forward has no default for ``param`` (``pow``'s ``k``)."""
    p = inspect.signature(op.forward).parameters.get(param)
    return p is not None and p.default is inspect.Parameter.empty


def sum(values: Iterable[Value | float]) -> Value:
    """Σ of the inputs as one n-ary node (all partials 1).

    Raises:
        ValueError: If ``values`` is empty.
    """
    nodes = tuple(_coerce_or_raise(x, "sum") for x in values)
    if not nodes:
        raise ValueError("sum: needs at least one input")
    return _applyn(SUM, nodes, None)


def dot(
    weights: Sequence[Value | float],
    inputs: Sequence[Value | float],
    bias: Value | float | None = None,
) -> Value:
    """Σ wᵢxᵢ + b as one node: a neuron's pre-activation.

    The node's parents are ordered ``(w₁…wₙ, x₁…xₙ, b)``; its partials are ``xᵢ`` for ``wᵢ``,
    ``wᵢ`` for ``xᵢ`` and 1 for ``b``.

    Args:
        weights: The weights w₁…wₙ.
        inputs: The inputs x₁…xₙ; plain numbers become constant nodes.
        bias: The bias b, or ``None`` for no bias.

    Raises:
        ValueError: If the lengths differ or are zero.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs")
    if not weights:
        raise ValueError("dot: needs at least one weight and input")
    nodes: tuple[Value, ...]
    try:
        # The common case in a network: every input a Value. The slot's getter reads each
        # one's number and refuses anything else (TypeError) in one C-level pass.
        ws = list(map(_data_of, weights))
        xs = list(map(_data_of, inputs))
        b = 0.0 if bias is None else _data_of(bias)
        every = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
        nodes = cast("tuple[Value, ...]", every)
    except TypeError:
        # Numbers become constants.
        every = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
        nodes = tuple([_coerce_or_raise(v, "dot") for v in every])
        n = len(weights)
        ws = [v._data for v in nodes[:n]]
        xs = [v._data for v in nodes[n : 2 * n]]
        b = 0.0 if bias is None else nodes[-1]._data
    # DOT's forward and partials, spelled out for the hot path of every network (the same float
    # operations in the same order as ops._dot and ops._dot_partials, so the same bits).
    out = b
    for w, x in zip(ws, xs):
        out += w * x
    if out - out != 0.0:
        raise _not_finite(DOT, out, (*ws, *xs) if bias is None else (*ws, *xs, b))
    xs += ws
    if bias is not None:
        xs.append(1.0)
    return _noden(DOT, nodes, out, tuple(xs), None)


# The backward sweeps live in micrograd_x.backward, which needs ``Value``: imported here, once the
# class exists, so ``Value.backward`` finds ``backward`` as a module global (no import per call)
# and the names stay importable from this module.
from micrograd_x.backward import (  # noqa: E402
    backward,
    gradients,
    topological_order,
    zero_grad,
)
