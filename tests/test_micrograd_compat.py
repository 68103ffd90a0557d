"""micrograd's code runs on micrograd_x: the lecture's cells, micrograd's README and demo loop.

Each snippet is micrograd's (or the lecture's) with only the import changed, and is checked
against an independent oracle: micrograd 0.1.0 itself (installed by the test extra), central
differences, or the closed form.
"""

from __future__ import annotations

import builtins
import math
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import micrograd.engine as mg_engine
import micrograd.nn as mg_nn
import pytest

import micrograd_x
from micrograd_x import Value, cli, serialize
from micrograd_x.engine import topological_order
from micrograd_x.nn import MLP, Layer, Neuron

# ---------------------------------------------------------------------------------------------
# The lecture's manual backpropagation


def _numeric(f: Callable[[float], float], x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def _lecture_expression(**shift: float) -> dict[str, Value]:
    # The lecture's first graph: L = (a*b + c) * f, every node labelled.
    a = Value(2.0 + shift.get("a", 0.0), label="a")
    b = Value(-3.0 + shift.get("b", 0.0), label="b")
    c = Value(10.0 + shift.get("c", 0.0), label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0 + shift.get("f", 0.0), label="f")
    L = d * f
    L.label = "L"
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "L": L}


def test_the_lectures_gradients_by_hand_match_backward_and_finite_differences() -> None:
    g = _lecture_expression()
    L, d, e, f = g["L"], g["d"], g["e"], g["f"]
    # By hand, as the lecture derives them: dL/dd = f, dL/df = d, then through + and *.
    L.grad = 1.0
    f.grad = d.data
    d.grad = f.data
    g["c"].grad = d.grad * 1.0
    e.grad = d.grad * 1.0
    g["a"].grad = e.grad * g["b"].data
    g["b"].grad = e.grad * g["a"].data
    by_hand = {k: v.grad for k, v in g.items()}
    assert by_hand == {"a": 6.0, "b": -4.0, "c": -2.0, "d": -2.0, "e": -2.0, "f": 4.0, "L": 1.0}

    fresh = _lecture_expression()
    fresh["L"].backward()
    for leaf in "abcf":
        assert fresh[leaf].grad == by_hand[leaf]

        def L_at(x: float, leaf: str = leaf) -> float:
            return _lecture_expression(**{leaf: x})["L"].data

        assert fresh[leaf].grad == pytest.approx(_numeric(L_at, 0.0), rel=1e-6)


def _lecture_neuron() -> dict[str, Value]:
    x1 = Value(2.0, label="x1")
    x2 = Value(0.0, label="x2")
    w1 = Value(-3.0, label="w1")
    w2 = Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return dict(locals())


def test_the_lectures_backward_calls_one_node_at_a_time() -> None:
    g = _lecture_neuron()
    o = g["o"]
    o.grad = 1.0
    # The lecture calls each node's _backward() from the output down.
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):
        g[name]._backward()
    t = o.data
    assert g["n"].grad == pytest.approx(1 - t**2)  # tanh's derivative, closed form
    assert g["n"].grad == pytest.approx(0.5, abs=1e-12)  # b makes tanh(n) = 1/√2
    assert g["w1"].grad == pytest.approx(0.5 * 2.0)  # dn/dw1 = x1
    assert g["x1"].grad == pytest.approx(0.5 * -3.0)
    assert g["w2"].grad == pytest.approx(0.5 * 0.0)
    assert g["x2"].grad == pytest.approx(0.5 * 1.0)
    manual = {k: v.grad for k, v in g.items()}

    # The same step through the lecture's topological sort over _prev, then backward() itself.
    g2 = _lecture_neuron()
    topo: list[Value] = []
    visited: set[Value] = set()

    def build_topo(v: Value) -> None:
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(g2["o"])
    g2["o"].grad = 1.0
    for node in reversed(topo):
        node._backward()
    assert {k: v.grad for k, v in g2.items()} == pytest.approx(manual)
    g3 = _lecture_neuron()
    g3["o"].backward()
    for k in ("x1", "x2", "w1", "w2", "b"):
        assert g3[k].grad == pytest.approx(manual[k], abs=1e-15)


