"""The explorer's Python side: the backward schedule, the states, the page, and the widget."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from examples import lecture, used_three_times

import micrograd_x
from micrograd_x import Value, explore, topological_order, trace
from micrograd_x.explore import Explorer
from micrograd_x.explore_layout import LayoutError
from micrograd_x.explore_state import UNREACHED, highlights, trace_values
from micrograd_x.ops import DomainError, Op

pytest.importorskip("graphviz")


LECTURE = {"a": 2.0, "b": -3.0, "c": 10.0, "f": -2.0}


def lecture_grads(a: float, b: float, c: float, f: float) -> dict[str, float]:
    """Closed-form gradients of L = (a·b + c)·f."""
    return {"L": 1.0, "d": f, "f": a * b + c, "e": f, "c": f, "a": b * f, "b": a * f}


def by_name(ex: Explorer) -> dict[str, int]:
    return {n.name: n.index for n in ex.graph.nodes}


# -- the schedule -------------------------------------------------------------------------------


def test_lecture_steps_are_the_chain_rule_in_words() -> None:
    ex = explore(lecture, **LECTURE)
    lines = [s.lines for s in ex.steps]
    assert lines == [
        ("L.grad = 1",),
        ("d.grad += 1 × -2 = -2", "f.grad += 1 × 4 = 4"),
        ("e.grad += -2 × 1 = -2", "c.grad += -2 × 1 = -2"),
        ("a.grad += -2 × -3 = 6", "b.grad += -2 × 2 = -4"),
    ]
    final = {ex.graph.nodes[j].name: g for s in ex.steps for j, g in s.updates}
    assert final == pytest.approx(lecture_grads(**LECTURE))


class _Logged(float):
    """A partial that records when the engine multiplies it by a node's gradient."""

    log: list[int] = []  # noqa: RUF012

    def __mul__(self, other: Any) -> Any:
        _Logged.log.append(id(self))
        return float(self) * other


def _logged_ops() -> tuple[Op, Op]:
    mul = Op(
        "logged_mul",
        "×",
        2,
        lambda x, y: x * y,
        lambda out, x, y: (_Logged(y), _Logged(x)),
    )
    tanh = Op("logged_tanh", "tanh", 1, math.tanh, lambda out, x: (_Logged(1 - out * out),))
    return mul, tanh


@pytest.mark.parametrize("seed", range(5))
def test_schedule_follows_the_engines_own_backward_order(seed: int) -> None:
    # The engine multiplies each node's partials by its gradient when it processes the node:
    # partials that log those products reveal the order backward really walks the graph in.
    mul, tanh = _logged_ops()
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-1, 1), label=f"x{k}") for k in range(4)]
    for _ in range(25):
        if rng.random() < 0.3:
            nodes.append(micrograd_x.apply(tanh, rng.choice(nodes)))
        else:
            nodes.append(micrograd_x.apply(mul, rng.choice(nodes), rng.choice(nodes[-6:])))
    root = micrograd_x.apply(mul, nodes[-1], nodes[-2])
    ex = explore(root)
    _, values = trace_values(root)
    owner = {id(d): v for v in values for d in v.partials}
    _Logged.log.clear()
    root.backward()
    walked: list[Value] = []
    for pid in _Logged.log:
        v = owner[pid]
        if not walked or walked[-1] is not v:
            walked.append(v)
    index = {v: k for k, v in enumerate(values)}
    scheduled = [ex.steps[k].node for k in range(1, len(ex.steps))]
    assert [index[v] for v in walked] == scheduled
    # … which is the engine's public topological order, reversed, without the leaves.
    assert scheduled == [index[v] for v in reversed(topological_order(root)) if v.parents]


