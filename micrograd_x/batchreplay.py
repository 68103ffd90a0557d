"""Replay with a batch axis: capture a model's graph for one sample, run it for a whole batch.

The idea of ``jax.vmap``: :class:`BatchReplay` builds the model's graph once, for one sample
whose inputs are placeholders, and compiles it so that every node holds a vector over the batch
while the parameters stay shared. A layer's neurons (``dot`` nodes whose weights are parameters
and whose inputs are the previous layer's outputs) become one dense matrix product on a
contiguous block of rows (bias broadcast; the bias gradient is a row sum); activations and other
elementwise ops run on whole blocks. Capture cost depends on the model, not on the data: the
graph of one sample. The parameters are one flat array, in an order the caller gives.

The loss is not part of the captured graph: the caller reduces the batch's outputs (see
:mod:`micrograd_x.lossspec`). As with :mod:`micrograd_x.replay`, the structure is fixed at capture:
only models whose forward pass never looks at values qualify
(:meth:`micrograd_x.nn.Module.has_static_graph`). Imports numpy, :mod:`micrograd_x.ops`,
:mod:`micrograd_x.engine`, :mod:`micrograd_x.nn` and :mod:`micrograd_x.kernels`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.engine import Parameter, Value, topological_order
from micrograd_x.kernels import KERNELS, Kernel
from micrograd_x.nn import MLP, Layer, Module, Neuron

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


def _sel(rows: Index) -> Sel:
    """A slice for consecutive rows (a view, no copy), else the index array."""
    n = len(rows)
    if n and int(rows[-1]) - int(rows[0]) == n - 1 and bool(np.all(np.diff(rows) == 1)):
        return slice(int(rows[0]), int(rows[0]) + n)
    return rows


def _add(target: Array, where: Sel, c: Array, unique: bool) -> None:
    """``target[where] += c``, summing repeated indices."""
    if unique or isinstance(where, slice):
        target[where] += c
    else:
        np.add.at(target, where, c)


def _unique(idx: Index) -> bool:
    return len(set(idx.ravel().tolist())) == idx.size


class _Slot:
    """One input position of a group: batched rows of V, parameters of P, or constants."""

    __slots__ = ("assign", "idx", "kind", "sel", "unique", "values", "view")

    def __init__(self, kind: str, idx: Index, values: Array | None = None) -> None:
        self.kind = kind  # "B" (batched row), "P" (parameter), "C" (constant)
        self.idx = idx
        self.sel: Sel = _sel(idx)
        self.unique = _unique(idx)
        self.values = values
        # Whether this slot's gradient is the only one its rows get: written, not added.
        self.assign = False
        # The slot's input as a view of the bound arrays (None: gathered at every read).
        self.view: Array | None = None

    def bind(self, P: Array, V: Array) -> None:
        """Keep the slot's input as a view when it is one (a slice of rows, or constants)."""
        if self.kind == "C" or isinstance(self.sel, slice):
            self.view = self.read(P, V)
        else:
            self.view = None

    def read(self, P: Array, V: Array) -> Array:
        if self.kind == "B":
            return V[self.sel]
        if self.kind == "P":
            return P[self.sel][:, None]
        assert self.values is not None
        return self.values

    def send(self, gP: Array, gV: Array, c: Array) -> None:
        if self.kind == "B":
            if self.assign:
                gV[self.sel] = c
            else:
                _add(gV, self.sel, c, self.unique)
        elif self.kind == "P":
            _add(gP, self.sel, c.sum(axis=1), self.unique)


