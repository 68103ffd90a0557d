"""Loss functions as compositions of ``Value`` ops: MSE, smooth L1, cross entropy, BCE, hinge.

Predictions are Values (one per sample, or one list of logits per sample for cross entropy);
targets are plain numbers. Every loss is built from the registered ops only, so its gradient is
the chain rule over their stored partials; none declares a derivative of its own.
Imports: the standard library and :mod:`micrograd_x.engine`.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterable, Sequence
from typing import Literal, TypeAlias

from micrograd_x import engine
from micrograd_x._checks import real
from micrograd_x.engine import Value

__all__ = [
    "Reduction",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "cross_entropy_from_probs",
    "hinge",
    "l2_penalty",
    "log_softmax",
    "logsumexp",
    "mse",
    "smooth_l1",
    "softmax",
]

Reduction: TypeAlias = Literal["mean", "sum"]
"""How per-sample losses are combined."""

Preds: TypeAlias = Value | float | Sequence[Value | float]
Targets: TypeAlias = float | Sequence[float]


# -- argument checking ------------------------------------------------------------------------


def _as_list(x: object) -> list[object]:
    if isinstance(x, (Value, numbers.Real)) or not isinstance(x, Iterable):
        return [x]
    if isinstance(x, (str, bytes)):
        return [x]
    return list(x)


def _pred(loss: str, i: int, p: object) -> Value:
    if isinstance(p, Value):
        return p
    if isinstance(p, numbers.Real) and not isinstance(p, bool):
        f = float(p)
        if math.isfinite(f):
            return engine.constant(f)
        raise ValueError(f"{loss}: prediction {i} is {f!r}; predictions must be finite")
    raise TypeError(
        f"{loss}: prediction {i} must be a Value or a number, got {type(p).__name__} {p!r}"
    )


def _target(loss: str, i: int, t: object) -> float:
    if isinstance(t, Value):
        raise TypeError(
            f"{loss}: target {i} is a Value; targets are plain numbers (pass {t.data!r} instead)"
        )
    if isinstance(t, numbers.Real) and not isinstance(t, bool):
        f = float(t)
        if math.isfinite(f):
            return f
        raise ValueError(f"{loss}: target {i} is {f!r}; targets must be finite")
    raise TypeError(f"{loss}: target {i} must be a number, got {type(t).__name__} {t!r}")


def _pairs(loss: str, pred: object, target: object) -> tuple[list[Value], list[float]]:
    ps, ts = _as_list(pred), _as_list(target)
    if len(ps) != len(ts):
        raise ValueError(f"{loss}: {len(ps)} prediction(s) but {len(ts)} target(s)")
    if not ps:
        raise ValueError(f"{loss}: needs at least one prediction")
    return [_pred(loss, i, p) for i, p in enumerate(ps)], [
        _target(loss, i, t) for i, t in enumerate(ts)
    ]


def _reduce(loss: str, terms: list[Value], reduction: str) -> Value:
    if reduction == "mean":
        total = engine.sum(terms)
        return total if len(terms) == 1 else total * (1.0 / len(terms))
    if reduction == "sum":
        return engine.sum(terms)
    raise ValueError(f"{loss}: reduction must be 'mean' or 'sum', got {reduction!r}")


# -- regression -------------------------------------------------------------------------------


def mse(pred: Preds, target: Targets, reduction: Reduction = "mean") -> Value:
    """Mean squared error: the mean (or sum) of ``(pred - target)²``.

    Args:
        pred: One prediction or a sequence of predictions (Values or numbers).
        target: The target number(s), as many as predictions.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        The loss node.

    Raises:
        ValueError: If the lengths differ, a number is not finite, or the reduction is unknown.
        TypeError: If a prediction or target is not a number (or a Value, for predictions).
    """
    ps, ts = _pairs("mse", pred, target)
    return _reduce("mse", [(p - t) ** 2 for p, t in zip(ps, ts)], reduction)


def smooth_l1(
    pred: Preds, target: Targets, beta: float = 1.0, reduction: Reduction = "mean"
) -> Value:
    """Smooth L1 (PyTorch's definition): ``0.5·d²/β`` where ``|d| < β``, else ``|d| − 0.5·β``.

    With ``d = pred − target`` and ``m = min(|d|, β)`` it is built as
    ``0.5·m·m/β + (|d| − m)``: equal to both pieces, and made of ``abs`` and ``min`` nodes, which
    record the branch they take, so a gradient check sees the kinks at ``d = 0`` and ``|d| = β``.
    ``β = 0`` gives the L1 loss ``|d|``.

    Args:
        pred: One prediction or a sequence of predictions.
        target: The target number(s).
        beta: Where the loss turns from quadratic to linear; ``>= 0``.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        The loss node.

    Raises:
        ValueError: If ``beta`` is negative, subnormal or not finite, the lengths differ, or a
            number is not finite.
        TypeError: If a prediction or target is not a number.
    """
    b = real("smooth_l1: beta", beta, low=0.0)
    if 0.0 < b < sys.float_info.min:
        # 0.5/β would overflow; the loss is indistinguishable from L1 there anyway.
        raise ValueError(f"smooth_l1: beta must be 0 or at least {sys.float_info.min!r}, got {b!r}")
    ps, ts = _pairs("smooth_l1", pred, target)
    terms = []
    for p, t in zip(ps, ts):
        a = abs(p - t)
        if b == 0.0:
            terms.append(a)
            continue
        m = a.min(b)
        # (m·(0.5/β))·m rather than m·m·(0.5/β): m·m could underflow where the loss does not.
        terms.append(m * (0.5 / b) * m + (a - m))
    return _reduce("smooth_l1", terms, reduction)


# -- classification ---------------------------------------------------------------------------


def _logits(loss: str, row: object, i: int) -> list[Value]:
    items = _as_list(row)
    if not items:
        raise ValueError(f"{loss}: sample {i} has no logits")
    return [_pred(loss, i, v) for v in items]


def _logit_row(fn: str, logits: object) -> list[Value]:
    """One sample's logits as nodes: Values as they are, finite numbers as constants."""
    items = _as_list(logits)
    if not items:
        raise ValueError(f"{fn}: needs at least one logit")
    out = []
    for i, v in enumerate(items):
        if isinstance(v, Value):
            out.append(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v):
            out.append(engine.constant(float(v)))
        else:
            raise TypeError(f"{fn}: logit {i} must be a Value or a finite number, got {v!r}")
    return out


def logsumexp(logits: Sequence[Value | float]) -> Value:
    """``log Σ exp(lᵢ)``, computed stably as ``c + log Σ exp(lᵢ − c)`` with ``c = max lᵢ``.

    The shift ``c`` is a constant (its gradient would cancel anyway), so logits of ±1000 give a
    finite value and finite gradients (the softmax).

    Args:
        logits: At least one Value or number (numbers become constants).

    Returns:
        The node.

    Raises:
        ValueError: If ``logits`` is empty.
        TypeError: If a logit is neither a Value nor a finite number.
    """
    ls = _logit_row("logsumexp", logits)
    c = max(v.data for v in ls)
    return engine.sum([(v - c).exp() for v in ls]).log() + c


def log_softmax(logits: Sequence[Value | float]) -> list[Value]:
    """``lᵢ − logsumexp(l)`` for each logit (stable).

    Raises:
        ValueError: If ``logits`` is empty.
        TypeError: If a logit is neither a Value nor a finite number.
    """
    ls = _logit_row("log_softmax", logits)
    lse = logsumexp(ls)
    return [v - lse for v in ls]


def softmax(logits: Sequence[Value | float]) -> list[Value]:
    """``exp(lᵢ − c) / Σⱼ exp(lⱼ − c)`` with ``c = max l`` (stable); sums to 1.

    Raises:
        ValueError: If ``logits`` is empty.
        TypeError: If a logit is neither a Value nor a finite number.
    """
    ls = _logit_row("softmax", logits)
    c = max(v.data for v in ls)
    es = [(v - c).exp() for v in ls]
    inv = 1.0 / engine.sum(es)
    return [e * inv for e in es]


def _class_index(loss: str, i: int, t: object, k: int) -> int:
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{loss}: target {i} must be a class index (an integer), got {t!r}")
    if not float(t).is_integer():
        raise ValueError(f"{loss}: target {i} must be a class index (an integer), got {t!r}")
    c = int(float(t))
    if not 0 <= c < k:
        raise ValueError(f"{loss}: target {i} is class {c}, but there are {k} classes (0..{k - 1})")
    return c


def _rows(loss: str, x: object) -> list[object]:
    """One row per sample: a single row of Values is treated as one sample."""
    items = _as_list(x)
    if items and all(isinstance(v, (Value, numbers.Real)) for v in items):
        return [items]
    return items


def cross_entropy(
    logits: Sequence[Value | float] | Sequence[Sequence[Value | float]],
    target: int | Sequence[int],
    reduction: Reduction = "mean",
) -> Value:
    """Cross entropy from logits: ``logsumexp(l) − l[target]`` per sample (stable).

    Equals ``−log softmax(l)[target]``; its gradient with respect to the logits is
    ``softmax(l) − onehot(target)``.

    Args:
        logits: One sample's logits, or one list of logits per sample.
        target: The class index, or one per sample.
        reduction: ``"mean"`` or ``"sum"`` over samples.

    Returns:
        The loss node.

    Raises:
        ValueError: If the numbers of samples differ, a class is out of range, or samples have
            different numbers of logits.
        TypeError: If a target is not an integer.
    """
    rows = _rows("cross_entropy", logits)
    targets = _as_list(target)
    if len(rows) != len(targets):
        raise ValueError(
            f"cross_entropy: {len(rows)} sample(s) of logits but {len(targets)} target(s)"
        )
    if not rows:
        raise ValueError("cross_entropy: needs at least one sample")
    terms = []
    k = None
    for i, (row, t) in enumerate(zip(rows, targets)):
        ls = _logits("cross_entropy", row, i)
        if k is None:
            k = len(ls)
        elif len(ls) != k:
            raise ValueError(f"cross_entropy: sample {i} has {len(ls)} logits, sample 0 has {k}")
        terms.append(logsumexp(ls) - ls[_class_index("cross_entropy", i, t, len(ls))])
    return _reduce("cross_entropy", terms, reduction)


_PROB_SUM_TOL = 1e-3
"""How far a sample's probabilities may sum from 1: loose enough for finite-difference checks."""


def cross_entropy_from_probs(
    probs: Sequence[Value | float] | Sequence[Sequence[Value | float]],
    target: Sequence[float] | Sequence[Sequence[float]],
    reduction: Reduction = "mean",
) -> Value:
    """Cross entropy as the seed lesson writes it: ``−Σᵢ yᵢ·log(pᵢ)`` per sample.

    Terms with ``yᵢ = 0`` are left out (they are 0 whatever ``pᵢ``). Prefer
    :func:`cross_entropy` on logits: a probability that has underflowed to 0 cannot be logged.

    Args:
        probs: One sample's probabilities (e.g. a :func:`softmax` output), or one list per sample.
        target: The target distribution (one-hot or soft), or one per sample; each in [0, 1].
        reduction: ``"mean"`` or ``"sum"`` over samples.

    Returns:
        The loss node.

    Raises:
        ValueError: If lengths differ, a target or a probability is outside [0, 1], a sample's
            probabilities do not sum to 1 (within 1e-3), or a probability with a non-zero target
            is 0 (its log does not exist).
        TypeError: If a target is not a number.
    """
    name = "cross_entropy_from_probs"
    rows, trows = _rows(name, probs), _rows(name, target)
    if len(rows) != len(trows):
        raise ValueError(
            f"{name}: {len(rows)} sample(s) of probabilities but {len(trows)} target(s)"
        )
    if not rows:
        raise ValueError(f"{name}: needs at least one sample")
    terms = []
    for i, (row, trow) in enumerate(zip(rows, trows)):
        ps = _logits(name, row, i)
        ts = [_target(name, i, t) for t in _as_list(trow)]
        if len(ps) != len(ts):
            raise ValueError(
                f"{name}: sample {i} has {len(ps)} probabilities but {len(ts)} targets"
            )
        for j, p in enumerate(ps):
            if not 0.0 <= p.data <= 1.0:
                raise ValueError(
                    f"{name}: probability {p.data!r} (sample {i}, class {j}) is not in [0, 1]"
                )
        total = math.fsum(p.data for p in ps)
        if abs(total - 1.0) > _PROB_SUM_TOL:
            raise ValueError(
                f"{name}: the probabilities of sample {i} sum to {total!r}, not 1; pass a full "
                "distribution (e.g. a softmax output) or use cross_entropy on logits"
            )
        parts = []
        for j, (p, y) in enumerate(zip(ps, ts)):
            if not 0.0 <= y <= 1.0:
                raise ValueError(f"{name}: target {y!r} (sample {i}, class {j}) is not in [0, 1]")
            if y == 0.0:
                continue
            if p.data <= 0.0:
                raise ValueError(
                    f"{name}: probability {p.data!r} (sample {i}, class {j}) must be > 0 where the "
                    "target is not 0: log(p) does not exist; use cross_entropy on logits"
                )
            parts.append(p.log() * y)
        if not parts:
            raise ValueError(f"{name}: the targets of sample {i} are all 0")
        terms.append(-engine.sum(parts))
    return _reduce(name, terms, reduction)


def binary_cross_entropy_with_logits(
    logit: Preds, target: Targets, reduction: Reduction = "mean"
) -> Value:
    """Binary cross entropy from a logit ``x``: ``softplus(x) − y·x`` (stable).

    Equals ``−[y·log σ(x) + (1−y)·log(1−σ(x))]`` (PyTorch's ``BCEWithLogitsLoss``); the
    gradient is ``σ(x) − y``, finite for logits of ±1000.

    Args:
        logit: One logit or a sequence of logits.
        target: The target(s), each in [0, 1] (usually 0 or 1).
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        The loss node.

    Raises:
        ValueError: If the lengths differ or a target is outside [0, 1].
        TypeError: If a target is not a number.
    """
    name = "binary_cross_entropy_with_logits"
    xs, ys = _pairs(name, logit, target)
    for i, y in enumerate(ys):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"{name}: target {i} is {y!r}; targets must be in [0, 1]")
    terms = [x.softplus() - x * y if y else x.softplus() for x, y in zip(xs, ys)]
    return _reduce(name, terms, reduction)


