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


# ---------------------------------------------------------------------------------------------
# Numerics at the edges (issue 12, items 14 and 15) and the x**k fast path (issue 13, item 5).


@trap("12.14 hessian of a**b at (0, 2)", "DomainError naming log")
def _hessian_of_a_power_at_zero() -> None:
    # a^b: d²/da² = b(b-1)a^(b-2) = 2; d²/dadb = a^(b-1)(1 + b log a) and d²/db² = a^b log² a: 0.
    assert mx.hessian(lambda a, b: a**b)(0.0, 2.0) == [[2.0, 0.0], [0.0, 0.0]]
    assert mx.hessian(lambda a, b: a**b)(0.0, 3.0) == [[0.0, 0.0], [0.0, 0.0]]
    # a**1.5: the first derivative at 0 is 0; the second, 0.75/√a, is infinite there.
    assert mx.grad(lambda a: a**1.5)(0.0) == 0.0
    with pytest.raises(mx.NonDifferentiableError, match="pow"):
        mx.grad(mx.grad(lambda a: a**1.5))(0.0)
    assert math.isclose(mx.grad(mx.grad(lambda a: a**1.5))(0.25), 0.75 / 0.5, rel_tol=1e-15)


@trap("12.14 create_graph far out", "x*x or 2*x overflowed in the gradient graph for |x| > 1e154")
def _second_order_far_out() -> None:
    import mpmath

    mp = mpmath.mp.clone()
    mp.dps = 50
    rules: dict[str, tuple[Callable[[object], object], Callable[[object], object]]] = {
        # name: (f', f'') in mpmath; both underflow to ±0 or round to 1 this far out
        "tanh": (lambda x: 1 / mp.cosh(x) ** 2, lambda x: -2 * mp.tanh(x) / mp.cosh(x) ** 2),
        "erf": (
            lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-(x**2)),
            lambda x: -4 * x / mp.sqrt(mp.pi) * mp.exp(-(x**2)),
        ),
        "erfc": (
            lambda x: -2 / mp.sqrt(mp.pi) * mp.exp(-(x**2)),
            lambda x: 4 * x / mp.sqrt(mp.pi) * mp.exp(-(x**2)),
        ),
        "gelu": (
            lambda x: mp.ncdf(x) + x * mp.npdf(x),
            lambda x: (2 - x**2) * mp.npdf(x),
        ),
    }
    for name, (d1, d2) in rules.items():
        for x0 in (2e154, -2e154, 1e300, -1.35e300, 1e308, 45.0, -45.0):
            x = Value(x0)
            getattr(x, name)().backward(create_graph=True)
            g = x.grad
            first = g.data if isinstance(g, Value) else g
            second = mx.gradients(g, [x])[0] if isinstance(g, Value) else 0.0
            # Beyond |x| = 400 every one of these derivatives is ±0 or 1 in floats; mpmath's
            # erfc cannot take 1e300, so the oracle is evaluated at ±1000 there.
            at = mp.mpf(max(-1000.0, min(1000.0, x0)))
            for got, want in ((first, d1(at)), (second, d2(at))):
                assert math.isclose(got, float(want), rel_tol=1e-13, abs_tol=1e-300), (  # type: ignore[arg-type]
                    name,
                    x0,
                    got,
                    want,
                )


@trap("12.15 gelu far left", "OverflowError for Value(-1.35e300).gelu() (true value -0.0)")
def _gelu_far_left() -> None:
    for x0 in (-1.35e300, -1e308, -41.0, -1e20):
        y = Value(x0).gelu()
        assert y.data == 0.0 and math.copysign(1.0, y.data) == -1.0
    x = Value(-1.35e300)
    x.gelu().backward()
    assert x.grad == 0.0


