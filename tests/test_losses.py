from __future__ import annotations

import math
import sys
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from micrograd_x import losses
from micrograd_x.engine import Value, topological_order
from micrograd_x.testing import gradcheck


def _check(f: Callable[..., Value], x: list[float], kinks: str = "inconclusive") -> None:
    report = gradcheck(f, x, kinks=kinks)
    assert report.passed, report.message


def _torch_smooth_l1(d: float, beta: float) -> float:
    # PyTorch's documented definition, in exact rational arithmetic (no underflow of d²).
    if beta == 0.0:
        return abs(d)
    fd, fb = Fraction(d), Fraction(beta)
    return float(fd * fd / (2 * fb) if abs(fd) < fb else abs(fd) - fb / 2)


# -- closed forms -------------------------------------------------------------------------------


def test_mse_closed_form_and_reductions() -> None:
    p = [Value(1.0), Value(-2.0), Value(0.5)]
    t = [0.0, 1.0, 0.5]
    assert losses.mse(p, t).data == pytest.approx((1 + 9 + 0) / 3)
    assert losses.mse(p, t, reduction="sum").data == pytest.approx(10.0)
    assert losses.mse(Value(3.0), 1.0).data == 4.0  # one prediction, one target
    loss = losses.mse(p, t)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 * 1 / 3, 2 * -3 / 3, 0.0])


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("d", [-3.0, -1.7, -0.3, 0.0, 0.2, 0.9, 1.6, 4.0])
def test_smooth_l1_matches_pytorch_definition(beta: float, d: float) -> None:
    x = Value(1.0 + d)
    loss = losses.smooth_l1(x, 1.0, beta=beta)
    assert loss.data == pytest.approx(_torch_smooth_l1(d, beta), rel=1e-12, abs=1e-15)
    loss.backward()
    expected = d / beta if abs(d) < beta else math.copysign(1.0, d) if d else 0.0
    assert x.grad == pytest.approx(expected, rel=1e-12, abs=1e-15)


@given(
    d=st.floats(-50, 50, allow_nan=False),
    beta=st.floats(0.0, 10.0, allow_nan=False),
)
def test_smooth_l1_identity_holds_everywhere(d: float, beta: float) -> None:
    assume(beta == 0.0 or beta >= sys.float_info.min)
    got = losses.smooth_l1(Value(d), 0.0, beta=beta).data
    assert got == pytest.approx(_torch_smooth_l1(d, beta), rel=1e-12, abs=1e-300)


def test_smooth_l1_with_beta_zero_is_l1() -> None:
    assert losses.smooth_l1([Value(2.0), Value(-3.0)], [0.0, 0.0], beta=0.0).data == 2.5


def test_smooth_l1_records_its_branches() -> None:
    # Built from abs and min, which record which piece they took: the kinks are visible.
    loss = losses.smooth_l1(Value(0.3), 0.0, beta=1.0)
    names = {v.op.name for v in topological_order(loss) if v.op is not None}
    assert {"abs", "min"} <= names


def test_cross_entropy_closed_form_and_gradient_is_softmax_minus_onehot() -> None:
    logits = [Value(1.0), Value(2.0), Value(0.5)]
    loss = losses.cross_entropy(logits, 1)
    z = sum(math.exp(v.data) for v in logits)
    assert loss.data == pytest.approx(-math.log(math.exp(2.0) / z), rel=1e-14)
    loss.backward()
    soft = [math.exp(v.data) / z for v in logits]
    assert [v.grad for v in logits] == pytest.approx([soft[0], soft[1] - 1, soft[2]], rel=1e-12)


def test_cross_entropy_batch_mean_and_sum() -> None:
    rows = [[Value(0.0), Value(1.0)], [Value(3.0), Value(-1.0)]]
    each = [math.log(1 + math.e) - 1.0, math.log(math.exp(3) + math.exp(-1)) - 3.0]
    assert losses.cross_entropy(rows, [1, 0]).data == pytest.approx(sum(each) / 2)
    assert losses.cross_entropy(rows, [1, 0], reduction="sum").data == pytest.approx(sum(each))
    # Plain numbers are allowed as logits (constants).
    assert losses.cross_entropy([0.0, 0.0], 0).data == pytest.approx(math.log(2))


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_cross_entropy_is_stable_for_huge_logits(big: float) -> None:
    logits = [Value(big), Value(-big), Value(0.0)]
    loss = losses.cross_entropy(logits, 0)
    loss.backward()
    assert math.isfinite(loss.data)
    assert all(math.isfinite(v.grad) for v in logits)
    if big > 0:  # the right class, hugely confident: loss ~ 0, gradient ~ 0
        assert loss.data == pytest.approx(0.0, abs=1e-300)
        assert logits[0].grad == pytest.approx(0.0, abs=1e-300)
    else:  # the wrong class: loss ~ 2000, gradient -1 on the target, +1 on the winner
        assert loss.data == pytest.approx(2000.0)
        assert [v.grad for v in logits] == pytest.approx([-1.0, 1.0, 0.0], abs=1e-12)


