"""Per-op properties, table-driven over the registry: a new op is picked up with no edit here.

Oracles: central differences (gradcheck), closed forms at points, mpmath at 50 digits.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import Value, apply, engine, ops
from micrograd_x.testing import gradcheck, numerical_grad
from micrograd_x.testing._reference import FLOAT_FORWARD, mp_context, mp_forward
from micrograd_x.testing.strategies import OpCase, op_cases

OPS = [op for op in ops.registry() if op.name != "const"]
NAMES = [op.name for op in OPS]
MP = mp_context(50)


def _mp_exact(case: OpCase) -> object:
    return mp_forward(MP, case.op, [MP.mpf(x) for x in case.inputs], case.params)


def _ulps(got: float, exact: object) -> float:
    e = float(exact)  # type: ignore[arg-type]
    return float(abs(MP.mpf(got) - exact)) / math.ulp(e) if e else abs(got) / math.ulp(0.0)


# ---------------------------------------------------------------------------------------------
# The registry itself.


def test_registry_records_are_consistent() -> None:
    names = [op.name for op in ops.registry()]
    assert len(names) == len(set(names))
    for op in ops.registry():
        assert ops.get(op.name) is op
        assert op.symbol and op.formula, op.name
        assert op.domain.piecewise == (op.branch is not None), op.name
        if op.arity:
            assert len(op.domain.box) in (1, op.arity), op.name
    assert {op.name for op in OPS if op.branch} == {
        "abs",
        "relu",
        "leaky_relu",
        "elu",
        "max",
        "min",
    }


def test_every_op_has_an_independent_reference() -> None:
    for name in NAMES:
        assert name in FLOAT_FORWARD, f"add a plain-float form of {name!r} to the references"
        args = [MP.mpf(1.5)] * (1 if ops.get(name).arity == 1 else 2)
        params = {"k": 2.0} if name == "pow" else {}
        mp_forward(MP, name, args, params)


# ---------------------------------------------------------------------------------------------
# Partials against central differences, through the public gradcheck.


@pytest.mark.parametrize("op", OPS, ids=NAMES)
@given(data=st.data())
def test_partials_match_central_differences(op: ops.Op, data: st.DataObject) -> None:
    case = data.draw(op_cases(op), label="case")
    report = gradcheck(case, case.inputs)
    assert report, report.message
    # The stored partials are what backward used (inputs are distinct leaves here).
    node = case(*[Value(x) for x in case.inputs])
    assert node.op is op
    assert tuple(float(p) for p in node.partials) == report.analytic[0]
    if op.name not in ("sum", "dot") and not op.domain.piecewise:
        assert not report.inconclusive, report.message
    # backward(create_graph=True) evaluates the same rule on nodes: it must agree with floats.
    leaves = [Value(x) for x in case.inputs]
    on_values = op.partials(Value(node.data), *leaves, **case.params)
    for f, v in zip(node.partials, on_values):
        v = v.data if isinstance(v, Value) else v
        assert math.isclose(f, v, rel_tol=1e-12, abs_tol=1e-15), (f, v)


# ---------------------------------------------------------------------------------------------
# Closed forms at points: (op, inputs, params, value, partials).

SQPI = 2.0 / math.sqrt(math.pi)
CLOSED_FORMS: list[tuple[str, tuple[float, ...], dict[str, float], float, tuple[float, ...]]] = [
    ("add", (2.0, 3.0), {}, 5.0, (1.0, 1.0)),
    ("sub", (2.0, 3.0), {}, -1.0, (1.0, -1.0)),
    ("mul", (2.0, 3.0), {}, 6.0, (3.0, 2.0)),
    ("div", (1.0, 4.0), {}, 0.25, (0.25, -1.0 / 16.0)),
    ("neg", (2.5,), {}, -2.5, (-1.0,)),
    ("pow", (3.0,), {"k": 2}, 9.0, (6.0,)),
    ("pow", (4.0,), {"k": 0.5}, 2.0, (0.25,)),
    ("pow", (2.0,), {"k": -1}, 0.5, (-0.25,)),
    ("pow", (-2.0,), {"k": 3}, -8.0, (12.0,)),
    ("powv", (2.0, 3.0), {}, 8.0, (12.0, 8.0 * math.log(2.0))),
    ("exp", (0.0,), {}, 1.0, (1.0,)),
    ("exp", (1.0,), {}, math.e, (math.e,)),
    ("log", (2.0,), {}, math.log(2.0), (0.5,)),
    ("log", (1.0,), {}, 0.0, (1.0,)),
    ("sqrt", (4.0,), {}, 2.0, (0.25,)),
    ("abs", (-3.0,), {}, 3.0, (-1.0,)),
    ("abs", (0.0,), {}, 0.0, (0.0,)),
    ("sin", (0.0,), {}, 0.0, (1.0,)),
    ("cos", (0.0,), {}, 1.0, (-0.0,)),
    ("sin", (math.pi / 2,), {}, 1.0, (math.cos(math.pi / 2),)),
    ("tanh", (0.0,), {}, 0.0, (1.0,)),
    ("sigmoid", (0.0,), {}, 0.5, (0.25,)),
    ("relu", (2.0,), {}, 2.0, (1.0,)),
    ("relu", (-2.0,), {}, 0.0, (0.0,)),
    ("relu", (0.0,), {}, 0.0, (0.0,)),
    ("leaky_relu", (-2.0,), {"slope": 0.1}, -0.2, (0.1,)),
    ("leaky_relu", (3.0,), {"slope": 0.1}, 3.0, (1.0,)),
    ("elu", (2.0,), {"alpha": 1.0}, 2.0, (1.0,)),
    ("elu", (0.0,), {"alpha": 0.5}, 0.0, (0.5,)),
    ("elu", (-1.0,), {"alpha": 2.0}, 2.0 * (math.exp(-1.0) - 1.0), (2.0 * math.exp(-1.0),)),
    ("softplus", (0.0,), {}, math.log(2.0), (0.5,)),
    ("erf", (0.0,), {}, 0.0, (SQPI,)),
    ("erfc", (0.0,), {}, 1.0, (-SQPI,)),
    ("gelu", (0.0,), {}, 0.0, (0.5,)),
    ("silu", (0.0,), {}, 0.0, (0.5,)),
    ("max", (1.0, 2.0), {}, 2.0, (0.0, 1.0)),
    ("max", (2.0, 2.0), {}, 2.0, (1.0, 0.0)),
    ("min", (1.0, 2.0), {}, 1.0, (1.0, 0.0)),
    ("min", (2.0, 2.0), {}, 2.0, (1.0, 0.0)),
    ("sum", (1.0, 2.0, 3.5), {}, 6.5, (1.0, 1.0, 1.0)),
    ("dot", (2.0, 3.0, 5.0, 7.0), {}, 31.0, (5.0, 7.0, 2.0, 3.0)),
    ("dot", (2.0, 3.0, 5.0, 7.0, 0.5), {}, 31.5, (5.0, 7.0, 2.0, 3.0, 1.0)),
]


def test_every_op_has_a_closed_form() -> None:
    assert set(NAMES) <= {name for name, *_ in CLOSED_FORMS}


@pytest.mark.parametrize(("name", "inputs", "params", "value", "partials"), CLOSED_FORMS)
def test_closed_forms(
    name: str,
    inputs: tuple[float, ...],
    params: dict[str, float],
    value: float,
    partials: tuple[float, ...],
) -> None:
    node = apply(name, *[Value(x) for x in inputs], **params)
    assert math.isclose(node.data, value, rel_tol=1e-15, abs_tol=1e-300)
    assert len(node.partials) == len(partials)
    for got, want in zip(node.partials, partials):
        assert math.isclose(got, want, rel_tol=1e-15, abs_tol=1e-16), (got, want)


# ---------------------------------------------------------------------------------------------
# Forward against math and mpmath.


def _forward_params(op: ops.Op) -> list[object]:
    return [pytest.param(op, id=op.name)]


@pytest.mark.parametrize("op", [p for op in OPS for p in _forward_params(op)])
@given(data=st.data())
def test_forward_within_a_few_ulp_of_mpmath(op: ops.Op, data: st.DataObject) -> None:
    case = data.draw(op_cases(op), label="case")
    got = case(*[Value(x) for x in case.inputs]).data
    exact = _mp_exact(case)
    if op.name in ("sum", "dot"):
        # Sequential sums round once per term: bound the error by the terms' magnitudes.
        n = len(case.inputs) // 2 if op.name == "dot" else len(case.inputs)
        terms = (
            [w * x for w, x in zip(case.inputs[:n], case.inputs[n : 2 * n])]
            if op.name == "dot"
            else list(case.inputs)
        )
        scale = math.fsum(abs(t) for t in terms) + abs(case.inputs[-1])
        floor = len(case.inputs) * math.ulp(0.0)  # products may underflow to subnormals
        assert abs(MP.mpf(got) - exact) <= 2 * len(case.inputs) * 2.0**-53 * scale + floor
    else:
        assert _ulps(got, exact) <= 4.0, (got, exact)


MATH = {
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tanh": math.tanh,
    "erf": math.erf,
    "erfc": math.erfc,
}


@pytest.mark.parametrize("name", sorted(MATH))
@given(data=st.data())
def test_forward_matches_math(name: str, data: st.DataObject) -> None:
    case = data.draw(op_cases(name), label="case")
    (x,) = case.inputs
    assert apply(name, Value(x)).data == MATH[name](x)
    assert getattr(ops, name)(x) == MATH[name](x)
    assert getattr(ops, name)(Value(x)).data == MATH[name](x)


# ---------------------------------------------------------------------------------------------
# Stability where naive formulas overflow.


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("x", [-1000.0, -710.0, -40.0, 40.0, 710.0, 1000.0])
def test_saturating_ops_are_finite_at_extremes(name: str, x: float) -> None:
    v = Value(x)
    out = apply(name, v)
    out.backward()
    assert math.isfinite(out.data) and math.isfinite(v.grad)
    exact = mp_forward(MP, name, [MP.mpf(x)], {})
    assert _ulps(out.data, exact) <= 4.0 or abs(out.data - float(exact)) < 1e-300
    assert gradcheck(lambda t: apply(name, t), [x]), name
    # The derivatives in closed form, in mpmath: tanh' = sech², σ' = σ(1 - σ), softplus' = σ.
    s = mp_forward(MP, "sigmoid", [MP.mpf(x)], {})
    exact_d = {"tanh": MP.sech(MP.mpf(x)) ** 2, "sigmoid": s * (1 - s), "softplus": s}[name]
    want = float(exact_d)
    assert math.isclose(v.grad, want, rel_tol=1e-12, abs_tol=1e-300)


@given(st.floats(-1000.0, 1000.0))
def test_saturating_ops_never_raise(x: float) -> None:
    for name in ("tanh", "sigmoid", "softplus", "silu", "gelu", "erf"):
        v = Value(x)
        out = apply(name, v)
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad)


def test_numerical_grad_of_each_smooth_unary_op_at_one() -> None:
    for op in OPS:
        if op.arity != 1 or op.domain.piecewise:
            continue
        params = {"k": 2} if op.name == "pow" else {}
        (num,) = numerical_grad(lambda t, op=op, params=params: apply(op, t, **params), [1.0])
        node = engine.apply(op, Value(1.0), **params)
        assert math.isclose(num[0], node.partials[0], rel_tol=1e-8, abs_tol=1e-10), op.name
