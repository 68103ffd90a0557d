"""The record of a training run: one :class:`StepRecord` per step, kept in a :class:`History`.

Imports: the standard library and :mod:`micrograd_x.layerstats` (a type).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from micrograd_x.layerstats import LayerStats

__all__ = ["History", "StepRecord"]


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
            (captured once, then replayed; see :class:`~micrograd_x.train.Trainer`). When a run
            changes mode midway (see ``notes``), the mode its last step ran in.
        capture: For replayed steps, what was captured: ``"per-sample"`` (one sample's graph
            of the model, run over a batch axis; full batch and mini-batches) or
            ``"whole-graph"`` (the loss graph of the whole training set); ``""`` for eager.
        notes: Events of the run, e.g. a callback that changed the model or the loss, and
            whether training captured again or went on eagerly.
        layer_stats: With ``fit(..., layer_stats=True)``, one entry per step: for each layer
            of the model (by name), its statistics at that step (see
            :func:`micrograd_x.layerstats.layer_stats`: ``grad_norm``, ``act_mean``,
            ``act_std``, ``dead_fraction``); empty otherwise.
    """

    records: list[StepRecord] = field(default_factory=list)
    stopped_early: bool = False
    stop_reason: str = ""
    mode: str = "eager"
    capture: str = ""
    notes: list[str] = field(default_factory=list)
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