def test_the_lectures_tanh_from_exp_and_the_reused_node() -> None:
    # tanh spelled out with exp, the ops the lecture adds: the same gradient as tanh().
    x = Value(0.8813735870195432)
    e = (2 * x).exp()
    o = (e - 1) / (e + 1)
    o.backward()
    assert o.data == pytest.approx(math.tanh(x.data))
    assert x.grad == pytest.approx(1 - math.tanh(x.data) ** 2)
    # The lecture's bug: a node used twice must accumulate its gradient.
    a = Value(3.0, label="a")
    b = a + a
    b.backward()
    assert a.grad == 2.0
    assert b._prev == {a}  # the set of distinct parents, as micrograd keeps it
    assert b._op == "+"


# ---------------------------------------------------------------------------------------------
# micrograd's README example, verbatim but for the import


_README = """
a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
g.backward()
"""


def _run(code: str, value_class: type) -> dict[str, Any]:
    namespace: dict[str, Any] = {"Value": value_class}
    exec(compile(code, "<micrograd README>", "exec"), namespace)  # our own constant text
    return namespace


def test_micrographs_readme_example_gives_its_printed_numbers_and_micrograds_own() -> None:
    ours = _run(_README, Value)
    theirs = _run(_README, mg_engine.Value)
    # The numbers micrograd's README prints, to 4 decimals.
    assert f"{ours['g'].data:.4f}" == "24.7041"
    assert f"{ours['a'].grad:.4f}" == "138.8338"
    assert f"{ours['b'].grad:.4f}" == "645.5773"
    for name in ("a", "b"):
        assert ours[name].grad == pytest.approx(theirs[name].grad, rel=1e-12)
    assert ours["g"].data == pytest.approx(theirs["g"].data, rel=1e-12)


def _ops_of(root: Any) -> list[str]:
    seen: set[int] = set()
    out: list[str] = []
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v._op)
            stack.extend(v._prev)
    return sorted(out)


def test_op_symbols_and_parent_sets_are_micrograds() -> None:
    code = "x = Value(1.5)\ny = Value(-2.0)\nz = ((x * y + x**2).relu() + y**3) * 2 + 1\n"
    ours, theirs = _run(code, Value), _run(code, mg_engine.Value)
    # The same nodes with the same _op strings ('' for leaves and constants).
    assert _ops_of(ours["z"]) == _ops_of(theirs["z"])
    assert ours["z"].data == theirs["z"].data
    assert all(isinstance(p, Value) for p in ours["z"]._prev)
    assert Value(2.0).tanh()._op == "tanh"


# ---------------------------------------------------------------------------------------------
# A trace/draw_dot helper as the lecture builds one: walk _prev, draw each op as its own node.


def _trace(root: Value) -> tuple[set[Value], set[tuple[Value, Value]]]:
    nodes: set[Value] = set()
    edges: set[tuple[Value, Value]] = set()
    todo = [root]
    while todo:
        v = todo.pop()
        if v in nodes:
            continue
        nodes.add(v)
        for parent in v._prev:
            edges.add((parent, v))
            todo.append(parent)
    return nodes, edges


def _draw_dot(root: Value) -> Any:
    from graphviz import Digraph

    dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = _trace(root)
    for v in nodes:
        key = f"n{id(v)}"
        text = f"{{ {v.label or ''} | data {v.data:.4f} | grad {v.grad:.4f} }}"
        dot.node(key, text, shape="record")
        if v._op:
            dot.node(key + "op", v._op)
            dot.edge(key + "op", key)
    for parent, child in edges:
        dot.edge(f"n{id(parent)}", f"n{id(child)}op")
    return dot


