"""The checker itself: planted bugs are caught, a correct engine is never reported failed.

The planted backward passes below are written from the public node fields (``parents``,
``partials``, ``grad``); each differs from a correct one by one classic mistake.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import micrograd_x as mx
from micrograd_x import Value, apply, backward, ops, topological_order
from micrograd_x.testing import (
    DEFAULT_EPS,
    GradcheckReport,
    gradcheck,
    gradgradcheck,
    hessiancheck,
    numerical_grad,
    reference_grad,
    reference_hessian,
)
from micrograd_x.testing.strategies import (
    LossCase,
    Program,
    expressions,
    loss_cases,
    op_cases,
    programs,
)

OPS = [op for op in ops.registry() if op.name != "const"]


def _order(root: Value) -> list[Value]:
    """Inputs first, root last: an iterative depth-first post-order of our own."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if id(p) not in seen)
    return order


def _breadth_first(root: Value) -> list[Value]:
    """Root first, then its parents, then theirs: not a topological order."""
    order = [root]
    seen = {id(root)}
    for node in order:  # grows while iterating: a breadth-first walk
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
    return order


def _sweep(root: Value, order: list[Value], *, reset: bool = True, add: bool = True) -> None:
    """The chain rule over ``order`` (root first), from the public node fields.

    In reverse topological order and with both flags on, a correct backward pass; a planted bug is
    another order or one flag off.
    """
    if reset:
        for node in order:
            if node.parents:
                node.grad = 0.0
    root.grad = 1.0
    for node in order:
        for parent, d in zip(node.parents, node.partials):
            parent.grad = parent.grad + d * node.grad if add else d * node.grad


def correct_backward(root: Value) -> None:
    _sweep(root, _order(root)[::-1])


def overwriting_backward(root: Value) -> None:
    """Planted bug: ``=`` instead of ``+=``."""
    _sweep(root, _order(root)[::-1], add=False)


def stale_backward(root: Value) -> None:
    """Planted bug: interior gradients are not reset, so an earlier pass leaks into this one."""
    _sweep(root, _order(root)[::-1], reset=False)


def unordered_backward(root: Value) -> None:
    """Planted bug: nodes processed breadth-first from the root, not in topological order."""
    _sweep(root, _breadth_first(root))


PLANTED = {
    "overwrite": overwriting_backward,
    "stale": stale_backward,
    "unordered": unordered_backward,
}

# Generation only: the first failing program is enough (shrinking would cost many more checks).
FIND = settings(
    max_examples=500, database=None, derandomize=True, deadline=None, phases=[Phase.generate]
)


# ---------------------------------------------------------------------------------------------
# Planted bug 1: a wrong local partial, in any op of the registry.


def _perturbed(op: ops.Op) -> ops.Op:
    def partials(out: Any, *xs: Any, **params: Any) -> tuple[Any, ...]:
        return tuple(d + 0.01 * (1.0 + abs(d)) for d in op.partials(out, *xs, **params))

    return dataclasses.replace(op, name=f"wrong_{op.name}", partials=partials)


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_wrong_local_partial_is_caught(op: ops.Op, data: st.DataObject) -> None:
    case = data.draw(op_cases(op), label="case")
    bad = _perturbed(op)
    report = gradcheck(lambda *xs: apply(bad, *xs, **case.params), case.inputs)
    if len(report.inconclusive) == len(case.inputs):
        return  # every input sits on a kink: nothing can be checked
    assert not report
    assert report.mismatches and report.worst is not None and report.worst.ratio > 1


def test_a_wrong_partial_gets_a_hint() -> None:
    flipped = dataclasses.replace(
        ops.SIN, name="flipped_sin", partials=lambda out, x: (-ops.cos(x),)
    )
    report = gradcheck(lambda x: apply(flipped, x), [0.4])
    assert not report
    assert "sign flip" in report.message
    halved = dataclasses.replace(ops.EXP, name="halved_exp", partials=lambda out, x: (out / 2,))
    report = gradcheck(lambda x: apply(halved, x) * 3.0, [0.4])
    assert "factor of exactly 2" in report.message


