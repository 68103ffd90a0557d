"""The bad input catalogue: traps users fell into, hostile files, awkward environments and
ill-conditioned points, enumerated in one place.

Each row of ``CATALOGUE`` is one case: an id, the behaviour promised, a check that fails if the
behaviour regresses and, for a trap a user fell into, what used to happen (``before``; the id
starts with the issue item). Oracles are closed forms, micrograd 0.1.0 itself (for its names) and
mpmath at 50 digits. Cases that could hang or exhaust memory when broken (a FIFO, a link to
``/dev/zero``) run in a subprocess with a timeout and a memory limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from unittest import mock

import pytest

import micrograd_x as mx
from micrograd_x import Value, apply, backward, cli, ops, serialize
from micrograd_x._files import STALE_AFTER, write_atomic, write_atomic_with
from micrograd_x.expr import parse
from micrograd_x.nn import MLP
from micrograd_x.testing import gradcheck, gradgradcheck, numerical_grad


class Case(NamedTuple):
    """One catalogued case.

    Attributes:
        id: Short id (for a trap, the issue item and what it is about).
        promise: The behaviour promised.
        check: Raises (an assertion) if the behaviour regresses; gets a fresh folder.
        before: For a trap a user fell into, what used to happen.
    """

    id: str
    promise: str
    check: Callable[[Path], None]
    before: str = ""


def _python(code: str, *, timeout: float = 60.0, env: dict[str, str] | None = None) -> Any:
    """Run ``code`` in a fresh interpreter (1 GiB of address space at most); fail on a hang."""

    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit if sys.platform == "linux" else None,
        env={**os.environ, **(env or {})},
    )


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------------------------
# Model files.


def _tiny_file_declaring_ten_million_parameters(tmp: Path) -> None:
    doc = {
        "format": serialize.FORMAT,
        "version": serialize.VERSION,
        "architecture": {
            "type": "MLP",
            "nin": 3161,
            "sizes": [3161],
            "activation": "relu",
            "output_activation": None,
        },
        "parameters": {},
    }
    path = tmp / "m.json"
    path.write_text(json.dumps(doc))
    assert path.stat().st_size < 200
    built = AssertionError("the model was built before the parameters were checked")
    refused = pytest.raises(serialize.SerializationError, match=r"declares 9,995,082 parameters")
    with mock.patch.object(serialize, "from_config", side_effect=built), refused:
        serialize.load(path)


def _load_in_subprocess(path: Path) -> str:
    result = _python(
        f"""
        from micrograd_x import serialize
        try:
            serialize.load({str(path)!r})
        except serialize.SerializationError as e:
            print("refused:", e)
        """,
        timeout=30.0,
    )
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def _link_to_dev_zero(tmp: Path) -> None:
    link = tmp / "zero.json"
    link.symlink_to("/dev/zero")
    assert "refused:" in _load_in_subprocess(link)
    assert "not a regular file" in _load_in_subprocess(link)


def _fifo(tmp: Path) -> None:
    fifo = tmp / "pipe.json"
    os.mkfifo(fifo)
    out = _load_in_subprocess(fifo)  # a blocking open would hang until the timeout
    assert "refused:" in out and "not a regular file" in out


def _folder(tmp: Path) -> None:
    (tmp / "dir.json").mkdir()
    with pytest.raises(serialize.SerializationError, match="is a folder"):
        serialize.load(tmp / "dir.json")


def _file_over_the_size_limit(tmp: Path) -> None:
    path = serialize.save(MLP(2, [3, 1]), tmp / "m.json")
    size = path.stat().st_size
    with pytest.raises(serialize.SerializationError, match=rf"{size:,} bytes, more than .* 100"):
        serialize.load(path, max_bytes=100)
    with pytest.raises(serialize.SerializationError, match="more than the limit"):
        serialize.load_parameters(MLP(2, [3, 1]), path, max_bytes=size - 1)
    assert serialize.load(path, max_bytes=size).num_parameters() == 13
    # The default limit is the documented module attribute, read at each call.
    assert serialize.MAX_FILE_BYTES == 64 * 1024 * 1024
    refused = pytest.raises(serialize.SerializationError, match="more than the limit of 100")
    with mock.patch.object(serialize, "MAX_FILE_BYTES", 100), refused:
        serialize.load(path)
    with pytest.raises(TypeError, match="max_bytes must be an int"):
        serialize.load(path, max_bytes=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_bytes must be >= 0"):
        serialize.load(path, max_bytes=-1)


# ---------------------------------------------------------------------------------------------
# Importing the Hypothesis strategies first.


def _strategies_imported_first(tmp: Path) -> None:
    for first in (
        "import micrograd_x.testing.strategies",
        "from micrograd_x.testing import strategies",
    ):
        result = _python(
            f"""
            {first}
            from hypothesis import strategies as st
            from micrograd_x import Parameter, Value
            v, p = st.from_type(Value).example(), st.from_type(Parameter).example()
            assert isinstance(v, Value) and isinstance(p, Parameter), (v, p)
            print("ok")
            """
        )
        assert result.returncode == 0 and result.stdout == "ok\n", result.stderr


def _pytest_collects_a_file_importing_strategies_first(tmp: Path) -> None:
    (tmp / "test_first.py").write_text(
        textwrap.dedent(
            """
            from micrograd_x.testing.strategies import values

            from hypothesis import given, strategies as st
            from micrograd_x import Value


            @given(values(), st.from_type(Value))
            def test_leaves(a, b):
                assert isinstance(a, Value) and isinstance(b, Value)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_first.py"],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


