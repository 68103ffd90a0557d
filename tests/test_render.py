"""Tests of the renderer: DOT structure (golden files), escaping, highlighting, collapsing, the
size guard, the no-engine path and, where Graphviz's ``dot`` exists, the rendered SVG.

Golden files live in ``tests/golden``. After an intended change of the DOT output, rewrite them
with ``MICROGRAD_X_UPDATE_GOLDENS=1 pytest tests/test_draw.py`` and review the diff; CI never
rewrites them.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from oracles import brute_paths

import micrograd_x.layout as layout_module
from micrograd_x import Parameter, Value, dot, name_scope, ops
from micrograd_x import sum as vsum
from micrograd_x._text import escape, fmt, visible
from micrograd_x.dot_text import NEGATIVE, PATH_COLOURS, POSITIVE
from micrograd_x.graph import Graph, trace
from micrograd_x.render import (
    Drawing,
    DrawingError,
    GraphTooLargeError,
    GraphvizNotFoundError,
    LayoutTimeoutError,
    classic_neuron,
    draw,
    main,
)
from micrograd_x.testing import reference_grad
from micrograd_x.testing.strategies import Program, programs

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("MICROGRAD_X_UPDATE_GOLDENS") == "1"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
SMOOTH = [o.name for o in ops.registry() if not o.domain.piecewise and o.name != "const"]
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
EDGE_LINE = re.compile(r"^\s*(\w+) -> (\w+) \[(.*)\]$")


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        if os.environ.get("CI"):
            pytest.fail("golden files are never rewritten in CI")
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"no golden file {name}: create it with MICROGRAD_X_UPDATE_GOLDENS=1")
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "\n".join(difflib.unified_diff(want.splitlines(), text.splitlines(), lineterm=""))
        pytest.fail(
            f"{name} differs from the golden file (if intended, rerun with "
            f"MICROGRAD_X_UPDATE_GOLDENS=1 and review the diff):\n{diff}"
        )


def edges_of(source: str) -> list[tuple[str, str, str]]:
    return [m.groups() for line in source.splitlines() if (m := EDGE_LINE.match(line))]


def attr(attrs: str, key: str) -> str | None:
    """An attribute's value; for an HTML-like label, its text without the markup."""
    start = re.search(rf"(?:^|, ){key}=<", attrs)
    if start is not None:
        depth, i = 0, start.end() - 1
        for j in range(i, len(attrs)):
            depth += {"<": 1, ">": -1}.get(attrs[j], 0)
            if depth == 0:
                return re.sub(r"<[^>]*>", "", attrs[i + 1 : j])
    m = re.search(rf'(?:^|, ){key}=("([^"]*)"|[\w.#]+)', attrs)
    if m is None:
        return None
    return m.group(2) if m.group(2) is not None else m.group(1)


def svg_texts(svg: str) -> tuple[list[str], list[str]]:
    """The text elements and the tooltips (link titles) of an SVG, whitespace normalised."""
    root = ET.fromstring(svg)

    def norm(s: str) -> str:
        return " ".join(s.replace("\xa0", " ").split())

    texts = [norm("".join(t.itertext())) for t in root.iter(f"{SVG}text")]
    titles = [norm(a.get(f"{XLINK}title") or "") for a in root.iter(f"{SVG}a")]
    return texts, titles


