from __future__ import annotations

import math
import re

import pytest
from examples import neuron, used_three_times
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import Value, ops, zero_grad
from micrograd_x.chainrule import explain
from micrograd_x.testing import reference_grad
from micrograd_x.testing.strategies import Program, programs

SMOOTH = [o.name for o in ops.registry() if not o.domain.piecewise and o.name != "const"]
B = 6.8813735870195432


def test_neuron_chain_for_w1() -> None:
    o, v = neuron()
    o.backward()
    e = explain(o, v["w1"])
    dn = 1 - math.tanh(-6.0 + B) ** 2  # closed form of tanh'
    assert e.n_paths == 1 and e.complete
    (p,) = e.paths
    assert p.nodes == ("o", "n", "v6", "v2", "w1")
    assert p.ids == ("v9", "v8", "v6", "v2", "v1")
    assert [f.symbol() for f in p.factors] == ["∂o/∂n", "∂n/∂v6", "∂v6/∂v2", "∂v2/∂w1"]
    assert [f.value for f in p.factors] == pytest.approx([dn, 1.0, 1.0, 2.0], rel=1e-12)
    assert p.product == pytest.approx(dn * 2.0, rel=1e-12)
    assert e.gradient == pytest.approx(dn * 2.0, rel=1e-12)
    assert e.matches and e.grad == v["w1"].grad
    assert e.formula() == (
        "∂o/∂w1 = ∂o/∂n · ∂n/∂v6 · ∂v6/∂v2 · ∂v2/∂w1 = 0.5 × 1 × 1 × 2 = 1 ✓ equals w1.grad"
    )


def test_text_and_markdown() -> None:
    o, v = neuron()
    o.backward()
    text = str(explain(o, v["x1"]))
    assert text.splitlines()[0] == "∂o/∂x1: the chain rule, one row per path from x1 to o"
    assert "o ← n ← v6 ← v2 ← x1" in text
    assert "∂v2/∂x1 = -3" in text
    assert text.splitlines()[-2:] == ["sum over 1 path = -1.5", "✓ equals x1.grad"]
    md = explain(o, v["x1"])._repr_markdown_()
    assert "| # | path | local partials | product |" in md
    assert "| 1 | o ← n ← v6 ← v2 ← x1 |" in md


def test_a_value_used_on_several_paths() -> None:
    # x appears in y = x*x (twice) and directly in z = y + x: three paths.
    z, x = used_three_times(3.0)
    z.backward()
    e = explain(z, x)
    assert e.n_paths == 3
    assert [p.nodes for p in e.paths] == [("z", "y", "x"), ("z", "y", "x"), ("z", "x")]
    assert [p.product for p in e.paths] == [3.0, 3.0, 1.0]
    assert e.gradient == 7.0 == x.grad  # d/dx (x² + x) = 2x + 1
    assert [f.symbol() for f in e.paths[0].factors] == ["∂z/∂y", "∂y/∂x (arg 1)"]
    assert e.paths[1].factors[1].symbol() == "∂y/∂x (arg 2)"
    assert "∂y/∂x (arg 1) + ∂z/∂y · ∂y/∂x (arg 2) + ∂z/∂x = 1 × 3 + 1 × 3 + 1 = 7" in e.formula()


@given(programs(ops=SMOOTH, length=st.integers(1, 6), variables=st.integers(1, 3)))
def test_sum_over_paths_is_the_gradient(program: Program) -> None:
    leaves = program.leaves()
    out = program(*leaves)
    _, expected = reference_grad(program, program.inputs)
    for leaf, want in zip(leaves, expected):
        e = explain(out, leaf, max_paths=10_000)
        assert e.complete
        total = math.fsum(p.product for p in e.paths)
        assert math.isclose(total, want, rel_tol=1e-7, abs_tol=1e-9)
        assert math.isclose(e.gradient, want, rel_tol=1e-7, abs_tol=1e-9)
        for p in e.paths:
            assert math.isclose(p.product, math.prod(f.value for f in p.factors), rel_tol=1e-12)
            assert p.nodes[0] == e.output and p.nodes[-1] == e.wrt


def test_many_paths_are_counted_exactly_and_listed_up_to_the_cap() -> None:
    x = Value(0.5, label="x")
    y = x
    for _ in range(40):
        y = y + y  # 2**40 paths
    e = explain(y, x, max_paths=5)
    assert e.n_paths == 2**40 and len(e.paths) == 5 and not e.complete
    assert e.gradient == 2.0**40
    assert "Σ over 1099511627776 paths" in e.formula()
    assert "(5 listed)" in str(e)


def test_no_dependence_and_self() -> None:
    x, z = Value(1.0, label="x"), Value(2.0, label="z")
    y = x * 3
    y.label = "y"
    e = explain(y, z)
    assert e.n_paths == 0 and e.paths == () and e.gradient == 0.0
    assert e.formula().startswith("∂y/∂z = 0: y does not depend on z")
    assert "no path: y does not depend on z" in str(e)
    s = explain(y, y)
    assert s.n_paths == 1 and s.paths[0].factors == () and s.gradient == 1.0


def test_verdicts_when_grads_are_missing_or_stale() -> None:
    o, v = neuron()
    assert "(w1.grad is 0: call o.backward() to compare)" in explain(o, v["w1"]).formula()
    o.backward()
    o.backward()  # leaves accumulate: w1.grad is now twice the gradient
    stale = explain(o, v["w1"])
    assert not stale.matches
    assert "✗ but w1.grad = 2 (grads accumulate" in stale.formula()
    zero_grad([v["w1"]])
    o.backward()
    assert explain(o, v["w1"]).matches


def test_names_are_escaped_for_markdown_and_terminals() -> None:
    a = Value(2.0, label="a|b*\x1b")
    y = a * 2
    y.label = "<y>"
    y.backward()
    e = explain(y, a)
    md = e.to_markdown()
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    assert row.count(" | ") == 3  # the label's pipe does not open a column
    assert "a\\|b\\*␛" in md and "\\<y\\>" in md
    assert "a|b*␛" in str(e) and "\x1b" not in str(e)


def test_duplicate_labels_are_told_apart() -> None:
    a, b = Value(1.0, label="w"), Value(2.0, label="w")
    y = a * b
    y.label = "y"
    y.backward()
    assert explain(y, a).wrt == "w[v0]"
    assert explain(y, b).wrt == "w[v1]"


def test_bad_arguments() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match=re.escape("explain: wrt must be a Value, got float 1.0")):
        explain(x, 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=re.escape("trace: expected a Value, got str 'x'")):
        explain("x", x)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("max_paths must be a positive integer, got 0")):
        explain(x, x, max_paths=0)
