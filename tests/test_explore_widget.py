"""The explorer widget's Python side, without a browser: traits, messages, recompute on a slider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from examples import lecture

from micrograd_x import Value, explore
from micrograd_x.explore import Explorer

pytest.importorskip("graphviz")
anywidget = pytest.importorskip("anywidget", reason="the widget needs the widgets extra")


def ids(ex: Explorer) -> dict[str, str]:
    return {n.name: n.id for n in ex.graph.nodes}


def grad_of(state: dict[str, object], ex: Explorer, name: str) -> str:
    nodes = state["nodes"]
    assert isinstance(nodes, list)
    return str(nodes[ex.graph.node(ids(ex)[name]).index]["grad"])


def test_the_widget_starts_with_the_explorers_state_and_syncs_json() -> None:
    ex = explore(lecture, a=2.0, b=-3.0, c=10.0, f=-2.0)
    w = ex.widget
    assert isinstance(w, anywidget.AnyWidget)
    assert w is ex.widget  # one widget per explorer
    assert w.scene is ex.scene() and w.state == ex.state()
    assert [i["name"] for i in w.inputs] == ["a", "b", "c", "f"]
    assert w.step == 0 and w.selected == "" and w.explain == {}
    json.dumps(w.get_state(), allow_nan=False)  # every synced trait is plain JSON
    bundle = ex._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data


def test_the_widget_and_the_page_run_the_same_front_end() -> None:
    import micrograd_x
    from micrograd_x import explore_widget

    shipped = Path(micrograd_x.__file__).parent / "static" / "explore.js"
    text = shipped.read_text(encoding="utf-8")
    assert str(explore_widget.ExplorerWidget._esm) == text  # anywidget loaded the shipped file
    assert "export default" in text and "function mountPage" in text


def test_a_slider_message_reruns_forward_and_backward() -> None:
    ex = explore(lecture, a=2.0, b=-3.0, c=10.0, f=-2.0)
    w = ex.widget
    scene = w.scene
    w.step = 4
    w._on_message(w, {"type": "set", "name": "b", "value": 5.0}, [])
    assert w.error == ""
    assert w.scene is scene  # no new layout for the same structure
    assert grad_of(w.state, ex, "a") == "grad -10"  # dL/da = b·f
    assert grad_of(w.state, ex, "f") == "grad 20"  # dL/df = a·b + c
    assert w.state["caption"] == "L = -40 at a = 2, b = 5, c = 10, f = -2"
    assert [i["value"] for i in w.inputs] == [2.0, 5.0, 10.0, -2.0]
    assert w.step == 4


def test_a_refused_value_shows_an_error_and_changes_nothing() -> None:
    ex = explore(lambda x: x.log(), x=1.0)
    w = ex.widget
    before = w.state
    w._on_message(w, {"type": "set", "name": "x", "value": -1.0}, [])
    assert w.error.startswith("DomainError: ") and "log" in w.error
    assert w.state == before and ex.inputs == {"x": 1.0}
    assert w.inputs[0]["value"] == 1.0
    w._on_message(w, {"type": "set", "name": "x", "value": "abc"}, [])
    assert w.error.startswith("TypeError: explore: input 'x' must be a real number")
    w._on_message(w, {"type": "set", "name": "x", "value": 2.0}, [])
    assert w.error == ""
    w._on_message(w, {"type": "unknown"}, [])  # ignored
    w._on_message(w, ["not", "a", "dict"], [])
    assert ex.inputs == {"x": 2.0}


def test_clicking_a_node_computes_its_table_on_demand() -> None:
    ex = explore(lecture, a=2.0, b=-3.0, c=10.0, f=-2.0)
    w = ex.widget
    i = ids(ex)
    w.selected = i["b"]
    assert list(w.explain) == [i["b"]]
    assert "∂L/∂b" in w.explain[i["b"]] and "equals b.grad" in w.explain[i["b"]]
    w.target = i["a"]  # no path between a and b: the table says so
    assert "does not depend on" in w.explain[f"{i['b']}<{i['a']}"]
    w.selected = i["d"]
    assert "∂d/∂a = ∂d/∂e · ∂e/∂a = 1 × -3 = -3" in w.explain[f"{i['d']}<{i['a']}"]
    # New values: the tables are computed again for the new numbers.
    w._on_message(w, {"type": "set", "name": "b", "value": 4.0}, [])
    assert list(w.explain) == [f"{i['d']}<{i['a']}"]
    assert "= 1 × 4 = 4" in w.explain[f"{i['d']}<{i['a']}"]


def test_a_branch_change_sends_a_new_layout_and_drops_a_vanished_selection() -> None:
    def f(x: Value) -> Value:
        return (x * x + 1) if x.data > 0 else -x

    ex = explore(f, x=1.0)
    w = ex.widget
    first = w.scene
    w.selected = ex.graph.nodes[-1].id
    w.step = 4
    w._on_message(w, {"type": "set", "name": "x", "value": -2.0}, [])
    assert w.scene is not first and w.scene is ex.scene()
    assert len(w.scene["nodes"]) == 2
    assert w.step == len(w.state["steps"]) == 2  # clamped to the new schedule
    assert w.selected == ""


def test_setting_an_input_from_python_updates_the_widget() -> None:
    ex = explore(lecture, a=2.0, b=-3.0, c=10.0, f=-2.0)
    w = ex.widget
    ex.set_input("c", 0.0)
    assert w.state == ex.state() and w.state["caption"].startswith("L = 12 ")


def test_without_anywidget_the_display_falls_back_to_the_picture(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "anywidget", None)  # import anywidget -> ImportError
    monkeypatch.delitem(sys.modules, "micrograd_x.explore_widget", raising=False)
    ex = explore(lambda x: x * x, x=3.0)
    with pytest.raises(ImportError, match=r"pip install 'micrograd-x\[widgets\]'"):
        ex.widget  # noqa: B018
    bundle = ex._repr_mimebundle_()
    assert 'data-node="v0"' in bundle["text/html"] and "widgets" in bundle["text/plain"]
