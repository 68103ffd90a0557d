"""The strategies: eager validation, guarded domains, shared nodes, printing as runnable Python,
three evaluations that agree."""

from __future__ import annotations

import ast
import math
import runpy
from pathlib import Path

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from micrograd_x import Parameter, Value, ops, topological_order
from micrograd_x.nn import MLP
from micrograd_x.testing import gradcheck
from micrograd_x.testing.strategies import (
    LOSSES,
    LossCase,
    OpCase,
    Program,
    expressions,
    loss_cases,
    mlps,
    op_cases,
    programs,
    values,
)

FIND = settings(max_examples=300, database=None, derandomize=True, phases=[Phase.generate])


# ---------------------------------------------------------------------------------------------
# Eager validation.


@pytest.mark.parametrize(
    "make",
    [
        lambda: programs(variables=0),
        lambda: programs(length=65),
        lambda: programs(variables=1.5),
        lambda: programs(ops=["nope"]),
        lambda: programs(ops="tanh"),
        lambda: programs(ops=[]),
        lambda: programs(ops=["const"]),
        lambda: programs(min_value=1.0, max_value=0.0),
        lambda: programs(min_value=-100.0),
        lambda: expressions(max_depth=0),
        lambda: expressions(min_value=math.nan),
        lambda: values(min_value=2.0, max_value=1.0),
        lambda: values(op="nope"),
        lambda: values(op="tanh", arg=1),
        lambda: values(op="const"),
        lambda: values(label=3),
        lambda: op_cases("const"),
        lambda: op_cases("sum", max_inputs=0),
        lambda: mlps(nin=0),
        lambda: mlps(activations=["swish"]),
        lambda: mlps(hidden=[0]),
        lambda: loss_cases(losses=["l3"]),
        lambda: loss_cases(samples=0),
    ],
)
def test_invalid_arguments_fail_at_construction(make: object) -> None:
    with pytest.raises(InvalidArgument):
        make()  # type: ignore[operator]


def test_invalid_argument_messages_name_the_argument_and_value() -> None:
    with pytest.raises(InvalidArgument, match=r"programs: variables .* got 0"):
        programs(variables=0)
    with pytest.raises(InvalidArgument, match=r"'nope'"):
        programs(ops=["nope"])


# ---------------------------------------------------------------------------------------------
# values() and op_cases().


@given(values(op="log"))
def test_values_respect_the_op_domain(v: Value) -> None:
    assert isinstance(v, Value) and v.is_leaf
    assert 0.05 <= v.data <= 20.0


@given(values(min_value=-1.0, max_value=1.0, label="w", parameter=True))
def test_values_bounds_label_and_parameter(v: Value) -> None:
    assert isinstance(v, Parameter) and v.label == "w" and -1.0 <= v.data <= 1.0


@given(st.from_type(Value), st.from_type(Parameter))
def test_from_type_works_through_the_entry_point(v: Value, p: Parameter) -> None:
    assert isinstance(v, Value) and isinstance(p, Parameter)


@pytest.mark.parametrize("name", [op.name for op in ops.registry() if op.name != "const"])
@given(data=st.data())
def test_op_cases_fit_the_op(name: str, data: st.DataObject) -> None:
    op = ops.get(name)
    case = data.draw(op_cases(op))
    assert isinstance(case, OpCase)
    assert set(case.params) == set(op.params)
    if op.arity is not None:
        assert len(case.inputs) == op.arity
    node = case(*[Value(x) for x in case.inputs])  # defined: no exception
    assert math.isfinite(node.data)
    assert repr(case).startswith(f"micrograd_x.apply({name!r}")


# ---------------------------------------------------------------------------------------------
# Programs and expressions.


def _eval_all(p: Program) -> tuple[float, float, float]:
    out = p.evaluate()
    assert isinstance(out, Value)
    return out.data, p.evaluate_float(), float(p.evaluate_mp())


