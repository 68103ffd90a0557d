"""The compiled groups of a whole-graph replay: every node of one op at one depth, as one array op.

:class:`~micrograd_x.replay.Replay` compiles a captured graph into these: an
:class:`ElementwiseGroup` per unary or binary op, a :class:`SumGroup` and a :class:`DotGroup` for
the n-ary ``sum`` and ``dot`` (a layer applied to a batch of samples runs as one matrix product).
Each gathers its inputs' rows of the value array, runs the op's numpy kernel
(:mod:`micrograd_x.kernels`), and in the backward sweep scatters partial × gradient into its
inputs' rows (:class:`Scatter` sums repeated targets). :func:`diagnose_forward` and
:func:`diagnose_backward` find the node behind a non-finite value and raise the op's own error.
Imports numpy, :mod:`micrograd_x.ops` and :mod:`micrograd_x.kernels`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.kernels import KERNELS, Kernel
from micrograd_x.ops import Op

__all__ = [
    "DotGroup",
    "ElementwiseGroup",
    "Group",
    "Scatter",
    "Slot",
    "SumGroup",
    "as_slice",
    "diagnose_backward",
    "diagnose_forward",
    "kernel_of",
]

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Sel = slice | Index

_DOT_FORWARD = KERNELS[ops.DOT].forward
"""The dot kernel's forward, bound once for the grouped dot products' fallback path."""


def kernel_of(op: Op) -> Kernel:
    """The numpy kernel of ``op``.

    Raises:
        TypeError: If the op has none (the graph must run in eager mode).
    """
    try:
        return KERNELS[op]
    except KeyError:
        raise TypeError(
            f"replay: the op {op.name!r} has no numpy kernel; add one to "
            "micrograd_x.kernels.KERNELS, or run this graph in eager mode"
        ) from None


# ---------------------------------------------------------------------------------------------
# Index utilities.


def as_slice(idx: Index) -> Sel:
    """A slice when ``idx`` is a run of consecutive integers (a view, no gather), else ``idx``."""
    n = len(idx)
    if (
        idx.ndim == 1
        and n
        and int(idx[-1]) - int(idx[0]) == n - 1
        and bool(np.all(np.diff(idx) == 1))
    ):
        return slice(int(idx[0]), int(idx[0]) + n)
    return idx


class Scatter:
    """Adds contributions into ``g`` at target rows that may repeat (a shared parent)."""

    __slots__ = ("_inv", "_m", "_perm", "_starts", "_where", "dup")

    def __init__(self, targets: Index) -> None:
        uniq, inv = np.unique(targets, return_inverse=True)
        self.dup = len(uniq) != len(targets)
        self._where: Sel = as_slice(uniq if self.dup else targets)
        self._inv = inv.astype(np.intp)
        self._m = len(uniq)
        self._perm: Index | None = None
        self._starts: Index | None = None

    def add(self, g: Array, c: Any) -> None:
        """``g[targets] += c``, contributions to the same row summed."""
        if not self.dup:
            g[self._where] += c
            return
        c = np.broadcast_to(c, (len(self._inv), *g.shape[1:]))
        if c.ndim == 1:
            g[self._where] += np.bincount(self._inv, weights=c, minlength=self._m)
            return
        if self._perm is None or self._starts is None:
            self._perm = np.argsort(self._inv, kind="stable").astype(np.intp)
            first = np.r_[True, np.diff(self._inv[self._perm]) != 0]
            self._starts = np.flatnonzero(first).astype(np.intp)
        g[self._where] += np.add.reduceat(c[self._perm], self._starts, axis=0)


class Slot:
    """The edges of one input position of a group: where to gather, where to send gradients."""

    __slots__ = ("gather", "keep", "scatter")

    def __init__(self, idx: Index, needs_grad: NDArray[np.bool_]) -> None:
        self.gather: Sel = as_slice(idx)
        flat_keep = needs_grad[idx].ravel()
        # keep: None = every edge needs a gradient; an empty array = none does.
        self.keep: Index | None = None if flat_keep.all() else np.flatnonzero(flat_keep)
        targets = idx.ravel() if self.keep is None else idx.ravel()[self.keep]
        self.scatter = Scatter(targets) if len(targets) else None


# ---------------------------------------------------------------------------------------------
# Groups: all nodes of one op (and parameters, and arity) at one depth; their outputs occupy
# consecutive rows [start, stop) of the value array.


class Group(ABC):
    """Nodes of one op (with its parameters and arity) at one depth: one array operation.

    Their outputs occupy consecutive rows ``[start, stop)`` of the value array.
    """

    op: Op
    start: int
    stop: int
    params: dict[str, float]

    @abstractmethod
    def forward(self, v: Array) -> None:
        """Compute the group's rows of the value array ``v``."""

    @abstractmethod
    def backward(self, v: Array, g: Array) -> None:
        """Add the group's partial × gradient into its inputs' rows of ``g``."""

    @abstractmethod
    def parents_of(self, j: int) -> list[int]:
        """Value-array rows of the inputs of the group's ``j``-th node."""

    @abstractmethod
    def partial_arrays(self, v: Array) -> list[Array]:
        """One array of partials per input slot, the node axis first (for diagnostics)."""