class _Elementwise:
    """Nodes of one unary or binary op: one kernel call on a block of rows."""

    def __init__(
        self, op: ops.Op, params: dict[str, float], start: int, n: int, slots: list[_Slot]
    ) -> None:
        self.start, self.stop = start, start + n
        self.params = params
        k: Kernel = KERNELS[op]
        self._f, self._d = k.forward, k.partials
        self._into = None if params else k.forward_into
        if params:
            self._f = functools.partial(k.forward, **params)
            self._d = functools.partial(k.partials, **params)
        self._slots = slots
        self._out: Array = np.empty((0, 0))
        self._gout: Array = np.empty((0, 0))
        # A unary op on a block of rows whose gradient it alone writes (an activation): its
        # input and input gradient as views, for the sweeps' shortest path.
        self._x1: Array | None = None
        self._gx1: Array | None = None

    def bind(self, P: Array, V: Array) -> None:
        """Take views of the arrays the next forward and backward sweeps read."""
        self._out = V[self.start : self.stop]
        for s in self._slots:
            s.bind(P, V)
        one = len(self._slots) == 1 and self._slots[0].kind == "B"
        self._x1 = self._slots[0].view if one else None

    def bind_grads(self, gP: Array, gV: Array) -> None:
        """Take views of the gradient arrays the next backward sweeps write."""
        self._gout = gV[self.start : self.stop]
        s0 = self._slots[0]
        one = len(self._slots) == 1 and s0.kind == "B" and s0.assign
        self._gx1 = gV[s0.sel] if one and isinstance(s0.sel, slice) else None

    def _inputs(self, P: Array, V: Array) -> list[Array]:
        return [s.read(P, V) if s.view is None else s.view for s in self._slots]

    def forward(self, P: Array, V: Array) -> None:
        x1 = self._x1
        if x1 is not None and self._into is not None:
            self._into(self._out, x1)
        elif x1 is not None:
            self._out[...] = self._f(x1)
        else:
            self._out[...] = self._f(*self._inputs(P, V))

    def backward(self, P: Array, V: Array, gP: Array, gV: Array) -> None:
        G = self._gout
        x1, gx1 = self._x1, self._gx1
        if x1 is not None and gx1 is not None:
            (d,) = self._d(self._out, x1)
            if not isinstance(d, float) and d.shape == G.shape:
                np.multiply(d, G, out=gx1)  # written in place: no temporary
                return
            parts = (d,)
        else:
            parts = self._d(self._out, *self._inputs(P, V))
        for slot, d in zip(self._slots, parts):
            if slot.kind == "C":
                continue
            if isinstance(d, float) and d == 0.0:
                if slot.assign:
                    gV[slot.sel] = 0.0
                continue
            if isinstance(d, float) and d == 1.0:
                c = G
            elif slot.assign and isinstance(slot.sel, slice) and np.shape(d) == G.shape:
                np.multiply(d, G, out=gV[slot.sel])  # written in place: no temporary
                continue
            else:
                c = d * G
                if c.shape != G.shape:
                    c = np.broadcast_to(c, G.shape)
            slot.send(gP, gV, c)

    def targets(self) -> list[Index]:
        """The batched rows this group sends gradients to, one array per slot."""
        return [s.idx for s in self._slots if s.kind == "B"]

    def param_targets(self) -> list[Index]:
        """The parameters this group adds gradients to."""
        return [s.idx for s in self._slots if s.kind == "P"]

    def plan_params(self, count: NDArray[np.intp]) -> list[Index]:
        """The parameters whose gradients this group writes (not adds): none."""
        return []

    def plan(self, count: NDArray[np.intp]) -> None:
        """Write (not add) the gradients of rows that get no other contribution."""
        for s in self._slots:
            if s.kind == "B":
                s.assign = s.unique and bool(np.all(count[s.idx] == 1))