def test_softmax_log_softmax_logsumexp() -> None:
    ls = [Value(1000.0), Value(999.0), Value(-5.0)]
    p = losses.softmax(ls)
    assert sum(v.data for v in p) == pytest.approx(1.0)
    assert p[0].data == pytest.approx(1 / (1 + math.exp(-1) + math.exp(-1005)))
    lp = losses.log_softmax(ls)
    lse = 1000 + math.log1p(math.exp(-1))
    # The third probability underflows to 0, its log-probability does not.
    assert p[2].data == 0.0
    assert [v.data for v in lp] == pytest.approx([1000 - lse, 999 - lse, -5 - lse], rel=1e-15)
    assert losses.logsumexp(ls).data == pytest.approx(1000 + math.log1p(math.exp(-1)))
    # Plain numbers are constant logits: softmax([0, log 3]) = [1/4, 3/4].
    assert [v.data for v in losses.softmax([0.0, math.log(3.0)])] == pytest.approx([0.25, 0.75])
    assert losses.logsumexp([0, math.log(3.0)]).data == pytest.approx(math.log(4.0))
    assert losses.log_softmax([1.0])[0].data == 0.0
    for fn in (losses.softmax, losses.logsumexp, losses.log_softmax):
        with pytest.raises(TypeError, match=r": logit 1 must be a Value or a finite number, got"):
            fn([1.0, "2"])  # type: ignore[list-item]
        with pytest.raises(TypeError, match=r"logit 0 must be a Value or a finite number, got nan"):
            fn([math.nan])


def test_cross_entropy_from_probabilities_as_the_seed_writes_it() -> None:
    p = [Value(0.2), Value(0.7), Value(0.1)]
    y = [0.0, 1.0, 0.0]
    assert losses.cross_entropy_from_probs(p, y).data == pytest.approx(-math.log(0.7))
    soft = [0.25, 0.5, 0.25]
    expected = -(0.25 * math.log(0.2) + 0.5 * math.log(0.7) + 0.25 * math.log(0.1))
    assert losses.cross_entropy_from_probs(p, soft).data == pytest.approx(expected)
    # Equal to cross entropy on logits through softmax.
    logits = [Value(0.3), Value(-1.2), Value(2.0)]
    a = losses.cross_entropy_from_probs(losses.softmax(logits), [0, 0, 1]).data
    assert a == pytest.approx(losses.cross_entropy(logits, 2).data, rel=1e-12)
    # A zero probability where the target is 0 is fine.
    assert losses.cross_entropy_from_probs([0.0, 1.0], [0.0, 1.0]).data == 0.0


@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("x", [-3.0, -0.4, 0.0, 2.5])
def test_binary_cross_entropy_with_logits_closed_form(x: float, y: float) -> None:
    v = Value(x)
    loss = losses.binary_cross_entropy_with_logits(v, y)
    s = 1 / (1 + math.exp(-x))
    assert loss.data == pytest.approx(-(y * math.log(s) + (1 - y) * math.log(1 - s)), rel=1e-12)
    loss.backward()
    assert v.grad == pytest.approx(s - y, rel=1e-12, abs=1e-15)
    # The probability form agrees.
    assert losses.binary_cross_entropy(s, y).data == pytest.approx(loss.data, rel=1e-12)


@pytest.mark.parametrize("big", [1000.0, -1000.0])
def test_binary_cross_entropy_with_logits_is_stable(big: float) -> None:
    v = Value(big)
    loss = losses.binary_cross_entropy_with_logits(v, 0.0)
    loss.backward()
    assert loss.data == pytest.approx(max(big, 0.0), abs=1e-300)
    assert v.grad == pytest.approx(1.0 if big > 0 else 0.0, abs=1e-300)


def test_hinge_closed_form() -> None:
    s = [Value(0.5), Value(-2.0), Value(3.0)]
    y = [1.0, 1.0, -1.0]
    assert losses.hinge(s, y).data == pytest.approx((0.5 + 3.0 + 4.0) / 3)
    assert losses.hinge(s, y, margin=0.0, reduction="sum").data == pytest.approx(0 + 2 + 3)
    assert losses.hinge(Value(2.0), 1).data == 0.0


