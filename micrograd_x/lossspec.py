"""The named training losses as records: graph builder, batched numpy form, accuracy rule.

One :class:`LossSpec` per name in :data:`LOSSES` (the pattern of the op records in
:mod:`micrograd_x.ops`): ``fn`` builds the loss graph from Values (what eager training runs),
``batched`` is the same per-sample formula on numpy arrays with its derivative (what replayed
training runs over a batch axis), ``accuracy`` scores predictions and ``multi_output`` says
whether a sample's prediction is a row of logits. Tests compare ``batched`` with ``fn``'s graph.
:class:`NamedLoss` is the ``loss_fn`` that training builds from a record. Imports numpy,
:mod:`micrograd_x.ops`, :mod:`micrograd_x.engine`, :mod:`micrograd_x.nn`, :mod:`micrograd_x.losses`,
:mod:`micrograd_x.gcpause` and :mod:`micrograd_x.kernels` (the numpy kernels of the ops the losses
are made of).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import losses, ops
from micrograd_x.engine import Value
from micrograd_x.gcpause import gc_paused
from micrograd_x.kernels import KERNELS
from micrograd_x.nn import Module

__all__ = [
    "LOSSES",
    "LossSpec",
    "NamedLoss",
    "ScoreAccuracy",
    "argmax_accuracy",
    "logit_accuracy",
    "scores_of",
    "sign_accuracy",
]

Array = NDArray[np.float64]


# -- accuracy rules: on arrays of scores (samples × outputs) and targets ------------------------


def sign_accuracy(scores: Array, targets: Array) -> float:
    """Labels ±1 with a score: correct when the signs agree (micrograd's demo rule)."""
    return np.count_nonzero((scores[:, 0] > 0.0) == (targets > 0)) / len(targets)


def logit_accuracy(scores: Array, targets: Array) -> float:
    """Labels 0/1 with a logit: correct when ``logit > 0`` iff the label is 1."""
    return np.count_nonzero((scores[:, 0] > 0.0) == (targets > 0.5)) / len(targets)


def argmax_accuracy(scores: Array, targets: Array) -> float:
    """Class indices with a row of scores: correct when the first largest score is the class."""
    return np.count_nonzero(np.argmax(scores, axis=1) == targets) / len(targets)


def scores_of(preds: Sequence[Any]) -> Array:
    """Predictions (Values or numbers, or a row of them per sample) as a samples × outputs array."""

    def num(v: Any) -> float:
        return float(v.data) if isinstance(v, Value) else float(v)

    return np.array(
        [[num(v) for v in p] if isinstance(p, (list, tuple)) else [num(p)] for p in preds],
        dtype=np.float64,
    ).reshape(len(preds), -1)


class ScoreAccuracy:
    """An accuracy rule on score arrays, also callable as ``(predictions, targets)``.

    Args:
        fn: ``fn(scores, targets) -> fraction correct``; ``None`` measures no accuracy.

    Attributes:
        fn: The rule on arrays.
    """

    def __init__(self, fn: Callable[[Array, Array], float] | None) -> None:
        self.fn = fn

    def on_scores(self, scores: Array, targets: Array) -> float | None:
        """The accuracy of a batch's scores (samples × outputs), or ``None``."""
        return None if self.fn is None else self.fn(scores, targets)

    def __call__(self, preds: Sequence[Any], targets: Sequence[Any]) -> float | None:
        """The accuracy of predictions as ``fit`` passes them (Values, or rows of Values)."""
        if self.fn is None:
            return None
        return self.fn(scores_of(preds), np.asarray(targets, dtype=np.float64))


# -- the batched per-sample losses: (scores (B, k), targets (B,)) -> (terms (B,), d/dscores) ---

_SOFTPLUS = KERNELS[ops.SOFTPLUS]
_SIGMOID = KERNELS[ops.SIGMOID]


def _hinge(s: Array, y: Array, margin: float = 1.0) -> tuple[Array, Array]:
    # relu(margin − y·s), as losses.hinge builds it.
    z = margin - y * s[:, 0]
    return np.maximum(z, 0.0), np.where(z > 0.0, -y, 0.0)[:, None]


def _mse(s: Array, y: Array) -> tuple[Array, Array]:
    d = s[:, 0] - y
    return d * d, (2.0 * d)[:, None]


def _smooth_l1(s: Array, y: Array, beta: float = 1.0) -> tuple[Array, Array]:
    # m·(0.5/β)·m + (|d| − m) with m = min(|d|, β), as losses.smooth_l1 builds it.
    d = s[:, 0] - y
    a = np.abs(d)
    sign = np.sign(d)
    if beta == 0.0:
        return a, sign[:, None]
    c = 0.5 / beta
    m = np.minimum(a, beta)
    inside = a <= beta  # min's partial goes to |d| on a tie, as ops.MIN's does
    da = np.where(inside, c * m + m * c, 1.0)
    return m * c * m + (a - m), (da * sign)[:, None]


def _bce(s: Array, y: Array) -> tuple[Array, Array]:
    # softplus(x) − x·y, whose derivative is σ(x) − y.
    x = s[:, 0]
    return _SOFTPLUS.forward(x) - x * y, (_SIGMOID.forward(x) - y)[:, None]


def _cross_entropy(s: Array, y: Array) -> tuple[Array, Array]:
    # logsumexp(l) − l[y] with the max shift, as losses.cross_entropy builds it.
    c = s.max(axis=1)
    e = np.exp(s - c[:, None])
    total = e.sum(axis=1)
    rows = np.arange(len(s))
    cls = y.astype(np.intp)
    terms = (np.log(total) + c) - s[rows, cls]
    d = e * (1.0 / total)[:, None]
    d[rows, cls] -= 1.0
    return terms, d


# -- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossSpec:
    """A named training loss.

    Attributes:
        name: The name ``fit`` and ``make_loss_fn`` know it by.
        fn: ``fn(predictions, targets, **options) -> Value``: the batch's mean loss as a graph.
        batched: ``batched(scores, targets, **options) -> (terms, d_terms)``: the per-sample
            losses of a batch (``scores`` of shape (samples, outputs)) and each term's
            derivative with respect to its sample's scores; the batch loss is the terms' mean.
        accuracy: ``accuracy(scores, targets) -> fraction correct``, or ``None`` (regression).
        multi_output: Whether each sample's prediction is a row of logits (one per class).
    """

    name: str
    fn: Callable[..., Value]
    batched: Callable[..., tuple[Array, Array]]
    accuracy: Callable[[Array, Array], float] | None
    multi_output: bool = False


LOSSES: Mapping[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec("hinge", losses.hinge, _hinge, sign_accuracy),
        LossSpec("mse", losses.mse, _mse, None),
        LossSpec("smooth_l1", losses.smooth_l1, _smooth_l1, None),
        LossSpec("bce", losses.binary_cross_entropy_with_logits, _bce, logit_accuracy),
        LossSpec("cross_entropy", losses.cross_entropy, _cross_entropy, argmax_accuracy, True),
    )
}
"""Every named loss, by name."""