def scoped_model(batch: int, layers: tuple[int, ...] = (2, 3, 3, 1)) -> tuple[Value, list[Value]]:
    """A small MLP built by hand in name scopes, with an unscoped squared-error loss."""
    params = []
    net = []
    with name_scope("net"):
        for li in range(1, len(layers)):
            with name_scope(f"layer{li}"):
                row = []
                for ni in range(layers[li]):
                    with name_scope(f"neuron{ni + 1}"):
                        ws = [
                            Parameter(0.3 * ((li + ni + k) % 5 - 2) + 0.1, label=f"w{k + 1}")
                            for k in range(layers[li - 1])
                        ]
                        b = Parameter(0.05 * ni, label="b")
                    params += [*ws, b]
                    row.append((f"neuron{ni + 1}", ws, b))
                net.append((f"layer{li}", row))
    terms = []
    for s in range(batch):
        x: list[Value] = [Value(math.sin(s + k), label=f"x{s}_{k}") for k in range(layers[0])]
        with name_scope("net"):
            for li, (lname, row) in enumerate(net):
                with name_scope(lname):
                    outs = []
                    for nname, ws, b in row:
                        with name_scope(nname):
                            a = dot(ws, x, b)
                            outs.append(a.tanh() if li < len(net) - 1 else a)
                    x = outs
        terms.append((x[0] - (1.0 if s % 2 else -1.0)) ** 2)
    loss = vsum(terms)
    loss.label = "loss"
    loss.backward()
    return loss, params


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Simulate a machine without Graphviz: an empty PATH."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    yield


