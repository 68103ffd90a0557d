"""Optimizers: SGD, Adam and AdamW.

The update rules follow PyTorch's formulas for the same settings, written out in each class's
docstring. Optimizers read each gradient as a float (the ``data`` of a ``Value`` gradient after
``backward(create_graph=True)``) and write ``p.data``; they build no graph. The same rule also
updates parameter values held in one numpy array (:meth:`Optimizer.step_array`, used by replayed
training), with the per-parameter state kept as arrays until :meth:`Optimizer.sync_state`.
The learning-rate schedules and the range test live in :mod:`micrograd_x.schedules`; this module
re-exports them, so ``optim.Linear``, ``optim.lr_range_test`` and so on keep working.
Imports: the standard library, :mod:`micrograd_x.engine`, :mod:`micrograd_x.schedules`,
:mod:`micrograd_x._hyper` and (for arrays, when used) numpy.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from micrograd_x._hyper import number
from micrograd_x.engine import Value, zero_grad
from micrograd_x.schedules import (
    Constant,
    CosineAnnealing,
    Exponential,
    Linear,
    LRRangeResult,
    Schedule,
    StepDecay,
    WarmupDecay,
    lr_range_test,
)

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
            group = ParamGroup(ps, number(name, "lr", spec.get("lr", lr)), opts)
            self._check(group)
            self.param_groups.append(group)
        self._state: dict[int, dict[str, float]] = {}
        self.steps = 0
        # While step_array runs: each group's state as arrays (None: self._state is current).
        self._arrays: list[dict[str, Any]] | None = None
        # The order of each group's parameters in step_array's arrays (None: group order).
        self._order: list[list[Value]] | None = None

    def _check(self, group: ParamGroup) -> None:  # noqa: B027 - optional hook, no-op by default
        """Validate a group's options (overridden by each optimizer that has any)."""

    @property
    def state(self) -> dict[int, dict[str, float]]:
        """Per-parameter state (momentum buffers, moment estimates), keyed by ``id(param)``.

        After :meth:`step_array` the state lives in arrays; reading this attribute writes it
        back first (:meth:`sync_state`), so it is always current, and costs nothing per step
        when nobody reads it. The dict is the same object every time: one kept from an earlier
        read is brought up to date when the attribute is read again (``fit`` does at its end).
        """
        self.sync_state()
        return self._state

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
        v = number(type(self).__name__, "lr", value)
        for g in self.param_groups:
            g.lr = v

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0."""
        zero_grad(self.params)

    def reset(self) -> None:
        """Forget the per-parameter state (momentum buffers, moment estimates) and step count."""
        self._state.clear()
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

        states = [self._state.get(id(p), {}) for p in params]
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
        """Write the state kept as arrays by :meth:`step_array` back into :attr:`state`.

        Reading :attr:`state` calls this; there is no need to call it by hand.
        """
        if self._arrays is None:
            return
        for ps, arrays in zip(self._group_order(), self._arrays):
            if not arrays:
                continue  # a rule without state (plain SGD): nothing to write
            cols = {k: v.tolist() for k, v in arrays.items()}
            for j, p in enumerate(ps):
                self._state[id(p)] = {k: vals[j] for k, vals in cols.items()}
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
                st = dict(self._state.get(id(p), ()))
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
            self._state[id(p)] = st

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
            o[k] = number("SGD", k, o[k])
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
        b1, b2 = (number(name, "betas", b) for b in betas)
        if not (b1 < 1.0 and b2 < 1.0):
            raise ValueError(f"{name}: betas must be in [0, 1), got {betas!r}")
        o["betas"] = (b1, b2)
        o["eps"] = number(name, "eps", o["eps"], strict=True)
        o["weight_decay"] = number(name, "weight_decay", o["weight_decay"])

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
