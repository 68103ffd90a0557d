"""Tests of the network view: the data read from module scopes (checked against the model's own
parameters and grads), its golden DOT, the size and legibility of the demo's and the lecture's
pictures, dead neurons, text contrast, and the drawing API around it."""

from __future__ import annotations

import gc
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import micrograd_x
from micrograd_x import Value, data, explain
from micrograd_x import sum as vsum
from micrograd_x.dot_text import FADED_INK, INK, NEGATIVE, POSITIVE
from micrograd_x.graph import trace
from micrograd_x.network import network_view
from micrograd_x.nn import MLP
from micrograd_x.render import GraphTooLargeError, classic_neuron, draw
from micrograd_x.train import make_loss_fn

GOLDEN = Path(__file__).parent / "golden"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def demo(
    points: int = 100, sizes: tuple[int, ...] = (16, 16, 1), l2: float = 0.0
) -> tuple[Value, MLP]:
    """The demo's network and hinge loss (``micrograd-x demo`` draws this after training)."""
    X, labels = data.make_moons(points, noise=0.1, seed=0)
    model = MLP(2, list(sizes), activation="relu", seed=0)
    loss, _ = make_loss_fn("hinge", l2=l2)(model, X.tolist(), list(data.to_signed(labels)))
    model.zero_grad()
    loss.backward()
    loss.label = "hinge loss"
    return loss, model


def lecture() -> tuple[Value, MLP]:
    model = MLP(3, [4, 4, 1], activation="tanh", seed=1)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    outs = [model(x) for x in xs]
    loss = vsum([(o - y) ** 2 for o, y in zip(outs, ys)])  # type: ignore[operator]
    loss.label = "loss"
    loss.backward()
    return loss, model


def test_columns_units_and_connections_match_the_model() -> None:
    loss, model = demo(points=12, l2=1e-3)
    net = network_view(trace(loss))
    assert net is not None
    assert [c.title for c in net.columns] == ["inputs", "layer1", "layer2", "layer3", "loss"]
    assert [len(c.units) for c in net.columns] == [2, 16, 16, 1, 2]
    assert [u.name for u in net.columns[1].units] == [f"neuron{i}" for i in range(1, 17)]
    assert [u.kind for u in net.columns[4].units] == ["loss", "penalty"]
    assert net.columns[4].units[1].name == "L2 penalty"
    assert {u.activation for u in net.columns[1].units} == {"relu"}
    assert net.columns[3].units[0].activation == "linear"
    assert net.samples == 12 and net.n_parameters == model.num_parameters()
    # One connection per weight, carrying that weight's grad (summed over the batch).
    weights = [c for c in net.connections if c.kind == "weight"]
    assert len(weights) == 2 * 16 + 16 * 16 + 16
    by_pair = {(c.source, c.destination): c for c in weights}
    for li, layer in enumerate(model.layers):
        for i, neuron in enumerate(layer.neurons):
            for j, w in enumerate(neuron.w):
                c = by_pair[(f"c{li}u{j}", f"c{li + 1}u{i}")]
                # Graph's sweep and backward add a weight's 12 per-sample terms in their own
                # orders: the same sum to the last few bits.
                assert math.isclose(c.grad, w.grad, rel_tol=1e-12, abs_tol=1e-15)
                assert c.weight == w.data
            u = net.columns[li + 1].units[i]
            mean = sum(abs(w.grad) for w in neuron.w) / len(neuron.w)
            assert math.isclose(u.mean_grad, mean, rel_tol=1e-12)
            assert neuron.b is not None and u.bias_grad == pytest.approx(neuron.b.grad)
    into_loss = [c for c in net.connections if c.kind == "loss"]
    assert [(c.source, c.destination) for c in into_loss] == [("c3u0", "c4u0"), ("c4u1", "c4u0")]
    assert into_loss[1].grad == 1.0  # d(loss)/d(penalty)
    penalty = 1e-3 * sum(p.data**2 for p in model.parameters())
    assert net.columns[4].units[1].value == pytest.approx(penalty)