class ElementwiseGroup(Group):
    """A unary or binary op: one gather per input, one kernel call, one scatter per input."""

    def __init__(
        self,
        op: Op,
        params: dict[str, float],
        start: int,
        parents: list[Index],
        needs_grad: NDArray[np.bool_],
    ) -> None:
        self.op, self.params, self.start = op, params, start
        self.stop = start + len(parents[0])
        k = kernel_of(op)
        self._f, self._d = k.forward, k.partials
        self._idx = parents
        self._slots = [Slot(p, needs_grad) for p in parents]

    def forward(self, v: Array) -> None:
        """See :meth:`Group.forward`."""
        v[self.start : self.stop] = self._f(*[v[s.gather] for s in self._slots], **self.params)

    def backward(self, v: Array, g: Array) -> None:
        """See :meth:`Group.backward`."""
        gout = g[self.start : self.stop]
        ins = [v[s.gather] for s in self._slots]
        parts = self._d(v[self.start : self.stop], *ins, **self.params)
        for slot, d in zip(self._slots, parts):
            if slot.scatter is None:
                continue
            if isinstance(d, float):
                if d == 0.0:
                    continue
                c = gout if d == 1.0 else d * gout
            else:
                c = d * gout
            if slot.keep is not None:
                c = np.broadcast_to(c, gout.shape)[slot.keep]
            slot.scatter.add(g, c)

    def parents_of(self, j: int) -> list[int]:
        """See :meth:`Group.parents_of`."""
        return [int(p[j]) for p in self._idx]

    def partial_arrays(self, v: Array) -> list[Array]:
        """See :meth:`Group.partial_arrays`."""
        out = v[self.start : self.stop]
        ins = [v[s.gather] for s in self._slots]
        parts = self._d(out, *ins, **self.params)
        return [np.broadcast_to(np.asarray(d, dtype=np.float64), out.shape) for d in parts]


