"""Second derivatives: closed forms, mpmath, gradgradcheck, grad(grad(f)) and the Hessian."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_x import Value, apply, backward, grad, hessian, value_and_grad, zero_grad
from micrograd_x.testing import (
    gradcheck,
    gradgradcheck,
    hessiancheck,
    reference_hessian,
)
from micrograd_x.testing.strategies import Program, expressions, programs


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _gelu2(x: float) -> float:
    # d²/dx² x·Φ(x) = φ(x)·(2 - x²)
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi) * (2.0 - x * x)


def _silu2(x: float) -> float:
    s = _sigmoid(x)
    return s * (1 - s) * (2 + x * (1 - 2 * s))


# op name, params, interval of x, closed-form second derivative.
SECOND: list[tuple[str, dict[str, float], tuple[float, float], Callable[[float], float]]] = [
    ("exp", {}, (-3, 3), math.exp),
    ("log", {}, (0.1, 10), lambda x: -1.0 / (x * x)),
    ("sqrt", {}, (0.1, 10), lambda x: -0.25 * x**-1.5),
    ("sin", {}, (-4, 4), lambda x: -math.sin(x)),
    ("cos", {}, (-4, 4), lambda x: -math.cos(x)),
    ("tanh", {}, (-5, 5), lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
    ("sigmoid", {}, (-8, 8), lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x))),
    ("softplus", {}, (-8, 8), lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    ("erf", {}, (-3, 3), lambda x: -4 * x / math.sqrt(math.pi) * math.exp(-x * x)),
    ("erfc", {}, (-3, 3), lambda x: 4 * x / math.sqrt(math.pi) * math.exp(-x * x)),
    ("gelu", {}, (-4, 4), _gelu2),
    ("silu", {}, (-8, 8), _silu2),
    ("pow", {"k": 3}, (-3, 3), lambda x: 6 * x),
    ("pow", {"k": 2.5}, (0.1, 4), lambda x: 2.5 * 1.5 * x**0.5),
    ("pow", {"k": -2}, (0.2, 4), lambda x: 6 * x**-4),
    ("elu", {"alpha": 2.0}, (-4, -0.01), lambda x: 2.0 * math.exp(x)),
    ("relu", {}, (0.01, 4), lambda x: 0.0),
    ("abs", {}, (-4, -0.01), lambda x: 0.0),
    ("neg", {}, (-4, 4), lambda x: 0.0),
]


@pytest.mark.parametrize(
    ("name", "params", "interval", "closed"), SECOND, ids=[f"{s[0]}{s[1]}" for s in SECOND]
)
@given(data=st.data())
def test_second_derivatives_match_closed_forms(
    name: str,
    params: dict[str, float],
    interval: tuple[float, float],
    closed: Callable[[float], float],
    data: st.DataObject,
) -> None:
    x = data.draw(st.floats(*interval), label="x")

    def f(t: Value) -> Value:
        return apply(name, t, **params)

    d2 = grad(grad(f))(x)
    d2 = d2.data if isinstance(d2, Value) else d2
    assert math.isclose(d2, closed(x), rel_tol=1e-12, abs_tol=1e-14), (d2, closed(x))
    # The same through backward(create_graph=True) and the gradient's own backward.
    v = Value(x)
    f(v).backward(create_graph=True)
    first = v.grad
    zero_grad([v])
    if isinstance(first, Value):
        first.backward()
        assert math.isclose(v.grad, closed(x), rel_tol=1e-12, abs_tol=1e-14)
    else:
        assert closed(x) == 0.0


def test_grad_of_grad_composes() -> None:
    def f(x: Value) -> Value:
        return x**3

    # Called with numbers, the outermost transform returns floats.
    assert grad(grad(f))(2.0) == 12.0
    assert grad(grad(grad(f)))(2.0) == 6.0
    inner = grad(grad(f))(Value(2.0))  # called with a Value: a graph, differentiable again
    assert isinstance(inner, Value) and inner.data == 12.0
    value, slope = value_and_grad(f)(2.0)
    assert (value, slope) == (8.0, 12.0)


def _x2y3(x: Value, y: Value) -> Value:
    # f = x²y³: f_xx = 2y³, f_xy = 6xy², f_yy = 6x²y.
    return x * x * y**3


def test_hessian_of_a_product() -> None:
    h = hessian(_x2y3)(1.5, -2.0)
    want = [[2 * -8.0, 6 * 1.5 * 4.0], [6 * 1.5 * 4.0, 6 * 2.25 * -2.0]]
    assert [x for row in h for x in row] == pytest.approx([x for row in want for x in row])
    fx = grad(_x2y3, argnums=0)
    fxx = grad(fx, argnums=0)
    assert math.isclose(fxx(1.5, Value(-2.0)).item(), 2 * -8.0)


def test_mixed_partials_through_nested_grad() -> None:
    fx = grad(_x2y3, argnums=0)
    fxy = grad(lambda x, y: fx(x, y), argnums=1)
    assert math.isclose(fxy(1.5, -2.0), 6 * 1.5 * 4.0)


def test_create_graph_first_derivatives_equal_float_path() -> None:
    x, y = Value(0.3), Value(-0.8)
    out = (x * y).tanh() + (x / (y * y + 1.0)).exp()
    backward(out)
    floats = (x.grad, y.grad)
    zero_grad([x, y])
    backward(out, create_graph=True)
    assert isinstance(x.grad, Value) and isinstance(y.grad, Value)
    assert math.isclose(x.grad.data, floats[0], rel_tol=1e-14)
    assert math.isclose(y.grad.data, floats[1], rel_tol=1e-14)


def test_float_backward_accumulates_into_a_gradient_graph() -> None:
    # After backward(create_graph=True) a leaf's grad is a graph; a plain backward() without
    # zero_grad adds into it, as PyTorch does: d(x³)/dx = 3x² = 12 at x = 2, twice.
    x = Value(2.0)
    out = x * x * x
    backward(out, create_graph=True)
    assert isinstance(x.grad, Value)
    backward(out)
    assert isinstance(x.grad, Value) and x.grad.data == 24.0
    backward(x)  # a leaf root adds 1 and keeps the graph too
    assert isinstance(x.grad, Value) and x.grad.data == 25.0


@given(programs(length=st.integers(1, 6)))
def test_gradgradcheck_on_programs(p: Program) -> None:
    report = gradgradcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"


@given(expressions(max_depth=4))
def test_gradgradcheck_on_expressions(p: Program) -> None:
    report = gradgradcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"


@given(programs(length=st.integers(1, 6)))
def test_hessian_passes_hessiancheck_and_is_symmetric(p: Program) -> None:
    report = hessiancheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"
    h = report.analytic
    for i in range(len(h)):
        for j in range(i):
            assert math.isclose(h[i][j], h[j][i], rel_tol=1e-10, abs_tol=1e-12)


@settings(max_examples=settings.default.max_examples * 3 // 10)  # mpmath is slow
@given(programs(length=st.integers(1, 5)))
def test_hessian_agrees_with_mpmath(p: Program) -> None:
    kinks = set(gradcheck(p, p.inputs, check_reentrant=False).inconclusive_inputs)
    kinks |= set(gradgradcheck(p, p.inputs, check_reentrant=False).inconclusive_inputs)
    h = hessian(p)(*p.inputs)
    ref = reference_hessian(p, p.inputs)
    for i, row in enumerate(h):
        for j, got in enumerate(row):
            if i in kinks or j in kinks:
                continue
            want = ref[i][j]
            assert abs(got - want) <= 1e-10 + 1e-8 * abs(want), (i, j, got, want, str(p))