# ---------------------------------------------------------------------------------------------
# Atomic writes.


def _umask_is_never_touched(tmp: Path) -> None:
    touched = AssertionError("os.umask changes the mask of every thread while it runs")
    with mock.patch("os.umask", side_effect=touched):
        write_atomic(tmp / "new.json", "{}")
        write_atomic_with(tmp / "new.svg", lambda p: p.write_text("<svg/>"))
        write_atomic(tmp / "new.json", "[]")  # over an existing file
    assert (tmp / "new.json").read_text() == "[]"


def _threads_see_their_own_umask(tmp: Path) -> None:
    modes: set[int] = set()
    errors: list[BaseException] = []

    def saver(k: int) -> None:
        try:
            for i in range(40):
                path = write_atomic(tmp / f"s{k}-{i}.json", "{}")
                modes.add(path.stat().st_mode & 0o777)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def creator() -> None:
        for i in range(400):
            path = tmp / f"plain{i}.txt"
            with open(path, "w"):
                pass
            modes.add(path.stat().st_mode & 0o777)

    old = os.umask(0o077)
    try:
        threads = [threading.Thread(target=saver, args=(k,)) for k in range(4)]
        threads.append(threading.Thread(target=creator))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.umask(old)
    assert not errors
    assert modes == {0o600}


def _temporaries_match_no_glob(tmp: Path) -> None:
    seen: list[list[str]] = []

    def look() -> None:
        seen.append(sorted(p.name for p in (*tmp.glob("*.json"), *tmp.glob("*.svg"))))

    def writer(p: Path) -> None:
        p.write_text("<svg/>")
        look()

    write_atomic_with(tmp / "figure.svg", writer)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        look()
        real_fsync(fd)

    with mock.patch("os.fsync", side_effect=fsync):
        write_atomic(tmp / "model.json", "{}")
    # While each file was being written, a glob saw nothing but finished targets.
    assert seen[0] == [] and seen[-1] == ["figure.svg"]
    assert sorted(p.name for p in tmp.iterdir()) == ["figure.svg", "model.json"]


