"""Hypothesis strategies for property-based tests of derivatives.

``values()``, ``op_cases()``, ``expressions()`` (trees), ``programs()`` (DAGs with shared nodes),
``mlps()`` and ``loss_cases()``. Generated objects print as runnable Python and evaluate on the
engine, in plain floats and in mpmath. Imports hypothesis (public API only) and micrograd_x.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from micrograd_x import engine, ops
from micrograd_x.engine import Parameter, Value
from micrograd_x.ops import Op
from micrograd_x.testing._reference import (
    FLOAT_FORWARD,
    MPValue,
    mp_context,
    mp_dot,
    mp_sum,
)

if TYPE_CHECKING:
    from micrograd_x.nn import MLP, Module

__all__ = [
    "DEFAULT_OPS",
    "LOSSES",
    "LossCase",
    "OpCase",
    "Program",
    "expressions",
    "loss_cases",
    "mlps",
    "op_cases",
    "programs",
    "values",
]

DEFAULT_OPS: tuple[str, ...] = tuple(op.name for op in ops.registry() if op.name != "const")
"""Every registered op except ``const``: what ``expressions()`` and ``programs()`` draw from."""

_VARIABLES = st.integers(1, 3)
_SEEDS = st.integers(0, 2**16)
_LENGTH = st.integers(1, 8)

_BOUND = 50.0
"""Generated intermediate values stay within ±_BOUND (larger ones are squashed by tanh), so
gradients stay moderate and finite differences stay accurate."""

# Constant parameters: what each op's keyword parameters are drawn from.
_PARAMS: dict[tuple[str, str], st.SearchStrategy[float]] = {
    ("pow", "k"): st.sampled_from([2, 3, -1, -2, 0.5, 1.5, -0.5, 0, 1, 2.5]),
    ("leaky_relu", "slope"): st.sampled_from([0.01, 0.1, 0.2, 0.5]),
    ("elu", "alpha"): st.sampled_from([1.0, 0.5, 2.0]),
}


# ---------------------------------------------------------------------------------------------
# Argument validation (eager: at strategy construction, not at draw time).


def _count(value: int | st.SearchStrategy[int], name: str, low: int, high: int) -> Any:
    """An int in [low, high] or a strategy of ints, as a strategy."""
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an int or a strategy of ints, got {value!r}")
    if not low <= value <= high:
        raise InvalidArgument(f"{name} must be in [{low}, {high}], got {value!r}")
    return st.just(value)


def _checked_int(value: int, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return value


def _bounds(min_value: float, max_value: float, where: str) -> tuple[float, float]:
    for name, v in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise InvalidArgument(f"{where}: {name} must be a finite number, got {v!r}")
    if not min_value < max_value:
        raise InvalidArgument(
            f"{where}: min_value must be < max_value, got {min_value!r} and {max_value!r}"
        )
    return float(min_value), float(max_value)


def _op_record(op: Op | str, where: str) -> Op:
    if isinstance(op, Op):
        return op
    if not isinstance(op, str):
        raise InvalidArgument(f"{where}: op must be an Op or an op name, got {op!r}")
    try:
        return ops.get(op)
    except KeyError as err:
        raise InvalidArgument(f"{where}: {err.args[0]}") from None


def _op_names(chosen: Iterable[Op | str] | None, where: str) -> tuple[str, ...]:
    if chosen is None:
        return DEFAULT_OPS
    if isinstance(chosen, (str, Op)):
        raise InvalidArgument(f"{where}: ops must be a collection of ops, got {chosen!r}")
    names = tuple(_op_record(o, where).name for o in chosen)
    if not names:
        raise InvalidArgument(f"{where}: ops must not be empty")
    if "const" in names:
        raise InvalidArgument(f"{where}: 'const' is a leaf, not an op to draw")
    return names


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


# ---------------------------------------------------------------------------------------------
# values() and op_cases()


def values(
    *,
    op: Op | str | None = None,
    arg: int = 0,
    min_value: float | None = None,
    max_value: float | None = None,
    label: str | None = None,
    parameter: bool = False,
) -> st.SearchStrategy[Value]:
    """Leaves (``Value`` or ``Parameter``) holding finite floats.

    Args:
        op: Draw from the op's safe domain (its ``domain.box``) for input ``arg``.
        arg: Which input of ``op`` the value is for.
        min_value: Lower bound (default: the op's box, else -5).
        max_value: Upper bound (default: the op's box, else 5).
        label: The leaves' label.
        parameter: Make ``Parameter`` leaves.

    Returns:
        A strategy of leaves.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once, not at draw time).
    """
    lo, hi = -5.0, 5.0
    if op is not None:
        rec = _op_record(op, "values")
        box = rec.domain.box
        if not box:
            raise InvalidArgument(f"values: the op {rec.name!r} takes no inputs")
        if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            raise InvalidArgument(f"values: arg must be an int >= 0, got {arg!r}")
        if rec.arity is not None and arg >= rec.arity:
            raise InvalidArgument(f"values: {rec.name} has {rec.arity} input(s), got arg={arg}")
        lo, hi = box[min(arg, len(box) - 1)]
    lo = lo if min_value is None else min_value
    hi = hi if max_value is None else max_value
    lo, hi = _bounds(lo, hi, "values")
    if label is not None and not isinstance(label, str):
        raise InvalidArgument(f"values: label must be a string, got {label!r}")
    cls = Parameter if parameter else Value
    return _floats(lo, hi).map(lambda x: cls(x, label=label))


@dataclass(frozen=True)
class OpCase:
    """One application of an op: its inputs and constant parameters.

    Attributes:
        op: The op's name.
        inputs: The input values.
        params: The constant parameters (e.g. ``{"k": 2}``).
    """

    op: str
    inputs: tuple[float, ...]
    params: dict[str, float]

    def __call__(self, *args: Any) -> Any:
        """Apply the op to ``args`` (Values) with this case's parameters."""
        return engine.apply(self.op, *args, **self.params)

    def __repr__(self) -> str:
        args = ", ".join(repr(x) for x in self.inputs)
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"micrograd_x.apply({self.op!r}, {args}{params})"


def op_cases(op: Op | str, *, max_inputs: int = 4) -> st.SearchStrategy[OpCase]:
    """Inputs (inside the op's safe domain) and parameters for one op.

    Args:
        op: The op record or name.
        max_inputs: For n-ary ops (``sum``; ``dot`` counts pairs), the largest number of inputs.

    Returns:
        A strategy of :class:`OpCase`, callable on Values: ``case(*leaves)``.

    Raises:
        InvalidArgument: If the op is unknown or takes no inputs.
    """
    rec = _op_record(op, "op_cases")
    max_inputs = _checked_int(max_inputs, "op_cases: max_inputs", 1, 64)
    box = rec.domain.box
    if rec.arity == 0:
        raise InvalidArgument(f"op_cases: the op {rec.name!r} takes no inputs")
    params = st.fixed_dictionaries(
        {p: _PARAMS.get((rec.name, p), _floats(0.1, 2.0)) for p in rec.params}
    )

    @st.composite
    def cases(draw: st.DrawFn) -> OpCase:
        if rec.arity is None:
            n = draw(st.integers(1, max_inputs))
            count = 2 * n + draw(st.integers(0, 1)) if rec.name == "dot" else n
        else:
            count = rec.arity
        xs = []
        for i in range(count):
            lo, hi = box[min(i, len(box) - 1)] if box else (-5.0, 5.0)
            xs.append(draw(_floats(lo, hi)))
        return OpCase(rec.name, tuple(xs), draw(params))

    return cases()


# ---------------------------------------------------------------------------------------------
# Programs: straight-line code over shared operands, printable and evaluable three ways.

_BINARY = {"add": ("+", operator.add), "sub": ("-", operator.sub), "mul": ("*", operator.mul)}
_BINARY.update({"div": ("/", operator.truediv)})
_PREC_ATOM, _PREC_POW, _PREC_UNARY, _PREC_MUL, _PREC_ADD = 100, 8, 7, 6, 5


@dataclass(frozen=True)
class _Node:
    """A node of a program's expression: a name, a constant, or an op applied to nodes."""

    kind: str  # "name", "const" or "op"
    name: str = ""
    value: float = 0.0
    op: str = ""
    args: tuple[_Node, ...] = ()
    params: tuple[tuple[str, float], ...] = ()

    def source(self) -> tuple[str, int]:
        """Python text for the node and its precedence."""
        if self.kind == "name":
            return self.name, _PREC_ATOM
        if self.kind == "const":
            text = repr(self.value)
            return (f"({text})", _PREC_ATOM) if self.value < 0 else (text, _PREC_ATOM)
        op, args = self.op, self.args
        if op in _BINARY:
            prec = _PREC_ADD if op in ("add", "sub") else _PREC_MUL
            left, lp = args[0].source()
            right, rp = args[1].source()
            left = f"({left})" if lp < prec else left
            right = f"({right})" if rp <= prec else right
            return f"{left} {_BINARY[op][0]} {right}", prec
        if op == "neg":
            inner, ip = args[0].source()
            return f"-({inner})" if ip < _PREC_ATOM else f"-{inner}", _PREC_UNARY
        if op in ("pow", "powv"):
            base, bp = args[0].source()
            base = f"({base})" if bp <= _PREC_POW else base
            if op == "pow":
                k = dict(self.params)["k"]
                return f"{base} ** {k!r}" if k >= 0 else f"{base} ** ({k!r})", _PREC_POW
            exponent, ep = args[1].source()
            return f"{base} ** ({exponent})" if ep < _PREC_ATOM else f"{base} ** {exponent}", 8
        if op == "abs":
            return f"abs({args[0].source()[0]})", _PREC_ATOM
        if op in ("sum", "dot"):
            texts = [a.source()[0] for a in args]
            if op == "sum":
                return f"mx.sum([{', '.join(texts)}])", _PREC_ATOM
            n = len(texts) // 2
            bias = f", {texts[-1]}" if len(texts) % 2 else ""
            ws, xs = ", ".join(texts[:n]), ", ".join(texts[n : 2 * n])
            return f"mx.dot([{ws}], [{xs}]{bias})", _PREC_ATOM
        receiver, rp = args[0].source()
        receiver = f"({receiver})" if rp < _PREC_ATOM else receiver
        call_args = [a.source()[0] for a in args[1:]]
        call_args += [f"{k}={v!r}" for k, v in self.params]
        return f"{receiver}.{op}({', '.join(call_args)})", _PREC_ATOM

    def run(self, env: dict[str, Any]) -> Any:
        """Evaluate with Values or MPValues, the way the printed source does."""
        if self.kind == "name":
            return env[self.name]
        if self.kind == "const":
            return self.value
        op = self.op
        args = [a.run(env) for a in self.args]
        params = dict(self.params)
        if op in _BINARY:
            return _BINARY[op][1](args[0], args[1])
        if op == "neg":
            return -args[0]
        if op == "pow":
            return args[0] ** params["k"]
        if op == "powv":
            return args[0] ** args[1]
        if op == "abs":
            return abs(args[0])
        mp = any(isinstance(a, MPValue) for a in args)
        if op == "sum":
            return mp_sum(args) if mp else engine.sum(args)
        if op == "dot":
            n = len(args) // 2
            bias = args[-1] if len(args) % 2 else None
            dot = mp_dot if mp else engine.dot
            return dot(args[:n], args[n : 2 * n], bias)
        return getattr(args[0], op)(*args[1:], **params)

    def run_float(self, env: dict[str, float]) -> float:
        """Evaluate in plain floats with the naive ``math`` formulas."""
        if self.kind == "name":
            return env[self.name]
        if self.kind == "const":
            return self.value
        args = [a.run_float(env) for a in self.args]
        return float(FLOAT_FORWARD[self.op](*args, **dict(self.params)))


def _names_in(node: _Node) -> set[str]:
    if node.kind == "name":
        return {node.name}
    return set().union(*(_names_in(a) for a in node.args)) if node.args else set()


def _name(name: str) -> _Node:
    return _Node("name", name=name)


def _const(value: float) -> _Node:
    return _Node("const", value=value)


def _call(op: str, *args: _Node, **params: float) -> _Node:
    return _Node("op", op=op, args=args, params=tuple(params.items()))


class Program:
    """A generated function of scalars: straight-line steps, then the outputs.

    ``expressions()`` gives programs without steps (one expression tree); ``programs()`` gives
    steps whose operands may be any earlier result, so nodes are shared. Calling the program
    with Values evaluates it on the engine; ``str()`` and ``repr()`` print runnable Python.

    Attributes:
        variables: The argument names ``x0, x1, ...``.
        inputs: The generated point, one float per variable.
        steps: ``(name, expression)`` pairs, evaluated in order.
        outputs: The returned expressions.
    """

    def __init__(
        self,
        variables: Sequence[str],
        inputs: Sequence[float],
        steps: Sequence[tuple[str, _Node]],
        outputs: Sequence[_Node],
    ) -> None:
        self.variables = tuple(variables)
        self.inputs = tuple(inputs)
        self.steps = tuple(steps)
        self.outputs = tuple(outputs)

    @property
    def source(self) -> str:
        """The function as Python source (``def f(x0, ...): ...``)."""
        lines = [f"def f({', '.join(self.variables)}):"]
        lines += [f"    {name} = {node.source()[0]}" for name, node in self.steps]
        returned = ", ".join(node.source()[0] for node in self.outputs)
        lines.append(f"    return {returned}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return (
            "import micrograd_x as mx\nfrom micrograd_x import Value\n\n\n"
            f"{self.source}\n\n\ninputs = {list(self.inputs)!r}\n"
            "out = f(*[Value(x) for x in inputs])\n"
        )

    __repr__ = __str__

    def _run(self, args: Sequence[Any], run: Callable[[_Node, dict[str, Any]], Any]) -> Any:
        if len(args) != len(self.variables):
            raise TypeError(f"the program takes {len(self.variables)} argument(s), got {len(args)}")
        env = dict(zip(self.variables, args))
        for name, node in self.steps:
            env[name] = run(node, env)
        outs = [run(node, env) for node in self.outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def __call__(self, *args: Any) -> Any:
        """Evaluate on Values (the engine) or on MPValue stand-ins (mpmath), as the source does."""
        return self._run(args, _Node.run)

    def leaves(self) -> list[Value]:
        """Fresh leaves holding :attr:`inputs`."""
        return [Value(x, label=n) for x, n in zip(self.inputs, self.variables)]

    def evaluate(self, inputs: Sequence[float] | None = None) -> Any:
        """The engine's output Value(s) at ``inputs`` (default: the generated point)."""
        xs = self.inputs if inputs is None else inputs
        return self(*[Value(x) for x in xs])

    def evaluate_float(self, inputs: Sequence[float] | None = None) -> Any:
        """The output(s) in plain floats, with naive ``math`` formulas (no engine)."""
        xs = self.inputs if inputs is None else inputs
        return self._run(list(xs), _Node.run_float)

    def evaluate_mp(self, inputs: Sequence[float] | None = None, *, dps: int = 40) -> Any:
        """The output(s) as mpmath numbers at ``dps`` digits (no engine)."""
        xs = self.inputs if inputs is None else inputs
        ctx = mp_context(dps)
        out = self(*[MPValue(x, ctx) for x in xs])
        return tuple(o.x for o in out) if isinstance(out, tuple) else out.x


# How each op is applied to operands, guarding its domain by construction: the templates keep
# log/sqrt/pow arguments positive (u*u + c) and denominators away from zero (v*v + c).


def _template(draw: st.DrawFn, op: str, operands: list[_Node]) -> _Node:
    a = operands[0]
    c = draw(st.sampled_from([0.5, 1.0, 2.0, 0.75]))
    positive = _call("add", _call("mul", a, a), _const(c))
    if op == "div":
        b = operands[1]
        return _call("div", a, _call("add", _call("mul", b, b), _const(c)))
    if op in ("log", "sqrt"):
        return _call(op, positive)
    if op == "pow":
        k = draw(_PARAMS[("pow", "k")])
        integral = float(k).is_integer() and k >= 0
        return _call("pow", a if integral else positive, k=int(k) if integral else float(k))
    if op == "powv":
        return _call("powv", positive, operands[1])
    if op in ("add", "sub", "mul", "max", "min"):
        other = operands[1] if draw(st.integers(0, 4)) else _const(c)
        return _call(op, a, other)
    if op == "sum":
        return _call("sum", *operands[: draw(st.integers(1, 4))])
    if op == "dot":
        n = draw(st.integers(1, 2))
        return _call("dot", *operands[: 2 * n + draw(st.integers(0, 1))])
    params = {p: draw(_PARAMS.get((op, p), st.just(1.0))) for p in ops.get(op).params}
    return _call(op, a, **params)


def _safe(node: _Node, env: dict[str, float]) -> float | None:
    """The node's value if it is finite, within ±_BOUND and differentiable; else None."""
    try:
        v = node.run_float(env)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return v if math.isfinite(v) and abs(v) <= _BOUND else None


def _build(
    draw: st.DrawFn,
    op_names: tuple[str, ...],
    pool: list[_Node],
    env: dict[str, float],
) -> _Node:
    op = draw(st.sampled_from(op_names))
    operands = [draw(st.sampled_from(pool)) for _ in range(5)]
    node = _template(draw, op, operands)
    if _safe(node, env) is None:
        # Too large (or undefined): squash the first operand instead.
        node = _call("tanh", operands[0])
    return node


def _check_value_bounds(min_value: float, max_value: float, where: str) -> tuple[float, float]:
    lo, hi = _bounds(min_value, max_value, where)
    if max(abs(lo), abs(hi)) > _BOUND:
        raise InvalidArgument(f"{where}: inputs must lie within ±{_BOUND:g}, got [{lo}, {hi}]")
    return lo, hi


def _point(
    draw: st.DrawFn, n_vars: st.SearchStrategy[int], lo: float, hi: float
) -> tuple[list[str], list[float], dict[str, float]]:
    """Draw the variables ``x0, x1, …``, a point in ``[lo, hi]``, and the two as a mapping."""
    variables = [f"x{i}" for i in range(draw(n_vars))]
    inputs = [draw(_floats(lo, hi)) for _ in variables]
    return variables, inputs, dict(zip(variables, inputs))


def programs(
    *,
    variables: int | st.SearchStrategy[int] = _VARIABLES,
    length: int | st.SearchStrategy[int] = _LENGTH,
    outputs: int | st.SearchStrategy[int] = 1,
    ops: Iterable[Op | str] | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
) -> st.SearchStrategy[Program]:
    """Straight-line programs (DAGs): each step applies an op to any earlier results.

    Operands are drawn from the variables and all earlier steps, so nodes are shared (``v1 = v0
    * v0``, diamonds). Domains are guarded by construction (``(v * v + c).log()``) and values
    that would exceed ±50 are squashed with ``tanh``, so every program is defined at its point.

    Args:
        variables: Number of inputs (an int or a strategy of ints, 1..16).
        length: Number of steps (an int or a strategy of ints, 1..64).
        outputs: Number of outputs, taken from the last steps (an int or a strategy, 1..8).
        ops: The ops to draw from (names or records); default every op but ``const``.
        min_value: Lower bound of the inputs.
        max_value: Upper bound of the inputs.

    Returns:
        A strategy of :class:`Program`.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once).
    """
    n_vars = _count(variables, "programs: variables", 1, 16)
    n_steps = _count(length, "programs: length", 1, 64)
    n_out = _count(outputs, "programs: outputs", 1, 8)
    names = _op_names(ops, "programs")
    lo, hi = _check_value_bounds(min_value, max_value, "programs")

    @st.composite
    def build(draw: st.DrawFn) -> Program:
        variables, inputs, env = _point(draw, n_vars, lo, hi)
        pool = [_name(v) for v in variables]
        steps = []
        for i in range(draw(n_steps)):
            node = _build(draw, names, pool, env)
            name = f"v{i}"
            env[name] = node.run_float(env)
            steps.append((name, node))
            pool.append(_name(name))
        # Results no later step uses are summed into the last output, so the outputs depend
        # on every step.
        used = {n for _, node in steps for n in _names_in(node)}
        unused = [n for n, _ in steps if n not in used]
        k = min(draw(n_out), len(unused))
        outs, rest = unused[len(unused) - k :], unused[: len(unused) - k]
        if rest:
            name = f"v{len(steps)}"
            steps.append((name, _call("sum", *[_name(n) for n in [*rest, outs[-1]]])))
            outs[-1] = name
        return Program(variables, inputs, steps, [_name(n) for n in outs])

    return build()


def expressions(
    *,
    variables: int | st.SearchStrategy[int] = _VARIABLES,
    max_depth: int | st.SearchStrategy[int] = 4,
    ops: Iterable[Op | str] | None = None,
    min_value: float = -3.0,
    max_value: float = 3.0,
) -> st.SearchStrategy[Program]:
    """Expression trees over the variables, domain-guarded by construction.

    Args:
        variables: Number of inputs (an int or a strategy of ints, 1..16).
        max_depth: Largest depth of the tree (an int or a strategy of ints, 1..12).
        ops: The ops to draw from; default every op but ``const``.
        min_value: Lower bound of the inputs.
        max_value: Upper bound of the inputs.

    Returns:
        A strategy of :class:`Program` with no steps and one output expression.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once).
    """
    n_vars = _count(variables, "expressions: variables", 1, 16)
    depth_s = _count(max_depth, "expressions: max_depth", 1, 12)
    names = _op_names(ops, "expressions")
    lo, hi = _check_value_bounds(min_value, max_value, "expressions")

    @st.composite
    def build(draw: st.DrawFn) -> Program:
        variables, inputs, env = _point(draw, n_vars, lo, hi)
        leaves = [_name(v) for v in variables]

        def tree(depth: int) -> _Node:
            if depth <= 0 or not draw(st.integers(0, 3)):
                leaf: _Node = draw(st.sampled_from(leaves))
                return leaf
            subtrees = [tree(depth - 1) for _ in range(2)]
            subtrees += [draw(st.sampled_from(leaves)) for _ in range(3)]
            node = _template(draw, draw(st.sampled_from(names)), subtrees)
            return node if _safe(node, env) is not None else _call("tanh", subtrees[0])

        root = tree(draw(depth_s))
        return Program(variables, inputs, [], [root])

    return build()


# ---------------------------------------------------------------------------------------------
# Models and losses. micrograd_x.nn pulls in numpy, so it is imported only when these are used.

_ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "elu", "gelu", "silu", "softplus")
LOSSES: tuple[str, ...] = ("mse", "smooth_l1", "hinge", "binary_cross_entropy", "cross_entropy")
"""The losses :func:`loss_cases` draws from."""


def _activations(chosen: Iterable[str] | None, where: str) -> tuple[str, ...]:
    if chosen is None:
        return _ACTIVATIONS
    if isinstance(chosen, str):
        raise InvalidArgument(f"{where}: activations must be a collection of names, got {chosen!r}")
    names = tuple(chosen)
    from micrograd_x.nn import ACTIVATIONS

    unknown = [a for a in names if a not in ACTIVATIONS]
    if unknown or not names:
        raise InvalidArgument(
            f"{where}: unknown or no activations {unknown or names!r}; known: {list(ACTIVATIONS)}"
        )
    return names


def mlps(
    *,
    nin: int | st.SearchStrategy[int] = _VARIABLES,
    hidden: Sequence[int] | st.SearchStrategy[list[int]] | None = None,
    nout: int | st.SearchStrategy[int] = 1,
    activations: Iterable[str] | None = None,
    output_activation: str | st.SearchStrategy[str | None] | None = None,
    seed: int | st.SearchStrategy[int] = _SEEDS,
) -> st.SearchStrategy[MLP]:
    """Small multi-layer perceptrons (:class:`micrograd_x.nn.MLP`), seeded.

    Failing examples print as the constructor call, e.g. ``MLP(2, [3, 1], activation='tanh',
    output_activation=None, seed=7)``.

    Args:
        nin: Number of inputs (an int or a strategy, 1..16).
        hidden: The hidden layers' sizes (a list, or a strategy of lists); default 0-2 layers of
            1-4 neurons.
        nout: Number of outputs (an int or a strategy, 1..16).
        activations: The hidden activations to draw from; default the smooth and piecewise ones
            of :data:`micrograd_x.nn.ACTIVATIONS`.
        output_activation: The output layer's activation (a name, ``None`` or a strategy).
        seed: The initialization seed (an int or a strategy).

    Returns:
        A strategy of ``MLP``.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once).
    """
    from micrograd_x.nn import MLP

    nin_s = _count(nin, "mlps: nin", 1, 16)
    nout_s = _count(nout, "mlps: nout", 1, 16)
    acts = _activations(activations, "mlps")
    if hidden is None:
        hidden_s: st.SearchStrategy[list[int]] = st.lists(st.integers(1, 4), max_size=2)
    elif isinstance(hidden, st.SearchStrategy):
        hidden_s = hidden
    else:
        sizes = [_checked_int(h, "mlps: hidden sizes", 1, 1024) for h in hidden]
        hidden_s = st.just(sizes)
    if isinstance(output_activation, st.SearchStrategy):
        out_s = output_activation
    else:
        if output_activation is not None:
            _activations([output_activation], "mlps: output_activation")
        out_s = st.just(output_activation)
    seed_s = (
        seed
        if isinstance(seed, st.SearchStrategy)
        else st.just(_checked_int(seed, "mlps: seed", 0, 2**32))
    )
    return st.builds(
        MLP,
        nin_s,
        st.tuples(hidden_s, nout_s).map(lambda t: [*t[0], t[1]]),
        activation=st.sampled_from(acts),
        output_activation=out_s,
        seed=seed_s,
    )


def _swap(model: Module, values: Sequence[Value]) -> list[tuple[Any, list[Any], Any]]:
    """Put ``values`` in place of the model's parameters; return what to restore."""
    from micrograd_x.nn import Neuron

    saved = []
    it = iter(values)
    stack: list[Module] = [model]
    neurons = []
    while stack:
        m = stack.pop()
        if isinstance(m, Neuron):
            neurons.append(m)
        stack.extend(reversed(m.children()))
    for n in neurons:
        saved.append((n, n.w, n.b))
        n.w = [next(it) for _ in n.w]  # type: ignore[misc]
        if n.b is not None:
            n.b = next(it)  # type: ignore[assignment]
    return saved


class LossCase:
    """A model, a batch of inputs and targets, and a loss: a function of the model's parameters.

    Calling the case with one ``Value`` per parameter (in the order of ``model.parameters()``)
    evaluates the loss with those in place of the parameters, so it can go straight to
    :func:`~micrograd_x.testing.gradcheck`: ``gradcheck(case, case.point)``. ``repr`` prints
    runnable Python.

    Attributes:
        model: The ``MLP``.
        xs: The input samples.
        ys: The targets (numbers, labels ±1, 0/1 or class indices, by loss).
        loss: The loss's name in :mod:`micrograd_x.losses`.
        options: The loss's keyword arguments (e.g. ``beta``).
        spec: The model's constructor arguments, for printing.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        xs: Sequence[Sequence[float]],
        ys: Sequence[Any],
        loss: str,
        options: dict[str, Any],
    ) -> None:
        from micrograd_x.nn import MLP

        self.spec = dict(spec)
        self.model = MLP(**spec)
        self.xs = [list(x) for x in xs]
        self.ys = list(ys)
        self.loss = loss
        self.options = dict(options)

    @property
    def point(self) -> list[float]:
        """The parameters' current values."""
        return [p.data for p in self.model.parameters()]

    def value(self) -> Value:
        """The loss on the model's own parameters (a graph ending at the loss)."""
        from micrograd_x import losses

        outs = [self.model(x) for x in self.xs]
        fn = getattr(losses, self.loss)
        return fn(outs, self.ys, **self.options)  # type: ignore[no-any-return]

    def __call__(self, *parameters: Value) -> Value:
        """The loss with ``parameters`` in place of the model's parameters."""
        if len(parameters) != self.model.num_parameters():
            raise TypeError(
                f"the case's model has {self.model.num_parameters()} parameters, got "
                f"{len(parameters)} values"
            )
        saved = _swap(self.model, parameters)
        try:
            return self.value()
        finally:
            for neuron, w, b in saved:
                neuron.w, neuron.b = w, b

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec.items())
        options = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return (
            "from micrograd_x import losses\nfrom micrograd_x.nn import MLP\n\n"
            f"model = MLP({args})\nxs = {self.xs!r}\nys = {self.ys!r}\n"
            f"loss = losses.{self.loss}([model(x) for x in xs], ys{options})\n"
        )


