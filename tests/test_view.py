"""Tests of what a graph drawing shows, as pure data (no Graphviz): collapse levels, the box
budget, partial views of scope-less graphs, and the count that refuses huge graphs early."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import Parameter, Value, dot, name_scope
from micrograd_x import sum as vsum
from micrograd_x.graph import trace
from micrograd_x.nn import MLP
from micrograd_x.render import draw
from micrograd_x.view import (
    MAX_TOP_LEVEL,
    box_counts,
    choose_view,
    deepest_scope,
    levels_within,
    nodes_around,
    nodes_near_output,
    partial_view,
    penalty_terms,
)


def lecture_loss(points: int = 4) -> Value:
    """The lecture's MLP(3, [4, 4, 1]) with a squared-error loss over ``points`` samples."""
    model = MLP(3, [4, 4, 1], activation="tanh", seed=1)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]] * 8
    ys = [1.0, -1.0, -1.0, 1.0] * 8
    terms = []
    for x, y in zip(xs[:points], ys[:points]):
        out = model(x)
        assert isinstance(out, Value)
        terms.append((out - y) ** 2)
    loss = vsum(terms)
    loss.label = "loss"
    loss.backward()
    return loss


def chain(n: int) -> tuple[Value, Value]:
    x = Value(0.3, label="x")
    y = x
    for _ in range(n):
        y = y.sin()
    y.label = "y"
    y.backward()
    return x, y


@pytest.mark.parametrize("points", [1, 4, 12])
def test_coarser_levels_never_have_more_boxes(points: int) -> None:
    g = trace(lecture_loss(points))
    counts = box_counts(g)
    assert counts[0] == len(g)
    assert list(counts) == list(range(deepest_scope(g) + 1)) and deepest_scope(g) == 3
    # From the finest level to the coarsest: 0 (every value), 3 (neurons), 2 (layers), 1.
    order = [0, *range(deepest_scope(g), 0, -1)]
    assert [counts[d] for d in order] == sorted((counts[d] for d in order), reverse=True)
    # Level 1: the mlp box, the inputs rolled up, the loss (and the top level when merged).
    top = sum(1 for n in g.nodes if n.scope is None and n.role == "operation")
    assert counts[1] == 3 + (1 if top > MAX_TOP_LEVEL else top)


@given(st.integers(1, 200))
def test_auto_collapse_honours_the_budget(budget: int) -> None:
    g = trace(_cached_loss())
    v = choose_view(g, "auto", budget)
    counts = box_counts(g)
    assert len(v.items) == counts[v.depth]
    if len(g) <= budget:
        assert v.depth == 0
    elif len(v.items) > budget:  # nothing fits: the coarsest level
        assert v.depth == 1 and all(counts[d] > budget for d in counts)
    else:  # the finest level that fits
        finer = [d for d in counts if d > v.depth]
        assert all(counts[d] > budget for d in finer)


_LOSS: list[Value] = []


def _cached_loss() -> Value:
    if not _LOSS:
        _LOSS.append(lecture_loss(12))
    return _LOSS[0]


def test_collapsed_views_have_no_constant_boxes() -> None:
    x = Value(2.0, label="x")
    with name_scope("block"):
        w = Parameter(0.5, label="w")
        h = (w * x + 3.0) * 2.0
    out = h - 1.0
    out.backward()
    g = trace(out)
    assert any(n.role == "constant" for n in g.nodes)
    full = choose_view(g, None, 40)
    assert any(g.nodes[i].role == "constant" for it in full.items for i in it.members)
    collapsed = choose_view(g, 1, 40)
    for it in collapsed.items:
        assert all(g.nodes[i].role != "constant" for i in it.members)
    ids = {it.id for it in collapsed.items}
    assert all(lnk.source in ids and lnk.destination in ids for lnk in collapsed.links)


def test_links_carry_the_flow_of_their_edges() -> None:
    g = trace(_cached_loss())
    flows = g.flows()
    v = choose_view(g, 2, 40)
    for link in v.links:
        assert math.isclose(link.flow, sum(abs(flows[k]) for k in link.edges))
        assert math.isclose(link.net, sum(flows[k] for k in link.edges), abs_tol=1e-12)


def test_depth_keeps_the_levels_nearest_the_output() -> None:
    _, y = chain(50)
    g = trace(y)
    for k in (1, 2, 5):
        keep = nodes_near_output(g, k)
        assert keep == set(range(len(g) - k, len(g)))
        v = partial_view(g, keep, "part")
        hidden = [it for it in v.items if it.kind == "hidden"]
        assert len(hidden) == 1 and len(hidden[0].members) == len(g) - k
        assert len(v.items) == k + 1
    d = draw(y, depth=3)
    assert d.visible_nodes == 4 and d.level == "the 3 levels nearest the output"
    assert "51 values; drawn: the 3 levels nearest the output" in d.caption