def _stale_temporaries_are_removed(tmp: Path) -> None:
    target = tmp / "model.json"
    for api in ("write_atomic_with", "write_atomic"):
        # A process killed (SIGKILL) in the middle of a save leaves its temporary behind.
        code = f"""
            import os, signal
            from unittest import mock
            from micrograd_x._files import write_atomic, write_atomic_with

            def die(*args):
                os.kill(os.getpid(), signal.SIGKILL)

            if {api!r} == "write_atomic":
                with mock.patch("os.fsync", side_effect=die):
                    write_atomic({str(target)!r}, "{{}}")
            else:
                write_atomic_with({str(target)!r}, lambda p: (p.write_text("{{"), die()))
            """
        result = _python(code)
        assert result.returncode == -signal.SIGKILL
        left = [p for p in tmp.iterdir() if p.name != target.name]
        assert len(left) == 1
        assert [p.name for p in tmp.glob("*.json")] in ([], [target.name])
        # Young temporaries may belong to a live writer elsewhere: kept until STALE_AFTER.
        write_atomic(target, "{}")
        assert [p for p in tmp.iterdir() if p.name != target.name] == left
        old = time.time() - STALE_AFTER - 5
        os.utime(left[0], (old, old))
        write_atomic(target, "[]")
        assert sorted(p.name for p in tmp.iterdir()) == ["model.json"]
        assert target.read_text() == "[]"


# ---------------------------------------------------------------------------------------------
# The command line and the checker at the edges of the float range.


def _check_at_the_largest_float(tmp: Path) -> None:
    code, out, err = _cli("check", "x", "--at", "x=1.7976931348623157e308")
    assert code == 0 and err == ""
    assert "domain edge: inconclusive" in out and "overflows the float range" in out
    report = gradcheck(lambda x: -x, [-1.7976931348623157e308])
    assert report.verdict == "inconclusive"
    assert report.inconclusive_kinds == {0: "domain edge"}
    with pytest.raises(OverflowError, match="overflows the float range"):
        numerical_grad(lambda x: x, [1.7976931348623157e308])


def _ascii_terminal(tmp: Path) -> None:
    env = {"PYTHONIOENCODING": "ascii"}
    draw = ["draw", "tanh(x*y)", "--at", "x=1,y=2", "-o", str(tmp / "g.dot")]
    for argv in (draw, ["check", "sin(x)", "--at", "x=1e10"], ["check", "sin(x"]):
        result = subprocess.run(
            [sys.executable, "-m", "micrograd_x", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **env},
        )
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 2), result.stderr
    assert "d/dx = " in _ascii_stdout(draw, env)


def _ascii_stdout(argv: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "micrograd_x", *argv],
        capture_output=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert result.returncode == 0
    result.stdout.decode("ascii")  # nothing but ASCII reached the terminal
    return str(result.stdout.decode("ascii"))


# ---------------------------------------------------------------------------------------------
# Ill-conditioned points: inconclusive with the reason, never "a wrong local derivative".

ILL_POINTS = [
    ("sin(x)", 1e10),
    ("sin(x)", 1e5),
    ("cos(x)", 1e5),
    ("tanh(x - 1e4)", 1e4),
    ("log(x)", 1e-4),
    ("1/x", 1e-4),
    ("sqrt(x)", 2e-5),
]


def _ill_conditioned_points(tmp: Path) -> None:
    for text, x in ILL_POINTS:
        report = gradcheck(parse(text), [x])
        assert report.inconclusive_kinds == {0: "ill-conditioned"}, (text, report.message)
        assert report.verdict == "inconclusive" and not report.mismatches
        assert "wrong local derivative" not in report.message
        assert "too large for the function's curvature" in report.message
    code, out, _ = _cli("check", "sin(x)", "--at", "x=1e10")
    assert code == 0 and "ill-conditioned: inconclusive" in out and "MISMATCH" not in out


def _domain_edge_is_not_a_kink(tmp: Path) -> None:
    report = gradcheck(parse("sqrt(x)"), [1e-12])
    assert report.inconclusive_kinds == {0: "domain edge"}
    code, out, _ = _cli("check", "sqrt(x)", "--at", "x=1e-12")
    assert code == 0 and "domain edge: inconclusive" in out and "kink" not in out


