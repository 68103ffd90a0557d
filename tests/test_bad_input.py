"""The bad input catalogue: hostile files, awkward environments and ill-conditioned points.

Each row of ``CATALOGUE`` is one case: an id, the behaviour promised, and a check that fails if
the behaviour regresses. Cases that could hang or exhaust memory when broken (a FIFO, a link to
``/dev/zero``) run in a subprocess with a timeout and a memory limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
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

from micrograd_x import Value, apply, cli, ops, serialize
from micrograd_x._files import STALE_AFTER, write_atomic, write_atomic_with
from micrograd_x.expr import parse
from micrograd_x.nn import MLP
from micrograd_x.testing import gradcheck, gradgradcheck, numerical_grad


class Case(NamedTuple):
    id: str
    promise: str
    check: Callable[[Path], None]


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


CATALOGUE = [
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
