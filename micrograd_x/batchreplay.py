"""Replay with a batch axis: capture a model's graph for one sample, run it for a whole batch.

The idea of ``jax.vmap``: :class:`BatchReplay` builds the model's graph once, for one sample
whose inputs are placeholders, and compiles it so that every node holds a vector over the batch
while the parameters stay shared. A layer's neurons (``dot`` nodes whose weights are parameters
and whose inputs are the previous layer's outputs) become one dense matrix product on a
contiguous block of rows (bias broadcast; the bias gradient is a row sum); activations and other
elementwise ops run on whole blocks (the groups are in :mod:`micrograd_x.batchgroups`). Capture
cost depends on the model, not on the data: the graph of one sample. The parameters are one flat
array, in an order the caller gives.

The loss is not part of the captured graph: the caller reduces the batch's outputs (see
:mod:`micrograd_x.lossspec`). As with :mod:`micrograd_x.replay`, the structure is fixed at capture:
only models whose forward pass never looks at values qualify
(:meth:`micrograd_x.nn.Module.has_static_graph`). Imports numpy and the micrograd_x modules
``ops``, ``engine``, ``nn``, ``kernels``, ``batchgroups`` and ``replaygroups``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.batchgroups import BatchElementwise, BatchSlot, DenseGroup, all_distinct
from micrograd_x.engine import Parameter, Value, topological_order
from micrograd_x.kernels import KERNELS
from micrograd_x.nn import MLP, Layer, Module, Neuron
from micrograd_x.replaygroups import as_slice

__all__ = ["BatchReplay", "NotBatchableError", "dense_order"]

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Sel = slice | Index


def dense_order(model: Module) -> list[Value]:
    """The model's parameters with each layer's weights as one neuron-major block, then biases.

    In a flat array in this order, a layer's weight matrix and bias vector are contiguous
    (:class:`BatchReplay` then reads them as views). Modules other than :class:`Neuron`,
    :class:`Layer` and :class:`MLP` keep :meth:`Module.parameters`' order.
    """
    if isinstance(model, MLP):
        layers: list[list[Neuron]] = [list(layer.neurons) for layer in model.layers]
    elif isinstance(model, Layer):
        layers = [list(model.neurons)]
    elif isinstance(model, Neuron):
        layers = [[model]]
    else:
        return list(model.parameters())
    out: list[Value] = []
    for neurons in layers:
        out += [w for n in neurons for w in n.w]
        out += [n.b for n in neurons if n.b is not None]
    return out


class NotBatchableError(TypeError):
    """The model's graph has a part that cannot run over a batch axis (use whole-graph replay)."""


