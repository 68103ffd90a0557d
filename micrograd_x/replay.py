"""Trace once, replay fast: re-run a captured graph of ``Value`` nodes as vectorized numpy work.

:func:`capture` (a loss of parameters) and :func:`compile_function` (a function of scalars)
build a graph once and compile it into a :class:`Replay`: node op codes and parent indices in
numpy arrays, grouped so that every node of one op at one depth is computed by one array
operation, forward and backward, by the numpy kernels of :mod:`micrograd_x.kernels` (whose
:data:`KERNELS` and :class:`Kernel` are re-exported here). Imports numpy, :mod:`micrograd_x.ops`,
:mod:`micrograd_x.engine`, :mod:`micrograd_x.backward` and :mod:`micrograd_x.kernels`.

Semantics are those of ``jax.jit``: the *structure* (which ops, on which inputs, in which order)
is fixed when the graph is captured; only the values of the inputs change from run to run. Python
control flow that looks at values (``if x.data > 0``, a ``max`` over numbers, building a node only
for some inputs) runs once, at capture time. Value-dependent *partials* (relu's branch, tanh's
output) are recomputed on every run, so a replay equals eager mode as long as the structure does.
Leaves that are not inputs (data, constants) and nodes that depend on no input are frozen at
their captured values; a constant computed from values (the ``max`` shift of a stable
``logsumexp``) keeps its captured number, which is harmless where the result does not depend on
it. Pass ``check=n`` to compare the next ``n`` runs with eager mode: a graph that comes out
different, or a result that differs, raises :class:`ReplayDivergenceError`. Sums and dot
products may add in another order than eager mode, so results agree to rounding (about 1e-15
relative), and a kink hit exactly (a relu of 0) may take the other side on one of them. Where a
local derivative is infinite (``sqrt`` or ``x ** 0.5`` at 0), eager mode refuses to build the
node; a replay's ``forward`` computes the value and its ``backward`` raises the op's error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.backward import gradients, topological_order
from micrograd_x.engine import Value
from micrograd_x.kernels import KERNELS, Kernel
from micrograd_x.ops import Op

__all__ = [
    "KERNELS",
    "Kernel",
    "Replay",
    "ReplayDivergenceError",
    "capture",
    "compile_function",
]

Array = NDArray[np.float64]
Index = NDArray[np.intp]
Sel = slice | Index

_dot_forward = KERNELS[ops.DOT].forward
"""The dot kernel's forward, bound once for the grouped dot products' fallback path."""


def _kernel(op: Op) -> Kernel:
    try:
        return KERNELS[op]
    except KeyError:
        raise TypeError(
            f"replay: the op {op.name!r} has no numpy kernel; add one to "
            "micrograd_x.kernels.KERNELS, or run this graph in eager mode"
        ) from None


# ---------------------------------------------------------------------------------------------
# Index utilities.


def _as_slice(idx: Index) -> Sel:
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


class _Scatter:
    """Adds contributions into ``g`` at target rows that may repeat (a shared parent)."""

    __slots__ = ("_inv", "_m", "_perm", "_starts", "_where", "dup")

    def __init__(self, targets: Index) -> None:
        uniq, inv = np.unique(targets, return_inverse=True)
        self.dup = len(uniq) != len(targets)
        self._where: Sel = _as_slice(uniq if self.dup else targets)
        self._inv = inv.astype(np.intp)
        self._m = len(uniq)
        self._perm: Index | None = None
        self._starts: Index | None = None

    def add(self, g: Array, c: Any) -> None:
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


class _Slot:
    """The edges of one input position of a group: where to gather, where to send gradients."""

    __slots__ = ("gather", "keep", "scatter")

    def __init__(self, idx: Index, needs_grad: NDArray[np.bool_]) -> None:
        self.gather: Sel = _as_slice(idx)
        flat_keep = needs_grad[idx].ravel()
        # keep: None = every edge needs a gradient; an empty array = none does.
        self.keep: Index | None = None if flat_keep.all() else np.flatnonzero(flat_keep)
        targets = idx.ravel() if self.keep is None else idx.ravel()[self.keep]
        self.scatter = _Scatter(targets) if len(targets) else None


# ---------------------------------------------------------------------------------------------
# Groups: all nodes of one op (and parameters, and arity) at one depth; their outputs occupy
# consecutive rows [start, stop) of the value array.


class _Group(ABC):
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


class _Elementwise(_Group):
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
        k = _kernel(op)
        self._f, self._d = k.forward, k.partials
        self._idx = parents
        self._slots = [_Slot(p, needs_grad) for p in parents]

    def forward(self, v: Array) -> None:
        v[self.start : self.stop] = self._f(*[v[s.gather] for s in self._slots], **self.params)

    def backward(self, v: Array, g: Array) -> None:
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
        return [int(p[j]) for p in self._idx]

    def partial_arrays(self, v: Array) -> list[Array]:
        out = v[self.start : self.stop]
        ins = [v[s.gather] for s in self._slots]
        parts = self._d(out, *ins, **self.params)
        return [np.broadcast_to(np.asarray(d, dtype=np.float64), out.shape) for d in parts]


class _Sum(_Group):
    """n-ary Σ over nodes of equal arity: a (nodes, inputs) gather, a row sum."""

    def __init__(self, start: int, parents: Index, needs_grad: NDArray[np.bool_]) -> None:
        self.op, self.params, self.start = ops.SUM, {}, start
        self.stop = start + parents.shape[0]
        self._idx = parents
        self._slot = _Slot(parents, needs_grad)

    def forward(self, v: Array) -> None:
        v[self.start : self.stop] = v[self._idx].sum(axis=1)

    def backward(self, v: Array, g: Array) -> None:
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
        return [int(p) for p in self._idx[j]]

    def partial_arrays(self, v: Array) -> list[Array]:
        return [np.ones((self.stop - self.start, *v.shape[1:]))]


class _Dot(_Group):
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
        self._sw = _Slot(w, needs_grad)
        self._sx = _Slot(x, needs_grad)
        self._sb = _Slot(b, needs_grad) if has_bias else None
        self._bias: Sel = _as_slice(b)
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
                _Slot(wu.astype(np.intp), needs_grad),
                _Slot(xu.astype(np.intp), needs_grad),
            )

    @staticmethod
    def order(w: Index, x: Index) -> Index:
        """A node order for a group: sorted by (weight row, input row), for the product form."""
        _, wr = np.unique(w, axis=0, return_inverse=True)
        _, xr = np.unique(x, axis=0, return_inverse=True)
        return np.lexsort((xr.ravel(), wr.ravel())).astype(np.intp)

    def forward(self, v: Array) -> None:
        mm = self._mm
        if mm is not None and v.ndim == 1:
            wu, xu, flat, full = mm[:4]
            vw, vx = v[wu], v[xu]
            prod = vw @ vx.T
            out = prod.ravel() if full else prod.ravel()[flat]
            self._cache = (vw, vx)
        else:
            vw, vx = v[self._w], v[self._x]
            out = _dot_forward(vw, vx, 0.0)
            self._cache = (vw, vx)
        if self._has_bias:
            out = out + v[self._bias]
        v[self.start : self.stop] = out

    def backward(self, v: Array, g: Array) -> None:
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
    def _send(slot: _Slot, g: Array, c: Array) -> None:
        assert slot.scatter is not None
        c = c.reshape(-1, *c.shape[2:])
        if slot.keep is not None:
            c = c[slot.keep]
        slot.scatter.add(g, c)

    def parents_of(self, j: int) -> list[int]:
        out = [int(p) for p in self._w[j]] + [int(p) for p in self._x[j]]
        return [*out, int(self._b[j])] if self._has_bias else out

    def partial_arrays(self, v: Array) -> list[Array]:
        n = self.stop - self.start
        return [v[self._x], v[self._w], np.ones((n, *v.shape[1:]))]


# ---------------------------------------------------------------------------------------------
# The compiled program.


class ReplayDivergenceError(RuntimeError):
    """A checked replay found a graph (or a result) that differs from eager mode."""


_data = attrgetter("data")


def _params_key(params: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(params.items())) if params else ()


def _signature(root: Value, inputs: Sequence[Value]) -> list[tuple[Any, ...]]:
    """The graph's structure as data: one entry per node in topological order.

    Leaves are ``("input", i)``, ``("const", value)`` or ``("leaf", value, label)``; other
    nodes ``(op name, params, parent positions)``.
    """
    where = {id(x): i for i, x in enumerate(inputs)}
    order = topological_order(root)
    pos = {id(n): i for i, n in enumerate(order)}
    sig: list[tuple[Any, ...]] = []
    for node in order:
        i = where.get(id(node))
        if i is not None:
            sig.append(("input", i))
        elif node.is_constant:
            sig.append(("const", node.data))
        elif node.is_leaf:
            sig.append(("leaf", node.data, node.label))
        else:
            op = node.op
            assert op is not None
            parents = tuple(pos[id(p)] for p in node.parents)
            sig.append((op.name, _params_key(node.params), parents))
    return sig


def _same_structure(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    # Frozen leaves may hold other numbers (e.g. a stabilizing shift such as max(logits)):
    # that is a divergence only if the results differ, which the value check decides.
    if a[0] in ("const", "leaf"):
        return bool(a[0] == b[0])
    return a == b


def _describe(entry: tuple[Any, ...]) -> str:
    if entry[0] == "input":
        return f"input {entry[1]}"
    if entry[0] == "const":
        return f"the constant {entry[1]!r}"
    if entry[0] == "leaf":
        label = f" {entry[2]!r}" if entry[2] else ""
        return f"the frozen leaf{label} = {entry[1]!r}"
    params = "".join(f", {k}={v!r}" for k, v in entry[1])
    return f"{entry[0]}({', '.join(f'#{p}' for p in entry[2])}{params})"


class Replay:
    """A graph captured once and compiled into vectorized numpy work.

    Build one with :func:`capture` or :func:`compile_function` (or directly from a built graph
    and its inputs). The program has one row per captured node: the inputs first, then the frozen
    nodes (leaves that are not inputs, and nodes that depend on no input), then the computed nodes,
    grouped by (depth, op, parameters, arity) so each group is one array operation.

    Values may be one set of inputs (shape ``(n_inputs,)``) or a batch (shape
    ``(batch, n_inputs)``: one row per set of inputs, every node then holds a vector).

    Attributes:
        inputs: The input leaves, in order: the arguments of every run.
        root: The captured output node (``None`` when the graph was not kept).
        nodes: The captured nodes in topological order (empty when the graph was not kept).
        n_groups: Number of vectorized groups (array operations per sweep).
        n_edges: Number of edges of the captured graph.
    """

    def __init__(
        self,
        root: Value,
        inputs: Sequence[Value],
        *,
        rebuild: Callable[[list[float]], tuple[Value, Sequence[Value]]] | None = None,
        check: int = 0,
        keep_graph: bool = True,
    ) -> None:
        """Compile the graph of ``root`` with ``inputs`` as the values that change per run.

        Args:
            root: The output node.
            inputs: Leaves whose values are given on each run; distinct.
            rebuild: ``values -> (root, inputs)`` building the same graph eagerly (for ``check``).
            check: Compare this many of the next runs with eager mode.
            keep_graph: Keep the captured nodes, so :meth:`value`, :meth:`grad` and
                :meth:`sync` can address them; ``False`` frees the eager graph.

        Raises:
            TypeError: If ``root`` or an input is not a ``Value``, or an op of the graph has
                no numpy kernel (see :data:`KERNELS`).
            ValueError: If an input is not a leaf or appears twice, or ``check`` needs
                ``rebuild``.
        """
        if not isinstance(root, Value):
            raise TypeError(f"replay: the output must be a Value, got {type(root).__name__}")
        inputs = tuple(inputs)
        seen: dict[int, int] = {}
        for i, x in enumerate(inputs):
            if not isinstance(x, Value):
                raise TypeError(f"replay: input {i} must be a Value, got {type(x).__name__}")
            if not x.is_leaf:
                raise ValueError(
                    f"replay: input {i} ({x!r}) is not a leaf; inputs are the leaves whose "
                    "values change between runs"
                )
            if id(x) in seen:
                raise ValueError(f"replay: input {i} is the same Value as input {seen[id(x)]}")
            seen[id(x)] = i
        if check and rebuild is None:
            raise ValueError("replay: check mode needs a function to rebuild the graph eagerly")
        self.inputs = inputs
        self._rebuild = rebuild
        self._checks_left = int(check)
        self._calls = 0
        self.nodes: tuple[Value, ...] = ()
        self._compile(root, inputs)
        self._signature = _signature(root, inputs) if check else None
        self.root: Value | None = root if keep_graph else None
        if not keep_graph:
            self.nodes = ()
            self._row.clear()
        self._v: Array | None = None  # the last run's values (one run or a batch)
        self._v1: Array | None = None
        self._g: Array | None = None

    # -- compilation --------------------------------------------------------------------------

    def _compile(self, root: Value, inputs: tuple[Value, ...]) -> None:
        order = topological_order(root)
        n_in = len(inputs)
        row: dict[int, int] = {id(x): i for i, x in enumerate(inputs)}
        depth: dict[int, int] = {id(x): 0 for x in inputs}
        frozen: list[Value] = []
        groups: dict[tuple[Any, ...], list[Value]] = {}
        n_edges = 0
        for node in order:
            key = id(node)
            if key in depth:
                continue
            parents = node.parents
            n_edges += len(parents)
            # depth: 0 for inputs, -1 for frozen nodes, 1 + the deepest input otherwise.
            d = max((depth[id(p)] for p in parents), default=-1)
            if d < 0:
                depth[key] = -1
                frozen.append(node)
                continue
            depth[key] = d + 1
            op = node.op
            assert op is not None
            _kernel(op)
            arity = len(parents) // 2 if op is ops.DOT else len(parents)
            gkey = (d + 1, op.name, _params_key(node.params), arity)
            groups.setdefault(gkey, []).append(node)
        # Frozen nodes: rows after the inputs.
        for node in frozen:
            row[id(node)] = len(row)
        start = len(row)
        n_total = start + sum(len(g) for g in groups.values())
        zero = n_total  # an extra row that always holds 0 (a missing bias reads it)
        needs = np.zeros(n_total + 1, dtype=bool)
        needs[:n_in] = True
        needs[start:n_total] = True
        built: list[_Group] = []
        for gkey in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3])):
            members = groups[gkey]
            op = members[0].op
            assert op is not None
            params = dict(members[0].params or {})
            if op is ops.DOT:
                k = gkey[3]
                w = np.array([[row[id(p)] for p in m.parents[:k]] for m in members], np.intp)
                x = np.array([[row[id(p)] for p in m.parents[k : 2 * k]] for m in members], np.intp)
                b = np.array(
                    [row[id(m.parents[-1])] if len(m.parents) > 2 * k else zero for m in members],
                    np.intp,
                )
                perm = _Dot.order(w, x)
                members = [members[i] for i in perm]
                w, x, b = w[perm], x[perm], b[perm]
                has_bias = any(len(m.parents) > 2 * k for m in members)
                grp: _Group = _Dot(start, w, x, b, has_bias, needs)
            elif op is ops.SUM:
                pm = np.array([[row[id(q)] for q in m.parents] for m in members], np.intp)
                perm = np.lexsort(pm.T[::-1]).astype(np.intp)
                members = [members[i] for i in perm]
                grp = _Sum(start, pm[perm], needs)
            else:
                cols = [
                    np.array([row[id(m.parents[j])] for m in members], np.intp)
                    for j in range(len(members[0].parents))
                ]
                perm = np.lexsort(cols[::-1]).astype(np.intp)
                members = [members[i] for i in perm]
                grp = _Elementwise(op, params, start, [c[perm] for c in cols], needs)
            for m in members:
                row[id(m)] = len(row)
            start += len(members)
            built.append(grp)
        # Static rows: input placeholders, frozen values, zeros for the computed rows.
        v0 = np.zeros(n_total + 1)
        for node in frozen:
            v0[row[id(node)]] = node.data
        for i, leaf in enumerate(inputs):
            v0[i] = leaf.data
        self._v0 = v0
        self._groups = built
        self._n_in = n_in
        self._n_total = n_total
        self._root_row = row[id(root)]
        self._row: dict[int, int] = row
        self.nodes = tuple(order)
        self.n_groups = len(built)
        self.n_edges = n_edges
        self._frozen_rows = (n_in, n_in + len(frozen))
        self._batch_v: dict[int, Array] = {}

    # -- running ------------------------------------------------------------------------------

    @property
    def n_inputs(self) -> int:
        """Number of inputs."""
        return self._n_in

    @property
    def n_nodes(self) -> int:
        """Number of captured nodes (rows of the program)."""
        return self._n_total

    def __repr__(self) -> str:
        return (
            f"Replay({self._n_total:,} nodes, {self.n_edges:,} edges, {self._n_in:,} inputs, "
            f"{self.n_groups:,} groups)"
        )

    def _values_array(self, values: Any) -> Array:
        if values is None:
            vals = np.fromiter(map(_data, self.inputs), np.float64, self._n_in)
        else:
            vals = np.asarray(values, dtype=np.float64)
        if vals.ndim not in (1, 2) or vals.shape[-1] != self._n_in:
            raise ValueError(
                f"replay: expected {self._n_in} input value(s) per run, as shape "
                f"({self._n_in},) or (batch, {self._n_in}); got shape {vals.shape}"
            )
        if not np.isfinite(vals).all():
            bad = np.argwhere(~np.isfinite(vals))[0]
            i = int(bad[-1])
            raise ValueError(
                f"replay: input {i} ({self._input_name(i)}) is {float(vals[tuple(bad)])!r}; "
                "every Value holds a finite float"
            )
        return vals

    def _input_name(self, i: int) -> str:
        label = self.inputs[i].label
        return repr(label) if label else f"#{i}"

    def _forward(self, vals: Array) -> Array:
        if vals.ndim == 1:
            v = self._v1
            if v is None:
                v = self._v1 = self._v0.copy()
            v[: self._n_in] = vals
            self._v = v
        else:
            b = vals.shape[0]
            v = self._batch_v.get(b)
            if v is None:
                v = np.repeat(self._v0[:, None], b, axis=1)
                self._batch_v = {b: v}
            v[: self._n_in] = vals.T
            self._v = v
        with np.errstate(all="ignore"):
            for grp in self._groups:
                grp.forward(v)
        if not np.isfinite(v[self._frozen_rows[1] :]).all():
            with np.errstate(all="ignore"):
                self._diagnose_forward(v)
        self._g = None
        return v

    def _backward(self) -> Array:
        v = self._v
        if v is None:
            raise RuntimeError("replay: call forward() before backward()")
        g = np.zeros_like(v)
        g[self._root_row] = 1.0
        with np.errstate(all="ignore"):
            for grp in reversed(self._groups):
                grp.backward(v, g)
        if not np.isfinite(g[: self._n_total]).all():
            with np.errstate(all="ignore"):
                self._diagnose_backward(v, g)
        self._g = g
        return g

    def _out(self, v: Array) -> Any:
        r = v[self._root_row]
        return float(r) if v.ndim == 1 else r.copy()

    def _grads(self, g: Array) -> Array:
        gi = g[: self._n_in]
        return np.array(gi if g.ndim == 1 else gi.T)

    def forward(self, values: Any = None) -> Any:
        """Compute every node's value for new input values.

        Args:
            values: The inputs' values, shape ``(n_inputs,)`` or ``(batch, n_inputs)``; ``None``
                reads each input's current ``data``.

        Returns:
            The output: a float, or an array of shape ``(batch,)``.

        Raises:
            ValueError: If the values have the wrong shape or are not finite.
            DomainError, ZeroDivisionError, OverflowError: As eager mode would, naming the op,
                when an input leaves an op's domain.
            ReplayDivergenceError: In check mode, if eager mode builds a different graph.
        """
        vals = self._values_array(values)
        v = self._forward(vals)
        out = self._out(v)
        self._after(vals, out, None)
        return out

    def backward(self) -> Array:
        """Gradients of the output with respect to the inputs, for the last :meth:`forward`.

        Returns:
            An array of shape ``(n_inputs,)``, or ``(batch, n_inputs)`` for a batch.

        Raises:
            RuntimeError: If no forward pass ran.
            NonDifferentiableError: Where a local derivative is infinite (e.g. ``sqrt`` at 0).
            OverflowError: If a gradient overflows.
        """
        return self._grads(self._backward())

    def run(self, values: Any = None) -> tuple[Any, Array]:
        """Forward and backward in one call: ``(output, gradients with respect to the inputs)``.

        Args:
            values: As for :meth:`forward`.

        Returns:
            The output (a float or a ``(batch,)`` array) and the input gradients.
        """
        vals = self._values_array(values)
        v = self._forward(vals)
        out = self._out(v)
        grads = self._grads(self._backward())
        self._after(vals, out, grads)
        return out, grads

    def __call__(self, *values: float) -> float:
        """The output for the given input values (a traced function, called again)."""
        out: float = self.forward(list(values))
        return out

    def step(self) -> float:
        """One training step's autograd: read the inputs' ``data``, run, add into their ``grad``.

        Like ``backward()`` in eager mode, gradients *accumulate* into the inputs' ``grad``
        (zero them between steps).

        Returns:
            The output's value.
        """
        out, grads = self.run(None)
        for x, gx in zip(self.inputs, grads.tolist()):
            x.grad += gx
        value: float = out
        return value

    # -- reading results ----------------------------------------------------------------------

    def _row_of(self, node: Value) -> int:
        try:
            r: int = self._row[id(node)]
            return r
        except KeyError:
            if self.root is None:
                raise KeyError("replay: the graph was not kept (keep_graph=False)") from None
            raise KeyError(f"replay: {node!r} is not a node of the captured graph") from None

    def value(self, node: Value) -> Any:
        """A captured node's value in the last run (a float, or an array for a batch)."""
        if self._v is None:
            return node.data
        r = self._v[self._row_of(node)]
        return float(r) if self._v.ndim == 1 else r.copy()

    def grad(self, node: Value) -> Any:
        """d(output)/d(node) in the last run; 0 for frozen nodes (they depend on no input)."""
        if self._g is None:
            raise RuntimeError("replay: no backward pass has run yet")
        r = self._g[self._row_of(node)]
        return float(r) if self._g.ndim == 1 else r.copy()

    @property
    def values(self) -> Array | None:
        """Every row's value in the last run (inputs, frozen nodes, then groups), or ``None``."""
        return None if self._v is None else self._v[: self._n_total]

    def sync(self, nodes: Iterable[Value] | None = None) -> None:
        """Write the last run into captured nodes, so the graph can be drawn and inspected.

        Computed nodes and inputs get the run's ``data`` and ``grad`` (an input's ``grad`` is
        *set* to this run's gradient, not accumulated), and computed nodes' stored
        ``partials`` are recomputed by their op's own rule; frozen nodes are left as they are.
        This is per-node Python work, meant for inspecting a step, not for the training loop:
        pass ``nodes`` (e.g. a model's predictions) to update only those.

        Args:
            nodes: The captured nodes to update; ``None`` for all of them.

        Raises:
            RuntimeError: If nothing ran, the last run was a batch, or the graph was not kept.
            KeyError: If a node is not part of the captured graph.
        """
        if self.root is None:
            raise RuntimeError("replay: the graph was not kept (keep_graph=False)")
        v, g = self._v, self._g
        if v is None or v.ndim != 1:
            raise RuntimeError("replay: sync needs a (non-batch) run first")
        lo, hi = self._frozen_rows
        row = self._row_of
        for node in self.nodes if nodes is None else nodes:
            r = row(node)
            if lo <= r < hi:
                continue
            node.data = float(v[r])
            if g is not None:
                node.grad = float(g[r])
            op = node.op
            if op is not None and r >= hi:
                ins = [float(v[row(p)]) for p in node.parents]
                _store_partials(node, op.partials(node.data, *ins, **(node.params or {})))

    # -- diagnostics --------------------------------------------------------------------------

    def _locate(self, row: int) -> tuple[_Group, int]:
        for grp in self._groups:
            if grp.start <= row < grp.stop:
                return grp, row - grp.start
        raise AssertionError(row)  # pragma: no cover

    def _diagnose_forward(self, v: Array) -> None:
        for grp in self._groups:
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

    def _diagnose_backward(self, v: Array, g: Array) -> None:
        for grp in self._groups:
            for arr in grp.partial_arrays(v):
                bad = ~np.isfinite(arr)
                if bad.any():
                    j, *col = (int(i) for i in np.argwhere(bad)[0])
                    ins = tuple(float(v[tuple([p, *col])]) for p in grp.parents_of(j))
                    args = ", ".join(repr(a) for a in ins)
                    raise ops.NonDifferentiableError(
                        grp.op.name, f"a local derivative is infinite at inputs ({args})", ins
                    )
        bad_rows = np.flatnonzero(~np.isfinite(g[: self._n_total]).reshape(self._n_total, -1))
        where = "an input" if bad_rows[0] < self._n_in else self._locate(int(bad_rows[-1]))[0].op
        raise OverflowError(f"backward: a gradient overflowed to infinity at {where} (replay)")

    # -- check mode ---------------------------------------------------------------------------

    def _after(self, vals: Array, out: Any, grads: Array | None) -> None:
        self._calls += 1
        if not self._checks_left:
            return
        self._checks_left -= 1
        row = vals if vals.ndim == 1 else vals[0]
        o = out if vals.ndim == 1 else float(out[0])
        gr = None if grads is None else (grads if vals.ndim == 1 else grads[0])
        self._check(row.tolist(), o, gr)
        if not self._checks_left:
            self._signature = None

    def _check(self, vals: list[float], out: float, grads: Array | None) -> None:
        assert self._rebuild is not None and self._signature is not None
        call = self._calls
        root, inputs = self._rebuild(vals)
        sig = _signature(root, inputs)
        ref = self._signature
        hint = (
            "The structure of a replayed graph is fixed at capture: Python control flow that "
            "depends on values, and leaves that are not inputs, are frozen. Capture again, or "
            "run this function in eager mode."
        )
        for i, (a, b) in enumerate(zip(ref, sig)):
            if not _same_structure(a, b):
                raise ReplayDivergenceError(
                    f"replay: at call {call}, eager mode builds a different graph: node #{i} is "
                    f"{_describe(b)} now but was {_describe(a)} at capture. {hint}"
                )
        if len(ref) != len(sig):
            raise ReplayDivergenceError(
                f"replay: at call {call}, eager mode builds {len(sig)} nodes but {len(ref)} "
                f"were captured. {hint}"
            )
        changed = [
            f"node #{i} is {_describe(b)} now but was {_describe(a)} at capture"
            for i, (a, b) in enumerate(zip(ref, sig))
            if a != b
        ]
        why = f" ({'; '.join(changed[:3])})" if changed else ""
        tol = 1e-9
        eager = root.data
        if not abs(eager - out) <= tol * max(1.0, abs(eager)):
            raise ReplayDivergenceError(
                f"replay: at call {call}, the output is {out!r} in replay but {eager!r} in "
                f"eager mode{why}. {hint}"
            )
        if grads is not None:
            eg = gradients(root, list(inputs))
            for i, (a, e) in enumerate(zip(grads.tolist(), eg)):
                if not abs(a - e) <= tol * max(1.0, abs(e)):
                    raise ReplayDivergenceError(
                        f"replay: at call {call}, the gradient of input {i} "
                        f"({self._input_name(i)}) is {a!r} in replay but {e!r} in eager "
                        f"mode{why}. {hint}"
                    )