def test_l2_penalty() -> None:
    ps = [Value(1.0), Value(-2.0)]
    pen = losses.l2_penalty(ps, 1e-4)
    assert pen.data == pytest.approx(5e-4)
    pen.backward()
    assert [p.grad for p in ps] == pytest.approx([2e-4, -4e-4])


# -- gradient checks against finite differences -------------------------------------------------


def test_gradcheck_every_loss() -> None:
    _check(lambda a, b, c: losses.mse([a, b, c], [0.5, -1.0, 2.0]), [0.1, 0.7, -1.3])
    _check(lambda a, b: losses.smooth_l1([a, b], [0.0, 1.0], beta=0.7), [0.3, 2.9])
    _check(lambda a, b, c: losses.cross_entropy([a, b, c], 2), [0.3, -1.2, 2.0])
    _check(
        lambda a, b, c, d: losses.cross_entropy([[a, b], [c, d]], [0, 1], reduction="sum"),
        [0.3, -1.2, 2.0, 0.1],
    )
    _check(
        lambda a, b, c: losses.cross_entropy_from_probs([a, b, c], [0.2, 0.5, 0.3]),
        [0.3, 0.6, 0.1],
    )
    _check(lambda a, b: losses.binary_cross_entropy_with_logits([a, b], [1, 0]), [0.4, -2.0])
    _check(lambda a, b: losses.binary_cross_entropy([a, b], [1.0, 0.25]), [0.4, 0.8])
    _check(lambda a, b: losses.hinge([a, b], [1, -1]), [0.2, 0.5])
    _check(lambda a, b, c: losses.logsumexp([a, b, c]), [1.0, 2.0, -0.5])
    _check(lambda a, b, c: losses.softmax([a, b, c])[1], [1.0, 2.0, -0.5])
    _check(lambda a, b: losses.l2_penalty([a, b], 0.3), [1.5, -0.5])


@given(
    d=st.floats(-5, 5, allow_nan=False),
    beta=st.floats(0.05, 3.0, allow_nan=False),
)
def test_gradcheck_smooth_l1_away_from_kinks(d: float, beta: float) -> None:
    # Near a kink (d = 0, |d| = beta) the check is reported inconclusive, never a failure.
    report = gradcheck(lambda x: losses.smooth_l1(x, 0.0, beta=beta), [d])
    assert report.passed, report.message
    assume(abs(d) > 1e-3 and abs(abs(d) - beta) > 1e-3)
    assert not report.inconclusive


@pytest.mark.parametrize("d", [1.0, -1.0, 0.0])
def test_gradcheck_sees_the_smooth_l1_kinks(d: float) -> None:
    # At |d| = beta and at d = 0 the branches differ on either side: gradcheck detects it.
    report = gradcheck(lambda x: losses.smooth_l1(x, 0.0, beta=1.0), [d])
    assert report.inconclusive_inputs == (0,)


@given(
    logits=st.lists(st.floats(-30, 30, allow_nan=False), min_size=2, max_size=5),
    data=st.data(),
)
def test_gradcheck_cross_entropy_random(logits: list[float], data: st.DataObject) -> None:
    t = data.draw(st.integers(0, len(logits) - 1))
    report = gradcheck(lambda *ls: losses.cross_entropy(list(ls), t), logits)
    assert report.passed, report.message


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss",
    [losses.mse, losses.smooth_l1, losses.hinge, losses.binary_cross_entropy_with_logits],
)
def test_mismatched_lengths(loss: Callable[..., Value]) -> None:
    name = loss.__name__
    with pytest.raises(ValueError, match=rf"{name}: 2 prediction\(s\) but 3 target\(s\)"):
        loss([Value(1.0), Value(1.0)], [1, 1, 1])
    with pytest.raises(ValueError, match=f"{name}: needs at least one prediction"):
        loss([], [])


@pytest.mark.parametrize(
    ("target", "kind", "msg"),
    [
        ("1", TypeError, "mse: target 1 must be a number, got str '1'"),
        (None, TypeError, "mse: target 1 must be a number, got NoneType None"),
        (math.nan, ValueError, "mse: target 1 is nan; targets must be finite"),
        (Value(2.0), TypeError, r"mse: target 1 is a Value; targets are plain numbers \(pass 2.0"),
        (True, TypeError, "mse: target 1 must be a number, got bool True"),
    ],
)
def test_invalid_targets(target: object, kind: type[Exception], msg: str) -> None:
    with pytest.raises(kind, match=msg):
        losses.mse([Value(1.0), Value(2.0)], [0.0, target])  # type: ignore[list-item]