def fake_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str) -> None:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    exe = bin_dir / "dot"
    exe.write_text("#!/bin/sh\n" + script + "\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))


# -- DOT structure --------------------------------------------------------------------------


def test_golden_neuron_with_the_chain_to_w1() -> None:
    o, v = classic_neuron()
    check_golden("neuron_w1.dot", draw(o, wrt=v["w1"]).source)


def test_golden_neuron_plain_left_to_right() -> None:
    o, _ = classic_neuron()
    check_golden("neuron_lr.dot", draw(o, direction="LR", colour_flow=True).source)


def test_golden_dot_neuron_before_backward() -> None:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Parameter(-3.0, label="w1"), Parameter(1.0, label="w2")
    b = Parameter(6.8813735870195432, label="b")
    o = dot([w1, w2], [x1, x2], b).tanh()
    o.label = "o"
    check_golden("dot_neuron_no_backward.dot", draw(o, wrt=x1).source)


def test_golden_collapsed_model() -> None:
    loss, params = scoped_model(batch=4)
    check_golden("model_collapsed.dot", draw(loss, wrt=params[0], collapse=3).source)


def test_golden_hostile_labels() -> None:
    a = Value(1.0, label='<lambda> | {x} \\N "q" & \n\x00')
    b = Value(2.0, label="a" * 40)
    with name_scope("<scope>|{}"):
        c = a * b
    c.label = "]]> <!-- &amp;"
    c.backward()
    check_golden("hostile_labels.dot", draw(c, wrt=a).source)


def test_every_edge_is_labelled_with_its_local_partial() -> None:
    o, _ = classic_neuron()
    d = draw(o, digits=6)
    g = trace(o)
    got = [(s, t, attr(a, "label")) for s, t, a in edges_of(d.source)]
    want = [(f"v{e.source}", f"v{e.destination}", fmt(e.partial, 6)) for e in g.edges]
    assert got == want


def test_dot_output_is_deterministic() -> None:
    a, _ = classic_neuron()
    b, _ = classic_neuron()
    assert draw(a).source == draw(b).source
    assert "0x" not in draw(a).source  # no id() anywhere


def test_zero_flow_edges_are_dashed() -> None:
    x, w = Value(1.0, label="x"), Parameter(2.0, label="w")
    h = (w * x - 5).relu()  # dead: relu'(−3) = 0
    o = h + x * w
    o.backward()
    src = draw(o).source
    g = trace(o)
    flows = g.flows()
    lines = edges_of(src)
    assert len(lines) == len(g.edges)
    for (s, t, a), e, f in zip(lines, g.edges, flows):
        assert (s, t) == (f"v{e.source}", f"v{e.destination}")
        assert (attr(a, "style") == "dashed") == (f == 0.0), (s, t, f)
    assert any(f == 0.0 for f in flows) and any(f != 0.0 for f in flows)


@given(programs(length=st.integers(1, 6)))
def test_edge_widths_grow_with_the_gradient_flowing(program: Program) -> None:
    out = program(*program.leaves())
    src = draw(out).source
    flows = [abs(f) for f in trace(out).flows()]
    widths = [float(attr(a, "penwidth") or "nan") for _, _, a in edges_of(src)]
    assert len(widths) == len(flows)
    for (fa, wa), (fb, wb) in zip(zip(flows, widths), zip(flows[1:], widths[1:])):
        if fa < fb:
            assert wa <= wb
        if fa > fb:
            assert wa >= wb


def test_colour_flow_colours_edges_by_sign() -> None:
    x = Value(1.0, label="x")
    o = x * 2 - x * 3
    o.backward()
    colours = [attr(a, "color") for _, _, a in edges_of(draw(o, colour_flow=True).source)]
    assert POSITIVE[2] in colours and NEGATIVE[2] in colours


# -- highlighting and captions --------------------------------------------------------------


def test_neuron_highlight_and_caption() -> None:
    o, v = classic_neuron()
    d = draw(o, wrt=v["w1"])
    assert d.highlighted == {"v1", "v2", "v6", "v8", "v9"}
    assert d.caption[0] == (
        "∂o/∂w1 = ∂o/∂n · ∂n/∂v6 · ∂v6/∂v2 · ∂v2/∂w1 = 0.5 × 1 × 1 × 2 = 1 ✓ equals w1.grad"
    )
    assert d.explanation is not None and d.explanation.matches
    on = {s + t for s, t, a in edges_of(d.source) if attr(a, "color") == "#d55e00"}
    assert on == {"v1v2", "v2v6", "v6v8", "v8v9"}


@given(programs(ops=SMOOTH, length=st.integers(1, 6), variables=st.integers(1, 3)), st.data())
def test_highlight_is_the_paths_and_caption_is_the_gradient(
    program: Program, data: st.DataObject
) -> None:
    leaves = program.leaves()
    out = program(*leaves)
    out.backward()
    k = data.draw(st.integers(0, len(leaves) - 1))
    d = draw(out, wrt=leaves[k])
    _, expected = reference_grad(program, program.inputs)
    g = d.graph
    node = next((n.index for n in g.nodes if n.label == leaves[k].label), None)
    if node is None:
        assert d.highlighted == frozenset() and expected[k] == 0.0
        return
    paths = brute_paths(g, node, g.root)
    on = {node} | {e.destination for p in paths for e in p}
    assert d.highlighted == {f"v{i}" for i in on}
    chain_edges = {(f"v{e.source}", f"v{e.destination}") for p in paths for e in p}
    n_coloured = len(paths) if 1 < len(paths) <= len(PATH_COLOURS) else 1
    for s, t, a in edges_of(d.source):
        colours = set((attr(a, "color") or "").split(":"))
        assert (colours <= set(PATH_COLOURS[:n_coloured])) == ((s, t) in chain_edges)
    assert d.explanation is not None
    assert d.explanation.n_paths == len(paths)
    assert math.isclose(d.explanation.gradient, expected[k], rel_tol=1e-7, abs_tol=1e-9)
    verdict = f"= {fmt(d.explanation.gradient)} ✓ equals {leaves[k].label}.grad"
    assert any(line.endswith(verdict) for line in d.caption)
    if 1 < len(paths) <= len(PATH_COLOURS):  # one caption line and one colour per path
        lines = [c for c in d.caption if c.startswith("path ")]
        assert len(lines) == len(paths)
        products = [float(line.rsplit(" = ", 1)[1]) for line in lines]
        assert math.isclose(sum(products), d.explanation.gradient, rel_tol=1e-3, abs_tol=1e-3)
        used = {c for _, _, a in edges_of(d.source) for c in (attr(a, "color") or "").split(":")}
        assert set(PATH_COLOURS[: len(paths)]) <= used


def test_caption_when_the_output_does_not_depend_on_wrt() -> None:
    x, z = Value(1.0, label="x"), Value(2.0, label="z")
    y = x * 2
    y.label = "y"
    y.backward()
    d = draw(y, wrt=z)
    assert d.caption[0] == "∂y/∂z = 0: y does not depend on z"
    assert d.highlighted == frozenset()


def test_caption_asks_for_backward_when_grads_are_empty() -> None:
    x = Value(1.0, label="x")
    y = x * 2
    y.label = "y"
    d = draw(y, wrt=x)
    assert "(x.grad is 0: call y.backward() to compare)" in d.caption[0]
    assert any("call y.backward() to fill them" in c for c in d.caption)


def test_wrt_by_node_id_on_a_traced_graph() -> None:
    o, v = classic_neuron()
    d = draw(trace(o), wrt="v1")
    assert d.caption[0].startswith("∂o/∂w1 = ")
    with pytest.raises(KeyError, match="no node 'v99'"):
        draw(trace(o), wrt="v99")
    with pytest.raises(TypeError, match="with a traced Graph, give wrt as a node id"):
        draw(trace(o), wrt=v["w1"])


# -- collapsing and the size guard ----------------------------------------------------------


def test_small_scoped_graphs_are_drawn_in_full_with_clusters() -> None:
    loss, _ = scoped_model(batch=1)
    d = draw(loss, max_nodes=150)
    assert d.level == "full detail"
    assert d.visible_nodes == len(d.graph)
    assert all(len(m) == 1 for m in d.members.values())
    labels = re.findall(r"subgraph cluster_\d+ \{\n\s*graph \[label=<([^>]*)>", d.source)
    assert labels[:3] == ["net", "layer1", "neuron1"]
    assert {"layer1", "layer2", "layer3"} <= set(labels)


def test_auto_collapse_neurons_then_layers_then_modules() -> None:
    loss, _ = scoped_model(batch=30)
    g = trace(loss)
    assert len(g) > 150
    top_level = {n.id for n in g.nodes if n.scope is None and n.role == "operation"}
    assert len(top_level) > 8  # so every collapsed level merges them into one box

    def boxes(d: Drawing) -> set[frozenset[str]]:
        return {frozenset(m) for k, m in d.members.items() if k.startswith("g")}

    def by_prefix(depth: int) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for n in g.nodes:
            if n.scope:
                groups.setdefault(".".join(n.scope.split(".")[:depth]), set()).add(n.id)
        return {frozenset(v) for v in groups.values()} | {frozenset(top_level)}

    neurons = draw(loss, view="graph", max_nodes=150)
    assert neurons.level == "one box per module scope at depth 3, top-level values merged"
    assert neurons.visible_nodes == 7 + 1 + 1 + 1  # neurons, the inputs, top level, the loss
    assert boxes(neurons) == by_prefix(3)
    rolled = [m for k, m in neurons.members.items() if k.startswith("r")]
    assert [len(m) for m in rolled] == [60]  # the inputs; the 30 targets are constants
    assert all(g.node(i).role == "input" for m in rolled for i in m)
    assert neurons.members["v" + str(g.root)] == ("v" + str(g.root),)
    shown = {i for m in neurons.members.values() for i in m}
    assert all(g.node(i).role == "constant" for i in {n.id for n in g.nodes} - shown)

    layers = draw(loss, view="graph", max_nodes=8)
    assert layers.level == "one box per module scope at depth 2, top-level values merged"
    assert layers.visible_nodes == 3 + 1 + 1 + 1
    assert boxes(layers) == by_prefix(2)

    top = draw(loss, view="graph", max_nodes=4)
    assert top.level == "one box per module scope at depth 1, top-level values merged"
    assert top.visible_nodes == 4
    assert boxes(top) == by_prefix(1)

    least = draw(loss, view="graph", max_nodes=1)  # nothing fits: the fewest boxes
    assert least.visible_nodes == 4


def test_explicit_collapse_depths() -> None:
    loss, _ = scoped_model(batch=30)
    full = draw(loss, view="graph", collapse=None)
    assert full.visible_nodes == len(full.graph) and full.level == "full detail"
    assert draw(loss, view="graph", collapse=0).source == full.source
    two = draw(loss, view="graph", collapse=2)
    assert two.level == "one box per module scope at depth 2, top-level values merged"
    scopes = re.findall(r"tooltip=\"(net\.layer\d): \d+ values", two.source)
    assert scopes == ["net.layer1", "net.layer2", "net.layer3"]
    # Links between boxes never loop back into a box, and a box's link carries no partial.
    for s, t, a in edges_of(two.source):
        assert s != t
        if s.startswith("g") or t.startswith("g"):
            assert attr(a, "label") is None


def test_collapsed_highlight_marks_boxes_on_the_chain() -> None:
    loss, params = scoped_model(batch=30)
    d = draw(loss, wrt=params[0])  # w1 of net.layer1.neuron1
    assert d.explanation is not None and d.explanation.matches
    inside = {k for k, m in d.members.items() if "v" + str(0) in m}
    marked = {k for k in d.highlighted if k.startswith("g")}
    tips = dict(re.findall(r"(g\d+) \[id=g\d+, .*?tooltip=\"([^:]*):", d.source))
    assert {tips[k] for k in marked if tips[k].startswith("net.layer1")} == {"net.layer1.neuron1"}
    assert {tips[k] for k in marked if tips[k].startswith("net.layer2")} == {
        f"net.layer2.neuron{i}" for i in (1, 2, 3)
    }
    assert inside <= d.highlighted


def test_size_guard_makes_no_engine_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def engine_called(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("the layout engine must not run")

    monkeypatch.setattr(layout_module, "render_dot", engine_called)
    x = Value(0.5, label="x")
    y = x
    for _ in range(2100):  # no scopes: nothing to collapse
        y = y.sin()
    d = draw(y)
    assert d.visible_nodes == 2101
    with pytest.raises(GraphTooLargeError) as info:
        d.to_svg()
    msg = str(info.value)
    assert "2101 boxes (full detail: no module scopes to collapse)" in msg
    assert "layout limit of 2000" in msg and "force=True" in msg
    assert "drawing.save('graph.dot')" in msg
    assert "draw(out, depth=3)" in msg and "draw(out, around=value, radius=2)" in msg
    bundle = d._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "save('graph.dot')" in bundle["text/plain"]
    assert not hasattr(d, "_repr_svg_")  # one display hook: Graphviz runs once
    path = d.save(tmp_path / "big.dot")
    assert path.read_text(encoding="utf-8") == d.source
    with pytest.raises(GraphTooLargeError):
        d.save(tmp_path / "big.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.dot"]


def test_force_lays_out_anyway(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake(source: str, format: str, timeout: float) -> bytes:
        calls.append(format)
        return b"<svg/>"

    monkeypatch.setattr(layout_module, "render_dot", fake)
    x = Value(1.0)
    y = x + x + x
    d = draw(y, max_layout_nodes=2, force=True)
    assert d.to_svg() == "<svg/>" and calls == ["svg"]
    assert d.to_svg() == "<svg/>" and calls == ["svg"]  # rendered once


# -- no engine, timeouts, failures -----------------------------------------------------------


def test_no_engine_display_never_raises(no_dot: None, tmp_path: Path) -> None:
    o, v = classic_neuron()
    d = draw(o, wrt=v["w1"])
    bundle = d._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    hint = bundle["text/plain"].splitlines()[-1]
    assert hint.startswith("Graphviz's `dot` program is not installed: sudo apt-get install")
    assert "brew install graphviz" in hint and "conda install -c conda-forge graphviz" in hint
    assert not hasattr(d, "_repr_svg_") and not hasattr(d, "_repr_png_")
    assert d.source.startswith("digraph micrograd_x {")
    with pytest.raises(GraphvizNotFoundError, match="sudo apt-get install graphviz"):
        d.to_svg()
    with pytest.raises(GraphvizNotFoundError):
        d.save(tmp_path / "o.svg")
    assert d.save(tmp_path / "o.dot").read_text(encoding="utf-8") == d.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "o.dot"]


def test_no_engine_through_graphvizs_executable_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphviz.backend import dot_command  # type: ignore[import-untyped]

    monkeypatch.setattr(dot_command, "DOT_BINARY", Path("no-such-graphviz-dot"))
    o, _ = classic_neuron()
    d = draw(o)
    with pytest.raises(GraphvizNotFoundError, match="is not installed"):
        d.pipe("png")
    assert "is not installed" in d._repr_mimebundle_()["text/plain"]


def test_graphviz_pure_is_used_when_dot_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    exe = bin_dir / "graphviz-pure"
    exe.write_text('#!/bin/sh\necho "<svg args=\\"$*\\"/>"\n')
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    o, _ = classic_neuron()
    assert draw(o).to_svg().strip() == '<svg args="-Kdot -Tsvg"/>'


def test_layout_timeout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_dot(monkeypatch, tmp_path, f"exec {shutil.which('sleep')} 30")
    o, _ = classic_neuron()
    d = draw(o, timeout=0.3)
    with pytest.raises(LayoutTimeoutError, match=r"did not finish the layout in 0\.3 s"):
        d.to_svg()
    assert "LayoutTimeoutError" in d._repr_mimebundle_()["text/plain"]


def test_engine_failure_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_dot(monkeypatch, tmp_path, "echo 'Error: <stdin>: syntax error in line 1' >&2; exit 1")
    o, _ = classic_neuron()
    with pytest.raises(DrawingError, match="Graphviz's dot failed: Error: <stdin>: syntax error"):
        draw(o).to_svg()


def test_display_survives_any_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(source: str, format: str, timeout: float) -> bytes:
        raise OSError("disk on fire")

    monkeypatch.setattr(layout_module, "render_dot", broken)
    o, _ = classic_neuron()
    d = draw(o)
    assert "OSError: disk on fire" in d._repr_mimebundle_()["text/plain"]
    assert not hasattr(d, "_repr_svg_") and not hasattr(d, "_repr_png_")
    assert repr(d).startswith("<Drawing of 10 values in 10 boxes (full detail)")


def test_oversized_pictures_are_not_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout_module, "render_dot", lambda s, f, t: b"x" * 3_000_000)
    o, _ = classic_neuron()
    text = draw(o)._repr_mimebundle_()["text/plain"]
    assert "the picture is 3.0 MB, too large to embed: save it with .save('graph.svg')" in text


# -- saving ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["dot", "gv", "json", "DOT"])
def test_save_without_engine_formats(suffix: str, tmp_path: Path, no_dot: None) -> None:
    o, _ = classic_neuron()
    d = draw(o)
    path = tmp_path / f"picture.{suffix}"
    assert d.save(str(path)) == path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", path.name]
    text = path.read_text(encoding="utf-8")
    if suffix == "json":
        assert Graph.from_json(text) == d.graph
    else:
        assert text == d.source


@needs_dot
@pytest.mark.parametrize(
    ("suffix", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")]
)
def test_save_writes_exactly_the_path(suffix: str, magic: bytes, tmp_path: Path) -> None:
    o, _ = classic_neuron()
    path = tmp_path / f"neuron.{suffix}"
    draw(o).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert path.read_bytes().startswith(magic)


def test_save_rejects_unknown_formats(tmp_path: Path) -> None:
    o, _ = classic_neuron()
    d = draw(o)
    with pytest.raises(ValueError, match=r"cannot tell the format of '.*x\.jpeg' \(format 'jpeg'"):
        d.save(tmp_path / "x.jpeg")
    with pytest.raises(ValueError, match=r"\(it has no suffix\); use \.svg, \.png, \.pdf"):
        d.save(tmp_path / "noext")
    assert d.save(tmp_path / "noext", format="dot").read_text(encoding="utf-8") == d.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noext"]
    with pytest.raises(ValueError, match="cannot render format 'dot'"):
        d.pipe("dot")


def test_save_replaces_a_file_atomically(tmp_path: Path) -> None:
    o, _ = classic_neuron()
    path = tmp_path / "g.dot"
    path.write_text("old")
    path.chmod(0o640)
    draw(o).save(path)
    assert path.read_text(encoding="utf-8").startswith("digraph")
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


# -- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"collapse": -1}, "collapse must be a non-negative integer, got -1"),
        ({"collapse": "deep"}, "collapse must be 'auto', None or an integer >= 0, got 'deep'"),
        ({"max_nodes": 0}, "max_nodes must be a positive integer, got 0"),
        ({"digits": 0}, "digits must be a positive integer, got 0"),
        (
            {"direction": "UP"},
            "direction must be \"auto\" or one of ('TB', 'LR', 'BT', 'RL'), got 'UP'",
        ),
        ({"jupyter_format": "gif"}, "jupyter_format must be 'svg' or 'png', got 'gif'"),
        ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
    ],
)
def test_bad_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape("draw: " + message)):
        draw(Value(1.0), **kwargs)  # type: ignore[arg-type]


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match=re.escape("draw: expected a Value or a Graph, got int 3")):
        draw(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="wrt must be a Value or a node id, got float"):
        draw(Value(1.0), wrt=1.0)  # type: ignore[arg-type]


