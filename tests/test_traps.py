"""The correctness-trap catalogue: one row per trap a user fell into, each a check that failed.

Every row names the trap, what used to happen, and a check of the behaviour now promised (an
exact value from a closed form, an error type naming the op, or unchanged state). Oracles are
closed forms, micrograd 0.1.0 itself (for its names), and mpmath at 50 digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

import micrograd_x as mx
from micrograd_x import Value, backward


@dataclass(frozen=True)
class Trap:
    """One catalogued trap.

    Attributes:
        id: Short id (issue item and what it is about).
        before: What used to happen.
        check: Raises (an assertion) if the trap is back.
    """

    id: str
    before: str
    check: Callable[[], None]


TRAPS: list[Trap] = []


def trap(id: str, before: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register the decorated check in the catalogue."""

    def register(check: Callable[[], None]) -> Callable[[], None]:
        TRAPS.append(Trap(id, before, check))
        return check

    return register


# ---------------------------------------------------------------------------------------------
# micrograd's names (issue 14, item 1) and the backward signature (issue 12, item 2).


@trap("14.1 micrograd _prev and _op", "AttributeError")
def _prev_and_op_as_micrograd() -> None:
    from micrograd.engine import Value as MValue

    def build(cls: type) -> list[object]:
        a, b = cls(2.0), cls(-3.0)
        c = a * b
        d = c + a
        return [a, c, d, d.relu(), a**2, a**-1, c**3]

    ours, theirs = build(Value), build(MValue)
    assert [v._op for v in ours] == [v._op for v in theirs]  # type: ignore[attr-defined]
    assert [len(v._prev) for v in ours] == [len(v._prev) for v in theirs]  # type: ignore[attr-defined]
    x = Value(1.5)
    assert (x * x)._prev == {x}  # distinct parents, as micrograd's set
    assert x.tanh()._op == "tanh" and x.exp()._op == "exp"
    with pytest.raises(AttributeError):
        x._prev = set()  # type: ignore[misc]


@trap("14.1 micrograd _backward() by hand", "AttributeError")
def _manual_backprop_as_the_lecture() -> None:
    # The lecture's neuron, stepped through by hand: o = tanh(x1*w1 + x2*w2 + b).
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    x1w1, x2w2 = x1 * w1, x2 * w2
    n = x1w1 + x2w2 + b
    o = n.tanh()
    o.grad = 1.0
    for node in (o, n, n.parents[0], x1w1, x2w2):
        node._backward()
    dn = 1.0 - math.tanh(n.data) ** 2  # the closed form
    assert math.isclose(n.grad, dn, rel_tol=1e-12)
    assert math.isclose(x1.grad, dn * w1.data, rel_tol=1e-12)
    assert math.isclose(w1.grad, dn * x1.data, rel_tol=1e-12)
    assert math.isclose(x2.grad, dn * w2.data, rel_tol=1e-12)
    assert w2.grad == 0.0 and b.grad == n.grad
    y = Value(3.0)
    sq = y * y  # both edges reach y: the step adds both
    sq.grad = 1.0
    sq._backward()
    assert y.grad == 6.0
    Value(1.0)._backward()  # a leaf's step does nothing


@trap("14.1 Value(data, _children, _op)", "TypeError: takes from 2 to 3 positional arguments")
def _micrograd_constructor_explains() -> None:
    a, b = Value(1.0), Value(2.0)
    for make in (
        lambda: Value(3.0, (a, b), "+"),
        lambda: Value(3.0, (a, b)),
        lambda: Value(3.0, _children=(a, b), _op="+"),
    ):
        with pytest.raises(TypeError, match=r"apply.*register"):
            make()
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, 5)  # type: ignore[arg-type]


@trap("14.1 friendly misses", "AttributeError with no pointer")
def _did_you_mean() -> None:
    with pytest.raises(AttributeError, match="did you mean parents"):
        Value(1.0).children  # noqa: B018
    with pytest.raises(AttributeError, match="did you mean label"):
        Value(1.0).lable  # noqa: B018


@trap("12.2 backward(2.0) is an upstream gradient", "taken as create_graph=True")
def _backward_takes_an_upstream_gradient() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a * a
    c.backward(2.0)
    assert (a.grad, b.grad) == (2.0 * (b.data + 2 * a.data), 2.0 * a.data)
    assert isinstance(a.grad, float)
    x = Value(0.5)
    backward(x, 3.0)  # a leaf root adds the upstream gradient
    assert x.grad == 3.0
    y = Value(0.7)
    z = y.tanh()
    z.backward(0.5, create_graph=True)
    assert isinstance(y.grad, Value)
    assert math.isclose(y.grad.data, 0.5 * (1 - math.tanh(0.7) ** 2), rel_tol=1e-15)
    with pytest.raises(TypeError, match="create_graph=True"):
        c.backward(True)
    with pytest.raises(TypeError):
        c.backward(1.0, True)  # type: ignore[misc]
    with pytest.raises(ValueError, match="not a finite number"):
        c.backward(math.inf)
    assert mx.Value.backward.__doc__


# ---------------------------------------------------------------------------------------------
# Silently wrong gradients (issue 12, items 1-5).