@pytest.mark.parametrize("seed", range(5))
def test_schedule_ends_at_the_engines_gradients(seed: int) -> None:
    rng = random.Random(seed)
    xs = {f"x{k}": rng.uniform(0.5, 2.0) for k in range(3)}

    def f(x0: Value, x1: Value, x2: Value) -> Value:
        t = x0 * x1 + x2
        u = (t * x0).tanh() + (x1 / x2).log() - t**2
        return u * x0 + t.sigmoid()

    ex = explore(f, **xs)
    final = {j: g for s in ex.steps for j, g in s.updates}
    leaves = {k: Value(v) for k, v in xs.items()}
    out = f(**leaves)
    out.backward()
    g = trace(out)
    assert len(g.nodes) == len(ex.graph.nodes)
    for node in g.nodes:
        assert final[node.index] == pytest.approx(node.grad, rel=1e-12, abs=1e-15)
    # Finite differences as an independent oracle for the inputs.
    for k, v in xs.items():
        h = 1e-6
        up = f(**{**{n: Value(x) for n, x in xs.items()}, k: Value(v + h)}).data
        dn = f(**{**{n: Value(x) for n, x in xs.items()}, k: Value(v - h)}).data
        idx = next(n.index for n in ex.graph.nodes if n.label == k)
        assert final[idx] == pytest.approx((up - dn) / (2 * h), rel=1e-5, abs=1e-7)


def test_an_unlabelled_output_is_called_out() -> None:
    ex = explore(lambda x: x * x, x=0.5)
    assert ex.steps[0].lines == ("out.grad = 1",)
    assert ex.state()["caption"] == "out = 0.25 at x = 0.5"


def test_a_value_used_twice_accumulates_in_two_steps() -> None:
    z, _ = used_three_times(3.0)
    ex = explore(z)
    assert ex.steps[1].lines == ("y.grad += 1 × 1 = 1", "x.grad += 1 × 1 = 1")
    assert ex.steps[2].lines == ("x.grad += 1 × 3 = 4", "x.grad += 1 × 3 = 7")
    st = ex.state()
    xi = by_name(ex)["x"]
    assert st["nodes"][xi]["done"] == 3  # complete only after y's step (step 3)
    assert st["nodes"][xi]["grad"] == "grad 7"


def test_exploring_a_value_never_changes_its_gradients() -> None:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = a * b + a
    a.grad = 123.0  # whatever the user left there
    ex = explore(out)
    assert a.grad == 123.0 and b.grad == 0.0 and out.grad == 0.0
    assert ex.output is not out
    final = {ex.graph.nodes[j].name: g for s in ex.steps for j, g in s.updates}
    assert final["a"] == pytest.approx(-3.0 + 1.0)


# -- states and inputs --------------------------------------------------------------------------


def test_moving_an_input_reruns_forward_and_backward_in_place() -> None:
    ex = explore(lecture, **LECTURE)
    scene = ex.scene()
    changed = ex.set_input("a", 3.0)
    assert changed is False and ex.scene() is scene  # same structure: the same layout
    want = lecture_grads(3.0, -3.0, 10.0, -2.0)
    st = ex.state()
    names = by_name(ex)
    for name, g in want.items():
        assert st["nodes"][names[name]]["grad"] == f"grad {g:g}"
    assert st["nodes"][names["L"]]["value"] == "data -2"  # (3·-3 + 10)·-2
    assert st["caption"] == "L = -2 at a = 3, b = -3, c = 10, f = -2"
    assert ex.inputs == {**LECTURE, "a": 3.0}


def test_edge_widths_follow_the_gradient_flow() -> None:
    ex = explore(lecture, **LECTURE)
    g = ex.graph
    widths = [e["width"] for e in ex.state()["edges"]]
    adj = g.adjoints()
    flows = [abs(e.partial * adj[e.destination]) for e in g.edges]
    order = sorted(range(len(flows)), key=flows.__getitem__)
    assert [widths[k] for k in order] == sorted(widths)
    assert max(widths) == 4.5 and min(widths) >= 1.0
    ex.set_input("f", 0.0)  # nothing flows into d's side any more
    dead = [k for k, e in enumerate(ex.graph.edges) if ex.graph.nodes[e.destination].name != "L"]
    assert all(ex.state()["edges"][k]["width"] == 0.0 for k in dead)