class _Dense:
    """A layer: ``dot`` nodes with parameter weights and batched inputs, as one matrix product.

    ``out = W @ X + b`` with ``W`` (neurons × inputs) gathered from the parameters, ``X``
    (inputs × batch) the rows of the inputs (a view when they are consecutive rows, as a
    previous layer's outputs are) and ``b`` broadcast over the batch.
    """

    def __init__(
        self, start: int, w: Index, x: Index, b: Index | None, unique: bool, nin: int
    ) -> None:
        self.start, self.stop = start, start + w.shape[0]
        # Inputs that are all placeholders (the first layer) need no gradient.
        self._gx = bool(np.any(x >= nin))
        self._w = w
        self._wsel: Sel = _sel(w.ravel()) if unique else w
        self._shared = bool(np.all(x == x[0]))
        self._x: Sel | Index = _sel(x[0]) if self._shared else x
        self._b: Sel | None = None if b is None else _sel(b)
        self._bidx = b
        self._unique = unique
        self._xrows = x[0] if self._shared else x.ravel()
        self._assign = False
        # Whether the backward sweep writes (not adds) the weights' and biases' gradients.
        self._assign_params = False
        self._out: Array = np.empty((0, 0))
        self._gout: Array = np.empty((0, 0))
        self._Wv: Array | None = None
        self._gWv: Array | None = None
        self._Xv: Array | None = None
        self._gXv: Array | None = None
        self._bv: Array | None = None
        self._gbv: Array | None = None
        # Ones over the batch: the bias gradient is the product G @ ones (a BLAS call; numpy's
        # row sums of a short wide block are several times slower).
        self._ones: Array = np.empty(0)

    def targets(self) -> list[Index]:
        """The batched rows this group sends gradients to."""
        return [self._xrows] if self._gx else []

    def plan(self, count: NDArray[np.intp]) -> None:
        """Write (not add) the inputs' gradients when they get no other contribution."""
        self._assign = (
            self._shared and _unique(self._xrows) and bool(np.all(count[self._xrows] == 1))
        )

    def _param_idx(self) -> Index:
        w = self._w.ravel()
        return w if self._b is None else np.concatenate([w, np.asarray(self._bidx)])

    def param_targets(self) -> list[Index]:
        """The parameters this group sends gradients to."""
        return [self._param_idx()]

    def plan_params(self, count: NDArray[np.intp]) -> list[Index]:
        """Write (not add) the weights' and biases' gradients when they get no other one.

        Returns:
            The parameters whose gradients this group writes.
        """
        idx = self._param_idx()
        blocks = isinstance(self._wsel, slice) and (self._b is None or isinstance(self._b, slice))
        self._assign_params = (
            self._shared and self._unique and blocks and bool(np.all(count[idx] == 1))
        )
        return [idx] if self._assign_params else []

    def _weights(self, P: Array) -> Array:
        if isinstance(self._wsel, slice):
            return P[self._wsel].reshape(self._w.shape)
        return P[self._w]

    def bind(self, P: Array, V: Array) -> None:
        """Take views of the arrays the next forward and backward sweeps read.

        When the weights, inputs and biases are blocks (an MLP's are), a sweep then indexes
        nothing.
        """
        self._out = V[self.start : self.stop]
        self._Wv = self._weights(P) if isinstance(self._wsel, slice) else None
        self._Xv = V[self._x] if self._shared and isinstance(self._x, slice) else None
        bs = isinstance(self._b, slice) and self._unique
        self._bv = P[self._b][:, None] if bs else None

    def bind_grads(self, gP: Array, gV: Array) -> None:
        """Take views of the gradient arrays the next backward sweeps write."""
        self._gout = gV[self.start : self.stop]
        wslice = isinstance(self._wsel, slice)
        self._gWv = gP[self._wsel].reshape(self._w.shape) if wslice else None
        xs = self._shared and isinstance(self._x, slice) and self._gx and self._assign
        self._gXv = gV[self._x] if xs else None
        bs = isinstance(self._b, slice) and self._unique
        self._gbv = gP[self._b] if bs else None
        if len(self._ones) != gV.shape[1]:
            self._ones = np.ones(gV.shape[1])

    def forward(self, P: Array, V: Array) -> None:
        out = self._out
        W = self._weights(P) if self._Wv is None else self._Wv
        if self._Xv is not None:
            np.matmul(W, self._Xv, out=out)
        elif self._shared:
            np.matmul(W, V[self._x], out=out)
        else:
            out[...] = np.einsum("mk,mkb->mb", W, V[self._x])
        if self._bv is not None:
            out += self._bv
        elif self._b is not None:
            out += P[self._b][:, None]

    def backward(self, P: Array, V: Array, gP: Array, gV: Array) -> None:
        G = self._gout
        W = self._weights(P) if self._Wv is None else self._Wv
        if self._shared:
            X = V[self._x] if self._Xv is None else self._Xv
            gW: Array | None
            if self._assign_params and self._gWv is not None:
                gW = None
                np.matmul(G, X.T, out=self._gWv)  # written in place: no temporary
                if self._gbv is not None:
                    np.dot(G, self._ones, out=self._gbv)
            else:
                gW = G @ X.T
            if self._gXv is not None and W.shape[0] == 1:
                np.multiply(W.T, G, out=self._gXv)  # one neuron: the outer product, exactly
            elif self._gXv is not None:
                np.matmul(W.T, G, out=self._gXv)
            elif self._gx and self._assign:
                gV[self._x] = W.T @ G
            elif self._gx:
                _add(gV, self._x, W.T @ G, True)
        else:
            X3 = V[self._x]
            gW = np.einsum("mb,mkb->mk", G, X3)
            assert not isinstance(self._x, slice)
            np.add.at(gV, self._x, W[:, :, None] * G[:, None, :])
        if gW is None:
            return
        if self._gWv is not None:
            self._gWv += gW  # a view: the layer's weights are one block
        elif self._unique:
            gP[self._w] += gW
        else:
            np.add.at(gP, self._w, gW)
        if self._gbv is not None:
            self._gbv += G @ self._ones
        elif self._b is not None:
            _add(gP, self._b, G @ self._ones, self._unique)


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
        self._groups: list[_Elementwise | _Dense] = []
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
            grp: _Elementwise | _Dense
            if op is ops.DOT:
                grp = self._dense(start, members, slots_kind, pos)
            elif len(slots_kind) <= 2:
                slots: list[_Slot] = []
                for j, sk in enumerate(slots_kind):
                    if sk == "C":
                        vals = np.array([[float(m.parents[j].data)] for m in members])
                        slots.append(_Slot("C", np.zeros(len(members), np.intp), vals))
                    else:
                        idx = np.array([pos(m.parents[j]) for m in members], np.intp)
                        slots.append(_Slot(sk, idx))
                opts_d = dict(members[0].params or {})
                grp = _Elementwise(op, opts_d, start, len(members), slots)
            else:
                raise NotBatchableError(f"batch replay: the {len(slots_kind)}-ary {op.name} node")
            for m in members:
                rows[id(m)] = start
                start += 1
            self._groups.append(grp)
        self._out_rows = np.array([rows[id(o)] for o in outs], np.intp)
        self._out_sel = _sel(self._out_rows)
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
        self._zero: Sel | None = _sel(zero.astype(np.intp)) if len(zero) else None
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
        self._zero_params: Sel | None = _sel(zero_p) if len(zero_p) else None
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

    def _dense(self, start: int, members: list[Value], kinds: tuple[str, ...], pos: Any) -> _Dense:
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
        return _Dense(start, w, x, b, _unique(both), self._nin)

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
