"""The cyclic garbage collector paused while a loss function builds its graph, and restored.

Oracle: ``gc.isenabled()`` seen from inside the block (a criterion that records it) and after.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from micrograd_x import Value
from micrograd_x.gcpause import gc_paused
from micrograd_x.nn import MLP
from micrograd_x.train import make_loss_fn


@pytest.fixture(params=[True, False], ids=["gc on", "gc off"])
def gc_state(request: pytest.FixtureRequest) -> Iterator[bool]:
    was = gc.isenabled()
    if request.param:
        gc.enable()
    else:
        gc.disable()
    try:
        yield bool(request.param)
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def test_the_collector_is_off_inside_and_as_it_was_after(gc_state: bool) -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: still off, and the outer block restores
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled() == gc_state


def test_an_error_inside_restores_the_collector(gc_state: bool) -> None:
    with pytest.raises(ZeroDivisionError), gc_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled() == gc_state


@pytest.mark.parametrize("loss", ["hinge", "custom"])
def test_a_loss_function_builds_with_the_collector_off_and_restores_it(
    gc_state: bool, loss: str
) -> None:
    seen: list[bool] = []

    def crit(preds: list[Any], ys: list[Any]) -> Value:
        seen.append(gc.isenabled())
        total: Value = preds[0] * 0.0
        for p, t in zip(preds, ys):
            total = total + (p - t) ** 2
        return total

    fn = make_loss_fn(crit if loss == "custom" else "hinge", l2=1e-4)
    model = MLP(2, [3, 1], seed=0)
    total, preds = fn(model, [[0.5, -1.0], [1.5, 2.0]], [1.0, -1.0])
    assert gc.isenabled() == gc_state
    assert seen == ([False] if loss == "custom" else [])
    assert isinstance(total, Value) and len(preds) == 2


@pytest.mark.parametrize("loss", ["hinge", "custom"])
def test_a_failing_loss_function_restores_the_collector(gc_state: bool, loss: str) -> None:
    def crit(preds: list[Any], ys: list[Any]) -> Value:
        raise RuntimeError("the criterion failed")

    fn = make_loss_fn(crit if loss == "custom" else "hinge")
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises((RuntimeError, ValueError)):
        # A wrong number of inputs for the named loss, a failing criterion for the custom one.
        fn(model, [[0.5]] if loss == "hinge" else [[0.5, 1.0]], [1.0])
    assert gc.isenabled() == gc_state
