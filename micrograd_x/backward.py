"""Reverse-mode differentiation: the backward sweeps over a graph of ``Value`` nodes.

:func:`backward` runs the chain rule over the partials each node stores, from a root to its
leaves, in topological order found iteratively (so graphs of any depth work). Two sweeps: the
float pass (the hot loop of training: the nodes sorted by rank, all or nothing) and the dict-based
sweep that :func:`gradients` and ``create_graph=True`` use (it can rebuild every partial as a
``Value`` graph, to differentiate again). :func:`topological_order` and
:func:`zero_grad` complete the set. :mod:`micrograd_x.engine` re-exports every public name here,
and ``Value.backward`` calls :func:`backward`.
Imports: the standard library, :mod:`micrograd_x.ops` and :mod:`micrograd_x.value`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

from micrograd_x.ops import CONST
from micrograd_x.value import Value, constant, to_float

__all__ = [
    "backward",
    "gradients",
    "topological_order",
    "zero_grad",
]


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, inputs first and ``root`` last.

    Found iteratively, so any depth works: breadth first from ``root``, then sorted by rank (see
    ``Value``). Reversed, it is exactly the order in which ``backward`` processes the nodes.
    """
    found = [root]
    seen = {root}
    push = found.append
    mark = seen.add
    for node in found:  # the loop also reaches the nodes appended while it runs
        for p in node.parents:
            if p not in seen:
                mark(p)
                push(p)
    return sorted(found, key=_rank_of)  # nodes of equal rank in the order they were found


def backward(root: Value, gradient: float = 1.0, *, create_graph: bool = False) -> None:
    """Backpropagate from ``root``: the chain rule over the stored partials.

    Leaves *accumulate* d(root)/d(leaf) into ``grad`` (zero them between steps); interior nodes
    get their gradient for this call. Nodes that ``root`` does not depend on are untouched. As
    PyTorch's ``backward(gradient=None, retain_graph=None, create_graph=False)``: ``gradient`` is
    the upstream gradient d(loss)/d(root) that the chain rule starts from.

    All or nothing: when backward raises, no node's ``grad`` has changed. Constants need no
    gradient: the gradient of a constant, or of a node computed from constants only, is not
    checked (diagrams still show it), so only an overflow that reaches a variable raises.

    Args:
        root: The node to differentiate.
        gradient: The upstream gradient seeded at ``root`` (1.0: differentiate ``root`` itself).
        create_graph: Build the gradients as ``Value`` graphs (the same partials rules applied to
            nodes), so they can be differentiated again: ``x.grad.backward()``. Keyword-only.

    Raises:
        TypeError: If ``gradient`` is not a real number (``backward(True)`` is refused: write
            ``backward(create_graph=True)``).
        ValueError: If ``gradient`` is NaN or infinite.
        OverflowError: If a gradient that reaches a variable overflows to infinity.
    """
    seed = _seed(gradient, create_graph)
    if create_graph:
        _backward_graph(root, seed)
    elif root._p0 is not None or root._pn is not None:
        _backward_floats(root, seed)
    else:
        g = root._grad + seed
        if g - g != 0.0 and not isinstance(g, Value) and root.op is not CONST:
            raise _bad_gradient(root, g)
        root._grad = g


def _seed(gradient: object, create_graph: bool) -> Any:
    if type(gradient) is float and gradient - gradient == 0.0:
        return gradient
    if type(gradient) is bool:
        raise TypeError(
            f"backward: gradient must be a number, got bool {gradient!r}; create_graph is "
            "keyword-only: write backward(create_graph=True)"
        )
    if isinstance(gradient, Value):
        if create_graph:
            return gradient
        raise TypeError(
            "backward: gradient must be a number, got a Value; pass gradient.item() (or use "
            "create_graph=True to differentiate through it)"
        )
    return to_float(gradient, "backward: gradient")


# The float backward pass is the hot loop of training. Each node carries a rank that grows along
# every edge (the `_rank` slot, see Value), so highest rank first is a topological order from the
# root to the leaves: one walk finds the nodes (breadth first, so they come nearly sorted), a C
# sort orders them (exactly as topological_order does), and one sweep adds each node's partial ×
# grad into its inputs, with no per-edge bookkeeping (the unary, binary and n-ary cases spelled
# out). The walk marks the nodes it finds with the pass's own number in their `_n` slot, so no mark
# ever needs clearing.


def _backward_floats(root: Value, seed: float) -> None:
    """The float chain rule from ``root``; all or nothing (see :func:`backward`)."""
    found = [root]
    olds: list[Any] = []
    try:
        _walk(found, olds, _next_pass())
        root._grad = seed
        _sweep_floats(reversed(sorted(found, key=_rank_of)))
    except BaseException:
        for v, g in zip(found, olds):
            v._grad = g
        raise


_rank_of = attrgetter("_rank")
_next_pass = itertools.count(1).__next__


def _walk(found: list[Value], olds: list[Any], mark: int) -> None:
    """Append to ``found`` (which holds the root) every node the root depends on, breadth first.

    Each node is marked (``_n = mark``) as it is appended; as it is reached, its grad is saved
    in ``olds`` (the same order) and, if it has inputs, zeroed for the sweep.
    """
    found[0]._n = mark
    push = found.append
    save = olds.append
    for node in found:  # the loop also reaches the nodes appended while it runs
        save(node._grad)
        p0 = node._p0
        if p0 is None:
            parents = node._pn
            if parents is None:
                continue  # a leaf: its grad accumulates
            node._grad = 0.0
            for p in parents:
                if p._n is not mark:
                    p._n = mark
                    push(p)
            continue
        node._grad = 0.0
        if p0._n is not mark:
            p0._n = mark
            push(p0)
        p1 = node._p1
        if p1 is not None and p1._n is not mark:
            p1._n = mark
            push(p1)


