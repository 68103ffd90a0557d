from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest
from examples import training_case
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_x import data, engine, losses, optim, train
from micrograd_x.batchreplay import BatchReplay
from micrograd_x.engine import Parameter, Value
from micrograd_x.nn import ACTIVATIONS, MLP, Module
from micrograd_x.replay import ReplayDivergenceError
from micrograd_x.train import StepRecord, Trainer


def test_micrograd_demo_reaches_full_training_accuracy() -> None:
    # MLP(2, [16, 16, 1]), 100 moons (noise 0.1), labels ±1, hinge + 1e-4 L2, SGD with the rate
    # 1.0 - 0.9·step/100, 100 steps.
    X, y = data.make_moons(100, noise=0.1, seed=0)
    ys = data.to_signed(y)
    model = MLP(2, [16, 16, 1], seed=0)
    hist = train.fit(
        model,
        X,
        ys,
        loss="hinge",
        l2=1e-4,
        schedule=optim.Linear(1.0, total_steps=100, end_factor=0.1),
        steps=100,
        target_accuracy=1.0,
        progress=False,
    )
    first = hist.first_step(1.0)
    assert first is not None and first < 100
    assert hist.stopped_early and len(hist) == first + 1
    assert hist.lr[:3] == pytest.approx([1.0, 0.991, 0.982])
    # Stopped before that step's update: the model is exactly the one measured.
    preds = train.predict(model, X)
    assert train.accuracy(preds, ys.tolist()) == 1.0
    assert hist.loss[-1] < hist.loss[0]


def test_xor_reaches_full_accuracy() -> None:
    X, y = data.make_xor()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    adam = optim.Adam(model.parameters(), lr=0.1)
    hist = train.fit(model, X, y, loss="bce", optimizer=adam, steps=300, target_accuracy=1.0)
    assert hist.stopped_early and hist.accuracy[-1] == 1.0
    assert [p > 0 for p in train.predict(model, X)] == [False, True, True, False]


def test_mini_batches_confirm_the_target_on_the_whole_set() -> None:
    X, y = data.make_moons(60, noise=0.1, seed=0)
    ys = data.to_signed(y)
    model = MLP(2, [8, 8, 1], seed=0)
    hist = train.fit(
        model, X, ys, l2=1e-4, lr=0.5, batch_size=20, steps=300, target_accuracy=1.0, seed=1
    )
    assert hist.stopped_early
    assert {r.batch_size for r in hist.records} == {20}
    # Batches reach 100% before the whole set does; the run stops only when the set does.
    first = hist.first_step(1.0)
    assert first is not None and first < len(hist) - 1
    assert train.accuracy(train.predict(model, X), ys.tolist()) == 1.0


def test_history_records_loss_accuracy_rate_and_gradient_norm() -> None:
    X, y = data.make_moons(30, noise=0.1, seed=2)
    ys = data.to_signed(y).tolist()
    model = MLP(2, [4, 1], seed=3)
    twin = MLP(2, [4, 1], seed=3)
    sched = optim.StepDecay(0.2, step_size=2, gamma=0.5)
    hist = train.fit(model, X, ys, l2=1e-3, schedule=sched, steps=5)
    assert len(hist) == 5 and not hist.stopped_early and hist.stop_reason == ""
    assert hist.lr == pytest.approx([0.2, 0.2, 0.1, 0.1, 0.05])
    assert [r.step for r in hist.records] == [0, 1, 2, 3, 4]
    # Step 0 by hand on an identical model.
    scores = [twin(row) for row in X.tolist()]
    loss = losses.hinge(scores, ys) + losses.l2_penalty(twin.parameters(), 1e-3)  # type: ignore[arg-type]
    loss.backward()
    norm = math.sqrt(sum(p.grad**2 for p in twin.parameters()))  # type: ignore[operator]
    acc = sum((s.data > 0) == (t > 0) for s, t in zip(scores, ys)) / 30  # type: ignore[union-attr]
    assert hist.loss[0] == pytest.approx(loss.data, rel=1e-12)
    assert hist.grad_norm[0] == pytest.approx(norm, rel=1e-12)
    assert hist.accuracy[0] == pytest.approx(acc)


