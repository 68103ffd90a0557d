"""Forward mode: closed forms, reverse mode, finite differences, Hessians and composition."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import micrograd_x as mx
from micrograd_x import Value, apply, grad, gradients, hessian, ops
from micrograd_x.forward import jacobian, jacobian_mode, jvp, push_tangents
from micrograd_x.testing import gradgradcheck, jvpcheck
from micrograd_x.testing.strategies import Program, op_cases, programs

OPS = [op for op in ops.registry() if op.name != "const"]
TANGENT = st.floats(-2.0, 2.0, allow_nan=False)


def _close(a: float, b: float, scale: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= 1e-12 + rel * scale


# -- closed forms -------------------------------------------------------------------------------


def test_jvp_of_a_product_is_the_product_rule() -> None:
    # d(x·y) along (tx, ty) = y·tx + x·ty
    value, tangent = jvp(lambda x, y: x * y)((3.0, -2.0), (0.5, 4.0))
    assert value == -6.0
    assert tangent == -2.0 * 0.5 + 3.0 * 4.0


def test_jvp_of_a_composition_is_the_chain_rule() -> None:
    # d/dx sin(x²) = cos(x²)·2x
    x = 0.7
    value, tangent = jvp(lambda v: (v * v).sin())((x,), (1.0,))
    assert value == math.sin(x * x)
    assert math.isclose(tangent, math.cos(x * x) * 2 * x, rel_tol=1e-15)


def test_jvp_returns_one_tangent_per_output() -> None:
    value, tangent = jvp(lambda x, y: (x + y, x * y, 2.0))((1.0, 2.0), (1.0, 1.0))
    assert value == (3.0, 2.0, 2.0)
    assert tangent == (2.0, 3.0, 0.0)


def test_an_output_that_is_an_input_gets_its_tangent() -> None:
    assert jvp(lambda x, y: y)((1.0, 2.0), (3.0, 4.0)) == (2.0, 4.0)


def test_tangents_are_sums_of_the_stored_partials() -> None:
    # Forward mode reads the very numbers backward uses: each tangent is Σ partial × tangent.
    x, y = Value(0.4), Value(-1.3)
    a = x * y
    out = (a.tanh() + x.exp()) / y
    t = push_tangents(out, {x: 0.25, y: -1.5})
    for node in mx.topological_order(out):
        if node in (x, y) or node.is_leaf:
            continue
        want = math.fsum(d * t[p] for d, p in zip(node.partials, node.parents))
        assert math.isclose(t[node], want, rel_tol=1e-15, abs_tol=1e-300), node


def test_push_tangents_gives_zero_where_no_seed_reaches() -> None:
    x, y = Value(2.0), Value(3.0)
    out = x * x + y
    t = push_tangents(out, {x: 1.0})
    assert t[y] == 0.0 and t[out] == 4.0
    assert all(isinstance(v, float) for v in t.values())


def test_a_seeded_interior_node_is_an_input() -> None:
    # Seeding z = x·y makes out = z + x a function of z and x: d out along z is 1.
    x, y = Value(2.0), Value(3.0)
    z = x * y
    out = z + x
    assert push_tangents(out, {z: 1.0})[out] == 1.0
    assert push_tangents(out, {x: 1.0})[out] == 4.0  # through z (y = 3) and directly


def test_every_op_agrees_with_reverse_mode_on_one_graph() -> None:
    for op in OPS:
        arity = op.arity or 3
        box = op.domain.box
        xs = [Value(sum(box[min(i, len(box) - 1)]) / 2 + 0.1 * (i + 1)) for i in range(arity)]
        params = {"k": 2.5} if op.name == "pow" else {}
        out = apply(op, *xs, **params)
        rev = gradients(out, xs)
        for j, x in enumerate(xs):
            assert push_tangents(out, {x: 1.0})[out] == pytest.approx(rev[j], rel=1e-15), op


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@given(data=st.data())
def test_jvpcheck_passes_on_every_op(op: ops.Op, data: st.DataObject) -> None:
    case = data.draw(op_cases(op))
    report = jvpcheck(case, list(case.inputs))
    assert report, f"{case}\n{report.message}"


# -- property tests on generated programs -------------------------------------------------------


@given(programs(outputs=st.integers(1, 3)))
def test_jvpcheck_passes_on_programs(p: Program) -> None:
    report = jvpcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"


@given(programs(outputs=st.integers(1, 3)), st.data())
def test_jvp_is_the_jacobian_times_the_tangent(p: Program, data: st.DataObject) -> None:
    v = [data.draw(TANGENT) for _ in p.inputs]
    value, tangent = jvp(p)(p.inputs, v)
    values = value if isinstance(value, tuple) else (value,)
    tangents = tangent if isinstance(tangent, tuple) else (tangent,)
    outs = p.evaluate()
    outs = outs if isinstance(outs, tuple) else (outs,)
    assert values == tuple(o.data for o in outs)
    rows = jacobian(p, mode="reverse")(*p.inputs)
    for row, t in zip(rows, tangents):
        want = math.fsum(r * d for r, d in zip(row, v))
        assert _close(t, want, math.fsum(abs(r * d) for r, d in zip(row, v))), (t, want, str(p))


@given(programs(outputs=st.integers(1, 4)))
def test_forward_and_reverse_jacobians_agree(p: Program) -> None:
    fwd = jacobian(p, mode="forward")(*p.inputs)
    rev = jacobian(p, mode="reverse")(*p.inputs)
    chosen = jacobian_mode(len(p.inputs), len(fwd))
    assert jacobian(p)(*p.inputs) == (fwd if chosen == "forward" else rev)
    for i, (rf, rr) in enumerate(zip(fwd, rev)):
        for j, (a, b) in enumerate(zip(rf, rr)):
            assert _close(a, b, abs(b)), (i, j, a, b, str(p))


def _all_args(p: Program) -> tuple[int, ...]:
    return tuple(range(len(p.inputs)))


@given(programs(length=st.integers(1, 6)), st.data())
def test_forward_over_reverse_is_the_hessian_vector_product(
    p: Program, data: st.DataObject
) -> None:
    v = [data.draw(TANGENT) for _ in p.inputs]
    g, hv = jvp(grad(p, argnums=_all_args(p)))(p.inputs, v)
    assert g == pytest.approx(jacobian(p, mode="reverse")(*p.inputs)[0], rel=1e-12, abs=1e-12)
    h = hessian(p)(*p.inputs)
    for i, row in enumerate(h):
        want = math.fsum(r * d for r, d in zip(row, v))
        scale = math.fsum(abs(r * d) for r, d in zip(row, v))
        assert _close(hv[i], want, scale, rel=1e-8), (i, hv[i], want, str(p))
    # Finite differences of the gradient along v, where no branch changes near x.
    kinks = gradgradcheck(p, p.inputs, check_reentrant=False).inconclusive
    assume(not kinks)
    eps = 1e-5
    gp = grad(p, argnums=_all_args(p))(*[x + eps * d for x, d in zip(p.inputs, v)])
    gm = grad(p, argnums=_all_args(p))(*[x - eps * d for x, d in zip(p.inputs, v)])
    for i, (a, b) in enumerate(zip(gp, gm)):
        num = (a - b) / (2 * eps)
        assert abs(hv[i] - num) <= 1e-4 + 1e-3 * abs(num), (i, hv[i], num, str(p))


@given(programs(length=st.integers(1, 6)), st.data())
def test_reverse_over_forward_and_forward_over_forward(p: Program, data: st.DataObject) -> None:
    v = [data.draw(TANGENT) for _ in p.inputs]
    w = [data.draw(TANGENT) for _ in p.inputs]
    h = hessian(p)(*p.inputs)
    hv = [math.fsum(r * d for r, d in zip(row, v)) for row in h]

    def along_v(*xs: Value) -> Value:
        out: Value = jvp(p)(xs, v)[1]
        return out

    rof = grad(along_v, argnums=_all_args(p))(*p.inputs)
    for i, row in enumerate(h):
        scale = math.fsum(abs(r * d) for r, d in zip(row, v))
        assert _close(rof[i], hv[i], scale, rel=1e-8), (i, rof[i], hv[i], str(p))
    _, wHv = jvp(along_v)(p.inputs, w)
    want = math.fsum(a * b for a, b in zip(w, hv))
    scale = math.fsum(abs(w[i] * r * v[j]) for i, row in enumerate(h) for j, r in enumerate(row))
    assert _close(wHv, want, scale, rel=1e-8), (wHv, want, str(p))


# -- jacobian's choice of mode ------------------------------------------------------------------


def test_jacobian_mode_is_forward_only_for_fewer_inputs_than_outputs() -> None:
    assert jacobian_mode(1, 3) == "forward"
    assert jacobian_mode(3, 3) == "reverse"
    assert jacobian_mode(5, 1) == "reverse"


def test_jacobian_of_a_vector_function() -> None:
    def f(r: Value, t: Value) -> list[Value]:
        return [r * t.cos(), r * t.sin(), r]

    r, t = 2.0, 0.5
    want = [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)], [1.0, 0.0]]
    for mode in ("auto", "forward", "reverse"):
        got = jacobian(f, mode=mode)(r, t)
        assert [x for row in got for x in row] == pytest.approx([x for row in want for x in row])


def test_jacobian_of_a_constant_output_is_zero() -> None:
    assert jacobian(lambda x: [x * 0.0 + 1.0, 3.0], mode="forward")(2.0) == [[0.0], [0.0]]
    assert jacobian(lambda x: [x * 0.0 + 1.0, 3.0], mode="reverse")(2.0) == [[0.0], [0.0]]


# -- bad input ---------------------------------------------------------------------------------


def test_bad_calls_are_clear_errors() -> None:
    f = jvp(lambda x, y: x * y)
    with pytest.raises(ValueError, match=r"2 primal\(s\) but 1 tangent"):
        f((1.0, 2.0), (1.0,))
    with pytest.raises(TypeError, match="primals must be a sequence"):
        f(1.0, (1.0,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tangent 1: nan is not a finite number"):
        f((1.0, 2.0), (1.0, math.nan))
    with pytest.raises(TypeError, match="tangent 0: expected a real number, got str"):
        f((1.0, 2.0), ("1", 0.0))
    with pytest.raises(TypeError, match="primal 0: expected a real number, got bool"):
        f((True, 2.0), (1.0, 0.0))
    x = Value(1.0)
    with pytest.raises(ValueError, match="primal 1 is the same Value"):
        f((x, x), (1.0, 0.0))
    with pytest.raises(TypeError, match="must return a Value, a number or a sequence"):
        jvp(lambda x: "x")((1.0,), (1.0,))
    with pytest.raises(ValueError, match="mode must be one of"):
        jacobian(lambda x: x, mode="sideways")
    with pytest.raises(TypeError, match="seeds must map Values"):
        push_tangents(x, {1.0: 1.0})  # type: ignore[dict-item]


def test_an_overflowing_tangent_is_an_error_naming_the_node() -> None:
    x = Value(700.0)
    out = (x * 1.0).exp()  # finite (e^700 ≈ 1e304), but its tangent along 1e10 overflows
    with pytest.raises(OverflowError, match="tangent at the exp node overflowed"):
        push_tangents(out, {x: 1e10})


def test_package_root_exports_jvp_and_jacobian_lazily() -> None:
    assert mx.jvp is jvp and mx.jacobian is jacobian


# -- drawing tangents ---------------------------------------------------------------------------


def _fxy() -> tuple[Value, Value, Value]:
    x, y = Value(0.5, label="x"), Value(2.0, label="y")
    f = x * y + x.sin()
    f.label = "f"
    return x, y, f


def test_draw_labels_each_value_with_its_tangent() -> None:
    x, y, f = _fxy()
    drawing = mx.draw(f, tangents={x: 1.0})
    src = drawing.source
    # Tangents along x: x 1, y 0, x·y: y = 2, sin x: cos 0.5, f: 2 + cos 0.5 (4 digits).
    for cell in ("tangent 1<", "tangent 0<", "tangent 2<", "tangent 0.8776<", "tangent 2.878<"):
        assert cell in src, cell
    assert ">grad " not in src  # the tangent cell replaces the grad cell
    assert "tangent flowing" in src
    assert any("forward mode, seeded with tangent x = 1" in line for line in drawing.caption)
    assert any("tangent of f = 2.878" in line for line in drawing.caption)
    # Only the edge from y carries no tangent: dashed, as an edge with no gradient is.
    assert src.count("style=dashed") == 1
    assert 'tooltip="∂v2/∂y = 0.5; tangent flowing: 0.0"' in src
    assert mx.draw(f, tangents={y: 0.0}).source.count("style=dashed") == 5


def test_draw_tangents_refusals() -> None:
    x, _, f = _fxy()
    with pytest.raises(ValueError, match="not both"):
        mx.draw(f, wrt=x, tangents={x: 1.0})
    with pytest.raises(ValueError, match="network view has no"):
        mx.draw(f, view="network", tangents={x: 1.0})
    with pytest.raises(ValueError, match="does not depend on z"):
        mx.draw(f, tangents={Value(1.0, label="z"): 1.0})
    with pytest.raises(TypeError, match="needs the output Value"):
        mx.draw(mx.trace(f), tangents={x: 1.0})
    with pytest.raises(TypeError, match="tangents must map input Values"):
        mx.draw(f, tangents={})