def test_a_branch_change_lays_out_again_and_comes_back_to_the_cached_layout() -> None:
    def f(x: Value) -> Value:
        return x * x if x.data > 0 else -x

    ex = explore(f, x=1.5)
    first = ex.scene()
    assert ex.set_input("x", -1.0) is True
    assert ex.scene() is not first
    assert len(ex.graph.nodes) == 2
    assert ex.set_input("x", 2.0) is True
    assert ex.scene() is first


def test_a_failed_change_changes_nothing() -> None:
    ex = explore(lambda x: x.log(), x=1.0)
    before = (ex.state(), ex.scene(), ex.inputs)
    with pytest.raises(DomainError):
        ex.set_input("x", -1.0)
    assert (ex.state(), ex.scene(), ex.inputs) == before
    with pytest.raises(KeyError, match="no input named 'y'; the inputs are x"):
        ex.set_input("y", 1.0)
    with pytest.raises(ValueError, match="input 'x' must be a finite number, got nan"):
        ex.set_input("x", math.nan)
    with pytest.raises(TypeError, match="input 'x' must be a real number, got bool"):
        ex.set_input("x", True)
    assert ex.inputs == {"x": 1.0}


def test_bad_arguments_get_clear_errors() -> None:
    with pytest.raises(TypeError, match="expected a Value or a function"):
        explore(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"name the function's inputs"):
        explore(lambda x: x)
    with pytest.raises(TypeError, match="a Value takes no inputs"):
        explore(Value(1.0), x=2.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="returned float"):
        explore(lambda x: 1.0, x=2.0)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="graph has 5 values, more than max_nodes=3"):
        explore(lambda x: x * x + x * 2, x=1.0, max_nodes=3)
    with pytest.raises(ValueError, match=r"need low <= value <= high"):
        explore(lambda x: x * x, x=(5.0, 0.0, 1.0))
    with pytest.raises(KeyError, match="explore\\(root\\) has no inputs"):
        explore(Value(1.0) * 2).set_input("x", 1.0)


def test_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import micrograd_x.explore_layout as lay

    monkeypatch.setattr(lay, "find_program", lambda program: None)
    with pytest.raises(LayoutError, match="Graphviz's 'dot' program, which is not installed"):
        explore(lambda x: x * x, x=1.0)


def test_input_controls_describe_the_sliders() -> None:
    ex = explore(lambda x, y: x * y, x=0.5, y=(1.0, -4.0, 4.0))
    assert ex.input_controls() == [
        {"name": "x", "value": 0.5, "min": -1.5, "max": 2.5, "step": 0.02},
        {"name": "y", "value": 1.0, "min": -4.0, "max": 4.0, "step": 0.04},
    ]


# -- drawing and highlights ---------------------------------------------------------------------


def _svg(ex: Explorer) -> ET.Element:
    return ET.fromstring(ex.scene()["svg"])


def test_the_drawing_carries_the_hooks_for_every_node_and_edge() -> None:
    ex = explore(lecture, **LECTURE)
    root = _svg(ex)
    ns = "{http://www.w3.org/2000/svg}"
    nodes = [g for g in root.iter(f"{ns}g") if g.get("data-node")]
    assert sorted(g.get("data-node") for g in nodes) == sorted(n.id for n in ex.graph.nodes)
    for g in nodes:
        grads = [t for t in g.iter(f"{ns}text") if t.get("data-grad") is not None]
        assert len(grads) == 1
        node = ex.graph.node(g.get("data-node", ""))
        want = lecture_grads(**LECTURE)[node.name]
        assert grads[0].text == f"grad {want:g}"
    edges = [g.get("data-edge") for g in root.iter(f"{ns}g") if g.get("data-edge")]
    assert edges == [f"e{k}" for k in range(len(ex.graph.edges))]
    assert not [el for el in root.iter() if el.get("id")]  # several drawings can share a page


def test_hostile_labels_are_escaped_everywhere(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script> ]]> & \\N \n|{}'

    def f(x: Value) -> Value:
        y = x * 2
        y.label = evil
        return y.tanh()

    ex = explore(f, x=0.3)
    _svg(ex)  # well-formed XML
    page = ex.save(tmp_path / "evil.html").read_text(encoding="utf-8")
    assert page.count("<script") == 2 and page.count("</script") == 2
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert evil not in page
    data = json.loads(_data_block(page))
    assert any(evil.replace("\n", " ") in n["name"] for n in data["scene"]["nodes"])
    assert all("<script>" not in v for v in data["explain"].values())