def loss_cases(
    *,
    losses: Iterable[str] | None = None,
    samples: int | st.SearchStrategy[int] = _VARIABLES,
    nin: int | st.SearchStrategy[int] = _VARIABLES,
    activations: Iterable[str] | None = None,
) -> st.SearchStrategy[LossCase]:
    """Cases of (model, inputs, targets, loss) whose loss is a function of the parameters.

    Args:
        losses: Loss names to draw from (default :data:`LOSSES`).
        samples: Batch size (an int or a strategy, 1..64).
        nin: Number of model inputs (an int or a strategy, 1..16).
        activations: The hidden activations to draw from (see :func:`mlps`).

    Returns:
        A strategy of :class:`LossCase`.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once).
    """
    if losses is None:
        chosen = LOSSES
    elif isinstance(losses, str):
        raise InvalidArgument(f"loss_cases: losses must be a collection of names, got {losses!r}")
    else:
        chosen = tuple(losses)
        bad = [name for name in chosen if name not in LOSSES]
        if bad or not chosen:
            raise InvalidArgument(
                f"loss_cases: unknown or no losses {bad or chosen!r}; known: {LOSSES}"
            )
    n_s = _count(samples, "loss_cases: samples", 1, 64)
    nin_s = _count(nin, "loss_cases: nin", 1, 16)
    acts = _activations(activations, "loss_cases")

    @st.composite
    def build(draw: st.DrawFn) -> LossCase:
        loss = draw(st.sampled_from(chosen))
        n_in, n = draw(nin_s), draw(n_s)
        classes = draw(st.integers(2, 3)) if loss == "cross_entropy" else 1
        spec = {
            "nin": n_in,
            "sizes": [*draw(st.lists(st.integers(1, 4), max_size=2)), classes],
            "activation": draw(st.sampled_from(acts)),
            "output_activation": "sigmoid" if loss == "binary_cross_entropy" else None,
            "seed": draw(_SEEDS),
        }
        xs = [[draw(_floats(-2.0, 2.0)) for _ in range(n_in)] for _ in range(n)]
        options: dict[str, Any] = {}
        ys: list[Any]
        if loss == "mse":
            ys = [draw(_floats(-2.0, 2.0)) for _ in range(n)]
        elif loss == "smooth_l1":
            ys = [draw(_floats(-2.0, 2.0)) for _ in range(n)]
            options["beta"] = draw(st.sampled_from([1.0, 0.5, 2.0]))
        elif loss == "hinge":
            ys = [draw(st.sampled_from([-1.0, 1.0])) for _ in range(n)]
        elif loss == "binary_cross_entropy":
            ys = [draw(st.sampled_from([0.0, 1.0])) for _ in range(n)]
        else:
            ys = [draw(st.integers(0, classes - 1)) for _ in range(n)]
        return LossCase(spec, xs, ys, loss, options)

    return build()