class BatchReplay:
    """A model's one-sample graph, compiled to run forward and backward over a batch.

    Args:
        model: The model; its forward pass must have a static structure.
        params: The parameters in the order of the flat arrays passed to :meth:`forward`
            (every parameter the model uses must be there; others may be too).

    Attributes:
        n_nodes: Number of computed nodes of the one-sample graph.
        n_groups: Number of array operations per sweep.

    Raises:
        NotBatchableError: If the graph has a node this compiler does not batch (an n-ary node
            other than a layer's ``dot``, or a node that depends on parameters only).
    """

    def __init__(self, model: Module, params: Sequence[Value]) -> None:
        where = {id(p): i for i, p in enumerate(params)}
        nin = model.nin
        xs = [Value(0.0, label=f"x{i + 1}") for i in range(nin)]
        outs = model.forward(xs)
        kind: dict[int, tuple[str, Any]] = {id(x): ("B", i) for i, x in enumerate(xs)}
        depth: dict[int, int] = {id(x): 0 for x in xs}
        order: list[Value] = []
        seen: set[int] = set()
        for out in outs:
            for node in topological_order(out):
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
        groups: dict[tuple[Any, ...], list[Value]] = {}
        for node in order:
            key = id(node)
            if key in kind:
                continue
            if key in where:
                kind[key] = ("P", where[key])
                continue
            if node.is_leaf:
                if isinstance(node, Parameter):
                    raise NotBatchableError(
                        f"batch replay: the model uses the leaf {node!r}, which is not among the "
                        "parameters"
                    )
                kind[key] = ("C", node.data)
                continue
            ds = [depth[id(p)] for p in node.parents if id(p) in depth]
            if not ds:
                raise NotBatchableError(
                    f"batch replay: the node {node!r} depends on parameters only"
                )
            depth[key] = 1 + max(ds)
            op = node.op
            assert op is not None
            if op not in KERNELS:
                raise NotBatchableError(f"batch replay: the op {op.name!r} has no numpy kernel")
            sig = tuple(kind[id(p)][0] if id(p) not in depth else "B" for p in node.parents)
            opts = tuple(sorted((node.params or {}).items()))
            groups.setdefault((depth[key], op.name, opts, sig), []).append(node)
            kind[key] = ("N", None)
        rows: dict[int, int] = {id(x): i for i, x in enumerate(xs)}
        self._nin = nin
        self._groups: list[BatchElementwise | DenseGroup] = []
        start = nin
        at = {id(node): i for i, node in enumerate(order)}
        for gkey in sorted(groups, key=lambda k: (k[0], at[id(groups[k][0])])):
            members = groups[gkey]
            op = members[0].op
            assert op is not None
            slots_kind = gkey[3]

            def pos(p: Value) -> int:
                k, v = kind[id(p)]
                return int(rows[id(p)] if k in ("B", "N") else v) if k != "C" else 0

            # Members in the order of their first parent: neuron order for a layer, and the
            # order of the previous block for an activation, so blocks stay consecutive.
            members.sort(key=lambda m: [pos(p) for p in m.parents[:2]])
            grp: BatchElementwise | DenseGroup
            if op is ops.DOT:
                grp = self._dense(start, members, slots_kind, pos)
            elif len(slots_kind) <= 2:
                slots: list[BatchSlot] = []
                for j, sk in enumerate(slots_kind):
                    if sk == "C":
                        vals = np.array([[float(m.parents[j].data)] for m in members])
                        slots.append(BatchSlot("C", np.zeros(len(members), np.intp), vals))
                    else:
                        idx = np.array([pos(m.parents[j]) for m in members], np.intp)
                        slots.append(BatchSlot(sk, idx))
                opts_d = dict(members[0].params or {})
                grp = BatchElementwise(op, opts_d, start, len(members), slots)
            else:
                raise NotBatchableError(f"batch replay: the {len(slots_kind)}-ary {op.name} node")
            for m in members:
                rows[id(m)] = start
                start += 1
            self._groups.append(grp)
        self._out_rows = np.array([rows[id(o)] for o in outs], np.intp)
        self._out_sel = as_slice(self._out_rows)
        # How many gradient contributions each row gets in backward: rows that get exactly one
        # are written by it (no zeroing, no addition); the others are zeroed first.
        count = np.zeros(start, np.intp)
        np.add.at(count, self._out_rows, 1)
        for grp in self._groups:
            for target in grp.targets():
                np.add.at(count, target, 1)
        for grp in self._groups:
            grp.plan(count)
        zero = np.flatnonzero(count[nin:] != 1) + nin
        self._zero: Sel | None = as_slice(zero.astype(np.intp)) if len(zero) else None
        # The same for the parameters' gradients: a layer whose weights and biases get no
        # other contribution writes them; every other entry of gP is zeroed first.
        count_p = np.zeros(len(params), np.intp)
        for grp in self._groups:
            for target in grp.param_targets():
                np.add.at(count_p, target, 1)
        written = np.zeros(len(params), bool)
        for grp in self._groups:
            for target in grp.plan_params(count_p):
                written[target] = True
        zero_p = np.flatnonzero(~written).astype(np.intp)
        self._zero_params: Sel | None = as_slice(zero_p) if len(zero_p) else None
        # An output that also feeds another node (or appears twice) is added into.
        self._add_out = bool(np.any(count[self._out_rows] != 1))
        self._n_rows = start
        self._nin = nin
        self.n_nodes = start - nin
        self.n_groups = len(self._groups)
        self._buffers: dict[int, tuple[Array, Array]] = {}
        self._V: Array | None = None
        # The arrays the groups hold views of (bound again when a sweep gets others).
        self._bound: tuple[Array, Array] | None = None
        self._bound_grads: tuple[Array, Array] | None = None

    def _dense(
        self, start: int, members: list[Value], kinds: tuple[str, ...], pos: Any
    ) -> DenseGroup:
        n = len(members[0].parents)
        k = n // 2
        has_bias = n % 2 == 1
        w_kinds, x_kinds = set(kinds[:k]), set(kinds[k : 2 * k])
        if w_kinds == {"B"}:  # dot(inputs, weights): the same sum
            w_kinds, x_kinds = x_kinds, {"B"}
            w_first = False
        else:
            w_first = True
        if w_kinds != {"P"} or x_kinds != {"B"} or (has_bias and kinds[-1] != "P"):
            raise NotBatchableError("batch replay: a dot node that is not a layer's")
        w = np.array(
            [
                [pos(p) for p in (m.parents[:k] if w_first else m.parents[k : 2 * k])]
                for m in members
            ],
            np.intp,
        )
        x = np.array(
            [
                [pos(p) for p in (m.parents[k : 2 * k] if w_first else m.parents[:k])]
                for m in members
            ],
            np.intp,
        )
        b = np.array([pos(m.parents[-1]) for m in members], np.intp) if has_bias else None
        both = w.ravel() if b is None else np.concatenate([w.ravel(), b])
        return DenseGroup(start, w, x, b, all_distinct(both), self._nin)

    def _buffers_for(self, batch: int) -> tuple[Array, Array]:
        buf = self._buffers.get(batch)
        if buf is None:
            if len(self._buffers) >= 2:  # the full batch and a last partial one
                self._buffers.clear()
            buf = (np.empty((self._n_rows, batch)), np.empty((self._n_rows, batch)))
            self._buffers[batch] = buf
        return buf

    def forward(self, P: Array, X: Array) -> Array:
        """The model's outputs for a batch: shape (samples, outputs).

        Args:
            P: The parameters' values, in the order given at construction.
            X: The inputs, shape (samples, inputs).

        Raises:
            FloatingPointError: If a value is not finite (eager mode names the op).
        """
        with np.errstate(all="ignore"):
            return self._forward(P, X)

    def backward(self, P: Array, g_out: Array, gP: Array) -> None:
        """The gradients of the last batch, given d(loss)/d(outputs), written into ``gP``.

        Args:
            P: The parameters' values (as for the last :meth:`forward`).
            g_out: d(loss)/d(outputs), shape (samples, outputs).
            gP: The parameters' gradient array; every entry is overwritten (0 for a parameter
                the model does not use).

        Raises:
            FloatingPointError: If a gradient is not finite.
        """
        with np.errstate(all="ignore"):
            self._backward(P, g_out, gP, True)

    def forward_backward(
        self,
        P: Array,
        X: Array,
        loss: Callable[[Array], tuple[float, Array]],
        gP: Array,
        check_grads: bool = True,
    ) -> tuple[Array, float]:
        """:meth:`forward`, a loss on the outputs, then :meth:`backward`, in one call.

        Args:
            P: The parameters' values.
            X: The inputs, shape (samples, inputs).
            loss: ``loss(outputs) -> (loss, d(loss)/d(outputs))``.
            gP: The parameters' gradient array, overwritten (as by :meth:`backward`).
            check_grads: Whether to check that the gradients are finite (``False``: the
                caller checks them).

        Returns:
            The outputs (samples × outputs) and the loss.

        Raises:
            FloatingPointError: If a value (or, when checked, a gradient) is not finite.
        """
        with np.errstate(all="ignore"):
            out = self._forward(P, X)
            value, g_out = loss(out)
            self._backward(P, g_out, gP, check_grads)
        return out, value

    def _bind(self, P: Array, V: Array) -> None:
        b = self._bound
        if b is None or b[0] is not P or b[1] is not V:
            for grp in self._groups:
                grp.bind(P, V)
            self._bound = (P, V)

    def _forward(self, P: Array, X: Array) -> Array:
        V, _ = self._buffers_for(X.shape[0])
        self._bind(P, V)
        V[: self._nin] = X.T
        for grp in self._groups:
            grp.forward(P, V)
        # A finite sum means every value is finite; only a non-finite one needs the scan.
        rest = V[self._nin :]
        if not math.isfinite(float(np.add.reduce(rest, axis=None))) and not np.isfinite(rest).all():
            raise FloatingPointError("batch replay: a value is not finite")
        self._V = V
        out: Array = V[self._out_sel].T
        return out

    def _backward(self, P: Array, g_out: Array, gP: Array, check: bool) -> None:
        V = self._V
        if V is None:
            raise RuntimeError("batch replay: call forward() before backward()")
        gV = self._buffers_for(V.shape[1])[1]
        self._bind(P, V)
        bg = self._bound_grads
        if bg is None or bg[0] is not gP or bg[1] is not gV:
            for grp in self._groups:
                grp.bind_grads(gP, gV)
            self._bound_grads = (gP, gV)
        if self._zero is not None:
            gV[self._zero] = 0.0
        if self._zero_params is not None:
            gP[self._zero_params] = 0.0
        if self._add_out:
            np.add.at(gV, self._out_rows, g_out.T)
        else:
            gV[self._out_sel] = g_out.T
        for grp in reversed(self._groups):
            grp.backward(P, V, gP, gV)
        # A finite sum means every gradient is finite; only a non-finite one needs the scan.
        if check and not math.isfinite(float(np.add.reduce(gP))) and not np.isfinite(gP).all():
            raise FloatingPointError("batch replay: a gradient is not finite")