@settings(max_examples=settings.default.max_examples // 4)
@given(programs(ops=["mul", "tanh", "add", "sin"]))
def test_a_wrong_partial_inside_a_program_is_caught(p: Program) -> None:
    # The same program with tanh's rule perturbed fails whenever the perturbation moves a
    # gradient by more than twice the tolerance (a tanh node whose gradient reaches the output
    # only through a small factor may shift it by less than rtol).
    bad_tanh = _perturbed(ops.TANH)

    def planted(*xs: Value) -> Any:
        real = Value.tanh
        try:
            Value.tanh = lambda self: apply(bad_tanh, self)  # type: ignore[method-assign]
            return p(*xs)
        finally:
            Value.tanh = real  # type: ignore[method-assign]

    right = gradcheck(p, p.inputs)
    report = gradcheck(planted, p.inputs)
    moved = any(
        abs(a - r) > 2.0 * (report.atol + report.rtol * abs(r))
        for a, r in zip(report.analytic[0], right.analytic[0])
    )
    if moved and not report.inconclusive:
        assert not report, str(p)


# ---------------------------------------------------------------------------------------------
# Planted bugs 2-4 in backward itself.


def test_the_harness_backward_is_correct() -> None:
    a = Value(3.0)
    b = a + a
    c = b + b
    correct_backward(c)
    assert a.grad == 4.0


@given(programs())
def test_the_harness_backward_passes_on_programs(p: Program) -> None:
    assert gradcheck(p, p.inputs, backward_fn=correct_backward), str(p)


def _double_double(a: Value) -> Value:
    b = a + a
    return b + b


def _unequal_paths(x: Value) -> Value:
    v0 = x * x
    v1 = v0.sin()
    return v0 + v1  # v0 is one step from the root and two steps, through v1


def test_overwrite_is_caught_on_a_shared_node() -> None:
    report = gradcheck(_double_double, [3.0], backward_fn=overwriting_backward)
    assert not report
    assert report.analytic == ((1.0,),)  # each of the two edges overwrote the other
    assert "mismatch for output 0 with respect to input 0" in report.message


def test_unordered_is_caught_on_unequal_paths() -> None:
    assert gradcheck(_double_double, [3.0], backward_fn=unordered_backward)  # no unequal paths
    report = gradcheck(_unequal_paths, [0.9], backward_fn=unordered_backward)
    assert not report and report.mismatches


def test_stale_is_caught_by_reentrancy() -> None:
    report = gradcheck(_unequal_paths, [0.9], backward_fn=stale_backward)
    assert not report
    assert not report.mismatches  # the first pass on a fresh graph is right ...
    assert any("stale" in r for r in report.reentrancy)  # ... the second is not
    assert gradcheck(_unequal_paths, [0.9], backward_fn=stale_backward, check_reentrant=False)


def test_stale_is_caught_across_outputs_sharing_nodes() -> None:
    def two(x: Value, y: Value) -> tuple[Value, Value]:
        shared = (x * y).tanh()
        return shared * x, shared + y

    report = gradcheck(two, [0.4, -0.7], backward_fn=stale_backward, check_reentrant=False)
    assert not report
    assert {e.output for e in report.mismatches} == {1}


@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_random_programs_catch_each_planted_backward_bug(bug: str) -> None:
    planted = PLANTED[bug]
    found = find(
        programs(),
        lambda p: not gradcheck(p, p.inputs, backward_fn=planted),
        settings=FIND,
    )
    report = gradcheck(found, found.inputs, backward_fn=planted)
    assert not report
    assert gradcheck(found, found.inputs)  # the real engine passes the same program


def test_a_nondeterministic_backward_fails_reentrancy() -> None:
    calls = [0]

    def flaky(root: Value) -> None:
        backward(root)
        calls[0] += 1
        if calls[0] == 3:
            for node in topological_order(root):
                if not node.parents:
                    node.grad += 2.0**-40 * (1.0 + abs(node.grad))

    report = gradcheck(lambda x: x.sin() * x, [0.5], backward_fn=flaky)
    assert not report
    assert any("not deterministic" in r for r in report.reentrancy)


# ---------------------------------------------------------------------------------------------
# No false failures; kinks are inconclusive.


@given(programs(variables=st.integers(1, 4), length=st.integers(1, 12)))
def test_a_correct_engine_never_fails_on_random_programs(p: Program) -> None:
    report = gradcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"
    assert all(j in range(len(p.inputs)) for j in report.inconclusive_inputs)


@given(expressions(variables=st.integers(1, 4), max_depth=5))
def test_a_correct_engine_never_fails_on_random_expressions(p: Program) -> None:
    report = gradcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"


@given(st.floats(-3, 3))
def test_a_kink_is_inconclusive_not_failed(x: float) -> None:
    def f(a: Value, b: Value) -> Value:
        return (a - b).relu() + abs(a) + a.max(b)

    report = gradcheck(f, [x, x])
    assert report
    assert report.inconclusive_inputs == (0, 1)
    assert "different branch" in report.message
    failing = gradcheck(f, [x, x], kinks="fail")
    assert not failing
    assert "input 0 fails" in failing.message


def test_an_undefined_neighbourhood_is_inconclusive() -> None:
    # sqrt at 1e-12: defined, but x - h < 0.
    report = gradcheck(lambda x: x.sqrt(), [1e-12])
    assert report and report.inconclusive_inputs == (0,)
    assert "not defined" in report.message


# ---------------------------------------------------------------------------------------------
# The report.


def test_report_contents() -> None:
    def f(x: Value, y: Value) -> tuple[Value, Value]:
        return x * y, (x / y).exp()

    report = gradcheck(f, [2.0, -0.5])
    assert isinstance(report, GradcheckReport) and report
    assert report.steps == (DEFAULT_EPS * 2.0, DEFAULT_EPS * 1.0)
    assert report.analytic[0] == (-0.5, 2.0)
    assert report.numeric is not None and len(report.numeric) == 2
    assert all(len(row) == 2 for row in report.numeric)
    assert report.worst is not None and 0 <= report.worst.ratio < 1
    assert report.mode == "full" and not report.mismatches and not report.reentrancy
    assert "passed" in str(report)


def test_steps_are_relative_and_exactly_representable_steps_are_used() -> None:
    (row,) = numerical_grad(lambda x: x**3, [1e6])
    assert math.isclose(row[0], 3e12, rel_tol=1e-9)
    (row,) = numerical_grad(lambda x: x**3, [2.0])
    assert math.isclose(row[0], 12.0, rel_tol=1e-9)


@pytest.mark.parametrize("x", [0.3, 1.0, 2.5])
def test_richardson_is_more_accurate_on_a_smooth_op(x: float) -> None:
    exact = math.exp(x)
    central = numerical_grad(lambda t: t.exp(), [x])[0][0]
    richardson = numerical_grad(lambda t: t.exp(), [x], method="richardson")[0][0]
    assert abs(richardson - exact) < abs(central - exact)
    assert gradcheck(lambda x: x.exp(), [1.0], method="richardson")


def test_reference_grad_and_hessian_match_closed_forms() -> None:
    def f(x: Any, y: Any) -> Any:
        return x * y.exp()

    value, grads = reference_grad(f, [0.5, 0.3])
    e = math.exp(0.3)
    assert value == pytest.approx(0.5 * e, rel=1e-15)
    assert grads == pytest.approx([e, 0.5 * e], rel=1e-15)
    h = reference_hessian(f, [0.5, 0.3])
    assert [h[0][0], h[0][1], h[1][1]] == pytest.approx([0.0, e, 0.5 * e], rel=1e-15, abs=1e-30)


# ---------------------------------------------------------------------------------------------
# Fast mode.


def _neuron(*ps: Value) -> Value:
    n = len(ps) // 2
    return mx.dot(ps[:n], ps[n:]).tanh()


def _points(n: int) -> list[float]:
    return [math.sin(1.7 * i) * 0.3 for i in range(n)]


def test_fast_mode_checks_many_inputs_with_one_projection() -> None:
    report = gradcheck(_neuron, _points(300), fast_mode=True)
    assert report and report.mode == "fast" and report.numeric is None
    assert report.direction is not None and len(report.direction) == 300
    again = gradcheck(_neuron, _points(300), fast_mode=True)
    assert again.direction == report.direction  # seeded
    other = gradcheck(_neuron, _points(300), fast_mode=True, seed=1)
    assert other.direction != report.direction


def test_fast_mode_falls_back_to_explain_a_failure() -> None:
    bad = _perturbed(ops.MUL)

    def f(*ps: Value) -> Value:
        return _neuron(*ps) + apply(bad, ps[7], ps[8])

    report = gradcheck(f, _points(200), fast_mode=True)
    assert not report and report.mode == "fast→full"
    assert {e.input for e in report.mismatches} == {7, 8}


@given(programs(variables=st.integers(2, 4)))
def test_fast_mode_agrees_with_the_full_check(p: Program) -> None:
    fast = gradcheck(p, p.inputs, fast_mode=True)
    assert fast, f"{p}\n{fast.message}"
    for bug in PLANTED.values():
        full = gradcheck(p, p.inputs, backward_fn=bug)
        quick = gradcheck(p, p.inputs, backward_fn=bug, fast_mode=True)
        # Fast mode fails only through the full check, so only where it fails.
        assert bool(quick) == bool(full) or quick
        if quick and not full and quick.mode == "fast":
            # It passed a failing program: the bug must be within the tolerance of the one
            # projection it compared (J·u against the difference along u).
            assert quick.direction is not None and full.numeric is not None
            u = quick.direction
            for a_row, n_row in zip(full.analytic, full.numeric):
                shift = abs(math.fsum((a - n) * c for a, n, c in zip(a_row, n_row, u)))
                along = abs(math.fsum(n * c for n, c in zip(n_row, u)))
                assert not shift > 2.0 * (quick.atol + quick.rtol * along), f"{p}\n{full}"


def test_fast_mode_falls_back_at_a_kink() -> None:
    report = gradcheck(lambda x, y: (x - y).relu() + x * y, [1.0, 1.0], fast_mode=True)
    assert report and report.mode == "fast→full" and report.inconclusive_inputs == (0, 1)


# ---------------------------------------------------------------------------------------------
# Second order.


def test_gradgradcheck_catches_a_rule_that_drops_to_floats() -> None:
    # Right first derivative, but on Values the rule returns a plain number: d²/dx² becomes 0.
    def partials(out: Any, x: Any) -> tuple[Any, ...]:
        return (2.0 * (x.data if isinstance(x, Value) else x),)

    square = ops.Op("square", "x²", 1, lambda x: x * x, partials)
    assert gradcheck(lambda x: apply(square, x), [1.3])
    report = gradgradcheck(lambda x: apply(square, x), [1.3])
    assert not report
    assert report.analytic == ((0.0,),)
    assert not hessiancheck(lambda x: apply(square, x), [1.3])


def test_hessiancheck_reports_the_matrix() -> None:
    report = hessiancheck(lambda x, y: x * x * y + y.sin(), [0.3, 1.1])
    assert report and report.mode == "hessian"
    h = report.analytic
    assert h[0][1] == h[1][0] == 0.6
    assert math.isclose(h[1][1], -math.sin(1.1))


def test_gradgradcheck_sees_the_kinks_of_f() -> None:
    report = gradgradcheck(lambda x: x.relu() * x, [0.0])
    assert report and report.inconclusive_inputs == (0,)


def test_checker_accepts_callables_of_several_shapes() -> None:
    assert gradcheck(lambda x: [x * 2.0, 3.0], [1.0]).analytic == ((2.0,), (0.0,))
    assert gradcheck(lambda x, y: x + y, [Value(1.0), 2])
    fn: Callable[..., Any] = Value.exp
    assert gradcheck(fn, (0.5,))


# ---------------------------------------------------------------------------------------------
# Models: the loss as a function of the parameters.


@settings(max_examples=settings.default.max_examples * 3 // 10)
@given(loss_cases())
def test_losses_of_random_models_pass_gradcheck(case: LossCase) -> None:
    report = gradcheck(case, case.point)
    assert report, f"{case!r}\n{report.message}"


def test_fast_mode_on_a_model_with_hundreds_of_parameters() -> None:
    from micrograd_x.nn import MLP

    case = LossCase(
        {"nin": 4, "sizes": [16, 16, 1], "activation": "tanh", "seed": 3},
        [[0.5, -1.0, 0.25, 2.0], [1.0, 0.0, -0.5, -1.5]],
        [0.3, -0.7],
        "mse",
        {},
    )
    assert isinstance(case.model, MLP) and case.model.num_parameters() == 369
    report = gradcheck(case, case.point, fast_mode=True)
    assert report and report.mode == "fast"
    # A wrong partial in one neuron's activation is caught and located by the fallback.
    neuron = case.model.layers[1].neurons[4]
    bad_tanh = _perturbed(ops.TANH)
    real = neuron._act
    neuron._act = lambda v: apply(bad_tanh, v)
    try:
        report = gradcheck(case, case.point, fast_mode=True)
    finally:
        neuron._act = real
    assert not report and report.mode == "fast→full"
    names = [name for name, _ in case.model.named_parameters()]
    assert {names[e.input].split(".")[1] for e in report.mismatches} >= {"neuron5"}
