"""Training: ``fit`` and ``Trainer``, with per-step history, early stop, callbacks and progress.

One training step is: ``loss_fn(model, X, y)`` builds the loss graph of a batch (a function of
the parameters only), ``backward`` fills the gradients, the optimizer updates. Keeping the
forward pass and the loss in one function lets full-batch training capture that graph once and
replay it (:mod:`micrograd_x.replay`) instead of rebuilding it every step.
Imports: the standard library, numpy, tqdm and the micrograd_x modules ``engine``, ``ops``,
``nn``, ``losses``, ``optim``, ``data`` and ``replay``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeAlias

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from micrograd_x import layerstats, losses
from micrograd_x.data import batches
from micrograd_x.engine import Value, zero_grad
from micrograd_x.layerstats import LayerStats
from micrograd_x.nn import ACTIVATIONS, MLP, Layer, Module, Neuron
from micrograd_x.ops import DomainError
from micrograd_x.optim import SGD, Optimizer, Schedule
from micrograd_x.replay import Replay, capture

__all__ = [
    "LOSSES",
    "AccuracyFn",
    "Callback",
    "History",
    "LossFn",
    "StepRecord",
    "Trainer",
    "accuracy",
    "fit",
    "make_loss_fn",
    "predict",
]

LossFn: TypeAlias = Callable[[Module, list[list[float]], list[Any]], tuple[Value, list[Any]]]
"""``loss_fn(model, X, y) -> (loss, predictions)`` for one batch; ``X`` is a list of rows."""

AccuracyFn: TypeAlias = Callable[[list[Any], list[Any]], "float | None"]
"""``accuracy_fn(predictions, targets) -> fraction correct`` (``None`` for regression)."""

LOSSES = ("hinge", "mse", "smooth_l1", "bce", "cross_entropy")
"""The loss names :func:`make_loss_fn` knows."""


# -- accuracy and predictions -----------------------------------------------------------------


def _data(p: Any) -> float:
    return p.data if isinstance(p, Value) else float(p)


def _sign_accuracy(preds: list[Any], ys: list[Any]) -> float:
    # Labels ±1 with a score: correct when the signs agree (micrograd's demo rule).
    hits: int = sum((_data(p) > 0.0) == (y > 0) for p, y in zip(preds, ys))
    return hits / len(ys)


def _logit_accuracy(preds: list[Any], ys: list[Any]) -> float:
    hits: int = sum((_data(p) > 0.0) == (y > 0.5) for p, y in zip(preds, ys))
    return hits / len(ys)


def _argmax_accuracy(preds: list[Any], ys: list[Any]) -> float:
    hits = 0
    for row, y in zip(preds, ys):
        scores = [_data(v) for v in row]
        hits += max(range(len(scores)), key=scores.__getitem__) == y
    return hits / len(ys)


def _no_accuracy(preds: list[Any], ys: list[Any]) -> float | None:
    return None


_ACCURACY: dict[str, AccuracyFn] = {
    "hinge": _sign_accuracy,
    "bce": _logit_accuracy,
    "cross_entropy": _argmax_accuracy,
    "mse": _no_accuracy,
    "smooth_l1": _no_accuracy,
}


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
    fns = {"sign": _sign_accuracy, "logit": _logit_accuracy, "argmax": _argmax_accuracy}
    if kind not in fns:
        raise ValueError(f"accuracy: kind must be one of {', '.join(fns)}, got {kind!r}")
    if len(preds) != len(ys) or not ys:
        raise ValueError(f"accuracy: {len(preds)} prediction(s) but {len(ys)} label(s)")
    return fns[kind](list(preds), list(ys))


def _rows(where: str, X: npt.ArrayLike | Sequence[Sequence[float]]) -> list[list[float]]:
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


def _targets(where: str, y: npt.ArrayLike | Sequence[Any], n: int) -> list[Any]:
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
    outs = model.forward_batch(_rows("predict", X))
    return [vs[0].data if len(vs) == 1 else [v.data for v in vs] for vs in outs]


# -- loss functions ---------------------------------------------------------------------------


def make_loss_fn(
    loss: str | Callable[[list[Any], list[Any]], Value] = "hinge",
    l2: float = 0.0,
    **options: Any,
) -> LossFn:
    """Build ``loss_fn(model, X, y) -> (loss, predictions)`` for one batch.

    The predictions are one Value per sample (a list of Values per sample for
    ``cross_entropy``); the loss is the batch's mean loss plus ``l2 · Σ p²``.

    Args:
        loss: One of :data:`LOSSES` (``"bce"`` is binary cross entropy with logits), or a
            function ``(predictions, targets) -> Value``.
        l2: The L2 coefficient (micrograd's demo: 1e-4), >= 0.
        **options: Passed to the loss (e.g. ``beta`` for ``smooth_l1``, ``margin`` for hinge).

    Returns:
        The loss function.

    Raises:
        ValueError: If the loss name is unknown or ``l2`` is negative.
    """
    crit: Callable[[list[Any], list[Any]], Value]
    if isinstance(loss, str):
        table: dict[str, Callable[..., Value]] = {
            "hinge": losses.hinge,
            "mse": losses.mse,
            "smooth_l1": losses.smooth_l1,
            "bce": losses.binary_cross_entropy_with_logits,
            "cross_entropy": losses.cross_entropy,
        }
        if loss not in table:
            raise ValueError(f"make_loss_fn: unknown loss {loss!r}; known: {', '.join(LOSSES)}")
        base = table[loss]
        multi = loss == "cross_entropy"

        def named(preds: list[Any], ys: list[Any]) -> Value:
            return base(preds, ys, **options)

        crit = named
    elif callable(loss):
        crit = loss
        multi = False
    else:
        raise TypeError(f"make_loss_fn: loss must be a name or a function, got {loss!r}")
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not l2 >= 0.0:
        raise ValueError(f"make_loss_fn: l2 must be a number >= 0, got {l2!r}")
    weight = float(l2)

    def loss_fn(model: Module, X: list[list[float]], y: list[Any]) -> tuple[Value, list[Any]]:
        outs = model.forward_batch(X)
        preds: list[Any] = outs if multi or model.nout > 1 else [o[0] for o in outs]
        total = crit(preds, y)
        if weight:
            total = total + losses.l2_penalty(model.parameters(), weight)
        return total, preds

    return loss_fn


# -- history ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRecord:
    """What one training step measured (before its update).

    Attributes:
        step: The step index, from 0.
        loss: The batch loss.
        accuracy: The batch accuracy, or ``None`` for regression.
        lr: The learning rate used by the step's update.
        grad_norm: The Euclidean norm of the gradient over all parameters.
        batch_size: The number of samples in the batch.
    """

    step: int
    loss: float
    accuracy: float | None
    lr: float
    grad_norm: float
    batch_size: int


@dataclass
class History:
    """The per-step records of a training run.

    Attributes:
        records: One :class:`StepRecord` per step.
        stopped_early: Whether a target or a callback ended the run before ``steps``.
        stop_reason: Why the run stopped early (``""`` if it did not).
        mode: How the steps ran: ``"eager"`` (the graph rebuilt every step) or ``"replay"``
            (captured once, then replayed; see :class:`Trainer`).
        layer_stats: With ``fit(..., layer_stats=True)``, one entry per step: for each layer
            of the model (by name), its statistics at that step (see
            :func:`micrograd_x.layerstats.layer_stats`: ``grad_norm``, ``act_mean``,
            ``act_std``, ``dead_fraction``); empty otherwise.
    """

    records: list[StepRecord] = field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str = ""
    mode: str = "eager"
    layer_stats: list[dict[str, LayerStats]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def loss(self) -> list[float]:
        """The loss of each step."""
        return [r.loss for r in self.records]

    @property
    def accuracy(self) -> list[float | None]:
        """The accuracy of each step."""
        return [r.accuracy for r in self.records]

    @property
    def lr(self) -> list[float]:
        """The learning rate of each step."""
        return [r.lr for r in self.records]

    @property
    def grad_norm(self) -> list[float]:
        """The gradient norm of each step."""
        return [r.grad_norm for r in self.records]

    def first_step(self, accuracy: float = 1.0) -> int | None:
        """The first step whose accuracy reached ``accuracy``, or ``None``."""
        for r in self.records:
            if r.accuracy is not None and r.accuracy >= accuracy:
                return r.step
        return None


Callback: TypeAlias = Callable[[StepRecord, "Trainer"], "bool | None"]
"""Called after every step; return ``True`` to stop training."""


# -- the trainer ------------------------------------------------------------------------------


class Trainer:
    """Trains a model with an optimizer on batches, recording every step.

    Args:
        model: The model.
        loss: A loss name (see :data:`LOSSES`) or a ``loss_fn(model, X, y) -> (loss, preds)``.
        optimizer: The optimizer (default: SGD on the model's parameters with rate ``lr``).
        lr: The learning rate of the default optimizer.
        schedule: Sets the learning rate before each step (e.g. ``optim.Linear``).
        l2: L2 coefficient added to a named loss.
        accuracy: ``"auto"`` (from the loss name), ``None`` (no accuracy), or a function
            ``(predictions, targets) -> float``.
        replay: How :meth:`fit` runs full-batch steps. ``True``: build the loss graph once,
            compile it with :func:`micrograd_x.replay.capture` and replay it for every later
            step (same losses, gradients and accuracies as eager mode, to rounding; a custom
            ``loss_fn`` or model is compared with eager mode on the first replayed step).
            ``False``: rebuild the graph every step (eager). ``None``: replay when the graph's
            structure cannot depend on values (a named loss; a model made of :class:`MLP`,
            :class:`Layer` and :class:`Neuron` with named activations), the training is
            full-batch and there are at least 3 steps; eager otherwise.

    Attributes:
        history: Every step of every run.
        steps_done: The number of steps taken.
        compiled: The :class:`~micrograd_x.replay.Replay` of the last replayed run (``None``
            until one ran): its nodes are the captured graph, to read or draw.

    Raises:
        ValueError: If the loss is unknown.
        TypeError: If ``replay`` is not ``True``, ``False`` or ``None``.
    """

    def __init__(
        self,
        model: Module,
        loss: str | LossFn = "hinge",
        optimizer: Optimizer | None = None,
        lr: float = 0.1,
        schedule: Schedule | None = None,
        l2: float = 0.0,
        accuracy: str | AccuracyFn | None = "auto",
        replay: bool | None = None,
    ) -> None:
        self.model = model
        self.params = model.parameters()
        if isinstance(loss, str):
            self.loss_fn = make_loss_fn(loss, l2)
        elif callable(loss):
            if l2:
                raise ValueError("Trainer: l2 applies to a named loss; add it inside your loss_fn")
            self.loss_fn = loss
        else:
            raise TypeError(f"Trainer: loss must be a name or a loss_fn, got {loss!r}")
        self.optimizer = optimizer if optimizer is not None else SGD(self.params, lr=lr)
        self.schedule = schedule
        if accuracy == "auto":
            self.accuracy_fn: AccuracyFn = (
                _ACCURACY.get(loss, _no_accuracy) if isinstance(loss, str) else _no_accuracy
            )
        elif accuracy is None:
            self.accuracy_fn = _no_accuracy
        elif callable(accuracy):
            self.accuracy_fn = accuracy
        else:
            raise ValueError(
                f"Trainer: accuracy must be 'auto', None or a function, got {accuracy!r}"
            )
        if replay is not None and not isinstance(replay, bool):
            raise TypeError(f"Trainer: replay must be True, False or None, got {replay!r}")
        self.replay = replay
        # Whether the loss graph's structure is known not to depend on values (see _static_model).
        self._static = isinstance(loss, str) and _static_model(model)
        self.compiled: Replay | None = None
        self.history = History()
        self.steps_done = 0

    def _measure(self, X: list[list[float]], y: list[Any]) -> StepRecord:
        """Forward, loss and backward for a batch; set the step's learning rate; no update."""
        if self.schedule is not None:
            self.schedule.apply(self.optimizer, self.steps_done)
        loss, preds = self.loss_fn(self.model, X, y)
        # Leaves accumulate gradients: zero the model's (and the optimizer's, if it has others).
        zero_grad(self.params)
        self.optimizer.zero_grad()
        loss.backward()
        return self._stats(loss.data, preds, y)

    def _measure_replayed(self, run: _ReplayRun) -> StepRecord:
        """As :meth:`_measure` on the whole training set, through the captured graph."""
        if self.schedule is not None:
            self.schedule.apply(self.optimizer, self.steps_done)
        zero_grad(self.params)
        self.optimizer.zero_grad()
        loss, preds = run.measure()
        return self._stats(loss, preds, run.ys)

    def _stats(self, loss: float, preds: list[Any], y: list[Any]) -> StepRecord:
        sq = 0.0
        for p in self.params:
            g = float(p.grad)
            sq += g * g
        acc = self.accuracy_fn(preds, y)
        return StepRecord(self.steps_done, loss, acc, self.optimizer.lr, math.sqrt(sq), len(y))

    def _use_replay(self, full: bool, steps: int) -> bool:
        if self.replay is None:
            return full and self._static and steps >= _AUTO_REPLAY_MIN_STEPS
        return self.replay

    def step(self, X: list[list[float]], y: list[Any]) -> StepRecord:
        """One training step on a batch: measure, update, record (always eager).

        Args:
            X: The batch's input rows (lists of floats).
            y: The batch's labels or targets.

        Returns:
            The step's record (also appended to :attr:`history`).
        """
        rec = self._measure(X, y)
        self.optimizer.step()
        self.history.records.append(rec)
        self.steps_done += 1
        return rec

    def fit(
        self,
        X: npt.ArrayLike | Sequence[Sequence[float]],
        y: npt.ArrayLike | Sequence[Any],
        steps: int = 100,
        batch_size: int | None = None,
        seed: int | np.random.Generator = 0,
        target_accuracy: float | None = None,
        target_loss: float | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool | None = None,
        progress_file: IO[str] | None = None,
        layer_stats: bool = False,
    ) -> History:
        """Train for ``steps`` steps, full-batch or on shuffled mini-batches.

        A step whose measurements reach ``target_accuracy`` (or ``target_loss``) ends the run
        *before* its update, so the model is left exactly as measured. With mini-batches the
        accuracy target is confirmed on the whole training set.

        Full-batch runs may capture the loss graph once and replay it (see ``replay`` in
        :class:`Trainer`); :attr:`History.mode` says which way the steps ran.

        Args:
            X: The inputs, one row per sample.
            y: The labels or targets.
            steps: The number of optimizer steps, >= 1.
            batch_size: Samples per step (default: all, full batch).
            seed: Seeds the mini-batch shuffling.
            target_accuracy: Stop once the accuracy reaches this.
            target_loss: Stop once the loss is at most this.
            callbacks: Called as ``callback(record, trainer)`` after each step; ``True`` stops.
            progress: Show a tqdm progress bar: ``True``, ``False``, or ``None`` for "when the
                output is a terminal".
            progress_file: Where the bar is written (default stderr).
            layer_stats: Record each layer's statistics at every step (gradient norm, activation
                mean and spread, dead units; measured before the step's update, on its batch)
                into :attr:`History.layer_stats`. Needs an MLP, Layer or Neuron model.

        Returns:
            The history of this run (steps are numbered on from earlier runs).

        Raises:
            ValueError: If the data or an argument is invalid, or ``replay=True`` is asked for
                mini-batches (a replayed graph keeps the data it was captured with).
            ReplayDivergenceError: If a replayed custom ``loss_fn`` or model builds a different
                graph (or result) than eager mode on the first replayed step.
        """
        rows = _rows("fit", X)
        ys = _targets("fit", y, len(rows))
        if len(rows[0]) != self.model.nin:
            raise ValueError(
                f"fit: X has {len(rows[0])} column(s) but the model takes {self.model.nin} input(s)"
            )
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
            raise ValueError(f"fit: steps must be an integer >= 1, got {steps!r}")
        if layer_stats:
            layerstats.model_layers(self.model)  # an unknown model fails here, at once
        full = batch_size is None or batch_size >= len(rows)
        if self.replay and not full:
            raise ValueError(
                f"fit: replay=True needs full-batch training, but batch_size={batch_size!r} is "
                f"less than the {len(rows)} samples: a replayed graph keeps the data it was "
                "captured with (use replay=None or False for mini-batches)"
            )
        it = None if full else batches(len(rows), int(batch_size or 0), seed=seed)
        replayer = (
            _ReplayRun(self, rows, ys, check=0 if self._static else 1)
            if self._use_replay(full, int(steps))
            else None
        )
        run = History(mode="eager" if replayer is None else "replay")
        bar = tqdm(
            total=int(steps),
            disable=None if progress is None else not progress,
            file=progress_file,
            desc="fit",
            unit="step",
            leave=True,
        )
        try:
            for _ in range(int(steps)):
                if it is None:
                    bx, by = rows, ys
                else:
                    idx = next(it).tolist()
                    bx, by = [rows[i] for i in idx], [ys[i] for i in idx]
                rec = (
                    self._measure(bx, by) if replayer is None else self._measure_replayed(replayer)
                )
                stats = layerstats.layer_stats(self.model, bx) if layer_stats else None
                reason = self._target_reached(rec, rows, ys, full, target_accuracy, target_loss)
                if reason:
                    self._record(rec, run, stats)
                    run.stopped_early, run.stop_reason = True, reason
                    bar.update(1)
                    break
                self.optimizer.step()
                self._record(rec, run, stats)
                bar.update(1)
                if not bar.disable:
                    post = {"loss": f"{rec.loss:.4g}", "lr": f"{rec.lr:.3g}"}
                    if rec.accuracy is not None:
                        post["acc"] = f"{rec.accuracy:.3f}"
                    bar.set_postfix(post, refresh=False)
                if any(cb(rec, self) for cb in callbacks):
                    run.stopped_early, run.stop_reason = (
                        True,
                        f"a callback stopped at step {rec.step}",
                    )
                    break
        finally:
            bar.close()
        return run

    def _record(
        self, rec: StepRecord, run: History, stats: dict[str, LayerStats] | None = None
    ) -> None:
        self.history.records.append(rec)
        run.records.append(rec)
        if stats is not None:
            self.history.layer_stats.append(stats)
            run.layer_stats.append(stats)
        self.steps_done += 1

    def _target_reached(
        self,
        rec: StepRecord,
        rows: list[list[float]],
        ys: list[Any],
        full: bool,
        target_accuracy: float | None,
        target_loss: float | None,
    ) -> str:
        if target_loss is not None and rec.loss <= target_loss:
            return f"loss {rec.loss:.6g} <= target {target_loss:g} at step {rec.step}"
        if target_accuracy is not None and rec.accuracy is not None:
            acc = rec.accuracy
            if acc >= target_accuracy and not full:
                _, preds = self.loss_fn(self.model, rows, ys)
                acc = self.accuracy_fn(preds, ys) or 0.0
            if acc >= target_accuracy:
                return f"accuracy {acc:.4g} >= target {target_accuracy:g} at step {rec.step}"
        return ""


# -- replayed steps ---------------------------------------------------------------------------

_AUTO_REPLAY_MIN_STEPS = 3
"""``replay=None`` replays runs of at least this many steps (capturing costs 2-3 eager steps)."""


def _static_model(model: Module) -> bool:
    """Whether the model's forward pass has a fixed structure: this package's layers only.

    Their Python code never looks at a value, and every named activation is a single op. A
    subclass or another module might branch on ``.data``; a custom activation function might too.
    The named losses are all static: they branch only on targets and options (fixed for a
    full-batch run), and the max shift of cross entropy's log-sum-exp becomes a frozen constant,
    which the result does not depend on.
    """
    todo: list[Module] = [model]
    while todo:
        m = todo.pop()
        if type(m) not in (MLP, Layer, Neuron):
            return False
        if isinstance(m, Neuron) and ACTIVATIONS.get(m.activation, m) is not m._act:
            return False
        todo.extend(m.children())
    return True


def _prediction_nodes(preds: list[Any]) -> list[Value]:
    nodes: list[Value] = []
    for i, p in enumerate(preds):
        for v in p if isinstance(p, (list, tuple)) else (p,):
            if not isinstance(v, Value):
                raise ValueError(
                    f"fit: with replay, predictions must be Values of the loss graph (so they can "
                    f"be updated every step), but prediction {i} is {type(v).__name__} {v!r}; "
                    "use replay=False"
                )
            nodes.append(v)
    return nodes


class _ReplayRun:
    """Full-batch steps on one captured loss graph, re-captured if a frozen constant fails.

    The capture builds the graph eagerly at the current parameters: that step uses it directly
    (so a check compares the *next*, updated, step with eager mode), later steps replay it.
    Gradients go to the model's and the optimizer's parameters, as in eager mode. After a
    replayed step only the predictions' ``data`` is current; ``Replay.sync`` brings the whole
    captured graph up to date, to draw it.
    """

    def __init__(self, trainer: Trainer, rows: list[list[float]], ys: list[Any], check: int):
        self.trainer, self.rows, self.ys, self.check = trainer, rows, ys, check
        seen: set[int] = set()
        self.inputs: list[Value] = []
        for p in [*trainer.params, *trainer.optimizer.params]:
            if id(p) not in seen:
                seen.add(id(p))
                self.inputs.append(p)
        self.replay: Replay | None = None
        self.preds: list[Any] = []
        # The prediction nodes to refresh after each replay, when accuracy is measured.
        self.nodes: list[Value] = []

    def _capture(self) -> tuple[Value, list[Any]]:
        tr = self.trainer
        built: list[tuple[Value, list[Any]]] = []

        def build() -> Value:
            loss, preds = tr.loss_fn(tr.model, self.rows, self.ys)
            if not built:  # check mode builds again later: keep the captured graph's outputs
                built.append((loss, preds))
            return loss

        self.replay = tr.compiled = capture(build, self.inputs, check=self.check)
        loss, preds = built[0]
        self.preds = preds
        self.nodes = [] if tr.accuracy_fn is _no_accuracy else _prediction_nodes(preds)
        return loss, preds

    def measure(self) -> tuple[float, list[Any]]:
        """The loss and predictions at the current parameters; gradients added into ``grad``."""
        r = self.replay
        if r is not None:
            try:
                value = r.step()
            except (ArithmeticError, DomainError):
                # A frozen constant (e.g. a stabilizing shift) may no longer suit the values:
                # capture again below, where eager mode raises the error if it is real.
                pass
            else:
                # Refresh only the predictions' values, for the accuracy: Replay.sync would also
                # recompute their partials, which costs more than the replayed step itself.
                try:
                    for node in self.nodes:
                        node.data = r.value(node)
                except KeyError:
                    raise ValueError(
                        "fit: with replay, predictions must be nodes of the loss graph (so they "
                        "can be updated every step); use replay=False"
                    ) from None
                return value, self.preds
        loss, preds = self._capture()
        loss.backward()
        return loss.data, preds


def fit(
    model: Module,
    X: npt.ArrayLike | Sequence[Sequence[float]],
    y: npt.ArrayLike | Sequence[Any],
    *,
    loss: str | LossFn = "hinge",
    optimizer: Optimizer | None = None,
    lr: float = 0.1,
    schedule: Schedule | None = None,
    l2: float = 0.0,
    accuracy: str | AccuracyFn | None = "auto",
    replay: bool | None = None,
    steps: int = 100,
    batch_size: int | None = None,
    seed: int | np.random.Generator = 0,
    target_accuracy: float | None = None,
    target_loss: float | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool | None = None,
    progress_file: IO[str] | None = None,
    layer_stats: bool = False,
) -> History:
    """Train ``model`` on ``(X, y)``; see :class:`Trainer` and :meth:`Trainer.fit`.

    ``replay`` (``None``: automatic) chooses whether full-batch steps rebuild the loss graph
    (eager) or replay a graph captured once, with the same history to rounding; the returned
    history's ``mode`` says which ran.

    micrograd's demo::

        X, y = data.make_moons(100, noise=0.1)
        model = nn.MLP(2, [16, 16, 1])
        fit(model, X, data.to_signed(y), loss="hinge", l2=1e-4,
            schedule=optim.Linear(1.0, total_steps=100, end_factor=0.1), steps=100)

    Returns:
        The run's history.

    Raises:
        ValueError: If the data or an argument is invalid (see :meth:`Trainer.fit`).
        ReplayDivergenceError: If a replayed custom loss builds a different graph than eager
            mode on the first replayed step.
    """
    trainer = Trainer(model, loss, optimizer, lr, schedule, l2, accuracy, replay)
    return trainer.fit(
        X,
        y,
        steps=steps,
        batch_size=batch_size,
        seed=seed,
        target_accuracy=target_accuracy,
        target_loss=target_loss,
        callbacks=callbacks,
        progress=progress,
        progress_file=progress_file,
        layer_stats=layer_stats,
    )