def test_around_keeps_the_values_within_the_radius() -> None:
    x, y = chain(50)
    g = trace(y)
    mid = g.nodes[25]
    assert nodes_around(g, 25, 2) == {23, 24, 25, 26, 27}
    d = draw(trace(y), around=mid.id, radius=2)
    assert d.visible_nodes == 5 + 1
    assert "the values within 2 edges of v25" in d.level
    d2 = draw(y, around=x, radius=1)
    assert set(d2.members) == {"v0", "v1", "h0"}
    with pytest.raises(ValueError, match="give depth= or around=, not both"):
        draw(y, depth=2, around=x)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        draw(y, depth=0)


def test_scope_less_graphs_over_the_budget_draw_the_levels_that_fit() -> None:
    _, y = chain(60)
    g = trace(y)
    d = draw(y)
    assert d.level == "the 39 levels nearest the output"  # 39 values and the box of the rest
    assert d.visible_nodes == 40 and levels_within(g, 40) == 39
    assert any("collapse=None draws every value" in c for c in d.caption)
    full = draw(y, collapse=None)
    assert full.level == "full detail" and full.visible_nodes == 61
    assert any(
        "over the box budget of 40: draw a part with depth= or around=" in c for c in full.caption
    )
    # Constants count against the budget too.
    x = Value(0.5, label="x")
    z = x
    for _ in range(30):
        z = z * 0.9 + 0.1
    k = levels_within(trace(z), 10)
    assert draw(z, max_nodes=10).visible_nodes <= 10 < draw(z, depth=k + 1).visible_nodes


def test_a_huge_scope_less_graph_is_refused_before_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    import micrograd_x.render as render

    def no_trace(*args: object) -> object:
        raise AssertionError("nothing may be traced before the refusal")

    monkeypatch.setattr(render, "walk", no_trace)
    _, y = chain(2100)
    d = draw(y)
    assert d.visible_nodes == 2101
    assert "depth=" in d._repr_mimebundle_()["text/plain"]  # type: ignore[index]
    monkeypatch.undo()
    assert len(d.graph) == 2101 and d.source.startswith("digraph")


def test_a_neuron_built_with_dot_is_one_node() -> None:
    x = [Value(1.0, label="x1"), Value(2.0, label="x2")]
    w = [Parameter(0.5, label="w1"), Parameter(-0.5, label="w2")]
    out = dot(w, x, Parameter(0.1, label="b")).tanh()
    g = trace(out)
    assert len(g) == 7 and box_counts(g) == {0: 7}


def test_penalty_terms_fold_into_one_box_at_every_collapsed_level() -> None:
    from micrograd_x.train import make_loss_fn

    model = MLP(2, [3, 1], seed=0)
    loss, _ = make_loss_fn("mse", l2=0.01)(model, [[0.5, -1.0], [1.0, 2.0]], [1.0, -1.0])
    loss.backward()
    g = trace(loss)
    params = {n.index for n in g.nodes if n.role == "parameter"}
    terms = penalty_terms(g)
    # p*p for each parameter, their sum and its product with λ: built from parameters alone.
    assert len(terms) >= len(params) + 1
    for i in terms:
        assert g.nodes[i].scope is None
        assert all(
            e.source in params | terms or g.nodes[e.source].role == "constant"
            for e in g.edges_into(i)
        )
    counts = box_counts(g)
    for depth in range(1, deepest_scope(g) + 1):
        v = choose_view(g, depth, 40)
        boxes = [it for it in v.items if it.kind == "penalty"]
        assert len(boxes) == 1 and set(boxes[0].members) == terms
        assert len(v.items) == counts[depth]
    d = draw(loss, view="graph", collapse=1)
    assert "<B>L2 penalty</B>" in d.source


def test_levels_wider_than_a_notebook_are_not_added() -> None:
    xs = [Value(float(k), label=f"x{k}") for k in range(10)]
    out = vsum([x.tanh() for x in xs])
    out.backward()
    g = trace(out)
    assert levels_within(g, 40) == 1  # the ten tanh values side by side would be too wide
    assert levels_within(g, 40, width=10) == 3  # then everything fits
    assert draw(out, max_nodes=20).visible_nodes == 2  # the output and the box of the rest