def test_the_lectures_graph_helpers_walk_prev_and_op() -> None:
    g = _lecture_neuron()
    o = g["o"]
    o.backward()
    nodes, edges = _trace(o)
    assert nodes == set(topological_order(o))
    assert edges == {(p, v) for v in nodes for p in v.parents}
    dot = _draw_dot(o)
    source = dot.source
    for v in nodes:
        assert f"data {v.data:.4f} | grad {v.grad:.4f}" in source
    ops = sorted(m.strip('"') for m in re.findall(r'op \[label=("[^"]*"|\w+)\]', source))
    assert ops == ["*", "*", "+", "+", "tanh"]
    # It renders with Graphviz's dot (installed by ./dev.sh).
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=True
    ).stdout
    assert svg.count('class="node"') == len(nodes) + 5
    assert svg.count('class="edge"') == len(edges) + 5


# ---------------------------------------------------------------------------------------------
# micrograd's demo training loop, verbatim but for the imports (and the data: our make_moons)


def _demo_loop(Value: Any, model: Any, X: Any, y: Any, steps: int) -> list[tuple[float, float]]:
    # micrograd's demo.ipynb loss() and optimization loop, unchanged.
    def loss(batch_size: int | None = None) -> tuple[Any, float]:
        Xb, yb = X, y
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    history = []
    for k in range(steps):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
    return history


def test_micrograds_demo_loop_trains_the_same_model_to_the_same_numbers() -> None:
    from micrograd_x import data

    X, labels = data.make_moons(40, noise=0.1, seed=3)
    y = labels * 2 - 1
    # micrograd's MLP draws U(-1, 1) weights from Python's random; init="uniform" does too.
    random.seed(1337)
    theirs = mg_nn.MLP(2, [8, 8, 1])
    random.seed(1337)
    ours = MLP(2, [8, 8, 1], init="uniform")
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    h_theirs = _demo_loop(mg_engine.Value, theirs, X, y, steps=8)
    h_ours = _demo_loop(Value, ours, X, y, steps=8)
    for (l1, a1), (l2, a2) in zip(h_ours, h_theirs):
        assert l1 == pytest.approx(l2, rel=1e-9)
        assert a1 == a2
    assert h_ours[-1][0] < h_ours[0][0]


# ---------------------------------------------------------------------------------------------
# Defaults: one activation policy, micrograd's nonlin keyword


def test_relu_hidden_units_and_a_linear_output_by_default() -> None:
    assert Neuron(3).activation == "relu"
    assert type(Neuron(3).activation) is str and type(Layer(2, 2).activation) is str
    assert Layer(2, 3).activation == "relu"
    assert [layer.activation for layer in MLP(2, [4, 4, 1]).layers] == ["relu", "relu", "linear"]
    n = Neuron(2, seed=0)
    n.w[0].data, n.w[1].data = 1.0, 1.0
    assert n([-3.0, 1.0]).data == 0.0  # relu clips
    assert n([3.0, 1.0]).data == 4.0


def test_micrograds_nonlin_keyword() -> None:
    assert Neuron(3, nonlin=True).activation == "relu"
    assert Neuron(3, nonlin=False).activation == "linear"
    layer = Layer(2, 3, nonlin=False)
    assert [n.activation for n in layer.neurons] == ["linear"] * 3
    assert Layer(2, 3, nonlin=False).config()["activation"] is None
    assert Neuron(2, "tanh").activation == "tanh"
    with pytest.raises(TypeError, match=r"give activation='tanh' or micrograd's nonlin=True"):
        Neuron(2, "tanh", nonlin=True)
    with pytest.raises(TypeError, match=r"give activation='relu' or micrograd's nonlin=False"):
        Layer(2, 2, activation="relu", nonlin=False)
    with pytest.raises(TypeError, match=r"nonlin must be True \(relu\) or False .* got int 1"):
        Neuron(2, nonlin=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"micrograd's flag is a keyword here: nonlin=False"):
        Neuron(2, False)  # type: ignore[arg-type]


def test_the_default_matches_micrograds_forward_pass() -> None:
    # micrograd's Neuron is relu(Σ wᵢxᵢ + b); ours with micrograd's weights gives the same.
    random.seed(5)
    theirs = mg_nn.Layer(3, 4)
    random.seed(5)
    ours = Layer(3, 4, init="uniform")
    x = [0.5, -1.5, 2.0]
    out_theirs = theirs([mg_engine.Value(v) for v in x])
    out_ours = ours(x)
    assert [o.data for o in out_ours] == pytest.approx([o.data for o in out_theirs], abs=1e-15)
    assert any(o.data == 0.0 for o in out_ours) and any(o.data > 0 for o in out_ours)