def _sweep_floats(ordered: Iterable[Value]) -> None:
    """The chain rule over the found nodes, highest rank first.

    A node's grad is complete when it is reached (every node that uses it ranks higher), so it is
    checked, then partial × grad goes into each input. Constants, and nodes computed from
    constants only, need no gradient: theirs is computed (diagrams show it) but not checked.
    """
    for node in ordered:
        g = node._grad
        p0 = node._p0
        if p0 is None:
            parents = node._pn
            if parents is None:
                # A leaf may hold a Value (a gradient graph left by create_graph=True, which
                # this pass accumulates into): a Value's data is always finite.
                if type(g) is float and g - g != 0.0 and node.op is not CONST:
                    raise _bad_gradient(node, g)
                continue
            if g - g != 0.0 and node.op is not CONST and _reaches_a_variable(node):
                raise _bad_gradient(node, g)
            for parent, d in zip(parents, node._dn):  # type: ignore[arg-type]
                parent._grad += d * g
            continue
        if g - g != 0.0 and node.op is not CONST and _reaches_a_variable(node):
            raise _bad_gradient(node, g)
        p0._grad += node._d0 * g
        p1 = node._p1
        if p1 is not None:
            p1._grad += node._d1 * g


def _reaches_a_variable(node: Value) -> bool:
    """Whether any non-constant leaf lies above ``node`` (so its gradient is needed)."""
    seen = {node}
    stack = [node]
    while stack:
        for p in stack.pop().parents:
            if p not in seen:
                if p.is_leaf and p.op is not CONST:
                    return True
                seen.add(p)
                stack.append(p)
    return False


def _bad_gradient(node: Value, g: object) -> OverflowError:
    where = node.op.name if node.op is not None else "leaf"
    label = f" {node.label!r}" if node.label else ""
    return OverflowError(f"backward: the gradient at the {where} node{label} overflowed to {g!r}")


def _needed(order: list[Value], wrt: set[Value] | None) -> set[Value]:
    """The nodes of ``order`` (inputs first) that depend on a node of ``wrt``.

    With ``wrt`` ``None``: those that depend on a variable (a leaf that is not a constant). Only
    these need a gradient.
    """
    needed: set[Value] = set()
    for node in order:  # inputs before the nodes that use them
        if wrt is not None and node in wrt:
            needed.add(node)
        elif node.is_leaf:
            if wrt is None and node.op is not CONST:
                needed.add(node)
        elif any(p in needed for p in node.parents):
            needed.add(node)
    return needed


def _backward_graph(root: Value, seed: Any) -> None:
    order = topological_order(root)
    grads = _sweep(order, _needed(order, None), create_graph=True, seed=seed)
    for node in order:
        g = grads.get(node, 0.0)
        if node.parents:
            node._grad = g
        elif not (isinstance(g, float) and g == 0.0):
            old = node._grad
            node._grad = g if isinstance(old, float) and old == 0.0 else old + g


def _sweep(
    order: list[Value], needed: set[Value], create_graph: bool, seed: Any = 1.0
) -> dict[Value, Any]:
    """The chain rule with gradients kept in a dict (node attributes are left untouched).

    ``order`` comes from :func:`topological_order`; only ``needed`` nodes get (and are checked
    for) a gradient. With ``create_graph`` every partial is recomputed by its op's rule on the nodes
    themselves, so the gradients are graphs.
    """
    root = order[-1]
    if create_graph and not isinstance(seed, Value):
        seed = constant(seed)
    grads: dict[Value, Any] = {root: seed} if root in needed else {}
    for node in reversed(order):
        g = grads.get(node)
        if g is None or (isinstance(g, float) and g == 0.0):
            continue
        if not create_graph and not g - g == 0.0:
            raise _bad_gradient(node, g)
        parents = node.parents
        if not parents:
            continue
        if create_graph:
            op = node.op
            assert op is not None
            parts = op.partials(node, *parents, **(node.params or {}))
        else:
            parts = node.partials
        for parent, d in zip(parents, parts):
            if parent not in needed or (isinstance(d, float) and d == 0.0):
                continue
            term = g if isinstance(d, float) and d == 1.0 else d * g
            old = grads.get(parent)
            grads[parent] = term if old is None else old + term
    return grads


def gradients(root: Value, wrt: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d(root)/d(w) for each ``w`` in ``wrt``, without touching any node's ``grad``.

    Only the gradients on the way from ``root`` to ``wrt`` are computed (and checked for
    overflow), so ``gradients(y, [])`` is ``[]``.

    Args:
        root: The node to differentiate (a plain number has zero gradients).
        wrt: The nodes to differentiate with respect to.
        create_graph: Return the gradients as ``Value`` graphs that can be differentiated again.

    Returns:
        One gradient per entry of ``wrt``: floats, or Values (or 0.0 where nothing flows) with
        ``create_graph``.

    Raises:
        OverflowError: If a gradient on the way to ``wrt`` overflows to infinity.
    """
    if not isinstance(root, Value) or not wrt:
        return [0.0 for _ in wrt]
    order = topological_order(root)
    grads = _sweep(order, _needed(order, set(wrt)), create_graph)
    return [grads.get(w, 0.0) for w in wrt]


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``grad`` to 0.0 on each of ``values`` (e.g. a model's parameters)."""
    for v in values:
        v._grad = 0.0