def test_callbacks_run_every_step_and_can_stop() -> None:
    X, y = data.make_moons(20, seed=0)
    seen: list[int] = []

    def spy(rec: StepRecord, trainer: Trainer) -> None:
        seen.append(rec.step)
        assert trainer.history.records[-1] is rec

    def stop_at_3(rec: StepRecord, trainer: Trainer) -> bool:
        return rec.step == 3

    hist = train.fit(MLP(2, [3, 1]), X, data.to_signed(y), steps=10, callbacks=[spy, stop_at_3])
    assert seen == [0, 1, 2, 3]
    assert hist.stopped_early and hist.stop_reason == "a callback stopped at step 3"


def test_early_stop_on_a_target_loss_and_regression() -> None:
    X, y = data.make_regression_1d(40, seed=0)
    model = MLP(1, [8, 1], activation="tanh", seed=0)
    adam = optim.Adam(model.parameters(), lr=0.05)
    hist = train.fit(model, X, y, loss="mse", optimizer=adam, steps=500, target_loss=0.05)
    assert hist.stopped_early and hist.loss[-1] <= 0.05 < min(hist.loss[:-1])
    assert hist.accuracy == [None] * len(hist)
    assert hist.stop_reason.startswith("loss ")


def test_cross_entropy_on_spirals_learns() -> None:
    X, y = data.make_spirals(60, classes=3, seed=0)
    model = MLP(2, [8, 3], activation="tanh", seed=0)
    adam = optim.Adam(model.parameters(), lr=0.05)
    hist = train.fit(model, X, y, loss="cross_entropy", optimizer=adam, steps=60)
    assert hist.loss[-1] < 0.5 * hist.loss[0]
    acc = hist.accuracy[-1]
    assert acc is not None and acc > 0.7


def test_trainer_runs_continue_the_step_count() -> None:
    X, y = data.make_moons(20, seed=0)
    tr = Trainer(MLP(2, [3, 1]), lr=0.1)
    tr.fit(X, data.to_signed(y), steps=3)
    second = tr.fit(X, data.to_signed(y), steps=2)
    assert [r.step for r in second.records] == [3, 4]
    assert len(tr.history) == 5 and tr.steps_done == 5
    rec = tr.step(X.tolist(), data.to_signed(y).tolist())
    assert rec.step == 5 and len(tr.history) == 6


def test_a_loss_function_is_one_function_of_the_parameters() -> None:
    model = MLP(2, [3, 1], seed=1)
    fn = train.make_loss_fn("hinge", l2=1e-4)
    X = [[0.5, 0.1], [-0.3, 0.8]]
    loss, preds = fn(model, X, [1.0, -1.0])
    assert isinstance(loss, Value) and len(preds) == 2
    again, _ = fn(model, X, [1.0, -1.0])
    assert again.data == loss.data
    manual = losses.hinge(preds, [1.0, -1.0]) + losses.l2_penalty(model.parameters(), 1e-4)
    assert loss.data == pytest.approx(manual.data, rel=1e-14)

    def custom(p: list[Any], t: list[Any]) -> Value:
        return losses.mse(p, t)

    c, _ = train.make_loss_fn(custom)(model, X, [0.0, 0.0])
    assert c.data == pytest.approx(sum(v.data**2 for v in preds) / 2)


