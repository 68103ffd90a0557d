from __future__ import annotations

import json
import math
import re

import pytest
from examples import neuron
from hypothesis import given
from hypothesis import strategies as st
from oracles import brute_paths

from micrograd_x import Parameter, Value, backward, name_scope, ops
from micrograd_x.graph import Edge, Graph, Node, trace
from micrograd_x.testing import reference_grad
from micrograd_x.testing.strategies import Program, programs

SMOOTH = [o.name for o in ops.registry() if not o.domain.piecewise and o.name != "const"]


def test_neuron_nodes_follow_the_written_order_with_roles() -> None:
    o, _ = neuron()
    g = trace(o)
    assert [n.name for n in g.nodes] == ["x1", "w1", "v2", "x2", "w2", "v5", "v6", "b", "n", "o"]
    assert [n.id for n in g.nodes] == [f"v{i}" for i in range(10)]
    assert [n.role for n in g.nodes] == [
        "input",
        "parameter",
        "operation",
        "input",
        "parameter",
        "operation",
        "operation",
        "parameter",
        "operation",
        "output",
    ]
    assert g.root == 9 and len(g) == 10
    assert g.nodes[9].op == "tanh" and g.nodes[9].symbol == "tanh"
    assert g.nodes[2].op == "mul" and g.nodes[0].op is None


def test_neuron_edges_carry_the_closed_form_partials() -> None:
    o, _ = neuron()
    g = trace(o)
    n = -3.0 * 2.0 + 0.0 * 1.0 + 6.8813735870195432
    expected = {
        (0, 2, 0): -3.0,  # d(x1*w1)/dx1 = w1
        (1, 2, 1): 2.0,  # d(x1*w1)/dw1 = x1
        (3, 5, 0): 1.0,
        (4, 5, 1): 0.0,
        (2, 6, 0): 1.0,
        (5, 6, 1): 1.0,
        (6, 8, 0): 1.0,
        (7, 8, 1): 1.0,
        (8, 9, 0): 1 - math.tanh(n) ** 2,
    }
    got = {(e.source, e.destination, e.index): e.partial for e in g.edges}
    assert got.keys() == expected.keys()
    for k, v in expected.items():
        assert math.isclose(got[k], v, rel_tol=1e-12, abs_tol=1e-15), k
    assert [e.destination for e in g.edges] == sorted(e.destination for e in g.edges)
    assert g.edges_into(9) == (g.edges[-1],)
    assert {e.destination for e in g.edges_from(0)} == {2}


def test_a_value_used_twice_by_one_op_gives_two_edges() -> None:
    x = Value(3.0, label="x")
    y = x * x
    g = trace(y)
    assert len(g) == 2
    assert [(e.source, e.destination, e.index, e.partial) for e in g.edges] == [
        (0, 1, 0, 3.0),
        (0, 1, 1, 3.0),
    ]
    assert g.count_paths(0) == 2
    assert g.adjoints()[0] == 6.0


def test_constants_outputs_and_scopes() -> None:
    x = Value(1.5)
    with name_scope("mlp"), name_scope("layer1"):
        w = Parameter(2.0, label="w")
        y = 2 * (x * w)
    g = trace(y)
    roles = {n.name: n.role for n in g.nodes}
    assert roles == {
        "2": "constant",
        "v1": "input",
        "w": "parameter",
        "v3": "operation",
        "v4": "output",
    }
    assert g.nodes[0].op == "const"
    assert {n.name: n.scope for n in g.nodes}["w"] == "mlp.layer1"
    assert g.nodes[1].scope is None
    assert g.nodes[-1].scope == "mlp.layer1"


def test_a_leaf_root_is_the_output() -> None:
    g = trace(Value(4.0, label="x"))
    assert len(g) == 1 and g.edges == () and g.nodes[0].role == "output"
    assert g.adjoints() == (1.0,)
    assert g.count_paths(0) == 1


def test_params_are_recorded() -> None:
    x = Value(2.0)
    g = trace((x**3).leaky_relu(0.2))
    assert g.nodes[1].params == (("k", 3.0),)
    assert g.nodes[2].params == (("slope", 0.2),)


def test_trace_is_iterative_on_a_deep_chain() -> None:
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    g = trace(y)
    assert len(g) == 40_001
    assert g.adjoints()[0] == 1.0