def test_invalid_predictions_and_options() -> None:
    with pytest.raises(TypeError, match="mse: prediction 0 must be a Value or a number, got str"):
        losses.mse(["a"], [1.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="mse: prediction 0 is inf"):
        losses.mse([math.inf], [1.0])
    with pytest.raises(ValueError, match="mse: reduction must be 'mean' or 'sum', got 'max'"):
        losses.mse(Value(1.0), 1.0, reduction="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="smooth_l1: beta must be a finite number >= 0, got -1"):
        losses.smooth_l1(Value(1.0), 0.0, beta=-1)
    with pytest.raises(TypeError, match="smooth_l1: beta must be a finite number >= 0, got str"):
        losses.smooth_l1(Value(1.0), 0.0, beta="1")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match=r"smooth_l1: beta must be 0 or at least 2\.2250738585072014e-308"
    ):
        losses.smooth_l1(Value(1.0), 0.0, beta=5e-324)
    with pytest.raises(ValueError, match="smooth_l1: beta must be a finite number >= 0, got inf"):
        losses.smooth_l1(Value(1.0), 0.0, beta=math.inf)
    with pytest.raises(ValueError, match=r"hinge: target 0 is 0.0; labels must be -1 or \+1"):
        losses.hinge(Value(1.0), 0)
    with pytest.raises(ValueError, match="hinge: margin must be a finite number"):
        losses.hinge(Value(1.0), 1, margin=math.nan)
    with pytest.raises(ValueError, match="l2_penalty: weight must be a finite number >= 0"):
        losses.l2_penalty([Value(1.0)], -1.0)
    with pytest.raises(ValueError, match="l2_penalty: no parameters"):
        losses.l2_penalty([], 1.0)


def test_invalid_classification_targets() -> None:
    ls = [Value(0.0), Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match=r"cross_entropy: target 0 is class 3, but there are 3"):
        losses.cross_entropy(ls, 3)
    with pytest.raises(ValueError, match=r"cross_entropy: target 0 is class -1"):
        losses.cross_entropy(ls, -1)
    with pytest.raises(ValueError, match=r"cross_entropy: target 0 must be a class index .* 1.5"):
        losses.cross_entropy(ls, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"cross_entropy: target 0 must be a class index .* nan"):
        losses.cross_entropy(ls, math.nan)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"cross_entropy: 1 sample\(s\) of logits but 2 target"):
        losses.cross_entropy(ls, [0, 1])
    with pytest.raises(ValueError, match="cross_entropy: sample 1 has 2 logits, sample 0 has 3"):
        losses.cross_entropy([ls, ls[:2]], [0, 1])
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: target 0 is 2.0"):
        losses.binary_cross_entropy_with_logits(Value(0.0), 2)
    with pytest.raises(ValueError, match="logsumexp: needs at least one logit"):
        losses.logsumexp([])
    with pytest.raises(ValueError, match="softmax: needs at least one logit"):
        losses.softmax([])


def test_invalid_probabilities() -> None:
    name = "cross_entropy_from_probs"
    with pytest.raises(
        ValueError, match=rf"{name}: probability 0.0 \(sample 0, class 1\) must be > 0"
    ):
        losses.cross_entropy_from_probs([Value(1.0), Value(0.0)], [0.0, 1.0])
    with pytest.raises(ValueError, match=rf"{name}: probability -0.5"):
        losses.cross_entropy_from_probs([Value(-0.5), Value(1.5)], [0.5, 0.5])
    with pytest.raises(
        ValueError, match=r"probability 1\.5 \(sample 0, class 1\) is not in \[0, 1\]"
    ):
        losses.cross_entropy_from_probs([Value(0.5), Value(1.5)], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"probabilities of sample 0 sum to 0\.6, not 1"):
        losses.cross_entropy_from_probs([0.25, 0.35], [0.0, 1.0])
    with pytest.raises(ValueError, match=rf"{name}: target 1.5 \(sample 0, class 0\) is not in"):
        losses.cross_entropy_from_probs([0.5, 0.5], [1.5, 0.0])
    with pytest.raises(ValueError, match=rf"{name}: sample 0 has 2 probabilities but 3 targets"):
        losses.cross_entropy_from_probs([0.5, 0.5], [[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=rf"{name}: the targets of sample 0 are all 0"):
        losses.cross_entropy_from_probs([0.5, 0.5], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"binary_cross_entropy: probability 0 is 0.0; log\(p\)"):
        losses.binary_cross_entropy(0.0, 1.0)
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: probability 0 is 1.0; log\(1 − p\)"
    ):
        losses.binary_cross_entropy(1.0, 0.0)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target 0 is -1.0"):
        losses.binary_cross_entropy(0.5, -1)