def test_highlight_masks_are_the_paths_to_the_output_and_from_the_inputs() -> None:
    def f(a: Value, b: Value) -> Value:
        c = a * b
        return (c + a).tanh() * (b - 1)

    ex = explore(f, a=0.5, b=2.0)
    g = ex.graph
    marks = highlights(g)

    def bits(mask: str) -> set[int]:
        return {j for j in range(len(g.nodes)) if int(mask[j >> 2], 16) >> (j & 3) & 1}

    for n in g.nodes:
        assert bits(marks[n.index]["down"]) == set(g.descendants(n.index))
        assert bits(marks[n.index]["up"]) == {
            m.index for m in g.nodes if n.index in g.descendants(m.index)
        }


def test_explain_tables_are_the_chain_rule_tables() -> None:
    ex = explore(lecture, **LECTURE)
    ids = {n.name: n.id for n in ex.graph.nodes}
    table = ex.explain_html(ids["a"])
    assert "∂L/∂a = ∂L/∂d · ∂d/∂e · ∂e/∂a = -2 × 1 × -3 = 6 ✓ equals a.grad" in html.unescape(table)
    assert "<td>L ← d ← e ← a</td>" in html.unescape(table)
    between = html.unescape(ex.explain_html(ids["d"], ids["a"]))
    assert "∂d/∂a = ∂d/∂e · ∂e/∂a = 1 × -3 = -3" in between and "✓" not in between
    tables = ex.explanations()
    assert set(tables) >= {n.id for n in ex.graph.nodes}
    assert f"{ids['d']}<{ids['a']}" in tables and f"{ids['f']}<{ids['a']}" not in tables


# -- the saved page -----------------------------------------------------------------------------


def _data_block(page: str) -> str:
    m = re.search(r'<script type="application/json" id="mgx-data">(.*?)</script>', page, re.S)
    assert m is not None
    return m.group(1)


def test_the_page_is_self_contained_and_its_policy_allows_only_its_own_script(
    tmp_path: Path,
) -> None:
    ex = explore(lecture, **LECTURE)
    path = ex.save(tmp_path / "chain.html")
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page)
    assert "http://" not in page.replace("http://www.w3.org/", "")
    assert "https://" not in page
    script = re.search(r'<script type="module">(.*?)</script>', page, re.S)
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    assert script is not None and style is not None
    module = (Path(micrograd_x.__file__).parent / "static" / "explore.js").read_text("utf-8")
    assert script.group(1).startswith(module)  # the widget's own module

    def sha(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert csp is not None
    assert csp.group(1).startswith("default-src 'none'; ")
    assert f"script-src 'sha256-{sha(script.group(1))}';" in csp.group(1)
    assert f"style-src 'sha256-{sha(style.group(1))}';" in csp.group(1)
    data = json.loads(_data_block(page))
    assert data["state"] == json.loads(json.dumps(ex.state()))
    assert "svg" not in data["scene"] and 'data-node="v0"' in page


def test_save_needs_an_html_path_and_writes_atomically(tmp_path: Path) -> None:
    ex = explore(lecture, **LECTURE)
    with pytest.raises(ValueError, match=r"expected a \.html path"):
        ex.save(tmp_path / "chain.svg")
    target = tmp_path / "chain.html"
    target.write_text("old")
    ex.save(target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["chain.html"]


def test_import_stays_light_and_explore_is_lazy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, micrograd_x; "
        "assert 'micrograd_x.explore' not in sys.modules; "
        "assert 'anywidget' not in sys.modules; "
        "micrograd_x.explore; "
        "assert 'micrograd_x.explore' in sys.modules; "
        "assert 'anywidget' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unreached_gradients_show_a_question_mark() -> None:
    assert UNREACHED == "grad ?"
    assert explore(lecture, **LECTURE).scene()["unreached"] == UNREACHED