# ---------------------------------------------------------------------------------------------
# Seeding, as micrograd: Python's random unless a seed is given


def _weights(m: Any) -> list[float]:
    return [p.data for p in m.parameters()]


def test_unseeded_models_draw_from_pythons_random() -> None:
    random.seed(1337)
    a = MLP(2, [16, 16, 1])
    random.seed(1337)
    b = MLP(2, [16, 16, 1])
    c = MLP(2, [16, 16, 1])
    assert _weights(a) == _weights(b)
    assert _weights(a) != _weights(c)
    # The lecture's way to build a layer gives different neurons.
    neurons = [Neuron(3) for _ in range(4)]
    assert len({tuple(n.w[i].data for i in range(3)) for n in neurons}) == 4


def test_an_explicit_seed_is_reproducible_and_leaves_pythons_random_alone() -> None:
    random.seed(7)
    before = random.getstate()
    one = MLP(3, [5, 2], seed=11)
    assert random.getstate() == before
    random.seed(99)
    two = MLP(3, [5, 2], seed=11)
    assert [w.hex() for w in _weights(one)] == [w.hex() for w in _weights(two)]
    assert _weights(MLP(3, [5, 2], seed=random.Random(4))) == _weights(
        MLP(3, [5, 2], seed=random.Random(4))
    )


def test_the_he_default_is_micrograds_draws_rescaled() -> None:
    # With Python's random, He uniform U[±√(6/n)] makes one draw per weight, as micrograd's
    # U[-1, 1]: the same random.seed gives micrograd's weights times √(6/n).
    random.seed(21)
    theirs = mg_nn.Neuron(6)
    random.seed(21)
    ours = Neuron(6)
    bound = math.sqrt(6 / 6)
    assert [w.data for w in ours.w] == pytest.approx([w.data * bound for w in theirs.w])


def test_loading_a_model_leaves_pythons_random_alone(tmp_path: Path) -> None:
    path = serialize.save(MLP(2, [3, 1], seed=0), tmp_path / "m.json")
    random.seed(3)
    state = random.getstate()
    loaded = serialize.load(path)
    assert random.getstate() == state
    assert _weights(loaded) == _weights(MLP(2, [3, 1], seed=0))


# ---------------------------------------------------------------------------------------------
# Exports and friendly misses


def test_import_star_shadows_no_builtin() -> None:
    namespace: dict[str, Any] = {}
    exec("from micrograd_x import *", namespace)  # a constant statement
    names = set(namespace) - {"__builtins__"}
    assert names == set(micrograd_x.__all__)
    assert not names & set(dir(builtins))
    assert not names & {"sum", "data", "grad"}
    exec("total = sum(range(5))\nempty = sum([])", namespace)
    assert (namespace["total"], namespace["empty"]) == (10, 0)
    # Still reachable by their qualified names.
    assert micrograd_x.sum([Value(1.0), Value(2.0)]).data == 3.0
    assert micrograd_x.grad(lambda x: x * x)(3.0) == 6.0
    assert micrograd_x.data.make_moons(10, seed=0)[0].shape == (10, 2)


@pytest.mark.parametrize(
    ("build", "name", "hint"),
    [
        (lambda: Neuron(2), "nonlin", "did you mean activation (micrograd's nonlin=True"),
        (lambda: Neuron(2), "weight", "did you mean w (the weights"),
        (lambda: Neuron(2), "bias", "did you mean b (the bias"),
        (lambda: MLP(2, [3, 1]), "nouts", "did you mean sizes"),
        (lambda: MLP(2, [3, 1]), "state_dict", "serialize.to_dict(model)"),
        (lambda: MLP(2, [3, 1]), "layer", "did you mean layers?"),
        (lambda: Layer(2, 2), "neuron", "did you mean neurons?"),
        (lambda: Neuron(2), "parameter", "did you mean parameters?"),
    ],
)
def test_modules_point_from_micrograd_and_pytorch_names(
    build: Callable[[], Any], name: str, hint: str
) -> None:
    with pytest.raises(AttributeError, match=rf"object has no attribute '{name}'; .*") as e:
        getattr(build(), name)
    assert hint in str(e.value)


