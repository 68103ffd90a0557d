"""The compiled groups of a batch replay: a layer as one matrix product, an op as one kernel call.

:class:`~micrograd_x.batchreplay.BatchReplay` compiles one sample's graph into these; every row
of its value array holds one node's values over the batch. A :class:`DenseGroup` is a layer's
``dot`` nodes (``W @ X + b`` on contiguous blocks, the weight and bias gradients written in place
when nothing else adds to them); a :class:`BatchElementwise` is the nodes of one unary or binary
op (an activation runs on a block of rows, in place). :class:`BatchSlot` is one input position of
a group: batched rows, parameters or constants. Imports numpy, :mod:`micrograd_x.ops`,
:mod:`micrograd_x.kernels` and :mod:`micrograd_x.replaygroups` (``as_slice``).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.kernels import KERNELS, Kernel
from micrograd_x.replaygroups import as_slice

__all__ = ["BatchElementwise", "BatchSlot", "DenseGroup", "add_into", "all_distinct"]

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Sel = slice | Index


def add_into(target: Array, where: Sel, c: Array, unique: bool) -> None:
    """``target[where] += c``, summing repeated indices (``unique``: there are none)."""
    if unique or isinstance(where, slice):
        target[where] += c
    else:
        np.add.at(target, where, c)


def all_distinct(idx: Index) -> bool:
    """Whether the indices are all different."""
    return len(set(idx.ravel().tolist())) == idx.size


class BatchSlot:
    """One input position of a group: batched rows of V, parameters of P, or constants."""

    __slots__ = ("assign", "idx", "kind", "sel", "unique", "values", "view")

    def __init__(self, kind: str, idx: Index, values: Array | None = None) -> None:
        self.kind = kind  # "B" (batched row), "P" (parameter), "C" (constant)
        self.idx = idx
        self.sel: Sel = as_slice(idx)
        self.unique = all_distinct(idx)
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
        """The slot's input: rows of ``V``, parameters of ``P`` (as a column), or constants."""
        if self.kind == "B":
            return V[self.sel]
        if self.kind == "P":
            return P[self.sel][:, None]
        assert self.values is not None
        return self.values

    def send(self, gP: Array, gV: Array, c: Array) -> None:
        """Send the contribution ``c`` to the slot's rows of ``gV`` or parameters of ``gP``."""
        if self.kind == "B":
            if self.assign:
                gV[self.sel] = c
            else:
                add_into(gV, self.sel, c, self.unique)
        elif self.kind == "P":
            add_into(gP, self.sel, c.sum(axis=1), self.unique)


class BatchElementwise:
    """Nodes of one unary or binary op: one kernel call on a block of rows."""

    def __init__(
        self, op: ops.Op, params: dict[str, float], start: int, n: int, slots: list[BatchSlot]
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
        """Compute the group's rows of ``V`` from the parameters ``P`` and earlier rows."""
        x1 = self._x1
        if x1 is not None and self._into is not None:
            self._into(self._out, x1)
        elif x1 is not None:
            self._out[...] = self._f(x1)
        else:
            self._out[...] = self._f(*self._inputs(P, V))

    def backward(self, P: Array, V: Array, gP: Array, gV: Array) -> None:
        """Send the group's gradients (rows of ``gV``) on to its inputs' rows and parameters."""
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


class DenseGroup:
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
        self._wsel: Sel = as_slice(w.ravel()) if unique else w
        self._shared = bool(np.all(x == x[0]))
        self._x: Sel | Index = as_slice(x[0]) if self._shared else x
        self._b: Sel | None = None if b is None else as_slice(b)
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
            self._shared and all_distinct(self._xrows) and bool(np.all(count[self._xrows] == 1))
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
        """Compute the group's rows of ``V`` from the parameters ``P`` and earlier rows."""
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
        """Send the group's gradients (rows of ``gV``) on to its inputs' rows and parameters."""
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
                add_into(gV, self._x, W.T @ G, True)
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
            add_into(gP, self._b, G @ self._ones, self._unique)
