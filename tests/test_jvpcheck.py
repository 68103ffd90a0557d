"""The forward-mode check: it passes a correct engine and catches planted bugs, with hints."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import Value, apply
from micrograd_x.forward import jacobian, jvp
from micrograd_x.ops import Domain, Op
from micrograd_x.testing import GradcheckError, gradcheck, jvpcheck
from micrograd_x.testing.jvpcheck import JvpcheckError, JvpcheckReport, path_magnitudes
from micrograd_x.testing.strategies import Program, programs

# The module whose forward-mode lookups (``jacobian``, ``jvp``) the comparison makes: both
# jvpcheck and gradcheck(check_forward=True) compare the modes there.
modes_module = importlib.import_module("micrograd_x.testing.modes")
# The module of the check itself (the package attribute of that name is the function).
jvpcheck_module = importlib.import_module("micrograd_x.testing.jvpcheck")


def _f(x: Value, y: Value) -> list[Value]:
    return [(x * y).tanh(), x.exp() / (y * y + 1.0)]


def test_a_correct_function_passes() -> None:
    report = jvpcheck(_f, [0.3, -0.7])
    assert report and isinstance(report, JvpcheckReport)
    assert report.message.startswith("jvpcheck passed (forward mode against reverse mode")
    assert len(report.forward) == 2 and len(report.forward[0]) == 2
    for fwd, rev in zip(report.forward, report.reverse):
        assert fwd == pytest.approx(rev, rel=1e-12)
    assert jvpcheck_module.jvpcheck is jvpcheck


# A planted bug in an op record: the partial of "cube" is 2x² instead of 3x².
CUBE_WRONG = Op(
    "cube_wrong",
    "³",
    1,
    lambda x: x**3,
    lambda out, x: (2.0 * x * x,),
    Domain(),
    formula="x³",
)


def test_a_wrong_local_partial_fails_against_finite_differences() -> None:
    report = jvpcheck(lambda x: apply(CUBE_WRONG, x), [1.5])
    assert not report
    (m,) = [m for m in report.mismatches if m.input == 0]
    assert m.against == "numeric"
    assert m.forward == pytest.approx(2 * 1.5**2) and m.numeric == pytest.approx(3 * 1.5**2)
    assert "wrong local partial" in m.hint()
    assert "Jacobian computed with forward mode mismatch for output 0 with respect to input 0" in (
        report.message
    )


def _doubled_column(j: int) -> Callable[..., Any]:
    def broken(f: Callable[..., Any], mode: str = "auto") -> Callable[..., list[list[float]]]:
        inner = jacobian(f, mode=mode)

        def wrapped(*args: float) -> list[list[float]]:
            rows = inner(*args)
            for row in rows:
                row[j] *= 2.0  # a tangent counted twice
            return rows

        return wrapped

    return broken


def test_a_broken_forward_sweep_fails_against_reverse_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(modes_module, "jacobian", _doubled_column(1))
    report = jvpcheck(_f, [0.3, -0.7])
    assert not report
    assert {(m.input, m.against) for m in report.mismatches} == {(1, "reverse")}
    assert all(m.reverse_matches_numeric for m in report.mismatches)
    assert "forward sweep loses or double-counts a tangent" in report.message
    with pytest.raises(JvpcheckError) as err:
        jvpcheck(_f, [0.3, -0.7], raise_exception=True)
    assert err.value.report.mismatches


def test_a_jvp_wrong_off_the_axes_fails_along_the_random_direction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Right for one-hot tangents, wrong for others: only the random direction can see it.
    def broken(f: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
        def wrapped(primals: Any, tangents: Any) -> tuple[Any, Any]:
            value, tangent = jvp(f)(primals, tangents)
            if sum(1 for t in tangents if t != 0.0) > 1:
                tangent = tuple(t * 1.01 for t in tangent)
            return value, tangent

        return wrapped

    monkeypatch.setattr(modes_module, "jvp", broken)
    report = jvpcheck(_f, [0.3, -0.7])
    assert not report
    assert {m.input for m in report.mismatches} == {-1}
    assert "the random direction u" in report.message


def test_a_kink_is_inconclusive_or_fails() -> None:
    report = jvpcheck(lambda x, y: x.relu() * y, [0.0, 2.0])
    assert report and [j for j, _ in report.inconclusive] == [0]
    assert "input 0 is inconclusive" in report.message
    strict = jvpcheck(lambda x, y: x.relu() * y, [0.0, 2.0], kinks="fail")
    assert not strict
    assert "input 0 fails" in strict.message


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="modes_rtol must be a finite number"):
        jvpcheck(_f, [0.3, -0.7], modes_rtol=-1.0)
    with pytest.raises(ValueError, match="atol must be a finite number"):
        jvpcheck(_f, [0.3, -0.7], atol=float("inf"))
    with pytest.raises(TypeError, match="atol must be a finite number >= 0, got str"):
        jvpcheck(_f, [0.3, -0.7], atol="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input 1 must be a real number"):
        jvpcheck(_f, [0.3, "x"])


def test_path_magnitudes_sum_the_absolute_products_along_every_path() -> None:
    # out = x·y − x·y: the derivative in x cancels to 0, the terms it sums are y and −y.
    rows = path_magnitudes(lambda x, y: [x * y - x * y, x.sin()], [0.5, -3.0])
    assert rows[0] == [6.0, 1.0]
    assert rows[1] == [pytest.approx(abs(math.cos(0.5))), 0.0]


def test_gradcheck_checks_forward_mode_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    report = gradcheck(_f, [0.3, -0.7], check_forward=True)
    assert report and report.forward_mode == ()
    fast = gradcheck(_f, [0.3, -0.7], check_forward=True, fast_mode=True)
    assert fast and fast.mode == "fast"
    monkeypatch.setattr(modes_module, "jacobian", _doubled_column(0))
    assert gradcheck(_f, [0.3, -0.7])  # backward is still right
    broken = gradcheck(_f, [0.3, -0.7], check_forward=True)
    assert not broken and broken.verdict == "FAILED"
    assert len(broken.forward_mode) == 2  # column 0 of both outputs
    assert "forward mode: Jacobian computed with forward mode mismatch for output 0" in (
        broken.message
    )
    with pytest.raises(GradcheckError, match="forward sweep loses or double-counts"):
        gradcheck(_f, [0.3, -0.7], check_forward=True, fast_mode=True, raise_exception=True)


@given(programs(outputs=st.integers(1, 2)))
def test_gradcheck_with_forward_mode_passes_on_programs(p: Program) -> None:
    report = gradcheck(p, p.inputs, check_forward=True)
    assert report, f"{p}\n{report.message}"