class SumGroup(Group):
    """n-ary Σ over nodes of equal arity: a (nodes, inputs) gather, a row sum."""

    def __init__(self, start: int, parents: Index, needs_grad: NDArray[np.bool_]) -> None:
        self.op, self.params, self.start = ops.SUM, {}, start
        self.stop = start + parents.shape[0]
        self._idx = parents
        self._slot = Slot(parents, needs_grad)

    def forward(self, v: Array) -> None:
        """See :meth:`Group.forward`."""
        v[self.start : self.stop] = v[self._idx].sum(axis=1)

    def backward(self, v: Array, g: Array) -> None:
        """See :meth:`Group.backward`."""
        slot = self._slot
        if slot.scatter is None:
            return
        gout = g[self.start : self.stop]
        k = self._idx.shape[1]
        c = np.repeat(gout, k, axis=0)  # row-major: node j's inputs are consecutive
        if slot.keep is not None:
            c = c[slot.keep]
        slot.scatter.add(g, c)

    def parents_of(self, j: int) -> list[int]:
        """See :meth:`Group.parents_of`."""
        return [int(p) for p in self._idx[j]]

    def partial_arrays(self, v: Array) -> list[Array]:
        """See :meth:`Group.partial_arrays`."""
        return [np.ones((self.stop - self.start, *v.shape[1:]))]


class DotGroup(Group):
    """n-ary Σwᵢxᵢ + b over nodes with equal numbers of pairs.

    Weights and inputs are gathered as (nodes, pairs) matrices; a missing bias reads the zero
    row. When the weight rows and input rows repeat across nodes (a layer applied to a batch of
    samples: every neuron's weights meet every sample's inputs), the group is a matrix product
    and runs as one: (unique weight rows) @ (unique input rows)ᵀ, forward and backward.
    """

    def __init__(
        self,
        start: int,
        w: Index,
        x: Index,
        b: Index,
        has_bias: bool,
        needs_grad: NDArray[np.bool_],
    ) -> None:
        self.op, self.params, self.start = ops.DOT, {}, start
        n = w.shape[0]
        self.stop = start + n
        self._w, self._x, self._b, self._has_bias = w, x, b, has_bias
        self._sw = Slot(w, needs_grad)
        self._sx = Slot(x, needs_grad)
        self._sb = Slot(b, needs_grad) if has_bias else None
        self._bias: Sel = as_slice(b)
        self._cache: tuple[Array, Array] | None = None
        # Matrix-product form: factor the (nodes, pairs) index matrices into unique rows.
        self._mm: tuple[Any, ...] | None = None
        wu, wr = np.unique(w, axis=0, return_inverse=True)
        xu, xr = np.unique(x, axis=0, return_inverse=True)
        r, s = len(wu), len(xu)
        if n > 1 and r * s <= 2 * n and (r < n or s < n):
            flat = wr.ravel().astype(np.intp) * s + xr.ravel().astype(np.intp)
            full = r * s == n and bool(np.all(flat == np.arange(n)))
            self._mm = (
                wu.astype(np.intp),
                xu.astype(np.intp),
                flat,
                full,
                r,
                s,
                Slot(wu.astype(np.intp), needs_grad),
                Slot(xu.astype(np.intp), needs_grad),
            )

    @staticmethod
    def order(w: Index, x: Index) -> Index:
        """A node order for a group: sorted by (weight row, input row), for the product form."""
        _, wr = np.unique(w, axis=0, return_inverse=True)
        _, xr = np.unique(x, axis=0, return_inverse=True)
        return np.lexsort((xr.ravel(), wr.ravel())).astype(np.intp)

    def forward(self, v: Array) -> None:
        """See :meth:`Group.forward`."""
        mm = self._mm
        if mm is not None and v.ndim == 1:
            wu, xu, flat, full = mm[:4]
            vw, vx = v[wu], v[xu]
            prod = vw @ vx.T
            out = prod.ravel() if full else prod.ravel()[flat]
            self._cache = (vw, vx)
        else:
            vw, vx = v[self._w], v[self._x]
            out = _DOT_FORWARD(vw, vx, 0.0)
            self._cache = (vw, vx)
        if self._has_bias:
            out = out + v[self._bias]
        v[self.start : self.stop] = out

    def backward(self, v: Array, g: Array) -> None:
        """See :meth:`Group.backward`."""
        gout = g[self.start : self.stop]
        if self._cache is None:
            self.forward(v)
        assert self._cache is not None
        vw, vx = self._cache
        mm = self._mm
        if mm is not None and v.ndim == 1:
            _, _, flat, full, r, s, swu, sxu = mm
            gm = gout if full else np.bincount(flat, weights=gout, minlength=r * s)
            gm = gm.reshape(r, s)
            if swu.scatter is not None:
                self._send(swu, g, gm @ vx)
            if sxu.scatter is not None:
                self._send(sxu, g, gm.T @ vw)
        else:
            gcol = gout[:, None]
            if self._sw.scatter is not None:
                self._send(self._sw, g, vx * gcol)
            if self._sx.scatter is not None:
                self._send(self._sx, g, vw * gcol)
        if self._sb is not None and self._sb.scatter is not None:
            c = gout if self._sb.keep is None else gout[self._sb.keep]
            self._sb.scatter.add(g, c)

    @staticmethod
    def _send(slot: Slot, g: Array, c: Array) -> None:
        assert slot.scatter is not None
        c = c.reshape(-1, *c.shape[2:])
        if slot.keep is not None:
            c = c[slot.keep]
        slot.scatter.add(g, c)

    def parents_of(self, j: int) -> list[int]:
        """See :meth:`Group.parents_of`."""
        out = [int(p) for p in self._w[j]] + [int(p) for p in self._x[j]]
        return [*out, int(self._b[j])] if self._has_bias else out

    def partial_arrays(self, v: Array) -> list[Array]:
        """See :meth:`Group.partial_arrays`."""
        n = self.stop - self.start
        return [v[self._x], v[self._w], np.ones((n, *v.shape[1:]))]


