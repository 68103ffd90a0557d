from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_x import Value, apply, dot, gradients, ops, zero_grad
from micrograd_x import sum as vsum
from micrograd_x.data import make_moons, to_signed
from micrograd_x.nn import ACTIVATIONS, MLP
from micrograd_x.ops import Domain, DomainError, NonDifferentiableError, Op
from micrograd_x.replay import (
    KERNELS,
    Replay,
    ReplayDivergenceError,
    capture,
    compile_function,
)
from micrograd_x.testing.strategies import programs
from micrograd_x.train import LOSSES, make_loss_fn


def close(a: float, e: float, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    return abs(a - e) <= atol + rtol * abs(e)


def eager(f: Callable[..., Value], xs: list[float]) -> tuple[float, list[float]]:
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    return out.data, [float(g) for g in gradients(out, leaves)]


# -- the kernel table ---------------------------------------------------------------------------


def test_every_registered_op_has_a_kernel() -> None:
    missing = [op.name for op in ops.registry() if op not in KERNELS]
    assert missing == []


UNARY = [op for op in ops.registry() if op.arity in (1, 2)]


def _params(op: Op) -> dict[str, float]:
    return {"k": 3} if op is ops.POW else {}


@pytest.mark.parametrize("op", UNARY, ids=lambda op: op.name)
def test_kernel_partials_match_central_differences_of_its_forward(op: Op) -> None:
    # Independent of the engine: the kernel's partials against finite differences of the
    # kernel's own forward, at points drawn from the op's domain box (away from kinks).
    rng = np.random.default_rng(7)
    k = KERNELS[op]
    kw = _params(op)
    lows = [b[0] for b in op.domain.box]
    highs = [b[1] for b in op.domain.box]
    pts = [rng.uniform(lo, hi, 64) for lo, hi in zip(lows, highs)]
    pts = [np.where(np.abs(p) < 0.05, p + 0.1, p) for p in pts]
    if op in (ops.MAX, ops.MIN):
        pts[1] = pts[0] + np.where(rng.random(64) < 0.5, -0.5, 0.5)
    out = k.forward(*pts, **kw)
    parts = k.partials(out, *pts, **kw)
    for i, d in enumerate(parts):
        h = 2.0 ** (-52 / 3) * np.maximum(1.0, np.abs(pts[i]))
        up = [p + h if j == i else p for j, p in enumerate(pts)]
        dn = [p - h if j == i else p for j, p in enumerate(pts)]
        step = (pts[i] + h) - (pts[i] - h)
        fd = (k.forward(*up, **kw) - k.forward(*dn, **kw)) / step
        np.testing.assert_allclose(np.broadcast_to(d, fd.shape), fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", UNARY, ids=lambda op: op.name)
def test_kernel_forward_matches_math_at_points(op: Op) -> None:
    # The op record's float forward is the reference here (it is checked against math/mpmath
    # in the ops tests); the kernel must agree to rounding.
    rng = np.random.default_rng(3)
    kw = _params(op)
    pts = [rng.uniform(b[0], b[1], 16) for b in op.domain.box]
    got = KERNELS[op].forward(*pts, **kw)
    want = [op.forward(*[float(p[j]) for p in pts], **kw) for j in range(16)]
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-300)


# -- replay equals eager ------------------------------------------------------------------------


def _fn(program: Any) -> Callable[..., Value]:
    def f(*xs: Value) -> Value:
        out = program(*xs)
        assert isinstance(out, Value)
        return out

    return f


@settings(max_examples=40)
@given(programs(), st.floats(0.5, 1.5))
def test_replay_equals_eager_on_random_programs(program: Any, scale: float) -> None:
    f = _fn(program)
    xs = list(program.inputs)
    r = compile_function(f, *xs)
    out, grads = r.run(xs)
    e_out, e_grads = eager(f, xs)
    assert close(out, e_out)
    for a, e in zip(grads.tolist(), e_grads):
        assert close(a, e, rtol=1e-8, atol=1e-10)
    # A new point: the structure is the same, values and value-dependent partials change.
    ys = [x * scale + 0.01 for x in xs]
    try:
        e_out, e_grads = eager(f, ys)
    except (ArithmeticError, ValueError) as exc:
        with pytest.raises(type(exc)):
            r.run(ys)
        return
    out, grads = r.run(ys)
    assert close(out, e_out)
    for a, e in zip(grads.tolist(), e_grads):
        assert close(a, e, rtol=1e-8, atol=1e-10)


@settings(max_examples=25)
@given(programs(length=st.integers(1, 12)))
def test_replay_values_agree_with_mpmath(program: Any) -> None:
    # An oracle independent of the engine: the program evaluated in mpmath at 40 digits.
    r = compile_function(_fn(program), *program.inputs)
    out = r.forward(list(program.inputs))
    ref = float(program.evaluate_mp())
    assert close(out, ref, rtol=1e-9, atol=1e-11)


def test_replay_gradients_match_central_differences() -> None:
    def f(a: Value, b: Value, c: Value) -> Value:
        x = a * b + c.tanh()
        y = (x - a).relu() + b / (c * c + 1.0) + abs(b) ** 2 + a.exp().log()
        z = dot([a, b], [x, y], c) + vsum([x, y, a, a])
        return z.sigmoid() * z.gelu() + z.softplus() + a.max(b) - b.min(c) + (a * a + 1.0) ** c

    pt = [0.3, -0.7, 1.1]
    r = compile_function(f, *pt)
    _, grads = r.run(pt)
    for i in range(3):
        h = 1e-6
        up = list(pt)
        dn = list(pt)
        up[i] += h
        dn[i] -= h
        fd = (r.forward(up) - r.forward(dn)) / (2 * h)
        assert close(float(grads[i]), fd, rtol=1e-6, atol=1e-7)


def test_batch_run_equals_one_run_per_row() -> None:
    def f(a: Value, b: Value) -> Value:
        return (a * b).tanh() + (a - b).relu() * a + dot([a], [b], a).sigmoid()

    r = compile_function(f, 0.5, -0.2)
    X = np.array([[0.5, -0.2], [-1.0, 2.0], [0.0, 0.3], [2.0, 2.0]])
    out, grads = r.run(X)
    assert out.shape == (4,) and grads.shape == (4, 2)
    for row, o, g in zip(X.tolist(), out.tolist(), grads.tolist()):
        e_out, e_grads = eager(f, row)
        assert close(o, e_out)
        assert all(close(a, e) for a, e in zip(g, e_grads))


def test_batch_run_through_dense_layers_and_shared_parents() -> None:
    # A layer applied to two samples: the dot group has the matrix-product form, and in a batch
    # it falls back to the gather form; both must equal eager mode.
    def f(w1: Value, w2: Value, b: Value, x1: Value, x2: Value) -> Value:
        s1 = dot([w1, w2], [x1, x2], b).relu()
        s2 = dot([w1, w2], [x2, x1], b).relu()
        s3 = dot([w2, w1], [x1, x2]).tanh()
        return vsum([s1, s2, s3, s1 * s2])

    pt = [0.4, -0.3, 0.1, 1.5, 0.7]
    r = compile_function(f, *pt)
    # (Points off the kinks: dot sums in another order than eager mode, so a pre-activation
    # that is exactly 0 in one may be ±1e-17 in the other and take the other subgradient.)
    X = np.array([pt, [0.1, 0.2, -0.35, -1.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0]])
    out, grads = r.run(X)
    for row, o, g in zip(X.tolist(), out.tolist(), grads.tolist()):
        one_out, one_grads = r.run(row)
        e_out, e_grads = eager(f, row)
        assert close(o, e_out) and close(one_out, e_out)
        assert all(close(a, e) for a, e in zip(g, e_grads))
        assert all(close(a, e) for a, e in zip(one_grads.tolist(), e_grads))


def test_unused_inputs_and_constant_subgraphs() -> None:
    c = Value(2.0, label="c")

    def f(x: Value, unused: Value) -> Value:
        k = (c * 3.0).exp()  # depends on no input: frozen
        return x * k + 1.0

    r = compile_function(f, 0.5, 9.0)
    out, grads = r.run([0.25, -4.0])
    assert close(out, 0.25 * math.exp(6.0) + 1.0)
    assert close(float(grads[0]), math.exp(6.0))
    assert grads[1] == 0.0


def test_root_that_is_an_input() -> None:
    r = compile_function(lambda x: x, 3.0)
    out, grads = r.run([5.0])
    assert out == 5.0 and grads.tolist() == [1.0]


# -- neural networks ----------------------------------------------------------------------------


def _eager_step(loss_fn: Any, model: MLP, X: Any, y: Any) -> tuple[float, list[float]]:
    params = model.parameters()
    zero_grad(params)
    loss, _ = loss_fn(model, X, y)
    loss.backward()
    return loss.data, [float(p.grad) for p in params]


def _sgd(model: MLP, lr: float) -> None:
    for p in model.parameters():
        p.data -= lr * float(p.grad)


@pytest.mark.parametrize("activation", sorted(a for a in ACTIVATIONS if a != "linear"))
def test_mlp_replay_equals_eager_for_every_activation(activation: str) -> None:
    ds = make_moons(12, 0.1, seed=1)
    X, y = ds.X.tolist(), to_signed(ds.y).tolist()
    model = MLP(2, [5, 4, 1], activation=activation, seed=2)
    loss_fn = make_loss_fn("hinge", l2=1e-3)
    params = model.parameters()
    r = capture(lambda: loss_fn(model, X, y)[0], params, check=1)
    for _ in range(3):
        e_loss, e_grads = _eager_step(loss_fn, model, X, y)
        zero_grad(params)
        loss = r.step()
        assert close(loss, e_loss, rtol=1e-12)
        assert all(close(float(p.grad), e, rtol=1e-10) for p, e in zip(params, e_grads))
        _sgd(model, 0.1)  # after the update, replay must follow the new parameters


def _loss_case(loss: str) -> tuple[MLP, Any, Any]:
    ds = make_moons(10, 0.2, seed=4)
    if loss == "cross_entropy":
        return MLP(2, [4, 2], seed=5), ds.X.tolist(), ds.y.tolist()
    if loss in ("mse", "smooth_l1"):
        return MLP(2, [4, 1], seed=5), ds.X.tolist(), (ds.X[:, 0] * 0.5).tolist()
    if loss == "bce":
        return MLP(2, [4, 1], seed=5), ds.X.tolist(), ds.y.astype(float).tolist()
    return MLP(2, [4, 1], seed=5), ds.X.tolist(), to_signed(ds.y).tolist()


@pytest.mark.parametrize("loss", LOSSES)
def test_mlp_replay_equals_eager_for_every_loss(loss: str) -> None:
    model, X, y = _loss_case(loss)
    loss_fn = make_loss_fn(loss, l2=1e-4)
    params = model.parameters()
    r = capture(lambda: loss_fn(model, X, y)[0], params, check=2)
    for _ in range(3):
        e_loss, e_grads = _eager_step(loss_fn, model, X, y)
        zero_grad(params)
        assert close(r.step(), e_loss, rtol=1e-12)
        assert all(close(float(p.grad), e, rtol=1e-10) for p, e in zip(params, e_grads))
        _sgd(model, 0.05)


def test_micrograd_demo_losses_equal_eager_mode_while_training() -> None:
    ds = make_moons(100, 0.1, seed=0)
    X, y = ds.X.tolist(), to_signed(ds.y).tolist()
    loss_fn = make_loss_fn("hinge", l2=1e-4)
    m_eager, m_replay = MLP(2, [16, 16, 1], seed=0), MLP(2, [16, 16, 1], seed=0)
    pe, pr = m_eager.parameters(), m_replay.parameters()
    r = capture(lambda: loss_fn(m_replay, X, y)[0], pr)
    for k in range(8):
        lr = 1.0 - 0.9 * k / 100
        zero_grad(pe)
        loss, _ = loss_fn(m_eager, X, y)
        loss.backward()
        zero_grad(pr)
        replayed = r.step()
        assert close(replayed, loss.data, rtol=1e-12, atol=0.0)
        for p, q in zip(pe, pr):
            p.data -= lr * float(p.grad)
            q.data -= lr * float(q.grad)


def test_step_accumulates_into_grad_like_backward() -> None:
    w = Value(2.0)
    r = capture(lambda: w * w, [w])
    r.step()
    r.step()
    assert w.grad == 8.0


def test_memory_stays_flat_across_replay_steps() -> None:
    ds = make_moons(20, 0.1, seed=0)
    X, y = ds.X.tolist(), to_signed(ds.y).tolist()
    model = MLP(2, [8, 8, 1], seed=0)
    loss_fn = make_loss_fn("hinge", l2=1e-4)
    params = model.parameters()
    r = capture(lambda: loss_fn(model, X, y)[0], params)
    for _ in range(5):
        r.step()
    tracemalloc.start()
    try:
        for _ in range(5):
            r.step()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            zero_grad(params)
            r.step()
            _sgd(model, 0.01)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 16_000


# -- reading results and drawing ----------------------------------------------------------------


def test_value_grad_and_sync_expose_every_captured_node() -> None:
    a, b = Value(1.0, label="a"), Value(-2.0, label="b")
    n = dot([a], [b], 0.5)
    o = n.tanh()
    r = Replay(o, [a, b])
    r.run([0.3, 0.8])
    want_n = 0.3 * 0.8 + 0.5
    assert close(r.value(n), want_n)
    assert close(r.grad(n), 1.0 - math.tanh(want_n) ** 2)
    assert close(r.grad(a), (1.0 - math.tanh(want_n) ** 2) * 0.8)
    r.sync()
    assert close(o.data, math.tanh(want_n))
    assert close(float(n.grad), 1.0 - math.tanh(want_n) ** 2)
    # The stored partials now describe the replayed point (what a diagram prints on edges).
    assert close(o.partials[0], 1.0 - math.tanh(want_n) ** 2)
    assert n.partials[:2] == (0.8, 0.3)
    with pytest.raises(KeyError, match="not a node of the captured graph"):
        r.value(Value(1.0))


def test_sync_of_a_subset_and_keep_graph_false() -> None:
    x = Value(1.0)
    y = x * 2.0
    z = y.relu()
    r = Replay(z, [x])
    r.forward([3.0])
    r.sync([y])
    assert y.data == 6.0 and z.data == 2.0
    r2 = Replay(x * 3.0, [x], keep_graph=False)
    assert r2.forward([2.0]) == 6.0
    with pytest.raises(KeyError, match="keep_graph=False"):
        r2.value(x)
    with pytest.raises(RuntimeError, match="keep_graph=False"):
        r2.sync()


def test_grad_before_backward_and_sync_of_a_batch_are_refused() -> None:
    r = compile_function(lambda x: x * x, 1.0)
    with pytest.raises(RuntimeError, match="before backward"):
        r.backward()
    r.forward([2.0])
    with pytest.raises(RuntimeError, match="no backward pass"):
        r.grad(r.inputs[0])
    r.run(np.array([[1.0], [2.0]]))
    with pytest.raises(RuntimeError, match="non-batch"):
        r.sync()


# -- check mode ---------------------------------------------------------------------------------


def test_check_mode_fires_when_control_flow_changes() -> None:
    def f(x: Value) -> Value:
        return x * 2.0 if x.data > 0 else x.relu()

    r = compile_function(f, 1.0, check=3)
    assert r(2.0) == 4.0
    with pytest.raises(ReplayDivergenceError, match=r"different graph: node #1 is relu\(#0\)"):
        r(-1.0)


def test_check_mode_fires_when_a_frozen_leaf_changes() -> None:
    w = Value(1.5, label="w")
    data = [2.0]

    def loss() -> Value:
        return w * Value(data[0], label="x")

    r = capture(loss, [w], check=2)
    r.step()
    data[0] = 3.0
    with pytest.raises(
        ReplayDivergenceError,
        match=r"output is 3\.0 in replay but 4\.5 in eager mode \(node #1 is the frozen leaf "
        r"'x' = 3\.0 now but was the frozen leaf 'x' = 2\.0 at capture\)",
    ):
        r.step()


def test_check_mode_stops_after_the_requested_calls() -> None:
    def f(x: Value) -> Value:
        return x * 2.0 if x.data > 0 else x.relu()

    r = compile_function(f, 1.0, check=1)
    r(2.0)
    assert r(-1.0) == -2.0  # no longer checked: the captured structure runs, as documented


# -- bad input ----------------------------------------------------------------------------------


def test_domain_errors_name_the_op_and_value() -> None:
    r = compile_function(lambda x: (x - 1.0).log(), 2.0)
    with pytest.raises(DomainError, match=r"log: input must be > 0, got -1\.0"):
        r(0.0)
    r = compile_function(lambda x: 1.0 / x, 2.0)
    with pytest.raises(ZeroDivisionError, match="div: division by zero"):
        r(0.0)
    r = compile_function(lambda x: x.exp(), 1.0)
    with pytest.raises(OverflowError, match="exp"):
        r(1000.0)
    r = compile_function(lambda x: x * x, 1.0)
    with pytest.raises(OverflowError, match=r"mul: the result inf is not finite"):
        r(1e200)


def test_infinite_partial_raises_non_differentiable_error() -> None:
    r = compile_function(lambda x: x.sqrt(), 4.0)
    assert r.run([9.0])[0] == 3.0
    r.forward([0.0])
    with pytest.raises(NonDifferentiableError, match=r"sqrt: a local derivative is infinite"):
        r.backward()


def test_bad_values_and_inputs() -> None:
    r = compile_function(lambda x, y: x * y, 1.0, 2.0)
    with pytest.raises(ValueError, match=r"expected 2 input value\(s\).*shape \(3,\)"):
        r.run([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"input 1 \(#1\) is nan"):
        r.run([1.0, float("nan")])
    x = Value(1.0)
    y = x * 2.0
    with pytest.raises(ValueError, match=r"input 0 .* is not a leaf"):
        Replay(y * 3.0, [y])
    with pytest.raises(ValueError, match="input 1 is the same Value as input 0"):
        Replay(y, [x, x])
    with pytest.raises(TypeError, match="output must be a Value"):
        Replay(2.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must return a Value"):
        compile_function(lambda x: 2.0, 1.0)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="check mode needs"):
        Replay(y, [x], check=1)


def test_op_without_a_kernel_is_refused_clearly() -> None:
    double = Op("double", "2x", 1, lambda x: 2 * x, lambda out, x: (2.0,), Domain())
    x = Value(1.0)
    y = apply(double, x)
    with pytest.raises(TypeError, match="'double' has no numpy kernel"):
        Replay(y, [x])


def test_repr_counts_nodes_edges_and_groups() -> None:
    r = compile_function(lambda a, b: (a * b + a).relu(), 1.0, 2.0)
    # a·b (2 edges), + a (2 edges), relu (1 edge): 5 edges over 2 inputs and 3 computed nodes.
    assert repr(r) == "Replay(5 nodes, 5 edges, 2 inputs, 3 groups)"
    assert r.n_inputs == 2 and r.n_groups == 3


def test_gelu_kernel_in_the_far_left_tail() -> None:
    # x·Φ(x) underflows to -0.0; the kernel must not overflow on intermediate products.
    xs = np.array([-1.35e300, -1e200, -45.0, -38.0, -5.0, 0.5])
    out = KERNELS[ops.GELU].forward(xs)
    expected = [ops.GELU.forward(x) if x > -40.0 else -0.0 for x in xs.tolist()]
    assert out.tolist() == expected
    assert np.isfinite(KERNELS[ops.GELU].partials(out, xs)[0]).all()
    r = compile_function(lambda x: x.gelu(), 1.0)
    value, grads = r.run([-1.35e300])
    assert value == 0.0 and grads.tolist() == [0.0]