@trap("12.15 tiny ** tiny", "OverflowError: x**(k-1) overflowed though k·x^(k-1) is about 1")
def _tiny_power() -> None:
    import mpmath

    mp = mpmath.mp.clone()
    mp.dps = 50
    for x0, k in ((2.2e-313, 2.2e-313), (1e-310, 1e-300), (5e-324, 1e-320)):
        x = Value(x0)
        (x**k).backward()
        want = float(mp.mpf(k) * mp.power(mp.mpf(x0), mp.mpf(k) - 1))
        assert math.isclose(x.grad, want, rel_tol=1e-12), (x0, k, x.grad, want)  # type: ignore[arg-type]


@trap("12.15 integers over 4,300 digits", "Python's digit-limit ValueError while formatting")
def _huge_integers() -> None:
    huge = 10**5000
    for make, op in (
        (lambda: Value(huge), "Value"),
        (lambda: Value(1.0) * huge, "mul"),
        (lambda: huge + Value(1.0), "add"),
        (lambda: Value(2.0) ** huge, "pow"),
        (lambda: Value(2.0) ** -huge, "pow"),
        (lambda: Value(1.0).leaky_relu(huge), "leaky_relu"),
        (lambda: mx.apply("pow", Value(2.0), k=huge), "pow"),
    ):
        with pytest.raises(OverflowError, match=rf"^{op}: the integer of about 5000 digits"):
            make()


@trap("12.15 ELU's gradient below -28", "out + alpha cancels: relative error 1e-4 at -28, 0 at -38")
def _elu_gradient_far_left() -> None:
    import mpmath

    mp = mpmath.mp.clone()
    mp.dps = 50
    for x0 in (-28.0, -30.5, -40.0, -100.0, -700.0):
        for alpha in (1.0, 0.3):
            x = Value(x0)
            x.elu(alpha).backward()
            want = float(alpha * mp.exp(x0))
            assert math.isclose(x.grad, want, rel_tol=4e-16), (x0, alpha, x.grad, want)  # type: ignore[arg-type]


@trap("13.5 the x**k fast path", "x**2 cost 4x a multiplication")
def _power_fast_path_matches_the_op() -> None:
    import random

    rng = random.Random(5)
    for _ in range(500):
        x0 = rng.uniform(-3.0, 3.0) * 10 ** rng.randint(-5, 5)
        k = rng.randint(2, 64)
        try:
            fast = Value(x0) ** k
        except OverflowError as err:
            assert str(err).startswith("pow:")
            with pytest.raises(OverflowError):
                mx.apply("pow", Value(x0), k=float(k))
            continue
        general = mx.apply("pow", Value(x0), k=float(k))  # the general path
        assert (fast.data, fast.partials, fast.op) == (general.data, general.partials, general.op)
        assert dict(fast.params or {}) == {"k": k} and fast._op == f"**{k}"
        assert math.isclose(fast.data, x0**k, rel_tol=1e-15)
    with pytest.raises(TypeError):
        (Value(2.0) ** 2).params["k"] = 3  # type: ignore[index]


@trap("13.5 the dot fast path", "a neuron's node went through the generic n-ary path")
def _dot_fast_path_matches_the_op() -> None:
    import random

    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(1, 9)
        ws = [Value(rng.uniform(-2, 2)) for _ in range(n)]
        xs: list[Value | float] = [
            Value(rng.uniform(-2, 2)) if rng.random() < 0.5 else rng.uniform(-2, 2)
            for _ in range(n)
        ]
        bias = rng.choice([None, Value(rng.uniform(-1, 1)), 0.5])
        fast = mx.dot(ws, xs, bias)
        args = [*ws, *xs] + ([] if bias is None else [bias])
        general = mx.apply("dot", *args)  # the generic n-ary path
        assert (fast.data, fast.partials, fast.op) == (general.data, general.partials, general.op)
        assert [p.data for p in fast.parents] == [p.data for p in general.parents]
    with pytest.raises(OverflowError, match=r"^dot: the result inf"):
        mx.dot([Value(1e300)], [1e300])


@pytest.mark.parametrize("t", TRAPS, ids=[t.id for t in TRAPS])
def test_trap(t: Trap) -> None:
    t.check()
