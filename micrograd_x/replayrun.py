"""How one training step runs: eagerly, replayed per sample over a batch axis, or replayed whole.

:class:`~micrograd_x.train.Trainer` picks a runner and switches when a callback changes what was
captured.

Every runner measures a step (loss, accuracy, gradient norm, with the gradients in place), then
updates. :class:`BatchRun` keeps the parameters in one flat numpy array through the replay and
the optimizer (:meth:`~micrograd_x.optim.Optimizer.step_array`). Before callbacks it marks the
parameters stale (:mod:`micrograd_x.staleparams`): the first read or write of one, however the
callback reaches it (the engine's ``w * x`` included), writes every value and gradient back; a
callback that never looks costs nothing per parameter. At the end of ``fit`` (and wherever the
trainer needs them) the ``Value``s are written back and have their own classes again.
:class:`Structure` tells cheaply whether a callback changed what a capture depends on.
Imports numpy and the micrograd_x modules ``engine``, ``nn``, ``lossspec``, ``batchreplay``,
``replay``, ``staleparams`` and ``ops``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter, eq
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x.batchreplay import BatchReplay, dense_order
from micrograd_x.engine import Value, zero_grad
from micrograd_x.lossspec import NamedLoss, ScoreAccuracy
from micrograd_x.nn import MLP, Layer, Module, Neuron
from micrograd_x.ops import DomainError
from micrograd_x.replay import Replay, capture
from micrograd_x.staleparams import StaleSet

if TYPE_CHECKING:
    from micrograd_x.train import Trainer

__all__ = ["BatchRun", "EagerRun", "GraphRun", "Measured", "Structure", "structure"]

Array = NDArray[np.float64]
Measured = tuple[float, "float | None", float, int]
"""``(loss, accuracy, gradient norm, batch size)`` of a measured step."""

_DATA = attrgetter("data")
_B = attrgetter("b")
_ACTIVATION = attrgetter("activation")


def structure(trainer: Trainer) -> tuple[Any, ...]:
    """What a capture depends on besides values: the loss, optimizer, accuracy and modules.

    Two equal results mean a captured step still computes what eager mode would. It lists the
    identity of the loss function, the optimizer and the accuracy rule, of every module (and
    each neuron's activation and bias) and of every parameter, in order. For a tree of
    :class:`~micrograd_x.nn.MLP`, :class:`~micrograd_x.nn.Layer` and
    :class:`~micrograd_x.nn.Neuron` the parameters are read from the neurons directly (a
    callback runs this after every step); other modules add ``model.parameters()``.
    """
    mods: list[Any] = []
    known = True
    todo: list[Module] = [trainer.model]
    while todo:
        m = todo.pop()
        mods.append(id(m))
        if type(m) is Neuron:
            # A neuron's parameters by identity in one C-level pass (no names built).
            mods.append((m.activation, id(m.b), tuple(map(id, m.w))))
        elif isinstance(m, Neuron):
            mods.append((m.activation, m.b is None, len(m.w)))
        known = known and type(m) in (MLP, Layer, Neuron)
        todo.extend(reversed(m.children()))
    if not known:
        mods.append(tuple(map(id, trainer.model.parameters())))
    return (id(trainer.loss_fn), id(trainer.optimizer), id(trainer.accuracy_fn), tuple(mods))


class Structure:
    """A snapshot of :func:`structure` that checks again in a few C-level passes.

    For a tree of exact :class:`~micrograd_x.nn.MLP`, :class:`~micrograd_x.nn.Layer` and
    :class:`~micrograd_x.nn.Neuron` it keeps every list the tree is made of (``layers``,
    ``neurons``, each neuron's ``w``) by its contents, and each neuron's ``b`` and
    ``activation``; :meth:`same` compares them again by identity without a Python loop. Other
    models are compared by :func:`structure` itself.

    Args:
        trainer: The trainer whose loss, optimizer, accuracy rule and model are kept.
    """

    def __init__(self, trainer: Trainer) -> None:
        self.key = structure(trainer)
        self.top = (trainer.loss_fn, trainer.optimizer, trainer.accuracy_fn, trainer.model)
        owners: list[Module] = []
        names: list[str] = []
        neurons: list[Neuron] = []
        todo: list[Module] = [trainer.model]
        self.fast = True
        while todo:
            m = todo.pop()
            if type(m) is Neuron:
                neurons.append(m)
                owners.append(m)
                names.append("w")
            elif type(m) is Layer or type(m) is MLP:
                owners.append(m)
                names.append("neurons" if type(m) is Layer else "layers")
                todo.extend(m.children())
            else:
                self.fast = False
                break
        self.owners, self.names, self.neurons = owners, names, neurons
        self.contents = list(map(list, map(getattr, owners, names)))
        self.bs = list(map(_B, neurons))
        self.acts = list(map(_ACTIVATION, neurons))

    def same(self, trainer: Trainer) -> bool:
        """Whether ``structure(trainer)`` still equals the snapshot's."""
        tr = trainer
        top = self.top
        if not (
            tr.loss_fn is top[0]
            and tr.optimizer is top[1]
            and tr.accuracy_fn is top[2]
            and tr.model is top[3]
        ):
            return False
        if not self.fast:
            return structure(tr) == self.key
        # Item by item, identity first (a list's items, a bias; an activation by equality),
        # with no copy made.
        neurons = self.neurons
        return (
            all(map(eq, map(getattr, self.owners, self.names), self.contents))
            and list(map(_B, neurons)) == self.bs
            and list(map(_ACTIVATION, neurons)) == self.acts
        )


def _grad_norm(params: Sequence[Value]) -> float:
    sq = 0.0
    for p in params:
        g = p.grad
        gf = g.data if isinstance(g, Value) else float(g)
        sq += gf * gf
    return math.sqrt(sq)


class EagerRun:
    """Build the loss graph of every batch, backpropagate, update with ``optimizer.step``."""

    kind = ""
    mode = "eager"

    def __init__(self, trainer: Trainer, X: Array, rows: list[list[float]], ys: list[Any]):
        self.trainer, self.X, self.rows, self.ys = trainer, X, rows, ys

    def batch(self, idx: NDArray[np.intp] | None) -> tuple[list[list[float]], list[Any]]:
        """The rows and targets of a batch (``None``: the whole training set)."""
        if idx is None:
            return self.rows, self.ys
        ids = idx.tolist()
        return [self.rows[i] for i in ids], [self.ys[i] for i in ids]

    def measure(self, idx: NDArray[np.intp] | None) -> Measured:
        """Loss, accuracy and gradient norm of a batch, with the gradients left in place."""
        tr = self.trainer
        bx, by = self.batch(idx)
        loss, preds = tr.loss_fn(tr.model, bx, by)
        # Leaves accumulate gradients: zero the model's (and the optimizer's, if it has others).
        zero_grad(tr.params)
        tr.optimizer.zero_grad()
        loss.backward()
        return loss.data, tr.accuracy_fn(preds, by), _grad_norm(tr.params), len(by)

    def full_accuracy(self) -> float | None:
        """The accuracy on the whole training set at the current parameters."""
        tr = self.trainer
        _, preds = tr.loss_fn(tr.model, self.rows, self.ys)
        return tr.accuracy_fn(preds, self.ys)

    def update(self) -> None:
        """The optimizer's update from the measured gradients."""
        self.trainer.optimizer.step()

    def write_back(self) -> None:
        """The ``Value``s are always current in eager mode."""

    def lend(self) -> None:
        """Before callbacks: the ``Value``s are always current in eager mode."""

    def read_back(self) -> None:
        """The ``Value``s are always current in eager mode."""


class BatchRun(EagerRun):
    """Replay one sample's captured graph over the batch; parameters as one flat array.

    Raises:
        NotBatchableError: If the model's graph cannot run over a batch axis.
        ValueError, TypeError: As the named loss would, for targets or options it refuses.
    """

    kind = "per-sample"
    mode = "replay"

    def __init__(self, trainer: Trainer, X: Array, rows: list[list[float]], ys: list[Any]):
        super().__init__(trainer, X, rows, ys)
        loss_fn = trainer.loss_fn
        assert isinstance(loss_fn, NamedLoss)
        self.loss_fn = loss_fn
        model, opt = trainer.model, trainer.optimizer
        # Each layer's weights as one contiguous (neurons × inputs) block, then its biases, so
        # the replay reads and writes them as views.
        preferred = dense_order(model)
        layout = opt.array_order(preferred)
        where = {id(p): i for i, p in enumerate(layout)}
        for p in [*preferred, *model.parameters()]:
            if id(p) not in where:
                where[id(p)] = len(layout)
                layout.append(p)
        self.layout = layout
        self.n_opt = len(opt.params)
        idx = np.array([where[id(p)] for p in model.parameters()], np.intp)
        n_model = len(idx)
        # The model's parameters in P: a slice when they are the first n_model entries in any
        # order (their L2 term and gradient norm are sums, and the L2 gradient is elementwise).
        self.model_idx: slice | NDArray[np.intp] = (
            slice(0, n_model) if bool(np.all(np.sort(idx) == np.arange(n_model))) else idx
        )
        self.replay = BatchReplay(model, layout)
        # The named loss checks its targets and options once, with its own errors: every
        # distinct target (the data's labels are a handful of values) at a zero prediction.
        self.y = np.asarray(ys, dtype=np.float64)
        distinct = np.unique(self.y).tolist()
        k = model.nout
        zeros: list[Any] = [[0.0] * k if loss_fn.spec.multi_output else 0.0 for _ in distinct]
        if loss_fn.spec.multi_output:
            distinct = [int(t) if float(t).is_integer() else t for t in distinct]
        try:
            loss_fn.spec.fn(zeros, distinct, **loss_fn.options)
        except (TypeError, ValueError):
            # Again on every sample, so the error names the sample as eager mode would.
            every: list[Any] = [[0.0] * k if loss_fn.spec.multi_output else 0.0 for _ in ys]
            loss_fn.spec.fn(every, ys, **loss_fn.options)
            raise
        self.P = np.fromiter((p.data for p in layout), np.float64, len(layout))
        self.G = np.zeros_like(self.P)
        self._l2_buf = np.empty(n_model)
        self._fresh = False  # whether the Values hold P and G
        self.lazy = StaleSet(layout, self._write)
        # A callback that reads the parameters at every step would pay two class swaps per
        # parameter and step: after a read, lend eagerly (write back at once) for a while,
        # twice as long each time a lazy lend is read again, up to _MAX_EAGER steps.
        self._eager_left = 0
        self._eager_next = 1
        self._lent_lazily = False

    def _accuracy(self, scores: Array, y: Array, idx: NDArray[np.intp] | None) -> float | None:
        acc = self.trainer.accuracy_fn
        if isinstance(acc, ScoreAccuracy):
            return acc.on_scores(scores, y)
        # A custom rule gets one prediction per sample, as in eager mode (constant Values).
        preds: list[Any] = [
            [Value(float(v)) for v in row]
            if len(row) > 1 or self.loss_fn.spec.multi_output
            else Value(float(row[0]))
            for row in scores.tolist()
        ]
        _, by = self.batch(idx)
        return acc(preds, by)

    def measure(self, idx: NDArray[np.intp] | None) -> Measured:
        """As :meth:`EagerRun.measure`; the gradients go to the flat array."""
        X, y = (self.X, self.y) if idx is None else (self.X[idx], self.y[idx])
        P, G = self.P, self.G
        # The replay writes every gradient (0 for the optimizer's parameters the model does
        # not use) and leaves checking them to the sum of squares below.
        scores, loss = self.replay.forward_backward(
            P, X, lambda s: self.loss_fn.batch_loss(s, y), G, check_grads=False
        )
        l2 = self.loss_fn.l2
        mi = self.model_idx
        gm = G[mi]
        if l2:
            pm = P[mi]
            loss = loss + float(pm @ pm) * l2
            # d(l2·Σp·p)/dp = l2·p + l2·p, as the product node's two partials give it; that
            # is (2·l2)·p exactly (doubling is exact), one product instead of two.
            if isinstance(mi, slice):
                gm += np.multiply(pm, l2 + l2, out=self._l2_buf)
            else:
                G[mi] += pm * (l2 + l2)
                gm = G[mi]
        if not math.isfinite(loss):
            raise FloatingPointError("replay: the loss is not finite")
        sq = float(gm @ gm)
        # Every gradient outside the model's is 0; a finite sum of squares means every one of
        # the model's is finite (an overflowing sum needs the scan).
        if not math.isfinite(sq) and not np.isfinite(gm).all():
            raise FloatingPointError("replay: a gradient is not finite")
        self._fresh = False
        return loss, self._accuracy(scores, y, idx), math.sqrt(sq), len(y)

    def full_accuracy(self) -> float | None:
        """As :meth:`EagerRun.full_accuracy`."""
        return self._accuracy(self.replay.forward(self.P, self.X), self.y, None)

    def update(self) -> None:
        """The optimizer's update, on the flat array."""
        self.trainer.optimizer.step_array(self.P[: self.n_opt], self.G[: self.n_opt])
        self._fresh = False

    def write_back(self) -> None:
        """Write the parameters' values and last gradients into their ``Value``s.

        Afterwards every parameter has its own class again (none is stale).
        """
        self.lazy.sync()
        self._write()

    def _write(self) -> None:
        # One C-level pass per attribute (map over setattr); nothing when already current.
        # The optimizer's state stays in arrays until someone reads Optimizer.state.
        if self._fresh:
            return
        layout = self.layout
        deque(map(setattr, layout, repeat("data"), self.P.tolist()), maxlen=0)
        deque(map(setattr, layout, repeat("grad"), self.G.tolist()), maxlen=0)
        self._fresh = True

    def lend(self) -> None:
        """Before callbacks: mark the parameters stale; the first read or write writes back.

        Nothing to do when they are still stale from an earlier step (nobody looked). For a
        while after a callback has read them, they are written back at once instead.
        """
        if self._eager_left:
            self._eager_left -= 1
            self.write_back()
        else:
            self.lazy.mark()
            self._lent_lazily = True

    def read_back(self) -> None:
        """After callbacks: read the ``Value``s' data again if a callback reached them."""
        if self.lazy.stale:
            self._eager_next = 1  # nobody read or wrote a parameter: the arrays are current
            return
        if self._lent_lazily:
            self._eager_left = self._eager_next
            self._eager_next = min(2 * self._eager_next, _MAX_EAGER)
        self._lent_lazily = False
        self.P[:] = np.fromiter(map(_DATA, self.layout), np.float64, len(self.layout))


_MAX_EAGER = 64
"""The most steps a :class:`BatchRun` lends its parameters eagerly after a lazy lend was read."""


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


class GraphRun(EagerRun):
    """Full-batch steps on one captured loss graph, re-captured if a frozen constant fails.

    For a custom ``loss_fn`` (or a model whose forward pass is not known to be static): the
    capture builds the graph eagerly at the current parameters; that step uses it directly (so
    a check compares the *next*, updated, step with eager mode), later steps replay it. After a
    replayed step only the predictions' ``data`` is current; ``Replay.sync`` brings the whole
    captured graph up to date, to draw it.
    """

    kind = "whole-graph"
    mode = "replay"

    def __init__(
        self, trainer: Trainer, X: Array, rows: list[list[float]], ys: list[Any], check: int
    ) -> None:
        super().__init__(trainer, X, rows, ys)
        self.check = check
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
        # The closure holds the loss function, model and data, not the trainer or this runner:
        # the captured Replay (kept as trainer.compiled) must not lead back to them, or the
        # trainer, model and graph would form a cycle that only the cyclic GC frees.
        built: list[tuple[Value, list[Any]]] = []
        loss_fn, model, rows, ys = tr.loss_fn, tr.model, self.rows, self.ys

        def build() -> Value:
            loss, preds = loss_fn(model, rows, ys)
            if not built:  # check mode builds again later: keep the captured graph's outputs
                built.append((loss, preds))
            return loss

        self.replay = tr.compiled = capture(build, self.inputs, check=self.check)
        loss, preds = built.pop()
        self.preds = preds
        acc = tr.accuracy_fn
        none = isinstance(acc, ScoreAccuracy) and acc.fn is None
        self.nodes = [] if none else _prediction_nodes(preds)
        return loss, preds

    def _run(self) -> tuple[float, list[Any]]:
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

    def measure(self, idx: NDArray[np.intp] | None) -> Measured:
        """As :meth:`EagerRun.measure`, on the whole training set, by the captured graph."""
        tr = self.trainer
        zero_grad(tr.params)
        tr.optimizer.zero_grad()
        loss, preds = self._run()
        return loss, tr.accuracy_fn(preds, self.ys), _grad_norm(tr.params), len(self.ys)