def test_a_miss_without_a_close_name_stays_plain() -> None:
    with pytest.raises(AttributeError) as e:
        MLP(2, [1]).weight  # noqa: B018  (an MLP has no w)
    assert str(e.value) == "'MLP' object has no attribute 'weight'"
    assert not hasattr(Neuron(2), "__array__")
    with pytest.raises(AttributeError, match=r"has no attribute 'MPL'; did you mean MLP\?"):
        micrograd_x.MPL  # noqa: B018


# ---------------------------------------------------------------------------------------------
# The command line names nodes after their source text


def test_draw_names_intermediate_nodes_after_their_source(tmp_path: Path) -> None:
    import json

    out = tmp_path / "n.json"
    code = cli.main(
        ["draw", "tanh(w1*x1 + w2*x2 + b)", "--at", "x1=2,x2=0,w1=-3,w2=1,b=6.88", "-o", str(out)]
    )
    assert code == 0
    labels = {n["label"] for n in json.loads(out.read_text())["nodes"]}
    assert labels == {"w1", "x1", "w2", "x2", "b", "w1*x1", "w2*x2", "w1*x1 + w2*x2"} | {
        "w1*x1 + w2*x2 + b",
        "out",
    }


def test_long_source_labels_keep_both_ends_and_stay_distinct() -> None:
    from micrograd_x.expr import MAX_LABEL, parse

    text = " + ".join(f"w{i}*x{i}" for i in range(1, 9))
    program = parse(text.replace(" + ", " +\t  "))  # odd spacing is collapsed
    root = program.evaluate({name: 1.0 for name in program.variables})
    sums = [n for n in topological_order(root) if n.op is not None and n.op.name == "add"]
    labels = [n.label or "" for n in sums]
    assert len(set(labels)) == len(labels) == 7
    assert all(len(label) <= MAX_LABEL for label in labels)
    assert labels[0] == "w1*x1 + w2*x2"
    assert root.label is not None and root.label.startswith("w1*x1 + w2")
    assert root.label.endswith("w8*x8") and "…" in root.label


def test_a_parameter_given_by_position_says_how_to_name_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["check", "leaky_relu(x, 0.1)", "--at", "x=1"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "write leaky_relu(x, slope=0.1)" in err
    assert cli.main(["check", "elu(x - 1, -0.5)", "--at", "x=1"]) == cli.EXIT_USAGE
    assert "write elu(x - 1, alpha=-0.5)" in capsys.readouterr().err


def test_the_command_line_module_runs() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "micrograd_x", "check", "leaky_relu(x, slope=0.1)", "--at", "x=1"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr


# ---------------------------------------------------------------------------------------------
# Graphviz's and the lecture's names for drawing


def test_draw_dot_rankdir_and_render_as_the_lecture_writes_them(tmp_path: Path) -> None:
    o = _lecture_neuron()["o"]
    o.backward()
    assert micrograd_x.draw_dot is micrograd_x.draw
    with pytest.raises(TypeError, match=r"'rankdir': did you mean direction='LR'\?"):
        micrograd_x.draw_dot(o, rankdir="LR")
    drawing = micrograd_x.draw_dot(o, direction="LR")
    assert "rankdir=LR" in drawing.source
    picture = Path(drawing.render(outfile=tmp_path / "neuron.svg"))
    assert picture == tmp_path / "neuron.svg"
    svg = picture.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "x1*w1" in svg


def test_explain_reads_as_a_table_at_a_prompt() -> None:
    g = _lecture_neuron()
    o, w1 = g["o"], g["w1"]
    o.backward()
    shown = repr(micrograd_x.explain(o, wrt=w1))
    assert shown.startswith("∂o/∂w1: the chain rule")
    assert "Explanation(" not in shown
    assert "✓ equals w1.grad" in shown
    assert "∂(x1*w1)/∂w1 = 2" in shown  # a compound name is parenthesized in ∂a/∂b
