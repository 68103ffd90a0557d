from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import pytest

from micrograd_x import data, losses, optim, train
from micrograd_x.engine import Value
from micrograd_x.nn import MLP, Module
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