def _store_partials(node: Value, parts: Iterable[Any]) -> None:
    """Replace the partials stored on an interior node (after its data changed)."""
    p = tuple(float(d) for d in parts)
    if node._p0 is None:
        node._dn = p
    elif node._p1 is None:
        (node._d0,) = p
    else:
        node._d0, node._d1 = p


# ---------------------------------------------------------------------------------------------
# Entry points.


def capture(
    fn: Callable[[], Value],
    inputs: Sequence[Value],
    *,
    check: int = 1,
    keep_graph: bool = True,
) -> Replay:
    """Build ``fn()``'s graph once and compile it, with ``inputs`` as what changes between runs.

    Meant for training: ``fn`` computes a loss from a model's parameters (``inputs``), and each
    :meth:`Replay.step` reads the parameters' current ``data``, replays forward and backward,
    and adds the gradients into their ``grad``::

        r = capture(lambda: loss(model), model.parameters())
        for k in range(steps):
            zero_grad(model.parameters())
            loss_value = r.step()
            for p in model.parameters():
                p.data -= lr * p.grad

    Args:
        fn: Builds the graph from the inputs' current values and returns its output.
        inputs: The leaves whose values change (e.g. the parameters); every other leaf it uses
            (data, constants) is frozen at its value now.
        check: Compare this many of the next runs with eager mode (``fn()`` again, with the
            same input values) and raise :class:`ReplayDivergenceError` on any difference. The
            default, 1, builds the graph eagerly once more on the first run (new values:
            Python control flow that depends on them shows there); pass 0 when the structure
            is known to be fixed (e.g. ``Module.has_static_graph()`` and a named loss).
        keep_graph: Keep the captured nodes, to read or draw them after a run.

    Returns:
        The compiled replay.
    """
    inputs = tuple(inputs)
    root = fn()

    def rebuild(vals: list[float]) -> tuple[Value, Sequence[Value]]:
        old = [x.data for x in inputs]
        for x, a in zip(inputs, vals):
            x.data = a
        try:
            return fn(), inputs
        finally:
            for x, a in zip(inputs, old):
                x.data = a

    return Replay(root, inputs, rebuild=rebuild, check=check, keep_graph=keep_graph)


