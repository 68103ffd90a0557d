"""Replay with a batch axis: one sample's graph over a batch, the loss records, flat parameters."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np
import pytest
from examples import training_set

from micrograd_x import data, engine, losses, optim, train
from micrograd_x.batchreplay import BatchReplay, NotBatchableError, dense_order
from micrograd_x.engine import Parameter, Value, gradients
from micrograd_x.lossspec import LOSSES, NamedLoss
from micrograd_x.nn import MLP, Layer, Module, Neuron
from micrograd_x.train import StepRecord, Trainer


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(3, [5, 4, 2], activation="relu", seed=1),
        lambda: MLP(3, [5, 4, 2], activation="tanh", fused=False, seed=2),
        lambda: MLP(3, [6, 1], activation="gelu", bias=False, seed=3),
        lambda: MLP(3, [4, 4, 3], activation="leaky_relu", seed=4),
        lambda: Layer(3, 2, activation="elu", seed=5),
        lambda: Neuron(3, activation="softplus", seed=6),
    ],
)
def test_batch_replay_equals_the_eager_graph(make: Any) -> None:
    model: Module = make()
    ps = model.parameters()
    extra = Parameter(0.3)  # a parameter the model does not use: its gradient stays 0
    layout = [extra, *reversed(ps)]
    br = BatchReplay(model, layout)
    P = np.array([p.data for p in layout])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, model.nin))
    S = br.forward(P, X)
    outs = model.forward_batch(X.tolist())
    eager = np.array([[o.data for o in row] for row in outs])
    np.testing.assert_allclose(S, eager, rtol=1e-13, atol=1e-15)
    # Gradients of Σ c·out for random weights c: the eager graph is the oracle.
    c = rng.normal(size=S.shape)
    gP = np.zeros(len(layout))
    br.backward(P, c, gP)
    total = engine.sum([o * float(k) for row, cr in zip(outs, c) for o, k in zip(row, cr)])
    expect = np.array([0.0, *gradients(total, list(reversed(ps)))])
    np.testing.assert_allclose(gP, expect, rtol=1e-12, atol=1e-14)


def test_forward_backward_follows_the_arrays_it_is_given() -> None:
    # The sweeps keep views of the arrays they ran on: values changed in place, a new
    # parameter array and another batch size must all be seen (the eager graph is the oracle).
    model = MLP(3, [5, 4, 1], activation="relu", seed=7)
    layout = dense_order(model)
    br = BatchReplay(model, layout)
    rng = np.random.default_rng(1)
    P = np.array([p.data for p in layout])
    for P_now, n in ((P, 6), (P, 6), (P * 1.1, 9), (P, 6)):
        if P_now is P:
            P *= 0.9  # in place
        X = rng.normal(size=(n, 3))
        c = rng.normal(size=(n, 1))
        gP = np.zeros(len(layout))
        out, val = br.forward_backward(P_now, X, lambda s, c=c: (float((s * c).sum()), c), gP)
        for p, v in zip(layout, P_now.tolist()):
            p.data = v
        outs = model.forward_batch(X.tolist())
        np.testing.assert_allclose(out[:, 0], [o[0].data for o in outs], rtol=1e-13)
        total = engine.sum([row[0] * float(k) for row, k in zip(outs, c[:, 0])])
        assert val == pytest.approx(total.data, rel=1e-12)
        np.testing.assert_allclose(gP, gradients(total, layout), rtol=1e-12, atol=1e-14)


def test_the_capture_does_not_depend_on_the_data() -> None:
    model = MLP(2, [64, 64, 1], seed=0)
    br = BatchReplay(model, model.parameters())
    # One sample's graph: 129 dot nodes and 128 activations, as three layers and two blocks.
    assert br.n_nodes == 64 + 64 + 64 + 64 + 1
    assert br.n_groups == 5
    for n in (1, 10, 300):
        X = np.ones((n, 2))
        assert br.forward(np.array([p.data for p in model.parameters()]), X).shape == (n, 1)


def test_a_model_using_an_unlisted_parameter_is_refused() -> None:
    model = MLP(2, [3, 1])
    with pytest.raises(NotBatchableError, match="not among the parameters"):
        BatchReplay(model, model.parameters()[1:])


def _loss_case(
    name: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    n = 9
    if name == "cross_entropy":
        return rng.normal(size=(n, 3)) * 3, rng.integers(0, 3, size=n).astype(float), {}
    s = rng.normal(size=(n, 1)) * 2
    if name == "hinge":
        return s, np.where(rng.random(n) > 0.5, 1.0, -1.0), {"margin": 0.7}
    if name == "bce":
        return s, np.array([0, 1, 0.25, 1, 0, 0, 1, 1, 0.5]), {}
    if name == "smooth_l1":
        t = s[:, 0] - np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 0.999, 1.001])
        return s, t, {"beta": 1.0}
    return s, rng.normal(size=n), {}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_each_batched_loss_equals_its_graph(name: str, reduction: str) -> None:
    scores, targets, options = _loss_case(name, np.random.default_rng(len(name)))
    spec = LOSSES[name]
    loss = NamedLoss(spec, 0.0, {**options, "reduction": reduction})
    value, d = loss.batch_loss(scores, targets)
    leaves = [[Value(float(v)) for v in row] for row in scores]
    preds: list[Any] = leaves if spec.multi_output else [row[0] for row in leaves]
    ts: list[Any] = [int(t) for t in targets] if spec.multi_output else targets.tolist()
    root = spec.fn(preds, ts, reduction=reduction, **options)
    grads = gradients(root, [v for row in leaves for v in row])
    assert value == pytest.approx(root.data, rel=1e-13)
    np.testing.assert_allclose(d.ravel(), grads, rtol=1e-12, atol=1e-15)


def test_smooth_l1_with_beta_zero_is_l1() -> None:
    s = np.array([[0.5], [-2.0], [1.0]])
    t = np.array([1.0, -2.0, 0.0])
    value, d = NamedLoss(LOSSES["smooth_l1"], 0.0, {"beta": 0.0}).batch_loss(s, t)
    assert value == pytest.approx((0.5 + 0.0 + 1.0) / 3)
    assert d.ravel().tolist() == pytest.approx([-1 / 3, 0.0, 1 / 3])


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("loss", list(LOSSES))
def test_mini_batches_replay_like_eager_mode(loss: str, opt: str) -> None:
    X, y, nout = training_set(loss, 7, rows=13)
    runs = []
    for replay in (False, True):
        model = MLP(2, [5, nout], activation="tanh", bias_init=0.1, seed=3)
        ps = model.parameters()
        o: optim.Optimizer
        if opt == "sgd":
            o = optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)
        elif opt == "adam":
            o = optim.Adam(ps, lr=0.05, eps=1e-4)
        else:
            o = optim.AdamW(ps, lr=0.05, eps=1e-4)
        sched = optim.StepDecay(o.lr, step_size=3, gamma=0.5)
        hist = train.fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=o,
            l2=1e-3,
            steps=7,
            batch_size=5,
            schedule=sched,
            seed=2,
            replay=replay,
        )
        runs.append(
            (hist, [p.data for p in model.parameters()], [p.grad for p in model.parameters()], o)
        )
    (eager, p_e, g_e, o_e), (replayed, p_r, g_r, o_r) = runs
    assert eager.mode == "eager" and (replayed.mode, replayed.capture) == ("replay", "per-sample")
    # 13 samples in batches of 5: 5, 5, 3, then the next epoch.
    assert [r.batch_size for r in replayed.records] == [5, 5, 3, 5, 5, 3, 5]
    assert replayed.loss == pytest.approx(eager.loss, rel=1e-12, abs=1e-15)
    assert replayed.grad_norm == pytest.approx(eager.grad_norm, rel=1e-12, abs=1e-15)
    assert replayed.accuracy == eager.accuracy
    assert replayed.lr == eager.lr
    # Written back at the end: values, last gradients and the optimizer's state.
    assert p_r == pytest.approx(p_e, rel=1e-12, abs=1e-12)
    assert g_r == pytest.approx(g_e, rel=1e-10, abs=1e-12)
    assert o_r.steps == o_e.steps == 7
    for p_eager, p_replayed in zip(o_e.params, o_r.params):
        st_e, st_r = o_e.state[id(p_eager)], o_r.state[id(p_replayed)]
        assert st_e.keys() == st_r.keys()
        for k in st_e:
            assert st_r[k] == pytest.approx(st_e[k], rel=1e-10, abs=1e-12)


def _swap(at: int, change: Any) -> train.Callback:
    def cb(rec: StepRecord, trainer: Trainer) -> None:
        if rec.step == at:
            change(trainer)

    return cb


def _new_layer(tr: Trainer) -> None:
    assert isinstance(tr.model, MLP)
    tr.model.layers[1] = Layer(6, 6, activation="tanh", seed=9, name="layer2")


@pytest.mark.parametrize(
    ("change", "capture"),
    [
        (lambda tr: setattr(tr, "loss_fn", train.make_loss_fn("mse")), "per-sample"),
        (_new_layer, "per-sample"),
        (lambda tr: setattr(tr, "loss_fn", train.make_loss_fn(losses.mse)), ""),
        (
            lambda tr: setattr(
                tr.model.layers[0],
                "neurons",
                [Neuron(2, activation=lambda v: v.tanh(), seed=3)] * 6,
            ),
            "",
        ),
    ],
)
def test_a_callback_that_changes_the_model_or_loss_is_noticed(change: Any, capture: str) -> None:
    X, y = data.make_moons(24, noise=0.1, seed=0)
    ys = data.to_signed(y).tolist()
    runs = []
    for replay in (False, None):
        model = MLP(2, [6, 6, 1], seed=0)
        tr = Trainer(model, loss="hinge", lr=0.2, replay=replay)
        runs.append(tr.fit(X, ys, steps=10, callbacks=[_swap(4, change)]))
    eager, replayed = runs
    assert replayed.loss == pytest.approx(eager.loss, rel=1e-12, abs=1e-15)
    assert replayed.grad_norm == pytest.approx(eager.grad_norm, rel=1e-12, abs=1e-15)
    assert len(replayed.notes) == 1 and replayed.notes[0].startswith("step 4: a callback changed")
    assert replayed.capture == capture
    assert replayed.mode == ("replay" if capture else "eager")
    assert eager.notes == [
        "step 4: a callback changed the model, loss, optimizer or accuracy rule; eager from here"
    ]


def test_a_callback_sees_and_may_change_the_parameters() -> None:
    X, y = data.make_moons(20, seed=1)
    ys = data.to_signed(y)
    runs = []
    for replay in (False, True):
        seen: list[float] = []

        def cb(rec: StepRecord, trainer: Trainer) -> None:
            p = trainer.model.parameters()[0]
            seen.append(p.data)  # noqa: B023 - used within the run
            p.data = 0.5

        hist = train.fit(MLP(2, [4, 1], seed=0), X, ys, steps=4, callbacks=[cb], replay=replay)
        runs.append((hist, seen))
    (eager, seen_e), (replayed, seen_r) = runs
    assert replayed.mode == "replay" and not replayed.notes
    # The callback saw the updated value, and its 0.5 was used by the next step.
    assert seen_r == pytest.approx(seen_e, rel=1e-12) and 0.5 not in seen_r
    assert replayed.loss == pytest.approx(eager.loss, rel=1e-12)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_callback_holding_a_parameter_sees_it_current_and_may_change_it(momentum: float) -> None:
    # The callback never touches the trainer: it holds a weight, a bias and the optimizer from
    # before the run, reads them through the engine's arithmetic (w * x reads the value slot
    # directly, not the property), the gradient and the optimizer's state, and writes one
    # weight at step 2. Eager training is the oracle.
    X, y = data.make_moons(20, seed=2)
    ys = data.to_signed(y)
    runs = []
    for replay in (False, True):
        model = MLP(2, [5, 1], seed=3)
        w, b = model.layers[0].neurons[1].w[0], model.layers[1].neurons[0].b
        assert b is not None
        # (Adam would divide a zero gradient's rounding noise by its own size: SGD with
        # momentum has optimizer state too, and keeps the comparison at rounding level.)
        o = optim.SGD(model.parameters(), lr=0.05, momentum=momentum)
        seen: list[tuple[float, ...]] = []

        def cb(rec: StepRecord, trainer: Trainer) -> None:
            st = o.state.get(id(w), {})  # noqa: B023 - used within the run
            m = float(st.get("momentum_buffer", 0.0))
            seen.append(((w * 3.0).data, (b + 1.0).data, w.grad, b.grad, m))  # noqa: B023
            if rec.step == 2:
                w.data = 0.25  # noqa: B023

        hist = train.fit(model, X, ys, optimizer=o, steps=6, callbacks=[cb], replay=replay)
        runs.append((hist, seen))
    (eager, seen_e), (replayed, seen_r) = runs
    assert replayed.mode == "replay" and not replayed.notes
    assert np.allclose(seen_r, seen_e, rtol=1e-12, atol=1e-15)
    assert seen_r[3][0] != pytest.approx(0.75)  # the step after the change updated it again
    assert replayed.loss == pytest.approx(eager.loss, rel=1e-12)
    assert replayed.grad_norm == pytest.approx(eager.grad_norm, rel=1e-12)


@pytest.mark.parametrize("loss", ["hinge", "custom"])
def test_a_replayed_fit_leaves_no_reference_cycle(loss: str) -> None:
    X, y = data.make_moons(30, seed=0)
    ys = data.to_signed(y)

    def custom(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
        ps = [o[0] for o in m.forward_batch(xs)]
        return losses.hinge(ps, ts), ps

    gc.collect()
    gc.disable()
    try:
        model = MLP(2, [4, 1], seed=0)
        tr = Trainer(model, loss=loss if loss == "hinge" else custom, replay=True)
        hist = tr.fit(X, ys, steps=3)
        assert hist.mode == "replay"
        refs = [weakref.ref(model), weakref.ref(tr), weakref.ref(tr.compiled)]
        del model, tr
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


def test_fit_pauses_the_cyclic_gc_and_restores_it() -> None:
    X, y = data.make_moons(10, seed=0)
    seen: list[bool] = []
    train.fit(
        MLP(2, [2, 1]),
        X,
        data.to_signed(y),
        steps=3,
        callbacks=[lambda rec, tr: seen.append(gc.isenabled())],
    )
    assert seen == [False, False, False] and gc.isenabled()
    gc.disable()
    try:
        train.fit(MLP(2, [2, 1]), X, data.to_signed(y), steps=3)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_overflow_in_replay_is_reported_as_eager_mode_reports_it() -> None:
    X = [[1e300, 1e300], [1.0, 2.0], [0.0, 1.0]]
    ys = [1.0, -1.0, 1.0]
    errors = []
    for replay in (False, True):
        model = MLP(2, [3, 1], activation="linear", init=1e10, seed=0)
        with pytest.raises(OverflowError) as e:
            train.fit(model, X, ys, steps=3, replay=replay)
        errors.append(str(e.value))
    assert errors[0] == errors[1]


def test_step_array_refuses_the_wrong_shape() -> None:
    o = optim.SGD([Parameter(1.0), Parameter(2.0)], lr=0.1)
    with pytest.raises(ValueError, match=r"expected arrays of shape \(2,\)"):
        o.step_array(np.zeros(3), np.zeros(3))


@pytest.mark.parametrize(
    ("loss", "y", "match"),
    [
        ("hinge", [1.0, -1.0, 1.0, 0.5], r"hinge: target 3 is 0.5; labels must be -1 or \+1"),
        ("bce", [0.0, 1.0, 2.0, 1.0], r"target 2 is 2.0; targets must be in \[0, 1\]"),
        ("cross_entropy", [0, 1, 5, 1], r"cross_entropy: target 2 is class 5, but there are 2"),
    ],
)
def test_bad_targets_are_refused_as_eager_mode_refuses_them(
    loss: str, y: list[float], match: str
) -> None:
    X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    nout = 2 if loss == "cross_entropy" else 1
    for replay in (False, True):
        with pytest.raises(ValueError, match=match):
            train.fit(MLP(2, [3, nout], seed=0), X, y, loss=loss, steps=3, replay=replay)
