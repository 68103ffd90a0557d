"""The node class: ``Value``, and how one node is made.

A ``Value`` keeps its op, its inputs in order and the local partial derivative of its output with
respect to each input, as plain data. Its operators and methods apply the op records of
:mod:`micrograd_x.ops` to the inputs' numbers, check that the result and the partials are finite
and record one node, tagged with the module scope that made it (:mod:`micrograd_x.scopes`).
Nodes never refer back to themselves, so reference counting frees a graph as soon as it is
dropped, and each node carries a rank that grows along every edge, so the backward pass can sort
a graph. The common ops (+, −, ×, ÷, ``**`` by a small integer, relu, tanh, exp) have fast paths
that spell out their record's float rules. This module is one idea, the node, read top to
bottom: the class, then the functions that make its nodes (kept with it, as module globals,
because they are the hot path of every forward pass). :mod:`micrograd_x.applying` applies ops by
name and builds the n-ary nodes (``sum``, ``dot``); :mod:`micrograd_x.backward` differentiates;
:mod:`micrograd_x.engine` gathers the public names. Imports: the standard library,
:mod:`micrograd_x.ops`, :mod:`micrograd_x.rules`, :mod:`micrograd_x.scopes`,
:mod:`micrograd_x.compat` and, when ``Value.backward`` first runs, :mod:`micrograd_x.backward`
(which imports this module).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, cast

from micrograd_x import compat
from micrograd_x.ops import (
    ABS,
    ADD,
    CONST,
    COS,
    DIV,
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
    TANH,
    Op,
)
from micrograd_x.rules import run_rules
from micrograd_x.scopes import SCOPE

__all__ = [
    "Parameter",
    "Value",
    "apply_record",
    "as_node",
    "constant",
    "make_node",
    "to_float",
]

_scope_now = SCOPE.get

_new = object.__new__
_exp = math.exp
_tanh = math.tanh
_next_epoch = itertools.count(1).__next__
"""A new epoch for an n-ary node's rank: higher than every epoch given before (see ``_rank``)."""
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


def _unary_method(op: Op, doc: str) -> Callable[[Value], Value]:
    """A ``Value`` method applying the unary, parameterless ``op`` (``x.log()``, ...)."""

    def method(self: Value) -> Value:
        return _apply1(op, self)

    method.__name__ = op.name
    method.__qualname__ = f"Value.{op.name}"
    method.__doc__ = doc
    return method