# -- the escaper ----------------------------------------------------------------------------


def test_number_formatter() -> None:
    assert [fmt(x) for x in (2.0, -0.0, 0.70710678, 1.5e-07, -123456.0, 1e21)] == [
        "2",
        "0",
        "0.7071",
        "1.5e-7",
        "-1.235e5",
        "1e21",
    ]
    assert fmt(math.pi, 2) == "3.1"
    with pytest.raises(ValueError, match=re.escape("fmt: digits must be at least 1, got 0")):
        fmt(1.0, 0)


def test_escape_contexts() -> None:
    s = '<a href="x">&\'|{}\\N\n\x07'
    assert escape(s) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;|{}\\\\N<BR/>␇"
    assert escape(s, "string") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;|{}⧵N\\n␇"
    assert escape("a|b*", "markdown") == "a\\|b\\*"
    assert escape("x\x1b", "text") == "x␛"
    assert escape("abcdefgh", limit=4) == "abc…"
    assert escape("e\u0301\u0301x", limit=3) == "e…"  # marks stay with their letter
    assert visible("\r\n\t\x85\ud800\ufffe") == "\n \\x85\ufffd\ufffd"
    with pytest.raises(ValueError, match="unknown context 'xml'"):
        escape("x", "xml")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="visible: expected a str, got int 3"):
        escape(3)  # type: ignore[arg-type]