def _wrong_rules_still_fail_at_well_conditioned_points(tmp: Path) -> None:
    def scaled(op: ops.Op, factor: float) -> ops.Op:
        def partials(out: Any, *xs: Any) -> tuple[Any, ...]:
            return tuple(d * factor for d in op.partials(out, *xs))

        return dataclasses.replace(op, name=f"scaled_{op.name}", partials=partials)

    for op, x in ((ops.SIN, 3.0), (ops.SIN, 1e3), (ops.LOG, 0.5), (ops.TANH, -1.2)):
        bad = scaled(op, 1.01)
        report = gradcheck(lambda v, bad=bad: apply(bad, v), [x])
        assert not report and report.mismatches and not report.inconclusive, report.message
        assert "wrong local derivative" in report.message


# ---------------------------------------------------------------------------------------------
# Second order: a bug only in a rule's create_graph (Value) branch.


def _value_branch(transform: Callable[[Any], Any]) -> ops.Op:
    def partials(out: Any, x: Any) -> tuple[Any, ...]:
        (d,) = ops.TANH.partials(out, x)
        return (transform(d),) if isinstance(x, Value) else (d,)

    return dataclasses.replace(ops.TANH, name="planted_tanh", partials=partials)


def _gradgradcheck_sees_the_value_branch(tmp: Path) -> None:
    points = [-2.5 + 0.25 * k for k in range(21)]
    for planted in (_value_branch(lambda d: d * 1.1), _value_branch(lambda d: d + 0.01)):
        assert gradcheck(lambda v, op=planted: apply(op, v), [0.3])  # first order is right
        for x in points:
            report = gradgradcheck(lambda v, op=planted: apply(op, v), [x])
            assert not report, (x, report.message)
            assert report.consistency and "create_graph=True" in report.message
    # The correct rule passes at the same points.
    for x in points:
        assert gradgradcheck(lambda v: v.tanh(), [x])


# ---------------------------------------------------------------------------------------------
# Models.


def _mlp_activation_without_hidden_layers(tmp: Path) -> None:
    with pytest.raises(ValueError, match=r"MLP: unknown activation 'nope'"):
        MLP(2, [1], activation="nope")
    with pytest.raises(TypeError, match=r"MLP: activation must be a name"):
        MLP(2, [1], activation=3)  # type: ignore[arg-type]
    assert MLP(2, [1], activation="tanh").num_parameters() == 3


# ---------------------------------------------------------------------------------------------
# Traps users fell into. micrograd's names (issue 14, item 1), backward's signature (12.2).


def _prev_and_op_as_micrograd(tmp: Path) -> None:
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


def _manual_backprop_as_the_lecture(tmp: Path) -> None:
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


def _micrograd_constructor_explains(tmp: Path) -> None:
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


def _did_you_mean(tmp: Path) -> None:
    with pytest.raises(AttributeError, match="did you mean parents"):
        Value(1.0).children  # noqa: B018
    with pytest.raises(AttributeError, match="did you mean label"):
        Value(1.0).lable  # noqa: B018


def _backward_takes_an_upstream_gradient(tmp: Path) -> None:
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


def _math_functions_refuse_values(tmp: Path) -> None:
    x = Value(0.5)
    for f in (math.tanh, math.exp, math.sqrt, float, math.isfinite, math.floor):
        with pytest.raises(TypeError, match=r"x\.tanh\(\).*x\.item\(\)"):
            f(x)  # type: ignore[operator]
    y = x.tanh() * x  # what the message says to write
    y.backward()
    assert math.isclose(x.grad, math.tanh(0.5) + 0.5 * (1 - math.tanh(0.5) ** 2), rel_tol=1e-15)
    assert x.item() == x.data == 0.5 and type(x.item()) is float


def _setters_validate_as_the_constructor(tmp: Path) -> None:
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


def _backward_is_all_or_nothing(tmp: Path) -> None:
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


def _constants_need_no_gradient(tmp: Path) -> None:
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


def _name_scope_is_per_thread(tmp: Path) -> None:
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