@given(programs())
def test_programs_evaluate_three_ways(p: Program) -> None:
    engine, floats, exact = _eval_all(p)
    assert math.isfinite(engine)
    assert math.isclose(engine, exact, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(floats, exact, rel_tol=1e-9, abs_tol=1e-12)


@given(expressions(max_depth=5))
def test_expressions_evaluate_three_ways(p: Program) -> None:
    engine, floats, exact = _eval_all(p)
    assert math.isclose(engine, exact, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(floats, exact, rel_tol=1e-9, abs_tol=1e-12)
    assert not p.steps


@given(programs(variables=2, length=5, outputs=2))
def test_program_sizes_follow_the_arguments(p: Program) -> None:
    assert p.variables == ("x0", "x1") and len(p.inputs) == 2
    assert 5 <= len(p.steps) <= 6  # a sum of the unused results may be appended
    assert 1 <= len(p.outputs) <= 2


@given(programs(variables=st.just(1), length=st.integers(2, 3)))
def test_strategies_accept_strategies_for_counts(p: Program) -> None:
    assert len(p.variables) == 1 and 2 <= len(p.steps) <= 4


@given(programs(ops=["log", "sqrt", "div", "pow", "powv"]))
def test_domains_are_guarded_by_construction(p: Program) -> None:
    assert gradcheck(p, p.inputs), str(p)


@given(programs(length=st.integers(2, 10)))
def test_the_output_depends_on_every_step(p: Program) -> None:
    leaves = p.leaves()
    root = p(*leaves)
    assert isinstance(root, Value)
    ops_in_graph = sum(1 for n in topological_order(root) if n.op is not None and not n.is_constant)
    assert ops_in_graph >= len(p.steps)


def test_programs_share_nodes() -> None:
    def shares(p: Program) -> bool:
        root = p(*p.leaves())
        consumers: dict[int, int] = {}
        for node in topological_order(root):
            for parent in set(map(id, node.parents)):
                consumers[parent] = consumers.get(parent, 0) + 1
        return any(count > 1 and not _is_leaf(root, key) for key, count in consumers.items())

    def _is_leaf(root: Value, key: int) -> bool:
        return next(n for n in topological_order(root) if id(n) == key).is_leaf

    p = find(programs(length=st.integers(3, 8)), shares, settings=FIND)
    assert shares(p)


def test_programs_have_repeated_operands() -> None:
    p = find(
        programs(),
        lambda p: any(len(set(map(id, n.parents))) < len(n.parents) for n in _nodes(p)),
        settings=FIND,
    )
    assert p


def _nodes(p: Program) -> list[Value]:
    root = p(*p.leaves())
    return topological_order(root)


@given(programs(outputs=3))
def test_source_parses(p: Program) -> None:
    tree = ast.parse(str(p))
    assert isinstance(tree.body[-1], ast.Assign)
    assert repr(p) == str(p)
    assert p.source.startswith("def f(")


@pytest.mark.parametrize("seed", range(6))
def test_printed_programs_are_runnable_and_reproduce(seed: int, tmp_path: Path) -> None:
    # Our own generated text (not user text) run as a script, to prove the printout is a repro.
    strategy = programs(length=st.integers(3, 8)) if seed % 2 else expressions(max_depth=4)
    p = find(strategy, lambda p: len(str(p)) > 60 + 10 * seed, settings=FIND)
    script = tmp_path / "repro.py"
    script.write_text(str(p), encoding="utf-8")
    namespace = runpy.run_path(str(script))
    out = namespace["out"]
    want = p.evaluate()
    assert isinstance(out, Value) and isinstance(want, Value)
    assert out.data == want.data
    out.backward()
    want.backward()
    assert out.data == want.data


# ---------------------------------------------------------------------------------------------
# Models and losses.


@settings(max_examples=settings.default.max_examples // 7)
@given(mlps(nin=2, hidden=[3], nout=1, activations=["tanh"], seed=st.integers(0, 5)))
def test_mlps_follow_the_arguments(model: MLP) -> None:
    assert isinstance(model, MLP)
    assert model.nin == 2 and model.sizes == [3, 1]
    out = model([0.5, -0.25])
    assert isinstance(out, Value)


def test_mlps_print_as_a_constructor_call() -> None:
    @settings(database=None, derandomize=True, phases=[Phase.generate])
    @given(mlps())
    def fails(model: MLP) -> None:
        assert model.num_parameters() < 5

    with pytest.raises(AssertionError) as info:
        fails()
    assert "MLP(" in "".join(getattr(info.value, "__notes__", [])) + str(info.value)


@settings(max_examples=settings.default.max_examples // 4)
@given(loss_cases())
def test_loss_cases_are_functions_of_the_parameters(case: LossCase) -> None:
    assert case.loss in LOSSES
    point = case.point
    assert len(point) == case.model.num_parameters()
    swapped = case(*[Value(x) for x in point])
    own = case.value()
    assert swapped.data == own.data
    assert case.point == point  # the parameters are restored
    assert ast.parse(repr(case))


@pytest.mark.parametrize("loss", LOSSES)
def test_printed_loss_cases_are_runnable(loss: str, tmp_path: Path) -> None:
    case = find(loss_cases(losses=[loss]), lambda c: len(c.xs) > 1, settings=FIND)
    script = tmp_path / "case.py"
    script.write_text(repr(case), encoding="utf-8")
    namespace = runpy.run_path(str(script))
    assert namespace["loss"].data == case.value().data