def test_dead_neurons_are_found_marked_and_counted() -> None:
    loss, model = demo(points=10, sizes=(4, 1))
    assert not network_view(trace(loss)).dead  # type: ignore[union-attr]
    dead = model.layers[0].neurons[2]
    assert dead.b is not None
    dead.b.data = -100.0  # ReLU(-100 + …) = 0 for every sample: no gradient comes back
    loss, _ = make_loss_fn("hinge")(model, *_moons(10))
    model.zero_grad()
    loss.backward()
    net = network_view(trace(loss))
    assert net is not None
    assert [u.scope for u in net.dead] == ["mlp.layer1.neuron3"]
    assert all(w.grad == 0.0 for w in dead.w)
    d = draw(loss)
    assert "dead neurons (no gradient for any sample): 1 of 5, dashed" in d.caption
    line = next(x for x in d.source.splitlines() if x.strip().startswith("c1u2 "))
    assert "dashed" in line and "dead: no gradient" in line


def _moons(n: int) -> tuple[list[list[float]], list[float]]:
    X, labels = data.make_moons(n, noise=0.1, seed=0)
    return X.tolist(), list(data.to_signed(labels))


def test_golden_network_view() -> None:
    loss, _ = demo(points=3, sizes=(3, 1), l2=1e-2)
    source = draw(loss, view="network").source
    path = GOLDEN / "network_small.dot"
    import os

    if os.environ.get("MICROGRAD_X_UPDATE_GOLDENS") == "1" and not os.environ.get("CI"):
        path.write_text(source, encoding="utf-8")
    assert source == path.read_text(encoding="utf-8"), "rerun with MICROGRAD_X_UPDATE_GOLDENS=1"


def test_auto_view_chooses_the_network_for_module_graphs_over_the_budget() -> None:
    loss, _ = lecture()
    assert len(trace(loss)) > 40
    assert draw(loss).level == "network view: one box per neuron"
    assert draw(loss, max_nodes=500).level == "full detail"
    assert draw(loss, view="graph").level.startswith("one box per module scope")
    o, _ = classic_neuron()
    assert draw(o, view="auto").level == "full detail"
    with pytest.raises(ValueError, match="view='network' found no neurons"):
        draw(o, view="network")
    with pytest.raises(ValueError, match="the network view has no wrt="):
        draw(loss, view="network", wrt="v0")


def _size_and_smallest_text(svg: str) -> tuple[float, float, float]:
    root = ET.fromstring(svg)
    width = float(root.get("width", "0").removesuffix("pt"))
    height = float(root.get("height", "0").removesuffix("pt"))
    sizes = [float(t.get("font-size", "14")) for t in root.iter(f"{SVG}text")]
    return width, height, min(sizes)


@needs_dot
@pytest.mark.parametrize("which", ["demo", "lecture"])
def test_network_pictures_fit_a_notebook(which: str) -> None:
    loss, _ = demo() if which == "demo" else lecture()
    svg = draw(loss).to_svg()
    width, height, smallest = _size_and_smallest_text(svg)
    assert width <= 1400 and height <= 1000, (width, height)
    assert smallest * 900 / max(width, 900) >= 10  # px, shown 900 px wide


