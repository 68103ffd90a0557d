"""Argument checks shared by the public API: one rule for the exception types.

A value of the wrong *type* raises :class:`TypeError`; a value of the right type that is out of
range, not finite or otherwise wrong raises :class:`ValueError`. Both messages name the argument
and the value. ``bool`` is not accepted as a number. Imports the standard library only.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["integer", "real"]


def integer(what: str, value: object, low: int | None = None) -> int:
    """``value`` as an ``int``.

    Args:
        what: The argument, as the message names it (``"MLP: nin"``).
        value: The value given.
        low: The least value allowed, if any.

    Raises:
        TypeError: If ``value`` is not an integer (``bool`` is not).
        ValueError: If it is below ``low``.
    """
    need = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
        low, f"an integer >= {low}"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{what} must be {need}, got {type(value).__name__} {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{what} must be {need}, got {value!r}")
    return int(value)


def real(what: str, value: object, low: float | None = None) -> float:
    """``value`` as a finite ``float``.

    Args:
        what: The argument, as the message names it (``"smooth_l1: beta"``).
        value: The value given.
        low: The least value allowed, if any.

    Raises:
        TypeError: If ``value`` is not a real number (``bool`` is not).
        ValueError: If it is not finite or below ``low``.
    """
    need = "a finite number" if low is None else f"a finite number >= {low:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be {need}, got {type(value).__name__} {value!r}")
    f = float(value)
    if not math.isfinite(f) or (low is not None and f < low):
        raise ValueError(f"{what} must be {need}, got {value!r}")
    return f
