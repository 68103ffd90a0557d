"""Optimizers (SGD, Adam, AdamW), learning-rate schedules and a learning-rate range test.

The update rules follow PyTorch's formulas for the same settings, written out in each class's
docstring. Optimizers read each gradient as a float (the ``data`` of a ``Value`` gradient after
``backward(create_graph=True)``) and write ``p.data``; they build no graph. The same rule also
updates parameter values held in one numpy array (:meth:`Optimizer.step_array`, used by replayed
training), with the per-parameter state kept as arrays until :meth:`Optimizer.sync_state`.
Imports: the standard library, :mod:`micrograd_x.engine` and (for arrays, when used) numpy.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from micrograd_x.engine import Value, zero_grad

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Constant",
    "CosineAnnealing",
    "Exponential",
    "LRRangeResult",
    "Linear",
    "Optimizer",
    "ParamGroup",
    "Schedule",
    "StepDecay",
    "WarmupDecay",
    "lr_range_test",
]


def _number(where: str, name: str, v: object, low: float = 0.0, strict: bool = False) -> float:
    """Check a hyper-parameter: a finite real number >= low (> low when strict)."""
    if type(v) is float and v - v == 0.0 and (v > low or (v == low and not strict)):
        return v  # the common case (a schedule sets the rate every step), without ABC checks
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{where}: {name} must be a finite number, got {v!r}")
    f = float(v)
    if f < low or (strict and f == low):
        raise ValueError(f"{where}: {name} must be {'>' if strict else '>='} {low}, got {v!r}")
    return f


def _grad(p: Value) -> float:
    """A parameter's gradient as a float (a Value gradient, from create_graph, gives its data)."""
    g: Any = p.grad
    return float(g.data) if isinstance(g, Value) else float(g)


def _sqrt(v: Any) -> Any:
    if isinstance(v, float):
        return math.sqrt(v)
    import numpy as np

    return np.sqrt(v)


@dataclass
class ParamGroup:
    """Parameters that share hyper-parameters; change ``lr`` (or any other) between steps.

    Attributes:
        params: The parameters.
        lr: The learning rate.
        options: The optimizer's other hyper-parameters for this group (momentum, betas, ...).
    """

    params: list[Value]
    lr: float
    options: dict[str, Any] = field(default_factory=dict)


