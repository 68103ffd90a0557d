"""Running an op record's rules on floats, checked: the numbers of one new node.

:func:`run_rules` calls an op's forward and partials rules on its inputs' numbers and checks that
the result and every local derivative are finite, raising the error that names the op and the
inputs otherwise. It is the general path of every op (the fast paths of the common ones spell out
the same float operations). Imports :mod:`micrograd_x.ops` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from micrograd_x.ops import NonDifferentiableError, Op

__all__ = ["run_rules"]


def run_rules(
    op: Op, inputs: tuple[float, ...], params: Mapping[str, float] | None
) -> tuple[float, tuple[Any, ...]]:
    """The result of ``op`` on ``inputs`` and its partials, one per input.

    Args:
        op: The op record.
        inputs: The inputs' numbers (as many as the op takes).
        params: The op's constant parameters, or ``None``.

    Raises:
        DomainError: If the inputs are outside the op's domain (raised by its forward rule).
        NonDifferentiableError: If a local derivative is infinite there.
        OverflowError: If the result or a local derivative overflows a float.
    """
    kw = params or {}
    out = op.forward(*inputs, **kw)
    try:
        parts = tuple(op.partials(out, *inputs, **kw))
    except ZeroDivisionError:  # the rule divided by zero: the derivative is infinite
        raise _infinite_partial(op, inputs) from None
    except OverflowError:
        raise _overflowing_partial(op, inputs) from None
    if out - out != 0.0:
        args = ", ".join(repr(a) for a in inputs)
        raise OverflowError(f"{op.name}: the result {out!r} is not finite for inputs ({args})")
    if op.checked_partials:
        for p in parts:
            if p - p != 0.0:
                raise _overflowing_partial(op, inputs)
    return out, parts


def _infinite_partial(op: Op, inputs: tuple[float, ...]) -> NonDifferentiableError:
    args = ", ".join(repr(a) for a in inputs)
    return NonDifferentiableError(
        op.name, f"a local derivative is infinite at inputs ({args})", inputs
    )


def _overflowing_partial(op: Op, inputs: tuple[float, ...]) -> OverflowError:
    args = ", ".join(repr(a) for a in inputs)
    return OverflowError(f"{op.name}: a local derivative overflows a float at inputs ({args})")