@given(st.text(), st.integers(2, 40))
def test_escaped_html_and_strings_have_no_markup(text: str, limit: int) -> None:
    html = escape(text, "html", limit)
    assert not re.search(r"[<>\"']", html.replace("<BR/>", ""))
    assert not re.search(r"&(?!(amp|lt|gt|quot|#39|#93);)", html)
    assert "]" not in html
    assert not re.search(r"(?<!\\)(\\\\)*\\(?!\\)", html)  # every backslash is doubled
    string = escape(text, "string", limit)
    assert '"' not in string and "\n" not in string
    assert "\\" not in string.replace("\\n", "")
    for out in (html, string, escape(text, "text")):
        assert not any(unicodedata_control(c) for c in out)
    assert len(escape(text, "text", limit)) <= max(limit, len(text))


def unicodedata_control(c: str) -> bool:
    o = ord(c)
    return (o < 0x20 and c != "\n") or 0x7F <= o < 0xA0 or 0xD800 <= o < 0xE000


# -- rendered SVG (where dot exists) ---------------------------------------------------------


@needs_dot
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60), st.text(max_size=8))
@example('<lambda> | {x} \\N "q" & \n\x00\x1b', "<s>|{}")
@example("\\" * 30, "&amp;")
@example("<<B>bold</B>>", "]]>")
@example("", "²")  # a digit that int() does not read
@example("]]", "]")  # a text run of only "]" breaks Graphviz's HTML labels
def test_any_label_survives_a_real_dot_run(label: str, scope: str) -> None:
    a = Value(1.0, label=label)
    with name_scope(scope or "s"):
        b = Value(2.0, label="k")
        c = a * b
    c.backward()
    d = draw(c, wrt=a, label_limit=24)
    texts, titles = svg_texts(d.to_svg())  # parses as XML
    name = d.graph.nodes[0].name
    shown = escape(name, "text", 24)
    for line in shown.split("\n"):
        line = " ".join(line.split())
        if line:
            assert any(line in t for t in texts), (line, texts)
    full = " ".join(visible(name).replace("\\", "⧵").split())
    assert any(t.startswith(full) for t in titles), (full, titles)


