"""Trace once, replay fast: re-run a captured graph of ``Value`` nodes as vectorized numpy work.

:func:`capture` (a loss of parameters) and :func:`compile_function` (a function of scalars)
build a graph once and compile it into a :class:`Replay`: node op codes and parent indices in
numpy arrays, grouped so that every node of one op at one depth is computed by one array
operation, forward and backward, by the numpy kernels of :mod:`micrograd_x.kernels` (whose
:data:`KERNELS` and :class:`Kernel` are re-exported here). The groups themselves live in
:mod:`micrograd_x.replaygroups`, check mode's comparison with eager mode in
:mod:`micrograd_x.replaycheck` (:class:`ReplayDivergenceError` is re-exported here). Imports
numpy and the micrograd_x modules ``ops``, ``engine``, ``backward``, ``kernels``,
``replaygroups`` and ``replaycheck``.

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

from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from micrograd_x import ops
from micrograd_x.backward import topological_order
from micrograd_x.engine import Value
from micrograd_x.kernels import KERNELS, Kernel
from micrograd_x.replaycheck import ReplayDivergenceError, compare, params_key, signature
from micrograd_x.replaygroups import (
    DotGroup,
    ElementwiseGroup,
    Group,
    SumGroup,
    diagnose_backward,
    diagnose_forward,
    kernel_of,
)

__all__ = [
    "KERNELS",
    "Kernel",
    "Replay",
    "ReplayDivergenceError",
    "capture",
    "compile_function",
]

Array = NDArray[np.float64]

_data = attrgetter("data")


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
        self._signature = signature(root, inputs) if check else None
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
            kernel_of(op)
            arity = len(parents) // 2 if op is ops.DOT else len(parents)
            gkey = (d + 1, op.name, params_key(node.params), arity)
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
        built: list[Group] = []
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
                perm = DotGroup.order(w, x)
                members = [members[i] for i in perm]
                w, x, b = w[perm], x[perm], b[perm]
                has_bias = any(len(m.parents) > 2 * k for m in members)
                grp: Group = DotGroup(start, w, x, b, has_bias, needs)
            elif op is ops.SUM:
                pm = np.array([[row[id(q)] for q in m.parents] for m in members], np.intp)
                perm = np.lexsort(pm.T[::-1]).astype(np.intp)
                members = [members[i] for i in perm]
                grp = SumGroup(start, pm[perm], needs)
            else:
                cols = [
                    np.array([row[id(m.parents[j])] for m in members], np.intp)
                    for j in range(len(members[0].parents))
                ]
                perm = np.lexsort(cols[::-1]).astype(np.intp)
                members = [members[i] for i in perm]
                grp = ElementwiseGroup(op, params, start, [c[perm] for c in cols], needs)
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
                diagnose_forward(self._groups, v)
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
                diagnose_backward(self._groups, v, g, self._n_in, self._n_total)
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

    # -- check mode ---------------------------------------------------------------------------

    def _after(self, vals: Array, out: Any, grads: Array | None) -> None:
        self._calls += 1
        if not self._checks_left:
            return
        self._checks_left -= 1
        row = vals if vals.ndim == 1 else vals[0]
        o = out if vals.ndim == 1 else float(out[0])
        gr = None if grads is None else (grads if vals.ndim == 1 else grads[0])
        assert self._rebuild is not None and self._signature is not None
        root, inputs = self._rebuild(row.tolist())
        names = [self._input_name(i) for i in range(self._n_in)]
        compare(
            self._calls,
            self._signature,
            root,
            inputs,
            o,
            None if gr is None else gr.tolist(),
            names,
        )
        if not self._checks_left:
            self._signature = None


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