def _luminance(colour: str) -> float:
    rgb = [int(colour[k : k + 2], 16) / 255 for k in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_contrast_is_at_least_4_5_to_1() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast(FADED_INK, "#ffffff") >= 4.5 and contrast(INK, "#ffffff") >= 4.5
    # Every grad cell and every faded text in drawings with grads of both signs and sizes.
    x = Value(1.0, label="x")
    out = x * 3 - x * 0.2 + (x * -1.5).tanh() * 2
    out.backward()
    sources = [draw(out).source, draw(out, wrt=x).source, draw(*_first_weight(lecture())).source]
    pairs = set()
    for src in sources:
        for bg, fg in re.findall(r'<TD BGCOLOR="(#\w{6})">(?:<FONT COLOR="(#\w{6})">)?grad', src):
            pairs.add((bg, fg or INK))
        # Other text sits on white (grad cells, found above, have their own background).
        others = re.findall(r'(?<!BGCOLOR="#\w{6}">)<FONT COLOR="(#\w{6})">', src)
        pairs |= {("#ffffff", c) for c in others}
    assert {p[0] for p in pairs} >= {POSITIVE[2], NEGATIVE[2], "#ffffff"}
    for bg, fg in pairs:
        if fg.startswith("#"):
            assert contrast(bg, fg) >= 4.5 or fg in _SWATCHES, (bg, fg)


_SWATCHES = {"#d55e00", "#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"}
"""Path colours appear as text only in the ■ marks of the caption (not words)."""


def _first_weight(loss_model: tuple[Value, MLP]) -> tuple[Value, Value]:
    loss, model = loss_model
    return loss, model.layers[0].neurons[0].w[0]


def test_labels_read_x_squared_one_path_and_sit_on_white() -> None:
    x = Value(3.0, label="x")
    y = x**2
    y.label = "y"
    y.backward()
    d = draw(y, wrt=x)
    assert "= x²" in d.source
    assert "highlighted: the 1 path from x to y" in d.caption
    edges = [line for line in d.source.splitlines() if " -> " in line]
    assert edges and all(
        'label=<<TABLE BORDER="0"' in e and 'BGCOLOR="#ffffff"' in e for e in edges
    )
    z = x * x  # two paths: one caption line and one colour each
    z.label = "z"
    x.grad = 0.0
    z.backward()
    d2 = draw(z, wrt=x)
    assert [c.split(":")[0] for c in d2.caption[:2]] == ["path 1", "path 2"]
    assert d2.caption[2].startswith("∂z/∂x = sum over the 2 paths = 3 + 3 = 6 ✓")
    assert 'color="#d55e00"' in d2.source and 'color="#0072b2"' in d2.source


def test_rankdir_and_unknown_options_get_a_hint() -> None:
    o, _ = classic_neuron()
    with pytest.raises(TypeError, match=r"did you mean direction='LR'\?"):
        draw(o, rankdir="LR")
    with pytest.raises(TypeError, match=r"did you mean colour_flow=\?"):
        draw(o, color_flow=True)


def test_draw_dot_is_draw_and_explain_reads_at_a_terminal() -> None:
    assert micrograd_x.draw_dot is draw
    o, v = classic_neuron()
    e = explain(o, v["w1"])
    assert repr(e) == e.to_text() and repr(e).startswith("∂o/∂w1: the chain rule")


@needs_dot
def test_render_writes_source_and_picture_like_graphviz(tmp_path: Path) -> None:
    o, _ = classic_neuron()
    d = draw(o)
    out = d.render(tmp_path / "graph", format="png")
    assert out == str(tmp_path / "graph.png")
    assert (tmp_path / "graph").read_text(encoding="utf-8") == d.source
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")
    out = d.render(outfile=tmp_path / "x.svg", cleanup=True)
    assert out == str(tmp_path / "x.svg") and not (tmp_path / "x.gv").exists()
    assert (tmp_path / "x.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="cannot render format 'gif'"):
        d.render(tmp_path / "g", format="gif")


def test_drawing_leaves_no_reference_cycles() -> None:
    loss, _ = demo(points=4, sizes=(3, 1))
    o, v = classic_neuron()
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for make in (
            lambda: draw(o, wrt=v["w1"]),
            lambda: draw(loss),
            lambda: draw(loss, view="graph"),
            lambda: draw(o, depth=2),
            lambda: draw(o, max_layout_nodes=3),  # refused before tracing, traced on demand
        ):
            d = make()
            assert d.source
            del d
            assert gc.collect() == 0  # everything was freed by reference counting
    finally:
        if was:
            gc.enable()


def test_too_large_graphs_are_refused_with_the_partial_views_named() -> None:
    x = Value(0.5, label="x")
    y = x
    for _ in range(30):
        y = y.sin()
    d = draw(y, max_layout_nodes=10)
    with pytest.raises(GraphTooLargeError, match=r"draw\(out, depth=3\)"):
        d.to_svg()
    assert draw(y, max_layout_nodes=10, depth=3).visible_nodes == 4