class Value(compat.MicrogradNames):
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
        "_n",
        "_p0",
        "_p1",
        "_pn",
        "_rank",
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
    # A number that grows along every edge, so the backward pass can sort a graph: 0 for a leaf;
    # for a unary or binary node, one more than its inputs' highest; for an n-ary node (which may
    # have hundreds of inputs), a new epoch shifted left 32 bits, above every rank given before.
    _rank: int
    _n: int  # the number of the last float backward pass that reached the node (0: none)

    def __init__(
        self, data: float, label: str | None = None, *micrograd: object, **kwargs: object
    ) -> None:
        """Create a leaf.

        Interior nodes are made by ops (``a + b``, ``a.tanh()``, :func:`micrograd_x.apply`),
        never by this constructor: micrograd's ``Value(data, _children, _op)`` raises a
        ``TypeError`` that says so.

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
            raise compat.constructor_error(label, micrograd, kwargs)
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
    # result takes the general path, which raises the record's error. They look alike on purpose:
    # each is the hot path of a forward pass, where a shared helper would cost a call per node.

    def __add__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            out = self._data + other._data
            if out - out == 0.0:
                return _node2(ADD, self, other, out, 1.0, 1.0)
            return _apply2(ADD, self, other)
        return _with_number(ADD, self, other)

    def __radd__(self, other: float) -> Value:
        return _with_number(ADD, other, self)

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            out = self._data - other._data
            if out - out == 0.0:
                return _node2(SUB, self, other, out, 1.0, -1.0)
            return _apply2(SUB, self, other)
        return _with_number(SUB, self, other)

    def __rsub__(self, other: float) -> Value:
        return _with_number(SUB, other, self)

    def __mul__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            a = self._data
            b = other._data
            out = a * b
            if out - out == 0.0:
                return _node2(MUL, self, other, out, b, a)
            return _apply2(MUL, self, other)
        return _with_number(MUL, self, other)

    def __rmul__(self, other: float) -> Value:
        return _with_number(MUL, other, self)

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
        return _with_number(DIV, self, other)

    def __rtruediv__(self, other: float) -> Value:
        return _with_number(DIV, other, self)

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
        return _with_number(POWV, other, self)

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

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        a = self._data
        e = _exp(-2.0 * abs(a))  # the record's partials rule, finite for every input
        return _node1(TANH, self, _tanh(a), 4.0 * e / ((1.0 + e) * (1.0 + e)), None)

    def relu(self) -> Value:
        """max(x, 0); the derivative at 0 is 0."""
        if self._data > 0.0:
            return _node1(RELU, self, self._data, 1.0, None)
        return _node1(RELU, self, 0.0, 0.0, None)

    # The other unary ops without parameters: one method per record, made from the record.
    log = _unary_method(LOG, "Natural logarithm; raises ``DomainError`` for data <= 0.")
    sqrt = _unary_method(
        SQRT, "Square root; raises ``DomainError`` for data < 0 (and at 0, where d/dx is infinite)."
    )
    sin = _unary_method(SIN, "Sine.")
    cos = _unary_method(COS, "Cosine.")
    sigmoid = _unary_method(SIGMOID, "Logistic sigmoid 1/(1 + e^-x), stable for any input.")
    softplus = _unary_method(SOFTPLUS, "log(1 + e**x), stable for any input.")
    gelu = _unary_method(GELU, "GELU in its exact form x·Φ(x) (Φ: standard normal CDF).")
    silu = _unary_method(SILU, "SiLU (swish): x·σ(x).")
    erf = _unary_method(ERF, "The error function.")
    erfc = _unary_method(ERFC, "The complementary error function 1 − erf x.")

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """X for x > 0, else ``slope * x``."""
        return _apply1(LEAKY_RELU, self, {"slope": to_float(slope, "leaky_relu")})

    def elu(self, alpha: float = 1.0) -> Value:
        """X for x > 0, else ``alpha * (e**x - 1)``."""
        return _apply1(ELU, self, {"alpha": to_float(alpha, "elu")})

    def max(self, other: Value | float) -> Value:
        """The larger of ``self`` and ``other``; ties send the gradient to ``self``."""
        return _apply2(MAX, self, as_node(other, "max"))

    def min(self, other: Value | float) -> Value:
        """The smaller of ``self`` and ``other``; ties send the gradient to ``self``."""
        return _apply2(MIN, self, as_node(other, "min"))

    # -- differentiation ----------------------------------------------------------------------

    def backward(self, gradient: float = 1.0, *, create_graph: bool = False) -> None:
        """Backpropagate from this node; see :func:`micrograd_x.backward.backward`."""
        # The sweeps need this class, so their module is imported when first used, not above.
        from micrograd_x.backward import backward

        backward(self, gradient, create_graph=create_graph)


class Parameter(Value):
    """A leaf that a model learns (a weight or a bias); diagrams style it apart from inputs."""

    __slots__ = ()


def _fmt(g: float | Value) -> str:
    return f"{g:.6g}" if isinstance(g, float) else f"<graph {g._data:.6g}>"


# -------------------------------------------------------------------------------------------
# Making nodes. The general paths (unary, binary, n-ary) call the op's forward and partials on
# floats, check the results are finite, and record one node; the fast paths above and in
# micrograd_x.applying compute the same numbers themselves and call the node makers directly.


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


def _with_number(op: Op, x: object, y: object) -> Value:
    """``op(x, y)`` where one of the two is a Value and the other a plain number.

    The number becomes a constant node; anything else gives ``NotImplemented`` (so Python tries
    the other operand).
    """
    if isinstance(x, Value):
        c = _coerce(y, op.name)
        return NotImplemented if c is None else _apply2(op, x, c)
    c = _coerce(x, op.name)
    return NotImplemented if c is None else _apply2(op, c, cast(Value, y))


def as_node(x: object, op: str) -> Value:
    """``x`` itself if it is a Value, else a constant node for the number ``x``.

    Raises:
        TypeError: If ``x`` is neither (the message names ``op``).
    """
    if isinstance(x, Value):
        return x
    c = _coerce(x, op)
    if c is None:
        raise TypeError(f"{op}: expected a Value or a real number, got {type(x).__name__} {x!r}")
    return c


def apply_record(op: Op, nodes: tuple[Value, ...], params: Mapping[str, float] | None) -> Value:
    """The general path of every op: its rules run on the inputs' numbers, checked, as one node.

    The record's forward and partials rules must give finite numbers (see
    :func:`micrograd_x.rules.run_rules`).

    ``nodes`` and ``params`` must fit the op (see :func:`micrograd_x.apply`, which checks them).

    Raises:
        DomainError: If the inputs are outside the op's domain.
        NonDifferentiableError: If a local derivative is infinite there.
        OverflowError: If the result or a local derivative overflows a float.
    """
    if op.arity == 1:
        return _apply1(op, nodes[0], params)
    if op.arity == 2 and params is None:
        return _apply2(op, nodes[0], nodes[1])
    return _applyn(op, nodes, params)


def _apply1(op: Op, x: Value, params: Mapping[str, float] | None = None) -> Value:
    out, (d,) = run_rules(op, (x._data,), params)
    return _node1(op, x, out, d, params)


def _apply2(op: Op, x: Value, y: Value) -> Value:
    out, (d0, d1) = run_rules(op, (x._data, y._data), None)
    return _node2(op, x, y, out, d0, d1)


def _applyn(op: Op, parents: tuple[Value, ...], params: Mapping[str, float] | None) -> Value:
    out, parts = run_rules(op, tuple([p._data for p in parents]), params)
    return make_node(op, parents, out, parts, params)


# The node makers: one store per slot, spelled out for each shape (the hot path of every forward
# pass; a shared helper with a parameter per slot measured slower).


def _init_leaf(v: Value, data: float, op: Op | None, label: str | None) -> None:
    """Fill the slots of a new leaf (``op`` ``None``) or constant (``op`` ``CONST``)."""
    v._rank = 0
    v._n = 0
    v._data = data
    v._grad = 0.0
    v.op = op
    v.params = None
    v.label = label
    v.scope = _scope_now()
    v._p0 = v._p1 = v._pn = v._d0 = v._d1 = v._dn = None


def _node1(op: Op, x: Value, out: float, d: Any, params: Mapping[str, float] | None) -> Value:
    """A checked unary node: ``out = op(x)`` with partial ``d``."""
    v = _new(Value)
    v._rank = x._rank + 1
    v._n = 0
    v._data = out
    v._grad = 0.0
    v.op = op
    v.params = params
    v.label = None
    v.scope = _scope_now()
    v._p0 = x
    v._d0 = d
    v._p1 = v._d1 = v._pn = v._dn = None
    return v


def _node2(op: Op, x: Value, y: Value, out: float, d0: Any, d1: Any) -> Value:
    """A checked binary node: ``out = op(x, y)`` with partials ``d0``, ``d1``."""
    v = _new(Value)
    a = x._rank
    b = y._rank
    v._rank = (a if a > b else b) + 1
    v._n = 0
    v._data = out
    v._grad = 0.0
    v.op = op
    v.params = None
    v.label = None
    v.scope = _scope_now()
    v._p0 = x
    v._p1 = y
    v._d0 = d0
    v._d1 = d1
    v._pn = v._dn = None
    return v


def make_node(
    op: Op,
    parents: tuple[Value, ...],
    out: float,
    parts: tuple[Any, ...],
    params: Mapping[str, float] | None,
) -> Value:
    """A node from numbers already computed and checked (an op's fast path).

    ``out = op(*parents)``, and ``parts`` holds one partial per parent; :func:`apply_record` is
    the checked way.
    """
    v = _new(Value)
    v._rank = _next_epoch() << 32
    v._n = 0
    v._data = out
    v._grad = 0.0
    v.op = op
    v.params = params
    v.label = None
    v.scope = _scope_now()
    v._p0 = v._p1 = v._d0 = v._d1 = None
    v._pn = parents
    v._dn = parts
    return v
