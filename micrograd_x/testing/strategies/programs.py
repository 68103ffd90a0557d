"""Random expressions (trees) and programs (DAGs with shared nodes).

``expressions()`` and ``programs()``. A :class:`Program` prints as runnable Python and
evaluates on the engine, in plain floats and in mpmath. Imports hypothesis (public API only)
and micrograd_x.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from micrograd_x import engine, ops
from micrograd_x.engine import Value
from micrograd_x.ops import Op
from micrograd_x.testing._reference import (
    FLOAT_FORWARD,
    MPValue,
    mp_context,
    mp_dot,
    mp_sum,
)
from micrograd_x.testing.strategies.common import (
    BOUND,
    LENGTH,
    PARAMS,
    VARIABLES,
    bounds,
    checked_ops,
    finite_floats,
    int_strategy,
)

__all__ = [
    "Program",
    "expressions",
    "programs",
]


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
        k = draw(PARAMS[("pow", "k")])
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
    params = {p: draw(PARAMS.get((op, p), st.just(1.0))) for p in ops.get(op).params}
    return _call(op, a, **params)


def _safe(node: _Node, env: dict[str, float]) -> float | None:
    """The node's value if it is finite, within ±BOUND and differentiable; else None."""
    try:
        v = node.run_float(env)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return v if math.isfinite(v) and abs(v) <= BOUND else None


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
    lo, hi = bounds(min_value, max_value, where)
    if max(abs(lo), abs(hi)) > BOUND:
        raise InvalidArgument(f"{where}: inputs must lie within ±{BOUND:g}, got [{lo}, {hi}]")
    return lo, hi


def _point(
    draw: st.DrawFn, n_vars: st.SearchStrategy[int], lo: float, hi: float
) -> tuple[list[str], list[float], dict[str, float]]:
    """Draw the variables ``x0, x1, …``, a point in ``[lo, hi]``, and the two as a mapping."""
    variables = [f"x{i}" for i in range(draw(n_vars))]
    inputs = [draw(finite_floats(lo, hi)) for _ in variables]
    return variables, inputs, dict(zip(variables, inputs))


def programs(
    *,
    variables: int | st.SearchStrategy[int] = VARIABLES,
    length: int | st.SearchStrategy[int] = LENGTH,
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
    n_vars = int_strategy(variables, "programs: variables", 1, 16)
    n_steps = int_strategy(length, "programs: length", 1, 64)
    n_out = int_strategy(outputs, "programs: outputs", 1, 8)
    names = checked_ops(ops, "programs")
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
    variables: int | st.SearchStrategy[int] = VARIABLES,
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
    n_vars = int_strategy(variables, "expressions: variables", 1, 16)
    depth_s = int_strategy(max_depth, "expressions: max_depth", 1, 12)
    names = checked_ops(ops, "expressions")
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
