"""Bad input: every error has the right type and a message naming the op and the offending value."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import micrograd_x as mx
from micrograd_x import DomainError, NonDifferentiableError, Value, apply, ops
from micrograd_x.testing import GradcheckError, gradcheck, numerical_grad, reference_grad


def _raises(exc: type[BaseException], fn: Callable[[], object], *fragments: str) -> BaseException:
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return info.value


# ---------------------------------------------------------------------------------------------
# Construction.


@pytest.mark.parametrize(
    ("bad", "shown"),
    [("3", "str '3'"), (None, "NoneType None"), (1j, "complex 1j"), (True, "bool True")],
)
def test_value_rejects_non_real_data(bad: object, shown: str) -> None:
    _raises(TypeError, lambda: Value(bad), "Value", shown)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_value_rejects_non_finite_data(bad: float) -> None:
    _raises(ValueError, lambda: Value(bad), "Value", repr(bad), "finite")


def test_nan_from_an_operand_never_enters_a_graph() -> None:
    _raises(ValueError, lambda: Value(1.0) * math.nan, "nan", "finite")
    _raises(ValueError, lambda: math.inf + Value(1.0), "inf", "finite")


def test_complex_operands_are_refused() -> None:
    _raises(TypeError, lambda: Value(1.0) + 1j, "complex")  # type: ignore[operator]
    _raises(TypeError, lambda: Value(1.0) ** 1j, "complex")  # type: ignore[operator]
    _raises(TypeError, lambda: Value(1.0).max("a"), "max", "'a'")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Domains.


@given(st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
def test_log_outside_its_domain(x: float) -> None:
    err = _raises(DomainError, lambda: Value(x).log(), "log", repr(x))
    assert isinstance(err, ValueError)
    assert err.op == "log" and err.inputs == (x,)  # type: ignore[attr-defined]


@given(st.floats(max_value=-1e-300, allow_nan=False, allow_infinity=False))
def test_sqrt_of_a_negative_number(x: float) -> None:
    err = _raises(DomainError, lambda: Value(x).sqrt(), "sqrt", repr(x))
    assert not isinstance(err, NonDifferentiableError)


def test_sqrt_at_zero_is_not_differentiable() -> None:
    err = _raises(NonDifferentiableError, lambda: Value(0.0).sqrt(), "sqrt", "0.0", "infinite")
    assert isinstance(err, DomainError) and err.op == "sqrt"


def test_zero_to_a_negative_power() -> None:
    _raises(ZeroDivisionError, lambda: Value(0.0) ** -1, "pow", "0.0", "-1")
    _raises(ZeroDivisionError, lambda: Value(0.0) ** -2.5, "pow", "0.0", "-2.5")
    _raises(NonDifferentiableError, lambda: Value(0.0) ** 0.5, "pow", "0.0", "infinite")


def test_zero_to_a_negative_value_power_names_powv() -> None:
    _raises(ZeroDivisionError, lambda: Value(0.0) ** Value(-1.0), "powv:")


@given(
    st.floats(-1e6, -1e-6),
    st.floats(-5, 5).filter(lambda k: not k.is_integer()),
)
def test_negative_base_with_a_fractional_exponent(x: float, k: float) -> None:
    err = _raises(DomainError, lambda: Value(x) ** k, "pow", repr(x), repr(k))
    assert err.inputs == (x,)  # type: ignore[attr-defined]


def test_negative_base_with_a_value_exponent() -> None:
    _raises(DomainError, lambda: Value(-2.0) ** Value(2.0), "powv", "-2.0")
    _raises(DomainError, lambda: (-2) ** Value(2.0), "powv", "-2.0")
    # A number exponent with an integer value stays legal for a negative base.
    assert (Value(-2.0) ** 3).data == -8.0


@given(st.floats(-1e6, 1e6))
def test_division_by_zero(x: float) -> None:
    _raises(ZeroDivisionError, lambda: Value(x) / 0, "div", repr(x), "0.0")
    _raises(ZeroDivisionError, lambda: x / Value(0.0), "div", repr(x))
    _raises(ZeroDivisionError, lambda: Value(x) / Value(-0.0), "div")


@given(st.floats(709.8, 1e300))
def test_exp_overflow(x: float) -> None:
    _raises(OverflowError, lambda: Value(x).exp(), "exp", repr(x))


def test_other_overflows_name_the_op() -> None:
    _raises(OverflowError, lambda: Value(1e300) * Value(1e300), "mul", "1e+300")
    _raises(OverflowError, lambda: Value(10.0) ** 400, "pow", "10.0", "400")
    # A finite derivative too large for a float is an overflow, not an infinite derivative.
    err = _raises(OverflowError, lambda: Value(1.0) / Value(1e-200), "div", "1e-200", "overflows")
    assert not isinstance(err, NonDifferentiableError)
    _raises(OverflowError, lambda: Value(5e-324).log(), "log", "5e-324", "overflows")


def test_label_must_be_text() -> None:
    _raises(TypeError, lambda: Value(1.0, label=5), "Value", "label", "int")  # type: ignore[arg-type]


def test_backward_overflow_is_reported() -> None:
    x = Value(1e-10)
    y = (x * 1e300) * 1e10  # finite value, d y / d x = 1e310
    _raises(OverflowError, y.backward, "backward", "overflow")


def test_no_complex_number_ever_reaches_a_value() -> None:
    for fn in (
        lambda: Value(-8.0) ** (1 / 3),
        lambda: Value(-1.0) ** 0.5,
        lambda: Value(-1.0).sqrt(),
        lambda: Value(-1.0).log(),
    ):
        with pytest.raises(DomainError):
            fn()


# ---------------------------------------------------------------------------------------------
# Wrong use of the API.


def test_apply_checks_arity_and_parameters() -> None:
    _raises(TypeError, lambda: apply("tanh", Value(1.0), Value(2.0)), "tanh", "1", "2")
    _raises(TypeError, lambda: apply("tanh", Value(1.0), k=2), "tanh", "'k'")
    _raises(TypeError, lambda: apply("sum"), "sum")
    _raises(TypeError, lambda: apply("pow", Value(2.0)), "pow: missing parameter", "'k'")
    _raises(TypeError, lambda: apply(3, Value(2.0)), "apply", "int 3")  # type: ignore[arg-type]
    assert apply("leaky_relu", Value(-2.0)).data == -0.02  # a parameter with a default
    _raises(KeyError, lambda: ops.get("nope"), "'nope'", "tanh")
    _raises(TypeError, lambda: Value(1.0).leaky_relu("a"), "leaky_relu", "'a'")  # type: ignore[arg-type]


def test_nary_functions_check_their_inputs() -> None:
    _raises(ValueError, lambda: mx.sum([]), "sum")
    _raises(ValueError, lambda: mx.dot([Value(1.0)], [Value(1.0), Value(2.0)]), "dot", "1", "2")
    _raises(ValueError, lambda: mx.dot([], []), "dot")
    _raises(TypeError, lambda: mx.sum([Value(1.0), "x"]), "sum", "'x'")  # type: ignore[list-item]


def test_grad_checks_argnums() -> None:
    _raises(IndexError, lambda: mx.grad(lambda x: x, argnums=3)(1.0), "argnums", "3")


# ---------------------------------------------------------------------------------------------
# The testing module's own errors.


def test_gradcheck_rejects_bad_inputs_and_options() -> None:
    f = Value.tanh
    _raises(TypeError, lambda: gradcheck(f, ["3"]), "gradcheck", "input 0", "'3'")  # type: ignore[list-item]
    _raises(TypeError, lambda: gradcheck(f, 1.0), "gradcheck", "sequence")  # type: ignore[arg-type]
    _raises(ValueError, lambda: gradcheck(f, [math.nan]), "gradcheck", "input 0", "nan")
    _raises(ValueError, lambda: gradcheck(f, []), "gradcheck", "at least one")
    _raises(ValueError, lambda: gradcheck(f, [1.0], eps=0.0), "gradcheck", "eps", "0.0")
    _raises(ValueError, lambda: gradcheck(f, [1.0], atol=-1.0), "gradcheck", "atol", "-1.0")
    _raises(ValueError, lambda: gradcheck(f, [1.0], kinks="skip"), "gradcheck", "kinks", "'skip'")
    _raises(ValueError, lambda: numerical_grad(f, [1.0], method="forward"), "method", "'forward'")
    _raises(TypeError, lambda: gradcheck(lambda x: "out", [1.0]), "str", "'out'")
    _raises(TypeError, lambda: reference_grad(lambda x: mx.sum([x]), [1.0]), "sum")


def test_gradcheck_error_is_an_assertion_error_with_a_pytorch_like_message() -> None:
    with pytest.raises(AssertionError) as info:
        gradcheck(lambda x: apply(_WRONG_SQUARE, x), [1.5], raise_exception=True)
    err = info.value
    assert isinstance(err, GradcheckError)
    assert not err.report
    text = str(err)
    assert re.search(
        r"mismatch for output 0 with respect to input 0: analytic 1\.5, numeric 3\.0\d*, "
        r"\|diff\| 1\.5 > atol \+ rtol·\|numeric\| = 0\.00301",
        text,
    ), text
    assert "factor of exactly 2" in text


# x² whose partial is x instead of 2x.
_WRONG_SQUARE = ops.Op("wrong_square", "sq", 1, lambda x: x * x, lambda out, x: (x,))