@needs_dot
def test_classic_neuron_svg_caption_product_equals_w1_grad() -> None:
    o, v = classic_neuron()
    d = draw(o, wrt=v["w1"])
    svg = d.to_svg()
    texts, titles = svg_texts(svg)
    caption = next(t for t in texts if t.startswith("∂o/∂w1 = "))
    assert caption.endswith("✓ equals w1.grad")
    numbers = caption.split(" = ")[2]
    product = math.prod(float(x) for x in numbers.split(" × "))
    n = -6.0 + 6.8813735870195432
    expected = (1 - math.tanh(n) ** 2) * 2.0  # closed form of ∂o/∂w1 = tanh'(n)·x1
    assert math.isclose(product, expected, rel_tol=1e-3)
    assert math.isclose(v["w1"].grad, expected, rel_tol=1e-12)
    root = ET.fromstring(svg)
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    assert sorted(g.get("id") for g in nodes) == sorted(f"v{i}" for i in range(10))
    assert any(t.startswith("w1 · parameter · data -3.0") for t in titles)


@needs_dot
def test_svg_node_count_of_a_collapsed_model_and_png_display() -> None:
    loss, _ = scoped_model(batch=30)
    d = draw(loss, jupyter_format="png")
    root = ET.fromstring(d.to_svg())
    nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    units = [g for g in nodes if re.fullmatch(r"c\d+u\d+", g.get("id") or "")]
    assert len(units) == d.visible_nodes == len(d.members)
    shown = d._repr_mimebundle_()
    bundle, meta = shown if isinstance(shown, tuple) else (shown, {})
    assert set(bundle) == {"image/png", "text/plain"}  # only the chosen format
    assert bundle["image/png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert set(meta) <= {"image/png"}
    svg_bundle = draw(loss)._repr_mimebundle_()
    assert isinstance(svg_bundle, dict) and set(svg_bundle) == {"image/svg+xml", "text/plain"}
    assert svg_bundle["image/svg+xml"].startswith("<?xml")
    assert 'style="max-width: 100%; height: auto"' in svg_bundle["image/svg+xml"]


@needs_dot
def test_module_command_writes_the_neuron(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "neuron.svg"
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("∂o/∂w1 = ∂o/∂n · ∂n/∂v6 · ∂v6/∂v2 · ∂v2/∂w1 = 0.5 × 1 × 1 × 2 = 1 ✓")
    assert f"wrote {path}" in out
    assert "∂o/∂w1" in path.read_text(encoding="utf-8")


def test_module_command_errors(
    no_dot: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-h"]) == 2
    assert main([str(tmp_path / "n.svg")]) == 1
    assert "is not installed" in capsys.readouterr().err
    assert main([str(tmp_path / "n.dot")]) == 0


def test_importing_stays_light() -> None:
    code = (
        "import sys, micrograd_x.render, micrograd_x.graph, micrograd_x.chainrule;"
        "print('graphviz' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_drawing_is_a_drawing() -> None:
    o, _ = classic_neuron()
    d = draw(o)
    assert isinstance(d, Drawing)
    assert json.loads(d.to_json())["root"] == "v9"
    assert d.to_dot() == d.source


def test_save_html_writes_one_self_contained_page(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    x = Value(1.5, label="</title><script>alert(1)</script>")
    y = x * x
    y.label = "y"
    y.backward()
    page = draw(y, wrt=x).save(tmp_path / "y.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 1
    assert "<?xml" not in page and "<script" not in page  # the hostile label is escaped
    assert "default-src 'none'" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing to fetch