def compile_function(
    f: Callable[..., Value],
    *args: float,
    check: int = 0,
    keep_graph: bool = True,
) -> Replay:
    """Build ``f(*args)`` once and compile it into a replay of ``f`` as a function of its arguments.

    (:func:`micrograd_x.graph.trace` is another thing: it returns a built graph as plain data.)

    The arguments become fresh input leaves; call the result with new numbers (``r(1.0, 2.0)``),
    or get values and gradients for one set or a batch of sets with :meth:`Replay.run`.

    Args:
        f: A function of ``Value`` scalars returning a ``Value``.
        *args: Example numbers, one per argument of ``f``.
        check: Compare this many of the next runs with eager mode.
        keep_graph: Keep the traced nodes, to read or draw them after a run.

    Returns:
        The compiled replay.

    Raises:
        TypeError: If ``f`` does not return a ``Value``.
    """
    leaves = [Value(a) for a in args]
    root = f(*leaves)
    if not isinstance(root, Value):
        raise TypeError(
            f"compile_function: the function must return a Value, got {type(root).__name__}"
        )

    def rebuild(vals: list[float]) -> tuple[Value, Sequence[Value]]:
        xs = [Value(a) for a in vals]
        return f(*xs), xs

    return Replay(root, leaves, rebuild=rebuild, check=check, keep_graph=keep_graph)