class Optimizer(ABC):
    """Base class: parameter groups, per-parameter state, ``step`` and ``zero_grad``.

    Args:
        params: Parameters, or mappings ``{"params": [...], "lr": ..., <option>: ...}`` (one per
            group; missing options take the optimizer's defaults).
        lr: The default learning rate.
        defaults: The optimizer's default options.

    Raises:
        ValueError: If there are no parameters, a parameter appears twice, or an option is
            invalid.
        TypeError: If a parameter is not a ``Value``.
    """

    def __init__(
        self,
        params: Iterable[Value] | Iterable[Mapping[str, Any]],
        lr: float,
        defaults: dict[str, Any],
    ) -> None:
        name = type(self).__name__
        items = list(params)
        if not items:
            raise ValueError(f"{name}: got an empty parameter list")
        specs = items if isinstance(items[0], Mapping) else [{"params": items}]
        self.param_groups: list[ParamGroup] = []
        seen: set[int] = set()
        for spec in specs:
            if not isinstance(spec, Mapping):
                raise TypeError(f"{name}: mix of parameters and group mappings in params")
            unknown = set(spec) - {"params", "lr", *defaults}
            if unknown:
                raise ValueError(f"{name}: unknown option(s) {sorted(unknown)}")
            ps = list(spec["params"])
            for p in ps:
                if not isinstance(p, Value):
                    raise TypeError(f"{name}: parameters must be Values, got {type(p).__name__}")
                if id(p) in seen:
                    raise ValueError(f"{name}: parameter {p!r} appears more than once")
                seen.add(id(p))
            opts = {k: spec.get(k, v) for k, v in defaults.items()}
            group = ParamGroup(ps, _number(name, "lr", spec.get("lr", lr)), opts)
            self._check(group)
            self.param_groups.append(group)
        self.state: dict[int, dict[str, float]] = {}
        self.steps = 0
        # While step_array runs: each group's state as arrays (None: self.state is current).
        self._arrays: list[dict[str, Any]] | None = None
        # The order of each group's parameters in step_array's arrays (None: group order).
        self._order: list[list[Value]] | None = None

    def _check(self, group: ParamGroup) -> None:  # noqa: B027 - optional hook, no-op by default
        """Validate a group's options (overridden by each optimizer that has any)."""

    @property
    def params(self) -> list[Value]:
        """Every parameter, group by group."""
        return [p for g in self.param_groups for p in g.params]

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's."""
        return self.param_groups[0].lr

    @lr.setter
    def lr(self, value: float) -> None:
        v = _number(type(self).__name__, "lr", value)
        for g in self.param_groups:
            g.lr = v

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        zero_grad(self.params)

    def reset(self) -> None:
        """Forget the per-parameter state (momentum buffers, moment estimates) and step count."""
        self.state.clear()
        self._arrays = None
        self.steps = 0

    def array_order(self, preferred: Sequence[Value] = ()) -> list[Value]:
        """Choose (and return) the order of the parameters in :meth:`step_array`'s arrays.

        Group by group (each group is one contiguous range), each group's parameters in their
        order in ``preferred``, then those not in it in group order. The update of a parameter
        does not depend on its neighbours, so any order gives the same result; a caller picks
        one that keeps its own blocks contiguous (a layer's weight matrix).

        Args:
            preferred: Parameters in the order wanted.

        Returns:
            Every parameter, in the arrays' order.
        """
        self.sync_state()
        rank = {id(p): i for i, p in enumerate(preferred)}
        order: list[list[Value]] = []
        for grp in self.param_groups:
            first = sorted((p for p in grp.params if id(p) in rank), key=lambda p: rank[id(p)])
            order.append(first + [p for p in grp.params if id(p) not in rank])
        self._order = order
        return [p for ps in order for p in ps]

    def _group_order(self) -> list[list[Value]]:
        if self._order is None or [len(o) for o in self._order] != [
            len(g.params) for g in self.param_groups
        ]:
            self._order = [list(g.params) for g in self.param_groups]
        return self._order

    def step_array(self, x: NDArray[Any], g: NDArray[Any]) -> None:
        """Update parameter values held in one array, in place, by the same rule as :meth:`step`.

        The parameters' ``Value``s are not touched (write ``x`` back into their ``data`` when
        needed); the per-parameter state lives in arrays until :meth:`sync_state` (which
        :meth:`step` calls itself).

        Args:
            x: The values of :attr:`params`, in the order of :meth:`array_order` (float64,
                shape ``(n,)``; by default the order of :attr:`params`).
            g: Their gradients, same shape.

        Raises:
            ValueError: If the arrays do not have one entry per parameter.
            OverflowError: If an update is not finite (nothing is changed then).
        """
        import numpy as np

        n_all = sum(len(grp.params) for grp in self.param_groups)
        if x.shape != (n_all,) or g.shape != (n_all,):
            raise ValueError(
                f"{type(self).__name__}.step_array: expected arrays of shape ({n_all},), got "
                f"{x.shape} and {g.shape}"
            )
        order = self._group_order()
        if self._arrays is None:
            self._arrays = [self._group_arrays(ps) for ps in order]
        news: list[tuple[slice, Any]] = []
        states: list[dict[str, Any]] = []
        off = 0
        finite = math.isfinite
        add = np.add.reduce
        with np.errstate(all="ignore"):  # a non-finite update is reported below
            for group, arrays, ps in zip(self.param_groups, self._arrays, order):
                n = len(ps)
                sl = slice(off, off + n)
                off += n
                st = dict(arrays)
                new = self._update(x[sl], g[sl], st, group)
                if st:
                    st = {
                        k: np.array(np.broadcast_to(v, (n,)), dtype=np.float64)
                        for k, v in st.items()
                    }
                # A finite sum means every term is finite; only a non-finite one needs a scan.
                ok = finite(float(add(new, axis=None))) or bool(np.isfinite(new).all())
                for v in st.values():
                    ok = ok and (finite(float(add(v, axis=None))) or bool(np.isfinite(v).all()))
                if not ok:
                    bad = ~np.isfinite(np.broadcast_to(new, (n,)))
                    for v in st.values():
                        bad |= ~np.isfinite(v)
                    j = int(np.flatnonzero(bad)[0])
                    raise OverflowError(
                        f"{type(self).__name__}.step: the update of {ps[j]!r} is not finite "
                        f"(grad {float(g[sl][j])!r}, lr {group.lr!r}); lower the learning rate"
                    )
                news.append((sl, new))
                states.append(st)
        self.steps += 1
        for sl, new in news:
            x[sl] = new
        self._arrays = states

    def _group_arrays(self, params: list[Value]) -> dict[str, Any]:
        import numpy as np

        states = [self.state.get(id(p), {}) for p in params]
        keys = {k for st in states for k in st}
        out: dict[str, Any] = {}
        for k in keys:
            if not all(k in st for st in states):
                raise ValueError(
                    f"{type(self).__name__}: some parameters have a {k!r} state and others not; "
                    "update them with step()"
                )
            out[k] = np.array([st[k] for st in states], dtype=np.float64)
        return out

    def sync_state(self) -> None:
        """Write the state kept as arrays by :meth:`step_array` back into :attr:`state`."""
        if self._arrays is None:
            return
        for ps, arrays in zip(self._group_order(), self._arrays):
            cols = {k: v.tolist() for k, v in arrays.items()}
            for j, p in enumerate(ps):
                self.state[id(p)] = {k: vals[j] for k, vals in cols.items()}
        self._arrays = None

    def step(self) -> None:
        """Update every parameter from its ``grad``, group by group.

        Raises:
            OverflowError: If an update makes a parameter non-finite (nothing is changed then:
                not the parameters, not the optimizer's state, not its step count).
        """
        self.sync_state()
        # Updates go to copies of the per-parameter state, committed only once every new value
        # is finite, so a failed step leaves no half-updated momentum or moment estimates.
        updates: list[tuple[Value, float, dict[str, float]]] = []
        for group in self.param_groups:
            for p in group.params:
                st = dict(self.state.get(id(p), ()))
                g = _grad(p)
                new = self._update(p.data, g, st, group)
                if not (math.isfinite(new) and all(map(math.isfinite, st.values()))):
                    raise OverflowError(
                        f"{type(self).__name__}.step: the update of {p!r} is not finite "
                        f"(grad {g!r}, lr {group.lr!r}); lower the learning rate"
                    )
                updates.append((p, new, st))
        self.steps += 1
        for p, new, st in updates:
            p.data = new
            self.state[id(p)] = st

    @abstractmethod
    def _update(self, x: Any, g: Any, state: dict[str, Any], group: ParamGroup) -> Any:
        """The new value of a parameter ``x`` with gradient ``g``: floats, or arrays of a group."""

    def __repr__(self) -> str:
        groups = "; ".join(
            f"{len(g.params)} params, lr={g.lr:g}"
            + "".join(f", {k}={v!r}" for k, v in g.options.items())
            for g in self.param_groups
        )
        return f"{type(self).__name__}({groups})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and weight decay.

    PyTorch's ``torch.optim.SGD`` update, for gradient ``g`` and parameter ``p``::

        g ← g + weight_decay·p
        if momentum ≠ 0:
            b ← g                                   (first step)
            b ← momentum·b + (1 − dampening)·g      (later steps)
            g ← g + momentum·b  if nesterov  else  b
        p ← p − lr·g

    Args:
        params: Parameters or parameter-group mappings.
        lr: The learning rate.
        momentum: The momentum factor, >= 0.
        dampening: Dampening of the momentum, >= 0.
        weight_decay: L2 penalty added to the gradient, >= 0.
        nesterov: Use Nesterov momentum (needs momentum > 0 and dampening 0).

    Raises:
        ValueError: If an option is out of range.
    """

    def __init__(
        self,
        params: Iterable[Value] | Iterable[Mapping[str, Any]],
        lr: float = 0.01,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
        }
        super().__init__(params, lr, defaults)

    def _check(self, group: ParamGroup) -> None:
        o = group.options
        for k in ("momentum", "dampening", "weight_decay"):
            o[k] = _number("SGD", k, o[k])
        o["nesterov"] = bool(o["nesterov"])
        if o["nesterov"] and (o["momentum"] <= 0.0 or o["dampening"] != 0.0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening 0")

    def _update(self, x: Any, g: Any, state: dict[str, Any], group: ParamGroup) -> Any:
        o = group.options
        wd: float = o["weight_decay"]
        if wd:
            g = g + wd * x
        mu: float = o["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            buf = g if buf is None else mu * buf + (1.0 - o["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + mu * buf if o["nesterov"] else buf
        return x - group.lr * g


class Adam(Optimizer):
    """Adam, with optional L2 weight decay added to the gradient (PyTorch's ``torch.optim.Adam``).

    At step ``t`` (from 1), for gradient ``g`` and parameter ``p``::

        g ← g + weight_decay·p
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + eps)

    Args:
        params: Parameters or parameter-group mappings.
        lr: The learning rate.
        betas: The decay rates (β₁, β₂) of the moment estimates, each in [0, 1).
        eps: Added to the denominator, > 0.
        weight_decay: L2 penalty added to the gradient, >= 0.

    Raises:
        ValueError: If an option is out of range.
    """

    _decoupled = False

    def __init__(
        self,
        params: Iterable[Value] | Iterable[Mapping[str, Any]],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, {"betas": betas, "eps": eps, "weight_decay": weight_decay})

    def _check(self, group: ParamGroup) -> None:
        o = group.options
        name = type(self).__name__
        betas = o["betas"]
        if not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (β₁, β₂), got {betas!r}")
        b1, b2 = (_number(name, "betas", b) for b in betas)
        if not (b1 < 1.0 and b2 < 1.0):
            raise ValueError(f"{name}: betas must be in [0, 1), got {betas!r}")
        o["betas"] = (b1, b2)
        o["eps"] = _number(name, "eps", o["eps"], strict=True)
        o["weight_decay"] = _number(name, "weight_decay", o["weight_decay"])

    def _update(self, x: Any, g: Any, state: dict[str, Any], group: ParamGroup) -> Any:
        o = group.options
        lr = group.lr
        b1: float = o["betas"][0]
        b2: float = o["betas"][1]
        eps: float = o["eps"]
        wd: float = o["weight_decay"]
        if wd:
            if self._decoupled:
                x = x * (1.0 - lr * wd)
            else:
                g = g + wd * x
        t = state.get("step", 0.0) + 1.0
        m = b1 * state.get("exp_avg", 0.0) + (1.0 - b1) * g
        v = b2 * state.get("exp_avg_sq", 0.0) + (1.0 - b2) * g * g
        state["step"], state["exp_avg"], state["exp_avg_sq"] = t, m, v
        # Written for floats and numpy arrays alike (step_array); ** is C's pow, as math.pow.
        step_size = lr / (1.0 - b1**t)
        denom = _sqrt(v) / _sqrt(1.0 - b2**t) + eps
        return x - step_size * (m / denom)


class AdamW(Adam):
    """AdamW: Adam with weight decay decoupled from the gradient (PyTorch's ``torch.optim.AdamW``).

    Each step first shrinks the parameter, ``p ← p·(1 − lr·weight_decay)``, then applies the Adam
    update with the raw gradient (see :class:`Adam`).

    Args:
        params: Parameters or parameter-group mappings.
        lr: The learning rate.
        betas: The decay rates (β₁, β₂), each in [0, 1).
        eps: Added to the denominator, > 0.
        weight_decay: The decoupled decay, >= 0 (PyTorch's default 0.01).

    Raises:
        ValueError: If an option is out of range.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value] | Iterable[Mapping[str, Any]],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


# -- schedules --------------------------------------------------------------------------------


def _steps(where: str, name: str, v: object, low: int = 1) -> int:
    if type(v) is int and v >= low:
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"{where}: {name} must be an integer >= {low}, got {v!r}")
    return int(v)


