"""Learning-rate schedules and the learning-rate range test.

A :class:`Schedule` is a learning rate as a function of the step, each the closed form of a
PyTorch scheduler; :meth:`Schedule.apply` sets an optimizer's rate. :func:`lr_range_test` sweeps
the rate upward over real training steps to suggest a starting rate. The optimizers themselves
live in :mod:`micrograd_x.optim`, which re-exports these names (``optim.Linear`` and so on).
Imports: the standard library, :mod:`micrograd_x.engine` and the hyper-parameter checks of
:mod:`micrograd_x._hyper` (and :mod:`micrograd_x.optim` for type checking only).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from micrograd_x._hyper import count, number
from micrograd_x.engine import Value, zero_grad

if TYPE_CHECKING:
    from micrograd_x.optim import Optimizer

__all__ = [
    "Constant",
    "CosineAnnealing",
    "Exponential",
    "LRRangeResult",
    "Linear",
    "Schedule",
    "StepDecay",
    "WarmupDecay",
    "lr_range_test",
]


class Schedule(ABC):
    """A learning rate as a function of the step (0 for the first step): ``schedule(step)``.

    Each schedule is the closed form of the PyTorch scheduler named in its docstring, with
    ``base_lr`` the optimizer's initial learning rate.

    Args:
        base_lr: The initial learning rate, > 0.
    """

    def __init__(self, base_lr: float) -> None:
        self.base_lr = number(type(self).__name__, "base_lr", base_lr, strict=True)

    def __call__(self, step: int) -> float:
        """The learning rate at ``step``.

        Raises:
            ValueError: If ``step`` is not a non-negative integer.
        """
        return self.lr(count(type(self).__name__, "step", step, low=0))

    @abstractmethod
    def lr(self, step: int) -> float:
        """The learning rate at ``step`` (unchecked)."""

    def rates(self, steps: int) -> list[float]:
        """The learning rates of the first ``steps`` steps."""
        return [self.lr(t) for t in range(steps)]

    def apply(self, optimizer: Optimizer, step: int) -> float:
        """Set the optimizer's learning rate (every group) for ``step`` and return it."""
        rate = self(step)
        optimizer.lr = rate
        return rate

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Constant(Schedule):
    """The same learning rate at every step."""

    def lr(self, step: int) -> float:
        """``base_lr``."""
        return self.base_lr