def binary_cross_entropy(prob: Preds, target: Targets, reduction: Reduction = "mean") -> Value:
    """Binary cross entropy from a probability ``p``: ``−[y·log p + (1−y)·log(1−p)]``.

    Prefer :func:`binary_cross_entropy_with_logits`: a sigmoid output that has saturated to 0
    or 1 cannot be logged.

    Args:
        prob: One probability or a sequence of them.
        target: The target(s), each in [0, 1].
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        The loss node.

    Raises:
        ValueError: If the lengths differ, a target is outside [0, 1], or a probability whose
            log is needed is not strictly inside (0, 1).
        TypeError: If a target is not a number.
    """
    name = "binary_cross_entropy"
    ps, ys = _pairs(name, prob, target)
    terms = []
    for i, (p, y) in enumerate(zip(ps, ys)):
        if not 0.0 <= y <= 1.0:
            raise ValueError(f"{name}: target {i} is {y!r}; targets must be in [0, 1]")
        parts = []
        if y != 0.0:
            if p.data <= 0.0:
                raise ValueError(f"{name}: probability {i} is {p.data!r}; log(p) needs p > 0")
            parts.append(p.log() * y)
        if y != 1.0:
            if p.data >= 1.0:
                raise ValueError(f"{name}: probability {i} is {p.data!r}; log(1 − p) needs p < 1")
            parts.append((1.0 - p).log() * (1.0 - y))
        terms.append(-(parts[0] if len(parts) == 1 else parts[0] + parts[1]))
    return _reduce(name, terms, reduction)