def test_stored_grads_are_numbers_even_when_they_are_graphs() -> None:
    x = Value(2.0, label="x")
    y = x * x * x
    backward(y, create_graph=True)
    assert isinstance(x.grad, Value)
    g = trace(y)
    assert g.nodes[0].grad == 12.0


def test_ids_are_deterministic() -> None:
    a, _ = neuron()
    b, _ = neuron()
    assert trace(a).to_json() == trace(b).to_json()


@given(programs(ops=SMOOTH, length=st.integers(1, 6), variables=st.integers(1, 3)))
def test_adjoints_match_mpmath(program: Program) -> None:
    leaves = program.leaves()
    out = program(*leaves)
    g = trace(out)
    index = {n.label: n.index for n in g.nodes if n.label}
    _, expected = reference_grad(program, program.inputs)
    adj = g.adjoints()
    for leaf, want in zip(leaves, expected):
        got = adj[index[leaf.label]] if leaf.label in index else 0.0
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-9), (leaf.label, got, want)


@given(programs(length=st.integers(1, 5), variables=st.integers(1, 2)))
def test_adjoint_is_the_sum_over_paths_of_products(program: Program) -> None:
    g = trace(program(*program.leaves()))
    adj = g.adjoints()
    for n in g.nodes:
        paths = brute_paths(g, n.index, g.root)
        assert g.count_paths(n.index) == len(paths)
        total = math.fsum(math.prod(e.partial for e in p) for p in paths)
        assert math.isclose(adj[n.index], total, rel_tol=1e-9, abs_tol=1e-12)
        on_paths = {n.index} | {e.destination for p in paths for e in p}
        assert g.descendants(n.index) == on_paths


@given(programs(length=st.integers(1, 6)))
def test_json_round_trip(program: Program) -> None:
    g = trace(program(*program.leaves()))
    text = g.to_json()
    data = json.loads(text)
    assert data["root"] == g.nodes[-1].id
    assert [d["id"] for d in data["nodes"]] == [n.id for n in g.nodes]
    assert Graph.from_json(text) == g
    assert Graph.from_json(text).to_json() == text


def test_json_keeps_unicode_labels() -> None:
    g = trace(Value(1.0, label='∂ "x"\n<y>'))
    assert json.loads(g.to_json())["nodes"][0]["label"] == '∂ "x"\n<y>'


def test_bad_json_is_rejected() -> None:
    with pytest.raises(
        ValueError, match=re.escape("expected format 'micrograd_x.graph/1', got 'nope'")
    ):
        Graph.from_dict({"format": "nope"})
    with pytest.raises(ValueError, match=re.escape("malformed graph data")):
        Graph.from_dict({"format": "micrograd_x.graph/1", "nodes": []})
    good = trace(Value(2.0, label="x") * 3.0).to_dict()
    for where, key, bad in [
        ("edges", "partial", "abc"),
        ("nodes", "data", "x"),
        ("nodes", "grad", math.nan),
        ("nodes", "params", 3),
    ]:
        doc = json.loads(json.dumps(good))
        doc[where][0][key] = bad
        with pytest.raises(ValueError, match=re.escape("Graph.from_dict: malformed graph data")):
            Graph.from_dict(doc)
    with pytest.raises(TypeError, match=re.escape("expected a mapping, got list")):
        Graph.from_dict([1])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("Graph.from_json: expected a JSON object")):
        Graph.from_json("[1]")


def test_bad_graphs_are_rejected() -> None:
    node = Node(0, None, None, None, (), 1.0, 0.0, "input", None)
    with pytest.raises(ValueError, match=re.escape("root must be the last of the 1 nodes, got 3")):
        Graph((node,), (), 3)
    out = Node(1, None, "neg", "−", (), -1.0, 1.0, "output", None)
    with pytest.raises(ValueError, match=re.escape("edge 0 goes from 1 to 0")):
        Graph((node, out), (Edge(1, 0, 0, -1.0),), 1)


def test_errors_name_the_function_and_value() -> None:
    with pytest.raises(TypeError, match=re.escape("trace: expected a Value, got float 1.0")):
        trace(1.0)  # type: ignore[arg-type]
    g = trace(Value(1.0))
    with pytest.raises(KeyError, match=re.escape("no node 'v7'; ids run from 'v0' to 'v0'")):
        g.node("v7")
    with pytest.raises(IndexError, match=re.escape("no node 5 among 1 nodes")):
        g.descendants(5)
    assert g.node("v0") is g.nodes[0]