@trap("12.1 math.tanh(x) detaches x", "x.grad 0.462 instead of 0.855, no error")
def _math_functions_refuse_values() -> None:
    x = Value(0.5)
    for f in (math.tanh, math.exp, math.sqrt, float, math.isfinite, math.floor):
        with pytest.raises(TypeError, match=r"x\.tanh\(\).*x\.item\(\)"):
            f(x)  # type: ignore[operator]
    y = x.tanh() * x  # what the message says to write
    y.backward()
    assert math.isclose(x.grad, math.tanh(0.5) + 0.5 * (1 - math.tanh(0.5) ** 2), rel_tol=1e-15)
    assert x.item() == x.data == 0.5 and type(x.item()) is float


@trap("12.3 .data/.grad setters check nothing", "a.data = 'x' breaks repr; NaN accepted")
def _setters_validate_as_the_constructor() -> None:
    a = Value(1.0)
    for bad, err in (("x", TypeError), (None, TypeError), (math.nan, ValueError), (1j, TypeError)):
        with pytest.raises(err) as got:
            a.data = bad  # type: ignore[assignment]
        with pytest.raises(err) as want:
            Value(bad)  # type: ignore[arg-type]
        assert str(got.value).split(":", 1)[1] == str(want.value).split(":", 1)[1]
        with pytest.raises(err):
            a.grad = bad  # type: ignore[assignment]
    with pytest.raises(ValueError, match="not a finite number"):
        a.grad = -math.inf
    with pytest.raises(TypeError, match=r"write 0\.0"):
        a.grad = None  # type: ignore[assignment]
    assert (a.data, a.grad) == (1.0, 0.0)  # unchanged by the refused assignments
    a.data = 3  # an int is a real number
    a.grad = 2
    assert (type(a.data), type(a.grad)) == (float, float) and repr(a)
    a.data -= 0.5 * a.grad  # the lecture's update still reads and writes floats
    assert a.data == 2.0


def _grads(*vs: Value) -> list[object]:
    return [v.grad for v in vs]


@trap("12.4 a failed backward leaves inf in leaf grads", "x.grad == inf after OverflowError")
def _backward_is_all_or_nothing() -> None:
    x = Value(1e-300)
    y = (x * 1e200) * 1e200  # dy/dx = 1e400 overflows
    with pytest.raises(OverflowError, match="gradient"):
        y.backward()
    assert x.grad == 0.0
    # Two opposite overflowing paths (inf - inf = nan); grads held before are kept exactly.
    a, b = Value(1e-150), Value(1e-150)
    a.grad, b.grad = 0.25, -7.0
    big = a * b
    z = big * 1e200 * 1e200 - big * 1e200 * 1e200
    z.grad, big.grad = 3.0, 4.0
    with pytest.raises(OverflowError):
        z.backward()
    assert _grads(a, b, big, z) == [0.25, -7.0, 4.0, 3.0]
    # And a later, finite backward works from the same state.
    w = a * 2.0
    w.backward()
    assert a.grad == 2.25


@trap("12.5 constants' gradients raise", "raises although every variable's gradient is finite")
def _constants_need_no_gradient() -> None:
    x = z = Value(1e200)
    y = (x * 1e-300) * z  # d/d(constant 1e-300) = 1e400; d/dx = 2e-100
    y.backward()
    assert math.isclose(x.grad, 2 * 1e200 * 1e-300, rel_tol=1e-15)
    assert z.grad == x.grad
    assert mx.gradients(y, []) == []
    (g,) = mx.gradients(y, [x])
    assert math.isclose(g, 2e-100, rel_tol=1e-15)
    # smooth_l1 with a huge beta: only beta's own gradient overflows. (The loss sums the paths
    # 1 - 1 + |d|/β, so |d|/β below the rounding of 1 is lost: an absolute error of 1e-16.)
    p = Value(0.5)
    loss = mx.losses.smooth_l1([p], [0.0], beta=1e155)
    loss.backward()
    assert abs(p.grad - 0.5 / 1e155) <= 1.2e-16


# ---------------------------------------------------------------------------------------------
# Threads (issue 12, item 9).


@trap("12.9 name_scope across threads", "scopes such as net1.layer1.neuron7.net1.layer2")
def _name_scope_is_per_thread() -> None:
    import threading

    barrier = threading.Barrier(2)
    scopes: dict[str, set[str | None]] = {}

    def build(net: str) -> None:
        seen: set[str | None] = set()
        with mx.name_scope(net):
            for layer in range(20):
                with mx.name_scope(f"layer{layer}"):
                    barrier.wait()  # both threads are inside their scopes at once
                    seen.add((Value(1.0) * 2.0).scope)
                    barrier.wait()
        scopes[net] = seen

    threads = [threading.Thread(target=build, args=(n,)) for n in ("net1", "net2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for net in ("net1", "net2"):
        assert scopes[net] == {f"{net}.layer{i}" for i in range(20)}
    assert Value(1.0).scope is None  # nothing leaks into the main thread


@pytest.mark.parametrize("t", TRAPS, ids=[t.id for t in TRAPS])
def test_trap(t: Trap) -> None:
    t.check()