class StepDecay(Schedule):
    """Multiply by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``).

    ``lr(t) = base_lr · gamma^⌊t / step_size⌋``.

    Args:
        base_lr: The initial learning rate.
        step_size: Steps between decays, >= 1.
        gamma: The decay factor, > 0.
    """

    def __init__(self, base_lr: float, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(base_lr)
        self.step_size = count("StepDecay", "step_size", step_size)
        self.gamma = number("StepDecay", "gamma", gamma, strict=True)

    def lr(self, step: int) -> float:
        """``base_lr · gamma^⌊step / step_size⌋``."""
        return self.base_lr * self.gamma ** (step // self.step_size)


class Exponential(Schedule):
    """Multiply by ``gamma`` every step (PyTorch's ``ExponentialLR``): ``base_lr · gammaᵗ``.

    Args:
        base_lr: The initial learning rate.
        gamma: The decay factor, > 0.
    """

    def __init__(self, base_lr: float, gamma: float) -> None:
        super().__init__(base_lr)
        self.gamma = number("Exponential", "gamma", gamma, strict=True)

    def lr(self, step: int) -> float:
        """``base_lr · gamma^step``."""
        return self.base_lr * self.gamma**step


class Linear(Schedule):
    """Change the factor linearly from ``start_factor`` to ``end_factor`` (PyTorch's ``LinearLR``).

    ``lr(t) = base_lr · (s + (e − s)·min(t, total_steps)/total_steps)``. micrograd's demo,
    ``1.0 − 0.9·t/100``, is ``Linear(1.0, total_steps=100, end_factor=0.1)``.

    Args:
        base_lr: The learning rate that the factors multiply.
        total_steps: Steps to go from the start factor to the end factor, >= 1.
        start_factor: The factor at step 0, > 0.
        end_factor: The factor from ``total_steps`` on, >= 0.
    """

    def __init__(
        self,
        base_lr: float,
        total_steps: int,
        start_factor: float = 1.0,
        end_factor: float = 0.0,
    ) -> None:
        super().__init__(base_lr)
        self.total_steps = count("Linear", "total_steps", total_steps)
        self.start_factor = number("Linear", "start_factor", start_factor, strict=True)
        self.end_factor = number("Linear", "end_factor", end_factor)

    def lr(self, step: int) -> float:
        """``base_lr · (s + (e − s)·min(step, total)/total)``."""
        s, e = self.start_factor, self.end_factor
        return self.base_lr * (s + (e - s) * min(step, self.total_steps) / self.total_steps)


class CosineAnnealing(Schedule):
    """Cosine annealing from ``base_lr`` to ``min_lr`` over ``total_steps``.

    ``lr(t) = min_lr + (base_lr − min_lr)·(1 + cos(π·t/total_steps))/2``, the closed form of
    PyTorch's ``CosineAnnealingLR`` for ``t <= total_steps``; afterwards it stays at ``min_lr``
    (PyTorch's would climb back up the cosine).

    Args:
        base_lr: The initial learning rate.
        total_steps: The length of the half cosine (PyTorch's ``T_max``), >= 1.
        min_lr: The final learning rate (``eta_min``), >= 0.
    """

    def __init__(self, base_lr: float, total_steps: int, min_lr: float = 0.0) -> None:
        super().__init__(base_lr)
        self.total_steps = count("CosineAnnealing", "total_steps", total_steps)
        self.min_lr = number("CosineAnnealing", "min_lr", min_lr)

    def lr(self, step: int) -> float:
        """The cosine-annealed rate, clamped at ``min_lr`` after ``total_steps``."""
        t = min(step, self.total_steps)
        cos = 1.0 + math.cos(math.pi * t / self.total_steps)
        return self.min_lr + (self.base_lr - self.min_lr) * cos / 2.0


class WarmupDecay(Schedule):
    """Linear warm-up, then decay.

    The seed lesson's "higher lr at the beginning, reducing as training progresses", with a
    short ramp first to keep the first steps stable.

    For ``t < warmup_steps``: ``base_lr · (s + (1 − s)·t/warmup_steps)`` (PyTorch's ``LinearLR``
    from ``start_factor`` s to 1); then, with ``u = t − warmup_steps`` and
    ``D = total_steps − warmup_steps``, cosine annealing (or a linear ramp) from ``base_lr`` to
    ``min_lr`` over ``D`` steps (PyTorch's ``SequentialLR`` of the two).

    Args:
        base_lr: The peak learning rate, reached at ``warmup_steps``.
        warmup_steps: The length of the warm-up, >= 0.
        total_steps: The step at which the decay ends, > ``warmup_steps``.
        start_factor: The warm-up's starting factor, in (0, 1].
        min_lr: The final learning rate, >= 0.
        decay: ``"cosine"`` or ``"linear"``.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(
        self,
        base_lr: float,
        warmup_steps: int,
        total_steps: int,
        start_factor: float = 0.1,
        min_lr: float = 0.0,
        decay: str = "cosine",
    ) -> None:
        super().__init__(base_lr)
        self.warmup_steps = count("WarmupDecay", "warmup_steps", warmup_steps, low=0)
        self.total_steps = count("WarmupDecay", "total_steps", total_steps, low=1)
        if self.total_steps <= self.warmup_steps:
            raise ValueError(
                f"WarmupDecay: total_steps ({total_steps}) must exceed warmup_steps "
                f"({warmup_steps})"
            )
        self.start_factor = number("WarmupDecay", "start_factor", start_factor, strict=True)
        if self.start_factor > 1.0:
            raise ValueError(f"WarmupDecay: start_factor must be <= 1, got {start_factor!r}")
        self.min_lr = number("WarmupDecay", "min_lr", min_lr)
        if decay not in ("cosine", "linear"):
            raise ValueError(f"WarmupDecay: decay must be 'cosine' or 'linear', got {decay!r}")
        self.decay = decay

    def lr(self, step: int) -> float:
        """The warm-up or decay rate at ``step``."""
        w = self.warmup_steps
        if step < w:
            s = self.start_factor
            return self.base_lr * (s + (1.0 - s) * step / w)
        span = self.total_steps - w
        u = min(step - w, span)
        if self.decay == "linear":
            return self.base_lr + (self.min_lr - self.base_lr) * u / span
        return self.min_lr + (self.base_lr - self.min_lr) * (1.0 + math.cos(math.pi * u / span)) / 2


# -- learning-rate range test -----------------------------------------------------------------


@dataclass
class LRRangeResult:
    """What :func:`lr_range_test` measured.

    Attributes:
        lrs: The learning rate of each step taken.
        losses: The loss at each step (before that step's update).
        smoothed: The exponentially smoothed, bias-corrected losses.
        best_lr: The rate with the lowest smoothed loss.
        suggested_lr: The rate where the smoothed loss falls fastest (per log-step of the rate),
            a common choice of starting rate.
        diverged: Whether the sweep stopped because the loss blew up.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    best_lr: float
    suggested_lr: float
    diverged: bool


def lr_range_test(
    params: Sequence[Value],
    optimizer: Optimizer,
    loss: Callable[[], Value],
    start_lr: float = 1e-5,
    end_lr: float = 10.0,
    steps: int = 100,
    mode: str = "exponential",
    smoothing: float = 0.05,
    diverge_factor: float = 4.0,
) -> LRRangeResult:
    """Sweep the learning rate upward, one training step per rate, and record the loss.

    Each step computes ``loss()`` (a fresh forward pass), backpropagates, and lets the optimizer
    update with the step's rate. The sweep stops early once the smoothed loss exceeds
    ``diverge_factor`` times its best value or an update overflows. Afterwards the parameters
    get their starting values back and the optimizer's state is reset, so the test leaves the
    model as it found it.

    Args:
        params: The parameters being trained (restored at the end).
        optimizer: The optimizer to sweep (its state is reset at the end).
        loss: Computes the training loss as a ``Value``.
        start_lr: The first rate, > 0.
        end_lr: The last rate, > ``start_lr``.
        steps: The number of rates, >= 2.
        mode: ``"exponential"`` (geometric spacing) or ``"linear"``.
        smoothing: The weight of the new loss in the exponential smoothing, in (0, 1].
        diverge_factor: Stop when the smoothed loss exceeds this times the best, > 1.

    Returns:
        The rates, losses and suggestions.

    Raises:
        ValueError: If an argument is out of range.
    """
    start = number("lr_range_test", "start_lr", start_lr, strict=True)
    end = number("lr_range_test", "end_lr", end_lr, strict=True)
    if end <= start:
        raise ValueError(f"lr_range_test: end_lr ({end_lr!r}) must exceed start_lr ({start_lr!r})")
    n = count("lr_range_test", "steps", steps, low=2)
    if mode not in ("exponential", "linear"):
        raise ValueError(f"lr_range_test: mode must be 'exponential' or 'linear', got {mode!r}")
    beta = number("lr_range_test", "smoothing", smoothing, strict=True)
    if beta > 1.0:
        raise ValueError(f"lr_range_test: smoothing must be in (0, 1], got {smoothing!r}")
    factor = number("lr_range_test", "diverge_factor", diverge_factor, low=1.0, strict=True)

    saved = [p.data for p in params]
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    avg = 0.0
    best = math.inf
    diverged = False
    try:
        for i in range(n):
            frac = i / (n - 1)
            rate = (
                start * (end / start) ** frac
                if mode == "exponential"
                else start + (end - start) * frac
            )
            optimizer.lr = rate
            try:
                value = loss()
                optimizer.zero_grad()
                value.backward()
                optimizer.step()
            except (OverflowError, ValueError, ZeroDivisionError):
                diverged = True
                break
            lrs.append(rate)
            losses.append(value.data)
            avg = (1.0 - beta) * avg + beta * value.data
            s = avg / (1.0 - (1.0 - beta) ** (i + 1))
            smoothed.append(s)
            best = min(best, s)
            if s > factor * best and i > 0:
                diverged = True
                break
    finally:
        for p, v in zip(params, saved):
            p.data = v
        zero_grad(params)
        optimizer.reset()
    if not lrs:
        raise ValueError("lr_range_test: the loss failed at the very first rate; lower start_lr")
    k = min(range(len(smoothed)), key=smoothed.__getitem__)
    steepest = 0
    if len(smoothed) > 1:
        slopes = [
            (smoothed[j + 1] - smoothed[j]) / (math.log(lrs[j + 1]) - math.log(lrs[j]))
            for j in range(len(smoothed) - 1)
        ]
        steepest = min(range(len(slopes)), key=slopes.__getitem__)
    return LRRangeResult(lrs, losses, smoothed, lrs[k], lrs[steepest], diverged)
