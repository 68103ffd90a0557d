"""Training: ``fit`` and ``Trainer``, with per-step history, early stop, callbacks and progress.

One training step is: ``loss_fn(model, X, y)`` builds the loss graph of a batch (a function of
the parameters only), ``backward`` fills the gradients, the optimizer updates. For a named loss
and a model whose graph is static, steps are replayed instead: one sample's graph, captured once,
runs over the batch axis (:mod:`micrograd_x.batchreplay`), full batch or mini-batches; a custom
loss function may be captured and replayed as a whole graph (:mod:`micrograd_x.replay`).
:mod:`micrograd_x.replayrun` holds the three ways a step runs.
:func:`accuracy` and :func:`predict` (re-exported) and the checks of ``X`` and ``y`` live in
:mod:`micrograd_x.trainio`. Imports: the standard library, numpy, tqdm and the micrograd_x
modules ``engine``, ``nn``, ``lossspec``, ``layerstats``, ``history``, ``optim``, ``data``,
``batchreplay``, ``replay``, ``replayrun``, ``trainio`` and ``gcpause``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, TypeAlias

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from micrograd_x import layerstats, losses, lossspec, trainio
from micrograd_x.batchreplay import BatchReplay, NotBatchableError
from micrograd_x.data import batches
from micrograd_x.engine import Value
from micrograd_x.gcpause import gc_paused
from micrograd_x.history import History, StepRecord
from micrograd_x.layerstats import LayerStats
from micrograd_x.lossspec import NamedLoss, ScoreAccuracy
from micrograd_x.nn import Module
from micrograd_x.optim import SGD, Optimizer, Schedule
from micrograd_x.replay import Replay
from micrograd_x.replayrun import BatchRun, EagerRun, GraphRun, Structure
from micrograd_x.trainio import accuracy, predict

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

Callback: TypeAlias = Callable[[StepRecord, "Trainer"], "bool | None"]
"""Called after every step; return ``True`` to stop training."""

LOSSES = lossspec.LOSSES
"""The named losses :func:`make_loss_fn` knows: name → :class:`~micrograd_x.lossspec.LossSpec`."""


# -- loss functions ---------------------------------------------------------------------------


def make_loss_fn(
    loss: str | Callable[[list[Any], list[Any]], Value] = "hinge",
    l2: float = 0.0,
    **options: Any,
) -> LossFn:
    """Build ``loss_fn(model, X, y) -> (loss, predictions)`` for one batch.

    The predictions are one Value per sample (a list of Values per sample for
    ``cross_entropy``); the loss is the batch's mean loss plus ``l2 · Σ p²``. The function builds
    the batch's graph with Python's cyclic garbage collector paused
    (:func:`~micrograd_x.gcpause.gc_paused`: a graph holds no cycles) and restores its state.

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
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not l2 >= 0.0:
        raise ValueError(f"make_loss_fn: l2 must be a number >= 0, got {l2!r}")
    weight = float(l2)
    if isinstance(loss, str):
        spec = LOSSES.get(loss)
        if spec is None:
            raise ValueError(f"make_loss_fn: unknown loss {loss!r}; known: {', '.join(LOSSES)}")
        return NamedLoss(spec, weight, options)
    if not callable(loss):
        raise TypeError(f"make_loss_fn: loss must be a name or a function, got {loss!r}")
    crit = loss

    def loss_fn(model: Module, X: list[list[float]], y: list[Any]) -> tuple[Value, list[Any]]:
        with gc_paused():  # the batch's graph holds no cycles: see micrograd_x.gcpause
            outs = model.forward_batch(X)
            preds: list[Any] = outs if model.nout > 1 else [o[0] for o in outs]
            total = crit(preds, y)
            if weight:
                total = total + losses.l2_penalty(model.parameters(), weight)
        return total, preds

    return loss_fn


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
        replay: How :meth:`fit` runs steps. ``True``: replay a captured graph (same losses,
            gradients and accuracies as eager mode, to rounding). For a named loss and a model
            whose graph is static (:meth:`~micrograd_x.nn.Module.has_static_graph`), one
            sample's graph is captured and run over the batch axis, full batch or mini-batches;
            otherwise the whole training set's loss graph is captured (full batch only), and
            compared with eager mode on the first replayed step. ``False``: rebuild the graph
            every step (eager). ``None``: replay the per-sample way when it applies and there
            are at least 3 steps; eager otherwise.

    Attributes:
        history: Every step of every run.
        steps_done: The number of steps taken.
        loss_fn: The loss function (a :class:`~micrograd_x.lossspec.NamedLoss` for a name).
        accuracy_fn: The accuracy rule.
        compiled: What the last replayed run captured (``None`` until one ran): a
            :class:`~micrograd_x.batchreplay.BatchReplay` (per sample) or a
            :class:`~micrograd_x.replay.Replay` (whole graph; its nodes can be read or drawn).

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
        self.loss_fn: LossFn
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
        self.accuracy_fn: AccuracyFn
        if accuracy == "auto":
            fn = self.loss_fn.spec.accuracy if isinstance(self.loss_fn, NamedLoss) else None
            self.accuracy_fn = ScoreAccuracy(fn)
        elif accuracy is None:
            self.accuracy_fn = ScoreAccuracy(None)
        elif callable(accuracy):
            self.accuracy_fn = accuracy
        else:
            raise ValueError(
                f"Trainer: accuracy must be 'auto', None or a function, got {accuracy!r}"
            )
        if replay is not None and not isinstance(replay, bool):
            raise TypeError(f"Trainer: replay must be True, False or None, got {replay!r}")
        self.replay = replay
        self.compiled: Replay | BatchReplay | None = None
        self.history = History()
        self.steps_done = 0

    def _per_sample(self) -> bool:
        """Whether the per-sample replay applies: a named loss and a static model."""
        fn = self.loss_fn
        return (
            isinstance(fn, NamedLoss)
            and fn.batchable(self.model.nout)
            and self.model.has_static_graph()
        )

    def _runner(
        self,
        X: npt.NDArray[np.float64],
        rows: list[list[float]],
        ys: list[Any],
        full: bool,
        steps: int,
    ) -> EagerRun:
        """The way the next steps run (see ``replay`` in the class docstring)."""
        if self.replay is False or (self.replay is None and steps < _AUTO_REPLAY_MIN_STEPS):
            return EagerRun(self, X, rows, ys)
        if self._per_sample():
            try:
                run = BatchRun(self, X, rows, ys)
            except NotBatchableError:
                pass
            else:
                self.compiled = run.replay
                return run
        if self.replay is None:
            return EagerRun(self, X, rows, ys)
        if not full:
            raise ValueError(
                f"fit: replay=True with a custom loss function (or a model whose graph may depend "
                f"on values) needs full-batch training, but the batch size is less than the "
                f"{len(rows)} samples: a replayed whole graph keeps the data it was captured "
                "with (use a named loss, or replay=None or False for mini-batches)"
            )
        # A custom loss or model: compare the first replayed step with eager mode.
        return GraphRun(self, X, rows, ys, check=0 if self._per_sample() else 1)

    def step(self, X: list[list[float]], y: list[Any]) -> StepRecord:
        """One training step on a batch: measure, update, record (always eager).

        Args:
            X: The batch's input rows (lists of floats).
            y: The batch's labels or targets.

        Returns:
            The step's record (also appended to :attr:`history`).
        """
        run = EagerRun(self, np.zeros((0, 0)), X, y)
        rec = self._measure(run, None)
        run.update()
        self.history.records.append(rec)
        self.steps_done += 1
        return rec

    def _measure(self, run: EagerRun, idx: npt.NDArray[np.intp] | None) -> StepRecord:
        if self.schedule is not None:
            self.schedule.apply(self.optimizer, self.steps_done)
        loss, acc, norm, n = run.measure(idx)
        return StepRecord(self.steps_done, loss, acc, self.optimizer.lr, norm, n)

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

        Steps may be replayed (see ``replay`` in :class:`Trainer`); :attr:`History.mode` says
        which way they ran. A replayed run keeps the parameters in one array and writes them
        into the model's ``Value``s (values and gradients) when a callback first reads or writes
        one, however it reaches it (:mod:`micrograd_x.staleparams`), and at the end, and reads
        them again after callbacks that did, so a callback sees and may change the current
        parameters; the optimizer's state is written back only when
        :attr:`~micrograd_x.optim.Optimizer.state` is read. A callback may change
        the model (replace a layer), the loss function, the optimizer or the accuracy rule:
        the next step captures again (or runs eagerly when replay no longer applies), as
        :attr:`History.notes` records. Python's cyclic garbage collector is paused while the
        run builds graphs (they hold no reference cycles), as it slows building large graphs.

        Args:
            X: The inputs, one row per sample.
            y: The labels or targets.
            steps: The number of optimizer steps, >= 1.
            batch_size: Samples per step (default: all, full batch); the last batch of an
                epoch may be smaller.
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
                mini-batches with a custom loss function.
            ReplayDivergenceError: If a replayed custom ``loss_fn`` or model builds a different
                graph (or result) than eager mode on the first replayed step.
        """
        rows = trainio.rows("fit", X)
        ys = trainio.targets("fit", y, len(rows))
        if len(rows[0]) != self.model.nin:
            raise ValueError(
                f"fit: X has {len(rows[0])} column(s) but the model takes {self.model.nin} input(s)"
            )
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
            raise ValueError(f"fit: steps must be an integer >= 1, got {steps!r}")
        if layer_stats:
            layerstats.model_layers(self.model)  # an unknown model fails here, at once
        full = batch_size is None or batch_size >= len(rows)
        it = None if full else batches(len(rows), int(batch_size or 0), seed=seed)
        Xa = np.asarray(rows, dtype=np.float64)
        with gc_paused():  # fit's graphs hold no cycles: see micrograd_x.gcpause
            run = self._runner(Xa, rows, ys, full, int(steps))
            hist = History(mode=run.mode, capture=run.kind)
            self._loop(
                run,
                hist,
                it,
                int(steps),
                target_accuracy,
                target_loss,
                callbacks,
                progress,
                progress_file,
                layer_stats,
                (Xa, rows, ys, full),
            )
        return hist

    def _loop(
        self,
        run: EagerRun,
        hist: History,
        it: Iterator[npt.NDArray[np.intp]] | None,
        steps: int,
        target_accuracy: float | None,
        target_loss: float | None,
        callbacks: Sequence[Callback],
        progress: bool | None,
        progress_file: IO[str] | None,
        layer_stats: bool,
        data: tuple[npt.NDArray[np.float64], list[list[float]], list[Any], bool],
    ) -> None:
        bar = tqdm(
            total=steps,
            disable=None if progress is None else not progress,
            file=progress_file,
            desc="fit",
            unit="step",
            leave=True,
        )
        shape = Structure(self) if callbacks else None
        try:
            for _ in range(steps):
                idx = None if it is None else next(it)
                try:
                    rec = self._measure(run, idx)
                except FloatingPointError:
                    # A replayed value or gradient is not finite: eager mode names the op (or,
                    # if it gets a finite result, carries on eagerly).
                    run.write_back()
                    run = EagerRun(self, *data[:3])
                    hist.notes.append(
                        f"step {self.steps_done}: a replayed value was not finite; eager from here"
                    )
                    hist.mode, hist.capture = run.mode, run.kind
                    rec = self._measure(run, idx)
                stats: dict[str, LayerStats] | None = None
                if layer_stats:
                    run.write_back()
                    bx, _ = run.batch(idx)
                    stats = layerstats.layer_stats(self.model, bx)
                reason = self._target_reached(rec, run, idx is None, target_accuracy, target_loss)
                if reason:
                    self._record(rec, hist, stats)
                    hist.stopped_early, hist.stop_reason = True, reason
                    bar.update(1)
                    break
                run.update()
                self._record(rec, hist, stats)
                bar.update(1)
                if not bar.disable:
                    post = {"loss": f"{rec.loss:.4g}", "lr": f"{rec.lr:.3g}"}
                    if rec.accuracy is not None:
                        post["acc"] = f"{rec.accuracy:.3f}"
                    bar.set_postfix(post, refresh=False)
                if shape is not None:
                    # The parameters are written back when a callback first reads or writes one.
                    run.lend()
                    stop = any(cb(rec, self) for cb in callbacks)
                    if shape.same(self):
                        run.read_back()
                    else:
                        run.write_back()
                        run = self._recapture(run, hist, data, rec.step)
                        shape = Structure(self)
                    if stop:
                        hist.stopped_early = True
                        hist.stop_reason = f"a callback stopped at step {rec.step}"
                        break
        finally:
            run.write_back()
            self.optimizer.sync_state()
            bar.close()

    def _recapture(
        self,
        run: EagerRun,
        hist: History,
        data: tuple[npt.NDArray[np.float64], list[list[float]], list[Any], bool],
        step: int,
    ) -> EagerRun:
        """A callback changed what the steps depend on: choose the runner again."""
        self.params = self.model.parameters()
        Xa, rows, ys, full = data
        new = self._runner(Xa, rows, ys, full, _AUTO_REPLAY_MIN_STEPS)
        how = "captured again" if new.mode == "replay" else "eager from here"
        hist.notes.append(
            f"step {step}: a callback changed the model, loss, optimizer or accuracy rule; {how}"
        )
        hist.mode, hist.capture = new.mode, new.kind
        return new

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
        run: EagerRun,
        full: bool,
        target_accuracy: float | None,
        target_loss: float | None,
    ) -> str:
        if target_loss is not None and rec.loss <= target_loss:
            return f"loss {rec.loss:.6g} <= target {target_loss:g} at step {rec.step}"
        if target_accuracy is not None and rec.accuracy is not None:
            acc = rec.accuracy
            if acc >= target_accuracy and not full:
                acc = run.full_accuracy() or 0.0
            if acc >= target_accuracy:
                return f"accuracy {acc:.4g} >= target {target_accuracy:g} at step {rec.step}"
        return ""


_AUTO_REPLAY_MIN_STEPS = 3
"""``replay=None`` replays runs of at least this many steps."""


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
