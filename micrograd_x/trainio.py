"""What goes into and comes out of training: the checks of ``X`` and ``y``, predictions, accuracy.

:func:`rows` and :func:`targets` turn ``fit``'s data into lists with the errors ``fit`` raises;
:func:`predict` and :func:`accuracy` read a trained model's outputs (both re-exported by
:mod:`micrograd_x.train`). Imports numpy and the micrograd_x modules ``lossspec`` and ``nn``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from micrograd_x import lossspec
from micrograd_x.nn import Module

__all__ = ["accuracy", "predict", "rows", "targets"]


# -- accuracy and predictions -----------------------------------------------------------------


def accuracy(preds: list[Any], ys: Sequence[Any], kind: str = "sign") -> float:
    """The fraction of correct predictions.

    Args:
        preds: One prediction per sample (Values or numbers; a list of logits each for
            ``"argmax"``).
        ys: The labels.
        kind: ``"sign"`` (labels ±1, correct when the score has the label's sign), ``"logit"``
            (labels 0/1, correct when ``logit > 0`` iff the label is 1) or ``"argmax"`` (class
            indices).

    Returns:
        The accuracy in [0, 1].

    Raises:
        ValueError: If the lengths differ, there are no samples, or ``kind`` is unknown.
    """
    fns = {
        "sign": lossspec.sign_accuracy,
        "logit": lossspec.logit_accuracy,
        "argmax": lossspec.argmax_accuracy,
    }
    if kind not in fns:
        raise ValueError(f"accuracy: kind must be one of {', '.join(fns)}, got {kind!r}")
    if len(preds) != len(ys) or not ys:
        raise ValueError(f"accuracy: {len(preds)} prediction(s) but {len(ys)} label(s)")
    return fns[kind](lossspec.scores_of(preds), np.asarray(ys, dtype=np.float64))


def rows(where: str, X: npt.ArrayLike | Sequence[Sequence[float]]) -> list[list[float]]:
    """``X`` as a list of rows of floats (a 1-D ``X`` is one input per sample).

    Raises:
        TypeError: If ``X`` does not hold numbers.
        ValueError: If ``X`` is empty, not 2-D, or holds a NaN or an infinity (naming the sample).
    """
    try:
        a = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: X must be a 2-D array of numbers ({e})") from None
    if a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(
            f"{where}: X must be a non-empty 2-D array (samples × inputs), got {a.shape}"
        )
    if not np.isfinite(a).all():
        i = int(np.argwhere(~np.isfinite(a))[0][0])
        raise ValueError(f"{where}: sample {i} of X is not finite: {a[i].tolist()}")
    rows: list[list[float]] = a.tolist()
    return rows


def targets(where: str, y: npt.ArrayLike | Sequence[Any], n: int) -> list[Any]:
    """``y`` as a list of numbers, one per sample of ``X`` (``n`` of them).

    Raises:
        TypeError: If ``y`` does not hold real numbers.
        ValueError: If ``y`` is not 1-D or its length is not ``n``.
    """
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{where}: y must be 1-D (one label or target per sample), got {a.shape}")
    if len(a) != n:
        raise ValueError(f"{where}: X has {n} samples but y has {len(a)}")
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise TypeError(f"{where}: y must hold numbers, got dtype {a.dtype}")
    values: list[Any] = a.tolist()
    return values


def predict(model: Module, X: npt.ArrayLike | Sequence[Sequence[float]]) -> list[Any]:
    """The model's outputs as numbers: one float per sample, or a list when ``nout > 1``.

    Raises:
        ValueError: If ``X`` is not a 2-D array of finite numbers with ``model.nin`` columns.
    """
    outs = model.forward_batch(rows("predict", X))
    return [vs[0].data if len(vs) == 1 else [v.data for v in vs] for vs in outs]