def _hessian_of_a_power_at_zero(tmp: Path) -> None:
    # a^b: d²/da² = b(b-1)a^(b-2) = 2; d²/dadb = a^(b-1)(1 + b log a) and d²/db² = a^b log² a: 0.
    assert mx.hessian(lambda a, b: a**b)(0.0, 2.0) == [[2.0, 0.0], [0.0, 0.0]]
    assert mx.hessian(lambda a, b: a**b)(0.0, 3.0) == [[0.0, 0.0], [0.0, 0.0]]
    # a**1.5: the first derivative at 0 is 0; the second, 0.75/√a, is infinite there.
    assert mx.grad(lambda a: a**1.5)(0.0) == 0.0
    with pytest.raises(mx.NonDifferentiableError, match="pow"):
        mx.grad(mx.grad(lambda a: a**1.5))(0.0)
    assert math.isclose(mx.grad(mx.grad(lambda a: a**1.5))(0.25), 0.75 / 0.5, rel_tol=1e-15)


def _second_order_far_out(tmp: Path) -> None:
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


def _gelu_far_left(tmp: Path) -> None:
    for x0 in (-1.35e300, -1e308, -41.0, -1e20):
        y = Value(x0).gelu()
        assert y.data == 0.0 and math.copysign(1.0, y.data) == -1.0
    x = Value(-1.35e300)
    x.gelu().backward()
    assert x.grad == 0.0


def _tiny_power(tmp: Path) -> None:
    import mpmath

    mp = mpmath.mp.clone()
    mp.dps = 50
    for x0, k in ((2.2e-313, 2.2e-313), (1e-310, 1e-300), (5e-324, 1e-320)):
        x = Value(x0)
        (x**k).backward()
        want = float(mp.mpf(k) * mp.power(mp.mpf(x0), mp.mpf(k) - 1))
        assert math.isclose(x.grad, want, rel_tol=1e-12), (x0, k, x.grad, want)  # type: ignore[arg-type]


def _huge_integers(tmp: Path) -> None:
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


def _elu_gradient_far_left(tmp: Path) -> None:
    import mpmath

    mp = mpmath.mp.clone()
    mp.dps = 50
    for x0 in (-28.0, -30.5, -40.0, -100.0, -700.0):
        for alpha in (1.0, 0.3):
            x = Value(x0)
            x.elu(alpha).backward()
            want = float(alpha * mp.exp(x0))
            assert math.isclose(x.grad, want, rel_tol=4e-16), (x0, alpha, x.grad, want)  # type: ignore[arg-type]


def _power_fast_path_matches_the_op(tmp: Path) -> None:
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


def _dot_fast_path_matches_the_op(tmp: Path) -> None:
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