def test_a_custom_loss_fn_and_accuracy() -> None:
    X, y = data.make_moons(20, seed=0)

    def loss_fn(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
        ps = [m.forward(row)[0] for row in xs]
        return losses.hinge(ps, ts), ps

    hist = train.fit(
        MLP(2, [3, 1]), X, data.to_signed(y), loss=loss_fn, steps=2, accuracy=lambda p, t: 0.5
    )
    assert hist.accuracy == [0.5, 0.5]
    hist = train.fit(MLP(2, [3, 1]), X, data.to_signed(y), loss=loss_fn, steps=1)
    assert hist.accuracy == [None]


def test_progress_bar_can_be_shown_or_hidden() -> None:
    X, y = data.make_moons(20, seed=0)
    out = io.StringIO()
    train.fit(MLP(2, [3, 1]), X, data.to_signed(y), steps=3, progress=True, progress_file=out)
    text = out.getvalue()
    assert "fit" in text and "3/3" in text and "loss=" in text and "acc=" in text
    quiet = io.StringIO()
    train.fit(MLP(2, [3, 1]), X, data.to_signed(y), steps=3, progress=False, progress_file=quiet)
    assert quiet.getvalue() == ""


def test_accuracy_kinds() -> None:
    assert train.accuracy([0.5, -0.1, 0.2], [1, -1, -1], "sign") == pytest.approx(2 / 3)
    assert train.accuracy([Value(0.5), Value(-0.1)], [1, 1], "logit") == 0.5
    assert train.accuracy([[0.1, 0.9], [2.0, 1.0]], [1, 1], "argmax") == 0.5
    with pytest.raises(ValueError, match="accuracy: kind must be one of sign, logit, argmax"):
        train.accuracy([1.0], [1], "top5")
    with pytest.raises(ValueError, match=r"accuracy: 1 prediction\(s\) but 2 label\(s\)"):
        train.accuracy([1.0], [1, 1])


def test_predict_gives_numbers() -> None:
    m = MLP(2, [3, 2], seed=0)
    out = train.predict(m, np.array([[0.1, 0.2], [0.3, 0.4]]))
    assert len(out) == 2 and all(isinstance(v, float) for v in out[0])
    one = train.predict(MLP(1, [2, 1], seed=0), [0.5, 0.7])
    assert len(one) == 2 and isinstance(one[0], float)


@pytest.mark.parametrize(
    ("kwargs", "kind", "msg"),
    [
        (
            {"X": [[0.0, math.nan]] * 4},
            ValueError,
            r"fit: sample 0 of X is not finite: \[0.0, nan\]",
        ),
        ({"X": [["a", "b"]] * 4}, TypeError, "fit: X must be a 2-D array of numbers"),
        ({"X": np.zeros((4, 3))}, ValueError, r"fit: X has 3 column\(s\) but the model takes 2"),
        ({"X": np.zeros((0, 2)), "y": []}, ValueError, "fit: X must be a non-empty 2-D array"),
        ({"y": [1.0, -1.0]}, ValueError, "fit: X has 4 samples but y has 2"),
        ({"y": [[1.0]] * 4}, ValueError, "fit: y must be 1-D"),
        ({"y": ["a"] * 4}, TypeError, "fit: y must hold numbers"),
        ({"steps": 0}, ValueError, "fit: steps must be an integer >= 1, got 0"),
        ({"loss": "l1"}, ValueError, "make_loss_fn: unknown loss 'l1'; known: hinge, mse"),
        ({"loss": 3}, TypeError, "Trainer: loss must be a name or a loss_fn"),
        ({"l2": -1.0}, ValueError, "make_loss_fn: l2 must be a number >= 0"),
        ({"accuracy": "top5"}, ValueError, "Trainer: accuracy must be 'auto', None or a function"),
        ({"y": [1.0, 0.0, 1.0, 1.0]}, ValueError, "hinge: target 1 is 0.0; labels must be -1"),
    ],
)
def test_bad_training_input(kwargs: dict[str, Any], kind: type[Exception], msg: str) -> None:
    args: dict[str, Any] = {"X": np.zeros((4, 2)), "y": [1.0, -1.0, 1.0, -1.0], "steps": 1}
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(kind, match=msg):
        train.fit(MLP(2, [2, 1]), X, y, **args)


def test_l2_with_a_custom_loss_fn_is_refused() -> None:
    fn = train.make_loss_fn("mse")
    with pytest.raises(ValueError, match="Trainer: l2 applies to a named loss"):
        Trainer(MLP(2, [1]), loss=fn, l2=0.1)


# ---------------------------------------------------------------------------------------------
# replayed training


def _demo_run(replay: bool) -> tuple[train.History, list[float]]:
    X, y = data.make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    hist = train.fit(
        model,
        X,
        data.to_signed(y),
        loss="hinge",
        l2=1e-4,
        schedule=optim.Linear(1.0, total_steps=100, end_factor=0.1),
        steps=100,
        replay=replay,
        progress=False,
    )
    return hist, [p.data for p in model.parameters()]


def _assert_same_history(eager: train.History, replayed: train.History) -> None:
    assert eager.mode == "eager" and replayed.mode == "replay"
    assert len(eager) == len(replayed)
    assert replayed.loss == pytest.approx(eager.loss, rel=1e-12, abs=1e-15)
    assert replayed.grad_norm == pytest.approx(eager.grad_norm, rel=1e-12, abs=1e-15)
    assert replayed.accuracy == eager.accuracy
    assert replayed.lr == eager.lr
    assert [r.batch_size for r in replayed.records] == [r.batch_size for r in eager.records]


def test_the_micrograd_demo_replayed_matches_eager_mode_step_by_step() -> None:
    eager, p_eager = _demo_run(replay=False)
    replayed, p_replayed = _demo_run(replay=True)
    _assert_same_history(eager, replayed)
    first = replayed.first_step(1.0)
    assert first is not None and first == eager.first_step(1.0)
    assert replayed.accuracy[-1] == 1.0
    # The same 337 parameters after 100 updates.
    assert p_replayed == pytest.approx(p_eager, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("loss", train.LOSSES)
@settings(max_examples=max(3, settings.default.max_examples // 20))
@given(
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    adam=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_every_named_loss_replays_like_eager_mode(
    loss: str, activation: str, adam: bool, seed: int
) -> None:
    X, y, nout = training_case(loss, seed, 12, noise=0.1)
    runs = []
    for replay in (False, True):
        # Biases start at 0.1, not 0: with balanced labels the output bias of a zero start gets
        # a gradient that is exactly 0 up to rounding, and a sample whose hidden units are all
        # dead is then classified by the sign of that rounding noise.
        model = MLP(2, [4, nout], activation=activation, bias_init=0.1, seed=seed)
        # Adam's step g/(|g| + eps) turns rounding noise in a near-zero gradient (sums may add
        # in another order) into changes of up to lr/eps times that noise; a larger eps than
        # the default 1e-8 keeps the comparison at rounding level.
        opt: optim.Optimizer = (
            optim.Adam(model.parameters(), lr=0.05, eps=1e-4)
            if adam
            else optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        )
        hist = train.fit(model, X, y, loss=loss, optimizer=opt, l2=1e-3, steps=4, replay=replay)
        runs.append((hist, [p.data for p in model.parameters()]))
    (eager, p_eager), (replayed, p_replayed) = runs
    _assert_same_history(eager, replayed)
    assert p_replayed == pytest.approx(p_eager, rel=1e-12, abs=1e-12)


def test_whole_graph_replay_refuses_mini_batches() -> None:
    X, y = data.make_moons(30, seed=0)
    ys = data.to_signed(y)
    msg = (
        r"fit: replay=True with a custom loss function \(or a model whose graph may depend on "
        r"values\) needs full-batch training"
    )
    with pytest.raises(ValueError, match=msg):
        train.fit(MLP(2, [3, 1]), X, ys, loss=_mse_fn, batch_size=10, replay=True)
    # A batch as large as the data set is full-batch.
    hist = train.fit(MLP(2, [3, 1]), X, ys, loss=_mse_fn, batch_size=30, steps=3, replay=True)
    assert (hist.mode, hist.capture) == ("replay", "whole-graph")
    # A named loss replays mini-batches per sample.
    hist = train.fit(MLP(2, [3, 1]), X, ys, batch_size=10, steps=3, replay=True)
    assert (hist.mode, hist.capture) == ("replay", "per-sample")


def test_replay_must_be_true_false_or_none() -> None:
    with pytest.raises(TypeError, match="Trainer: replay must be True, False or None, got 'yes'"):
        Trainer(MLP(2, [1]), replay="yes")  # type: ignore[arg-type]


class _Subclassed(MLP):
    """A user's model class: its forward pass could look at values, so it is not assumed static."""


def _mse_fn(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
    ps = [m.forward(row)[0] for row in xs]
    return losses.mse(ps, ts), ps


@pytest.mark.parametrize(
    ("model", "kwargs", "mode"),
    [
        (lambda: MLP(2, [3, 1]), {}, "replay"),
        (lambda: MLP(2, [3, 1]), {"loss": "mse"}, "replay"),
        (lambda: MLP(2, [3, 1], fused=False), {}, "replay"),
        (lambda: MLP(2, [3, 1]), {"batch_size": 10}, "replay"),
        (lambda: MLP(2, [3, 1]), {"steps": 2}, "eager"),
        (lambda: MLP(2, [3, 1]), {"replay": False}, "eager"),
        (lambda: MLP(2, [3, 1]), {"steps": 1, "replay": True}, "replay"),
        (lambda: MLP(2, [3, 1]), {"loss": _mse_fn}, "eager"),
        (lambda: MLP(2, [3, 1], activation=lambda v: v.tanh()), {}, "eager"),
        (lambda: _Subclassed(2, [3, 1]), {}, "eager"),
    ],
)
def test_automatic_mode_replays_only_static_full_batch_graphs(
    model: Any, kwargs: dict[str, Any], mode: str
) -> None:
    X, y = data.make_moons(20, seed=0)
    args: dict[str, Any] = {"steps": 4, **kwargs}
    replay = args.pop("replay", None)
    tr = Trainer(model(), loss=args.pop("loss", "hinge"), replay=replay)
    hist = tr.fit(X, data.to_signed(y), **args)
    assert hist.mode == mode and len(hist) == args["steps"]
    assert (tr.compiled is not None) == (mode == "replay")
    assert hist.capture == ("per-sample" if mode == "replay" else "")
    if tr.compiled is not None:
        assert isinstance(tr.compiled, BatchReplay) and tr.compiled.n_groups >= 2


def _margin_violators(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
    # Python control flow on values: only the samples inside the margin build loss nodes.
    ps = [m.forward(row)[0] for row in xs]
    terms = [1.0 - t * p for p, t in zip(ps, ts) if t * p.data < 1.0]
    return engine.sum(terms or [ps[0] * 0.0]) * (1.0 / len(ps)), ps


def test_a_custom_loss_whose_graph_depends_on_values_is_caught() -> None:
    X, y = data.make_moons(40, noise=0.1, seed=0)
    ys = data.to_signed(y)
    # Eager mode rebuilds the graph every step: fine.
    eager = train.fit(MLP(2, [8, 1], seed=0), X, ys, loss=_margin_violators, lr=1.0, steps=3)
    assert eager.mode == "eager" and len(eager) == 3
    # Replayed, the first replayed step is compared with eager mode and the graphs differ.
    tr = Trainer(MLP(2, [8, 1], seed=0), loss=_margin_violators, lr=1.0, replay=True)
    with pytest.raises(ReplayDivergenceError, match=r"replay: at call 1, eager mode builds"):
        tr.fit(X, ys, steps=3)
    assert tr.steps_done == 1 and tr.history.loss == eager.loss[:1]


def test_a_custom_loss_and_an_extra_parameter_replay_like_eager_mode() -> None:
    X, y = data.make_regression_1d(30, seed=1)
    runs = []
    for replay in (False, True):
        model = MLP(1, [6, 1], activation="tanh", seed=2)
        scale = Parameter(0.5, label="scale")  # trained, but not part of the model

        def scaled(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
            ps = [m.forward(row)[0] * scale for row in xs]  # noqa: B023 - used within the step
            return losses.mse(ps, ts), ps

        opt = optim.Adam([*model.parameters(), scale], lr=0.05)
        hist = train.fit(
            model, X, y, loss=scaled, optimizer=opt, steps=8, replay=replay, accuracy=None
        )
        runs.append((hist, scale.data))
    (eager, s_eager), (replayed, s_replayed) = runs
    _assert_same_history(eager, replayed)
    assert s_replayed != 0.5 and s_replayed == pytest.approx(s_eager, rel=1e-12)


def _jump_after_step_1(compiled: list[Any]) -> train.Callback:
    def jump(rec: StepRecord, trainer: Trainer) -> None:
        compiled.append(trainer.compiled)
        if rec.step == 1:  # the two neurons' weights of MLP(1, [2]): logits ±800
            first, second = trainer.model.parameters()[0], trainer.model.parameters()[2]
            first.data, second.data = 800.0, -800.0

    return jump


def _ce_fn(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
    # A custom loss function (so the whole graph is captured) that is cross entropy.
    outs = m.forward_batch(xs)
    return losses.cross_entropy(outs, ts), outs


@pytest.mark.parametrize("loss", ["cross_entropy", _ce_fn])
def test_replay_recaptures_when_a_frozen_shift_no_longer_fits(loss: Any) -> None:
    # A whole captured graph freezes cross entropy's log-sum-exp shift; logits moved by ±800
    # overflow it. The step is captured again (eager mode is fine there) and training goes on
    # as eagerly. Per sample, the shift is computed at every step: nothing to capture again.
    X, y = [[1.0], [-1.0], [0.5]], [0, 1, 0]
    runs = []
    for replay in (False, True):
        acc: Any = (
            "auto" if isinstance(loss, str) else (lambda p, t: train.accuracy(p, t, "argmax"))
        )
        tr = Trainer(MLP(1, [2], seed=0), loss=loss, lr=0.1, replay=replay, accuracy=acc)
        compiled: list[Any] = []
        runs.append((tr.fit(X, y, steps=5, callbacks=[_jump_after_step_1(compiled)]), compiled))
    (eager, _), (replayed, compiled) = runs
    _assert_same_history(eager, replayed)
    assert all(math.isfinite(v) for v in replayed.loss)
    if isinstance(loss, str):
        assert replayed.capture == "per-sample" and len({id(c) for c in compiled}) == 1
    else:
        assert replayed.capture == "whole-graph"
        assert compiled[0] is compiled[1] and compiled[2] is not compiled[1]


def test_replay_needs_predictions_from_the_loss_graph() -> None:
    X, y = data.make_moons(10, seed=0)
    ys = data.to_signed(y)

    def numbers(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
        loss, ps = _mse_fn(m, xs, ts)
        return loss, [p.data for p in ps]

    def elsewhere(m: Module, xs: list[list[float]], ts: list[Any]) -> tuple[Value, list[Any]]:
        loss, _ = _mse_fn(m, xs, ts)
        return loss, [m.forward(row)[0] for row in xs]

    acc = lambda p, t: train.accuracy(p, t)  # noqa: E731
    msg = r"fit: with replay, predictions must be Values of the loss graph .* prediction 0 is float"
    with pytest.raises(ValueError, match=msg):
        train.fit(MLP(2, [2, 1]), X, ys, loss=numbers, accuracy=acc, steps=2, replay=True)
    msg = "fit: with replay, predictions must be nodes of the loss graph"
    with pytest.raises(ValueError, match=msg):
        train.fit(MLP(2, [2, 1]), X, ys, loss=elsewhere, accuracy=acc, steps=2, replay=True)
    # Without an accuracy the predictions are not read, and both train.
    for fn in (numbers, elsewhere):
        assert train.fit(MLP(2, [2, 1]), X, ys, loss=fn, steps=2, replay=True).mode == "replay"