# ---------------------------------------------------------------------------------------------
# Diagnostics: the node behind a non-finite value, with the op's own error.


def _locate(groups: list[Group], row: int) -> Group:
    for grp in groups:
        if grp.start <= row < grp.stop:
            return grp
    raise AssertionError(row)  # pragma: no cover


def diagnose_forward(groups: list[Group], v: Array) -> None:
    """Raise the error of the first node whose value in ``v`` is not finite.

    Raises:
        DomainError, ZeroDivisionError, OverflowError: The op's own error for its inputs.
    """
    for grp in groups:
        out = v[grp.start : grp.stop]
        bad = ~np.isfinite(out)
        if bad.any():
            j, *col = (int(i) for i in np.argwhere(bad)[0])
            ins = [float(v[tuple([p, *col])]) for p in grp.parents_of(j)]
            op = grp.op
            # The op's own float forward raises its precise error (DomainError, ...).
            res = op.forward(*ins, **grp.params)
            args = ", ".join(repr(a) for a in ins)
            raise OverflowError(
                f"{op.name}: the result {res!r} is not finite for inputs ({args}) (replay)"
            )
    raise AssertionError("replay: a non-finite value was not found")  # pragma: no cover


def diagnose_backward(groups: list[Group], v: Array, g: Array, n_in: int, n_total: int) -> None:
    """Raise the error behind a non-finite gradient in ``g`` (rows ``[0, n_total)``).

    Raises:
        NonDifferentiableError: Where a local derivative is infinite.
        OverflowError: Where a gradient overflowed.
    """
    for grp in groups:
        for arr in grp.partial_arrays(v):
            bad = ~np.isfinite(arr)
            if bad.any():
                j, *col = (int(i) for i in np.argwhere(bad)[0])
                ins = tuple(float(v[tuple([p, *col])]) for p in grp.parents_of(j))
                args = ", ".join(repr(a) for a in ins)
                raise ops.NonDifferentiableError(
                    grp.op.name, f"a local derivative is infinite at inputs ({args})", ins
                )
    bad_rows = np.flatnonzero(~np.isfinite(g[:n_total]).reshape(n_total, -1))
    where = "an input" if bad_rows[0] < n_in else _locate(groups, int(bad_rows[-1])).op
    raise OverflowError(f"backward: a gradient overflowed to infinity at {where} (replay)")