class NamedLoss:
    """``loss_fn(model, X, y) -> (loss, predictions)`` for a named loss: what ``fit`` trains.

    The loss is the batch's loss by the record's ``fn`` (mean, or ``reduction="sum"``), plus
    ``l2 · Σ p²`` over the model's parameters. :meth:`batch_loss` computes the same number and
    its derivative from a batch's scores as numpy arrays (replayed training).

    Args:
        spec: The loss record.
        l2: The L2 coefficient, >= 0.
        options: Passed to the loss (e.g. ``margin``, ``beta``, ``reduction``).

    Attributes:
        spec: The loss record.
        l2: The L2 coefficient.
        options: The loss's options.
    """

    def __init__(self, spec: LossSpec, l2: float, options: Mapping[str, Any]) -> None:
        self.spec, self.l2, self.options = spec, float(l2), dict(options)
        kernel_options = dict(options)
        self._sum = kernel_options.pop("reduction", "mean") == "sum"
        self._kernel_options = kernel_options

    def __call__(
        self, model: Module, X: list[list[float]], y: list[Any]
    ) -> tuple[Value, list[Any]]:
        """The batch's loss graph and the predictions (one Value, or a row, per sample)."""
        with gc_paused():  # the batch's graph holds no cycles: see micrograd_x.gcpause
            outs = model.forward_batch(X)
            preds: list[Any] = (
                outs if self.spec.multi_output or model.nout > 1 else [o[0] for o in outs]
            )
            total = self.spec.fn(preds, y, **self.options)
            if self.l2:
                total = total + losses.l2_penalty(model.parameters(), self.l2)
        return total, preds

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"NamedLoss({self.spec.name!r}, l2={self.l2!r}{extra})"

    def batchable(self, nout: int) -> bool:
        """Whether :meth:`batch_loss` applies to a model with ``nout`` outputs."""
        return self.spec.multi_output or nout == 1

    def batch_loss(self, scores: Array, targets: Array) -> tuple[float, Array]:
        """The loss without the L2 term and its derivative with respect to the scores.

        Args:
            scores: The model's outputs, shape (samples, outputs).
            targets: The targets (class indices for cross entropy), shape (samples,).

        Returns:
            The loss and d(loss)/d(scores), shape (samples, outputs).
        """
        terms, d = self.spec.batched(scores, targets, **self._kernel_options)
        n = len(terms)
        if self._sum or n == 1:
            return float(np.add.reduce(terms)), d
        # As losses' mean: Σ terms · (1/n), each term's gradient 1/n.
        scale = 1.0 / n
        return float(np.add.reduce(terms)) * scale, d * scale