class Schedule(ABC):
    """A learning rate as a function of the step (0 for the first step): ``schedule(step)``.

    Each schedule is the closed form of the PyTorch scheduler named in its docstring, with
    ``base_lr`` the optimizer's initial learning rate.

    Args:
        base_lr: The initial learning rate, > 0.
    """

    def __init__(self, base_lr: float) -> None:
        self.base_lr = _number(type(self).__name__, "base_lr", base_lr, strict=True)

    def __call__(self, step: int) -> float:
        """The learning rate at ``step``.

        Raises:
            ValueError: If ``step`` is not a non-negative integer.
        """
        return self.lr(_steps(type(self).__name__, "step", step, low=0))

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
        self.step_size = _steps("StepDecay", "step_size", step_size)
        self.gamma = _number("StepDecay", "gamma", gamma, strict=True)

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
        self.gamma = _number("Exponential", "gamma", gamma, strict=True)

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
        self.total_steps = _steps("Linear", "total_steps", total_steps)
        self.start_factor = _number("Linear", "start_factor", start_factor, strict=True)
        self.end_factor = _number("Linear", "end_factor", end_factor)

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
        self.total_steps = _steps("CosineAnnealing", "total_steps", total_steps)
        self.min_lr = _number("CosineAnnealing", "min_lr", min_lr)

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
        self.warmup_steps = _steps("WarmupDecay", "warmup_steps", warmup_steps, low=0)
        self.total_steps = _steps("WarmupDecay", "total_steps", total_steps, low=1)
        if self.total_steps <= self.warmup_steps:
            raise ValueError(
                f"WarmupDecay: total_steps ({total_steps}) must exceed warmup_steps "
                f"({warmup_steps})"
            )
        self.start_factor = _number("WarmupDecay", "start_factor", start_factor, strict=True)
        if self.start_factor > 1.0:
            raise ValueError(f"WarmupDecay: start_factor must be <= 1, got {start_factor!r}")
        self.min_lr = _number("WarmupDecay", "min_lr", min_lr)
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
    start = _number("lr_range_test", "start_lr", start_lr, strict=True)
    end = _number("lr_range_test", "end_lr", end_lr, strict=True)
    if end <= start:
        raise ValueError(f"lr_range_test: end_lr ({end_lr!r}) must exceed start_lr ({start_lr!r})")
    n = _steps("lr_range_test", "steps", steps, low=2)
    if mode not in ("exponential", "linear"):
        raise ValueError(f"lr_range_test: mode must be 'exponential' or 'linear', got {mode!r}")
    beta = _number("lr_range_test", "smoothing", smoothing, strict=True)
    if beta > 1.0:
        raise ValueError(f"lr_range_test: smoothing must be in (0, 1], got {smoothing!r}")
    factor = _number("lr_range_test", "diverge_factor", diverge_factor, low=1.0, strict=True)

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