CATALOGUE = [
    # Traps users fell into (issues 12 to 14): before = what used to happen.
    Case("14.1 micrograd _prev and _op", "micrograd's _prev and _op read as in micrograd",
         _prev_and_op_as_micrograd,
         before="AttributeError"),
    Case("14.1 micrograd _backward() by hand", "the lecture's manual _backward() calls work",
         _manual_backprop_as_the_lecture,
         before="AttributeError"),
    Case("14.1 Value(data, _children, _op)", "TypeError pointing to apply and register",
         _micrograd_constructor_explains,
         before="TypeError: takes from 2 to 3 positional arguments"),
    Case("14.1 friendly misses", "AttributeError with a did-you-mean", _did_you_mean,
         before="AttributeError with no pointer"),
    Case("12.2 backward(2.0) is an upstream gradient", "grads scaled by the upstream value",
         _backward_takes_an_upstream_gradient,
         before="taken as create_graph=True"),
    Case("12.1 math.tanh(x) detaches x", "TypeError saying what to write instead",
         _math_functions_refuse_values,
         before="x.grad 0.462 instead of 0.855, no error"),
    Case("12.3 .data/.grad setters check nothing", "the constructor's checks and errors",
         _setters_validate_as_the_constructor,
         before="a.data = 'x' breaks repr; NaN accepted"),
    Case("12.4 a failed backward leaves inf in leaf grads", "every grad unchanged after the error",
         _backward_is_all_or_nothing,
         before="x.grad == inf after OverflowError"),
    Case("12.5 constants' gradients raise", "only an overflow reaching a variable raises",
         _constants_need_no_gradient,
         before="raises although every variable's gradient is finite"),
    Case("12.9 name_scope across threads", "each thread its own scope stack",
         _name_scope_is_per_thread,
         before="scopes such as net1.layer1.neuron7.net1.layer2"),
    Case("12.14 hessian of a**b at (0, 2)", "the closed-form Hessian", _hessian_of_a_power_at_zero,
         before="DomainError naming log"),
    Case("12.14 create_graph far out", "finite second derivatives up to 1e308",
         _second_order_far_out,
         before="x*x or 2*x overflowed in the gradient graph for |x| > 1e154"),
    Case("12.15 gelu far left", "-0.0", _gelu_far_left,
         before="OverflowError for Value(-1.35e300).gelu() (true value -0.0)"),
    Case("12.15 tiny ** tiny", "a finite derivative from k·x^k / x", _tiny_power,
         before="OverflowError: x**(k-1) overflowed though k·x^(k-1) is about 1"),
    Case("12.15 integers over 4,300 digits", "OverflowError naming the op", _huge_integers,
         before="Python's digit-limit ValueError while formatting"),
    Case("12.15 ELU's gradient below -28", "alpha·exp(x) to the last bits", _elu_gradient_far_left,
         before="out + alpha cancels: relative error 1e-4 at -28, 0 at -38"),
    Case("13.5 the x**k fast path", "the fast path gives the op's bits",
         _power_fast_path_matches_the_op,
         before="x**2 cost 4x a multiplication"),
    Case("13.5 the dot fast path", "the fast path gives the op's bits",
         _dot_fast_path_matches_the_op,
         before="a neuron's node went through the generic n-ary path"),
    # Hostile files, awkward environments, ill-conditioned points.
    Case("model-declares-10M-params", "refused from the counts, nothing built",
         _tiny_file_declaring_ten_million_parameters),
    Case("model-link-to-dev-zero", "refused: not a regular file", _link_to_dev_zero),
    Case("model-fifo", "refused at once, no hang", _fifo),
    Case("model-folder", "refused: a folder", _folder),
    Case("model-size-limit", "over max_bytes / MAX_FILE_BYTES refused",
         _file_over_the_size_limit),
    Case("strategies-first-import", "works in a fresh interpreter", _strategies_imported_first),
    Case("strategies-first-pytest", "collects and runs",
         _pytest_collects_a_file_importing_strategies_first),
    Case("save-umask", "os.umask never called", _umask_is_never_touched),
    Case("save-threads-umask", "every thread's files get 0o600 under umask 077",
         _threads_see_their_own_umask),
    Case("save-temp-names", "no *.json/*.svg glob matches a temporary",
         _temporaries_match_no_glob),
    Case("save-stale-temps", "a killed save's temporary is removed later",
         _stale_temporaries_are_removed),
    Case("check-largest-float", "domain edge, not a traceback", _check_at_the_largest_float),
    Case("cli-ascii-terminal", "draw/check print ASCII", _ascii_terminal),
    Case("check-ill-conditioned", "inconclusive with the reason", _ill_conditioned_points),
    Case("check-sqrt-domain-edge", "domain edge, not a kink", _domain_edge_is_not_a_kink),
    Case("check-wrong-rule-fails", "a wrong rule still fails",
         _wrong_rules_still_fail_at_well_conditioned_points),
    Case("gradgradcheck-value-branch", "a bug in the create_graph branch fails",
         _gradgradcheck_sees_the_value_branch),
    Case("mlp-activation", "checked without hidden layers", _mlp_activation_without_hidden_layers),
]  # fmt: skip


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.id for c in CATALOGUE])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    case.check(tmp_path)