def hinge(
    score: Preds, target: Targets, margin: float = 1.0, reduction: Reduction = "mean"
) -> Value:
    """Hinge loss for labels ±1: ``relu(margin − y·score)`` (micrograd's demo loss).

    Args:
        score: One score or a sequence of scores.
        target: The label(s): each ``-1`` or ``+1``.
        margin: The margin; the loss is 0 once ``y·score >= margin``.
        reduction: ``"mean"`` or ``"sum"``.

    Returns:
        The loss node.

    Raises:
        ValueError: If the lengths differ or a label is not ±1.
        TypeError: If a label is not a number.
    """
    m = real("hinge: margin", margin)
    ss, ys = _pairs("hinge", score, target)
    for i, y in enumerate(ys):
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge: target {i} is {y!r}; labels must be -1 or +1")
    return _reduce("hinge", [(m - y * s).relu() for s, y in zip(ss, ys)], reduction)


def l2_penalty(parameters: Iterable[Value], weight: float) -> Value:
    """``weight · Σ p²``, the L2 regularization term (micrograd's demo uses weight 1e-4).

    Args:
        parameters: The parameters to penalize.
        weight: The coefficient, ``>= 0``.

    Returns:
        The penalty node.

    Raises:
        ValueError: If ``weight`` is negative or not finite, or there are no parameters.
    """
    w = real("l2_penalty: weight", weight, low=0.0)
    ps = list(parameters)
    if not ps:
        raise ValueError("l2_penalty: no parameters")
    return engine.sum([p * p for p in ps]) * w
