"""A Hypothesis state machine interleaving leaf creation, ops, backward and zeroing.

After every step, every node's value and gradient is compared with a naive reference interpreter
written here: values from plain ``math``, derivatives from closed forms, gradients by a memoised
pull over consumers (d root / d node = Σ over consumers c of d root / d c · ∂c/∂node), and the
documented contract applied by hand (leaves accumulate, interior nodes fresh, others untouched).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from micrograd_x import Value, backward, zero_grad


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0


# name: (value, derivative), from the math.
UNARY: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
    "tanh": (math.tanh, lambda x: 1.0 / math.cosh(x) ** 2 if abs(x) < 300 else 0.0),
    "sin": (math.sin, math.cos),
    "cos": (math.cos, lambda x: -math.sin(x)),
    "sigmoid": (_sig, lambda x: _sig(x) * (1.0 - _sig(x))),
    "neg": (lambda x: -x, lambda x: -1.0),
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
    "abs": (abs, lambda x: (x > 0) - (x < 0)),
    "erf": (math.erf, lambda x: 2.0 / math.sqrt(math.pi) * math.exp(-x * x)),
    "softplus": (
        lambda x: math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x)),
        _sig,
    ),
}
BINARY: dict[str, tuple[Callable[[float, float], float], Callable[..., tuple[float, float]]]] = {
    "add": (lambda x, y: x + y, lambda x, y: (1.0, 1.0)),
    "sub": (lambda x, y: x - y, lambda x, y: (1.0, -1.0)),
    "mul": (lambda x, y: x * y, lambda x, y: (y, x)),
    "max": (lambda x, y: x if x >= y else y, lambda x, y: (1.0, 0.0) if x >= y else (0.0, 1.0)),
}
APPLY: dict[str, Callable[..., Value]] = {
    "tanh": Value.tanh,
    "sin": Value.sin,
    "cos": Value.cos,
    "sigmoid": Value.sigmoid,
    "neg": Value.__neg__,
    "relu": Value.relu,
    "abs": Value.__abs__,
    "erf": Value.erf,
    "softplus": Value.softplus,
    "add": Value.__add__,
    "sub": Value.__sub__,
    "mul": Value.__mul__,
    "max": Value.max,
}


@dataclass(eq=False)
class Ref:
    """The reference's record of one node."""

    node: Value
    data: float
    parents: tuple[Ref, ...] = ()
    partials: tuple[float, ...] = ()
    grad: float = 0.0
    consumers: list[Ref] = field(default_factory=list)


def _ancestry(root: Ref) -> list[Ref]:
    seen: dict[int, Ref] = {}
    stack = [root]
    while stack:
        r = stack.pop()
        if id(r) not in seen:
            seen[id(r)] = r
            stack.extend(r.parents)
    return list(seen.values())


def _reference_gradients(root: Ref) -> dict[int, float]:
    """d root / d r for every r in root's ancestry, pulling from consumers (memoised)."""
    inside = {id(r) for r in _ancestry(root)}
    memo: dict[int, float] = {id(root): 1.0}

    def pull(r: Ref) -> float:
        # Graphs here are at most a few dozen nodes deep: recursion is fine for the reference.
        if id(r) in memo:
            return memo[id(r)]
        total = 0.0
        for c in r.consumers:
            if id(c) in inside:
                for parent, d in zip(c.parents, c.partials):
                    if parent is r:
                        total += pull(c) * d
        memo[id(r)] = total
        return total

    return {i: pull(r) for r in _ancestry(root) for i in [id(r)]}


class EngineVersusReference(RuleBasedStateMachine):
    nodes = Bundle("nodes")

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[Ref] = []

    def _add(self, ref: Ref) -> Ref:
        for p in ref.parents:
            if not any(c is ref for c in p.consumers):  # x * x: one consumer, two edges
                p.consumers.append(ref)
        self.refs.append(ref)
        return ref

    @rule(target=nodes, x=st.floats(-3, 3))
    def leaf(self, x: float) -> Ref:
        return self._add(Ref(Value(x), x))

    @rule(target=nodes, name=st.sampled_from(sorted(UNARY)), a=nodes)
    def unary(self, name: str, a: Ref) -> Ref:
        f, df = UNARY[name]
        return self._add(Ref(APPLY[name](a.node), f(a.data), (a,), (df(a.data),)))

    @rule(target=nodes, name=st.sampled_from(sorted(BINARY)), a=nodes, b=nodes)
    def binary(self, name: str, a: Ref, b: Ref) -> Ref:
        f, df = BINARY[name]
        value = f(a.data, b.data)
        if abs(value) > 1e3:  # keep values moderate: squash instead
            return self.unary("tanh", a)
        return self._add(Ref(APPLY[name](a.node, b.node), value, (a, b), df(a.data, b.data)))

    @rule(root=nodes)
    def run_backward(self, root: Ref) -> None:
        backward(root.node)
        grads = _reference_gradients(root)
        for r in _ancestry(root):
            if r.parents:
                r.grad = grads[id(r)]  # interior: fresh
            else:
                r.grad += grads[id(r)]  # leaves accumulate

    @rule(root=nodes)
    def run_backward_twice(self, root: Ref) -> None:
        self.run_backward(root)
        self.run_backward(root)

    @rule(chosen=st.lists(nodes, max_size=4))
    def zero(self, chosen: list[Ref]) -> None:
        zero_grad(r.node for r in chosen)
        for r in chosen:
            r.grad = 0.0

    @precondition(lambda self: len(self.refs) > 40)
    @rule(dropped=consumes(nodes))
    def drop(self, dropped: Ref) -> None:
        # Forgetting a node in the bundle must not disturb the others.
        pass

    @invariant()
    def values_and_gradients_match(self) -> None:
        for r in self.refs:
            assert math.isclose(r.node.data, r.data, rel_tol=1e-12, abs_tol=1e-15), (
                r.node,
                r.data,
            )
            g = r.node.grad
            assert isinstance(g, float)
            assert math.isclose(g, r.grad, rel_tol=1e-9, abs_tol=1e-12), (r.node, r.grad)


EngineVersusReference.TestCase.settings = settings(
    settings.default, stateful_step_count=30, deadline=None
)
TestEngineVersusReference = EngineVersusReference.TestCase
