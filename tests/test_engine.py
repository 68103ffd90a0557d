"""The engine's chain rule on random DAG programs, its backward contract, depth and memory.

Oracles: mpmath at 40 digits (``reference_grad``), central differences (``gradcheck``) and the sum
over every path of the products of the stored edge partials.
"""

from __future__ import annotations

import gc
import math
import operator
import struct
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_x import Value, apply, backward, dot, gradients, topological_order, zero_grad
from micrograd_x import sum as sum_values
from micrograd_x.graph import Graph, trace
from micrograd_x.replay import capture
from micrograd_x.testing import gradcheck, reference_grad
from micrograd_x.testing.strategies import Program, expressions, programs


def _leaves_and_root(p: Program) -> tuple[list[Value], Value]:
    leaves = p.leaves()
    root = p(*leaves)
    assert isinstance(root, Value)
    return leaves, root


def _close(a: float, b: float, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    return abs(a - b) <= atol + rtol * abs(b)


# ---------------------------------------------------------------------------------------------
# Oracles on random programs.


@given(programs())
def test_programs_pass_gradcheck(p: Program) -> None:
    report = gradcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"


@given(expressions(max_depth=5))
def test_expressions_pass_gradcheck(p: Program) -> None:
    report = gradcheck(p, p.inputs)
    assert report, f"{p}\n{report.message}"


@settings(max_examples=settings.default.max_examples // 2)  # mpmath is slow
@given(programs(length=st.integers(1, 6)))
def test_programs_agree_with_mpmath(p: Program) -> None:
    # Inputs next to a kink (the branch changes within ±h) are skipped: mpmath.diff averages
    # the two sides there, the engine takes the documented subgradient.
    kinks = set(gradcheck(p, p.inputs, check_reentrant=False).inconclusive_inputs)
    leaves, root = _leaves_and_root(p)
    root.backward()
    value, grads = reference_grad(p, p.inputs)
    assert _close(root.data, value, rtol=1e-12, atol=1e-14)
    for j, (leaf, want) in enumerate(zip(leaves, grads)):
        if j not in kinks:
            assert _close(leaf.grad, want, rtol=1e-8, atol=1e-10), (j, leaf.grad, want, str(p))


def _path_sum(root: Value, leaf: Value) -> float:
    """Σ over every path from root to leaf of the product of the edge partials (exponential)."""
    total = 0.0
    stack: list[tuple[Value, float]] = [(root, 1.0)]
    while stack:
        node, product = stack.pop()
        if node is leaf:
            total += product
            continue
        for parent, d in zip(node.parents, node.partials):
            stack.append((parent, product * d))
    return total


@given(programs(length=st.integers(1, 7)))
def test_backward_equals_the_sum_over_paths(p: Program) -> None:
    leaves, root = _leaves_and_root(p)
    root.backward()
    for leaf in leaves:
        assert _close(leaf.grad, _path_sum(root, leaf)), str(p)


@given(programs())
def test_gradients_match_backward(p: Program) -> None:
    leaves, root = _leaves_and_root(p)
    functional = gradients(root, leaves)
    assert all(leaf.grad == 0.0 for leaf in leaves)  # gradients() touches no .grad
    root.backward()
    for leaf, g in zip(leaves, functional):
        assert _close(leaf.grad, g, rtol=1e-13, atol=1e-15)


@given(programs(outputs=2, length=st.integers(2, 8)), st.floats(-3, 3), st.floats(-3, 3))
def test_gradients_are_linear(p: Program, a: float, b: float) -> None:
    leaves = p.leaves()
    outs = p(*leaves)
    if not isinstance(outs, tuple):
        outs = (outs, outs)
    g0 = gradients(outs[0], leaves)
    g1 = gradients(outs[1], leaves)
    combined = a * outs[0] + b * outs[1]
    combined.backward()
    for leaf, x, y in zip(leaves, g0, g1):
        want = a * x + b * y
        assert _close(leaf.grad, want, atol=1e-11 * (1 + abs(a * x) + abs(b * y)))


@given(programs())
def test_backward_never_mutates_data_and_is_bit_identical(p: Program) -> None:
    runs = []
    for _ in range(2):
        leaves, root = _leaves_and_root(p)
        order = topological_order(root)
        before = [(n.data, n.partials) for n in order]
        root.backward()
        assert [(n.data, n.partials) for n in order] == before
        runs.append([leaf.grad.hex() for leaf in leaves])
    assert runs[0] == runs[1]


@given(programs())
def test_topological_order_puts_inputs_first(p: Program) -> None:
    _, root = _leaves_and_root(p)
    order = topological_order(root)
    assert order[-1] is root
    position = {id(n): i for i, n in enumerate(order)}
    assert len(position) == len(order)  # each node once
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]


# ---------------------------------------------------------------------------------------------
# Shared nodes and unused inputs.


def test_shared_node_twice() -> None:
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0
    assert b.parents == (a, a)


def test_square_has_two_edges() -> None:
    x = Value(3.0)
    y = x * x
    y.backward()
    assert y.parents == (x, x)
    assert x.grad == 6.0


def test_diamond() -> None:
    # d = (2x)·e^x: dd/dx = 2e^x + 2x·e^x.
    x = Value(0.7)
    b = x * 2.0
    c = x.exp()
    d = b * c
    d.backward()
    assert math.isclose(x.grad, 2 * math.exp(0.7) * (1 + 0.7), rel_tol=1e-15)
    assert math.isclose(b.grad, math.exp(0.7), rel_tol=1e-15)
    assert math.isclose(c.grad, 1.4, rel_tol=1e-15)


def test_unequal_path_lengths() -> None:
    # v1 = sin(x²) is reached by one path of length 1 and v0 = x² by two paths.
    x = Value(0.9)
    v0 = x * x
    v1 = v0.sin()
    v2 = v1 + v0
    v2.backward()
    want = (math.cos(0.81) + 1.0) * 1.8
    assert math.isclose(x.grad, want, rel_tol=1e-14)


@given(programs(variables=3), st.floats(-2, 2))
def test_inputs_the_root_does_not_use_get_zero(p: Program, z: float) -> None:
    leaves, root = _leaves_and_root(p)
    unused = Value(z)
    bystander = Value(1.0) * unused
    bystander.grad = 7.0
    root.backward()
    reached = {id(n) for n in topological_order(root)}
    for leaf in leaves:
        if id(leaf) not in reached:
            assert leaf.grad == 0.0
    assert unused.grad == 0.0
    assert bystander.grad == 7.0  # nodes outside the graph are untouched
    assert gradients(root, [unused]) == [0.0]


# ---------------------------------------------------------------------------------------------
# The backward contract: leaves accumulate, interior nodes are fresh each call.


@given(programs())
def test_leaves_accumulate_interior_nodes_are_fresh(p: Program) -> None:
    leaves, root = _leaves_and_root(p)
    interior = [n for n in topological_order(root) if n.parents]
    root.backward()
    first_leaves = [leaf.grad for leaf in leaves]
    first_interior = [n.grad for n in interior]
    root.backward()
    for leaf, g in zip(leaves, first_leaves):
        # Added edge by edge onto the old value: 2g up to rounding (edges may cancel).
        assert _close(leaf.grad, g + g, rtol=1e-12, atol=1e-12)
    assert [n.grad for n in interior] == first_interior
    zero_grad(leaves)
    root.backward()
    assert [leaf.grad for leaf in leaves] == first_leaves


def test_backward_of_a_leaf_accumulates_one() -> None:
    x = Value(2.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0
    assert backward(x) is None
    assert x.grad == 3.0


# ---------------------------------------------------------------------------------------------
# Depth and memory.


def test_a_million_node_chain_at_the_default_recursion_limit() -> None:
    limit = sys.getrecursionlimit()
    x = Value(0.5)
    v = x
    for _ in range(1_000_000):
        v = -v
    v.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad == 1.0
    assert len(topological_order(v)) == 1_000_001
    (g,) = gradients(v, [x])
    assert g == 1.0
    del v  # freeing the chain must not recurse either


def _count_values() -> int:
    # type(o), not isinstance(o, ...): isinstance reads __class__, which some objects of other
    # libraries (torch's deprecated module aliases) answer with a FutureWarning.
    return sum(1 for o in gc.get_objects() if issubclass(type(o), Value))


def test_graphs_are_freed_by_reference_counting() -> None:
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = _count_values()
        x, y = Value(0.3), Value(-1.2)
        v = x
        for i in range(200):
            v = (v * y + x).tanh() if i % 2 else v.max(y) + (x * x).exp()
        v.backward()
        assert gradients(v, [x, y], create_graph=True)
        del v, x, y
        assert _count_values() == before
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


@settings(max_examples=settings.default.max_examples // 10)  # gc.get_objects() is slow
@given(programs())
def test_program_graphs_leave_nothing_for_the_cyclic_gc(p: Program) -> None:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        before = _count_values()
        leaves, root = _leaves_and_root(p)
        root.backward()
        del leaves, root
        assert _count_values() == before
    finally:
        if was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------
# Every backward sweep agrees: the engine's float pass, its create_graph pass, Graph.adjoints
# and replay's grouped numpy pass, on the same random programs.


def _sweep_tolerance(g: Graph, leaf: int) -> float:
    """A bound on how far two correct sweeps may differ at ``leaf``.

    Each gradient is a sum over paths of products of partials. Sweeps may add a node's incoming
    terms in different orders, and replay's numpy kernels (and create_graph's tanh rule,
    4σ(2x)σ(−2x) against 4e/(1+e)²) may round a partial differently by a few ulps; both errors
    are at most (a few ulps × the path length and fan-in) × Σ|path products| — the "absolute
    adjoint" computed here. A wrong sweep (a path dropped or counted twice) is off by a whole
    path product, far beyond this unless that product is itself below 1e-12 of the sum.
    """
    absolute = [0.0] * len(g.nodes)
    absolute[g.root] = 1.0
    for i in range(g.root, -1, -1):
        if absolute[i]:
            for e in g.edges_into(i):
                absolute[e.source] += abs(e.partial) * absolute[i]
    return 8.0 * (len(g.nodes) + len(g.edges)) * sys.float_info.epsilon * absolute[leaf]


@given(programs())
def test_all_backward_sweeps_agree(p: Program) -> None:
    runs = []
    for _ in range(3):
        leaves = p.leaves()
        runs.append((leaves, p(*leaves)))
    (l1, r1), (l2, r2), (l3, r3) = runs
    l4 = p.leaves()  # capture builds its own graph
    assert isinstance(r1, Value)
    r1.backward()
    engine = [x.grad for x in l1]
    r2.backward(create_graph=True)
    created = [x.grad.data if isinstance(x.grad, Value) else x.grad for x in l2]
    g = trace(r3)
    index = {n.label: n.index for n in g.nodes if n.label is not None}
    adjoints = g.adjoints()
    graph = [adjoints[index[x.label]] if x.label in index else 0.0 for x in l3]
    _, replayed = capture(lambda: p(*l4), l4).run()
    replay = replayed.tolist()
    # With at most two uses per node every sweep adds the same two terms (IEEE addition and
    # multiplication commute), from the same stored partials: the engine and Graph agree exactly.
    uses = max((len(g.edges_from(i)) for i in range(len(g.nodes))), default=0)
    if uses <= 2:
        assert graph == engine, str(p)
    for j, x in enumerate(l3):
        tol = _sweep_tolerance(g, index[x.label]) if x.label in index else 0.0
        for name, other in (("graph", graph), ("create_graph", created), ("replay", replay)):
            assert abs(other[j] - engine[j]) <= tol, (name, j, other[j], engine[j], tol, str(p))


@pytest.mark.parametrize("name", ["add", "sub", "mul"])
def test_the_binary_fast_paths_follow_their_op_records_bit_for_bit(name: str) -> None:
    # +, − and × between Values spell out the records' float rules; the records are the oracle.
    import operator

    from micrograd_x import ops

    op = ops.get(name)
    fn = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}[name]
    xs = [0.0, -0.0, 1.5, -2.25, 1e-310, 3e200, -7e-5, 1.0 / 3.0]
    for a in xs:
        for b in xs:
            out = op.forward(a, b)
            if not math.isfinite(out):
                with pytest.raises(OverflowError, match=name):
                    fn(Value(a), Value(b))
                continue
            v = fn(Value(a), Value(b))
            assert math.copysign(1.0, v.data) == math.copysign(1.0, out) and v.data == out
            assert v.partials == tuple(op.partials(out, a, b))
            assert v.op is op and v.parents[0].data == a and v.parents[1].data == b
    # A non-finite result is the record's error, not a node.
    with pytest.raises(OverflowError, match=name):
        fn(Value(1e308), Value(1e308) if name != "sub" else Value(-1e308))


def _outcome(make: Callable[..., Value], *args: object) -> tuple[object, ...]:
    """What ``make(*args)`` gives: the node's op, data and partials as exact bits, or the error."""
    try:
        v = make(*args)
    except (ArithmeticError, ValueError) as e:
        return (type(e), str(e))
    return (v.op, struct.pack("<d", v.data), *(struct.pack("<d", d) for d in v.partials))


_EDGE_CASES = [0.0, -0.0, 1.5, -2.25, 1e-310, 3e200, -7e-5, 1.0 / 3.0, 20.0, -400.5, 709.0, 709.5]


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
def test_every_binary_fast_path_equals_the_general_path(name: str) -> None:
    # The operators' fast paths against apply(), which runs the record's forward and partials
    # rules and its checks: the same bits, or the same error.
    fn = {"add": operator.add, "sub": operator.sub, "mul": operator.mul}.get(name, operator.truediv)
    for a in _EDGE_CASES:
        for b in _EDGE_CASES:
            fast = _outcome(fn, Value(a), Value(b))
            assert fast == _outcome(apply, name, Value(a), Value(b)), (a, b)


@pytest.mark.parametrize("name", ["relu", "tanh", "exp"])
def test_every_unary_fast_path_equals_the_general_path(name: str) -> None:
    for a in [*_EDGE_CASES, 709.78, 710.0, -745.5, 1e-320]:
        fast = _outcome(getattr(Value(a), name))
        assert fast == _outcome(apply, name, Value(a)), a


def test_the_integer_power_fast_path_equals_the_general_path() -> None:
    # x ** 2 (an int exponent, 2 to 64) takes the fast path; x ** 2.0 the record's general one.
    for k in (2, 3, 64):
        for a in _EDGE_CASES:
            fast = _outcome(operator.pow, Value(a), k)
            assert fast == _outcome(operator.pow, Value(a), float(k)), (a, k)


def test_the_float_pass_orders_skip_connections_and_shared_nodes() -> None:
    # Nodes used both near the root and deep below it, duplicate edges (h * h) and an n-ary node
    # over nodes of every depth: the float pass processes a node only after all its users.
    x, w = Value(0.7, "x"), Value(-0.3, "w")
    h = (x * w).tanh()
    deep = h
    for i in range(30):
        deep = (deep * w + h).relu() + x if i % 2 else (deep * deep + 0.1).sqrt()
    root = sum_values([deep, h * h, x, deep * h])
    root.backward()
    for leaf in (x, w):
        assert _close(leaf.grad, _path_sum_memo(root, leaf), rtol=1e-12), leaf.label
    # A second pass on the same graph (new marks, grads accumulate on the leaves).
    before = (x.grad, w.grad)
    root.backward()
    assert _close(x.grad, 2 * before[0], rtol=1e-14) and _close(w.grad, 2 * before[1], rtol=1e-14)


def _path_sum_memo(root: Value, leaf: Value) -> float:
    """Σ over paths of the products of partials, memoised per node (the chain rule's meaning)."""
    memo: dict[Value, float] = {leaf: 1.0}
    for node in topological_order(root):
        if node is not leaf:
            memo[node] = math.fsum(
                d * memo.get(p, 0.0) for p, d in zip(node.parents, node.partials)
            )
    return memo[root]


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40).flatmap(
        lambda ws: st.tuples(
            st.just(ws),
            st.lists(st.floats(-1e3, 1e3), min_size=len(ws), max_size=len(ws)),
            st.none() | st.floats(-1e3, 1e3),
        )
    )
)
def test_the_dot_fast_path_equals_the_general_path(
    case: tuple[list[float], list[float], float | None],
) -> None:
    # dot() spells out DOT's forward and partials; apply() runs the record's rules.
    ws, xs, b = case
    fast = _outcome(
        dot, [Value(w) for w in ws], [Value(x) for x in xs], None if b is None else Value(b)
    )
    general = _outcome(
        apply, "dot", *map(Value, ws), *map(Value, xs), *([] if b is None else [Value(b)])
    )
    assert fast == general


@given(programs())
def test_every_node_ranks_above_its_inputs(p: Program) -> None:
    # The float pass sorts nodes by rank: it must grow along every edge, n-ary nodes included.
    _, root = _leaves_and_root(p)
    s = sum_values([root, root * 2.0, root.relu()])
    for node in topological_order(s):
        assert all(node._rank > q._rank for q in node.parents), node
