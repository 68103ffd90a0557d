"""Hyper-parameter checks shared by the optimizers and the learning-rate schedules.

Both raise :class:`ValueError` naming the class (or function), the argument and the value, for a
wrong type as for a value out of range. Imports the standard library only.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["count", "number"]


def number(where: str, name: str, v: object, low: float = 0.0, strict: bool = False) -> float:
    """Check a hyper-parameter: a finite real number >= low (> low when strict).

    Raises:
        ValueError: If ``v`` is not a finite real number (``bool`` is not) or is out of range.
    """
    if type(v) is float and v - v == 0.0 and (v > low or (v == low and not strict)):
        return v  # the common case (a schedule sets the rate every step), without ABC checks
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise ValueError(f"{where}: {name} must be a finite number, got {v!r}")
    f = float(v)
    if f < low or (strict and f == low):
        raise ValueError(f"{where}: {name} must be {'>' if strict else '>='} {low}, got {v!r}")
    return f


def count(where: str, name: str, v: object, low: int = 1) -> int:
    """Check a step count: an integer >= low.

    Raises:
        ValueError: If ``v`` is not an integer (``bool`` is not) or is below ``low``.
    """
    if type(v) is int and v >= low:
        return v
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"{where}: {name} must be an integer >= {low}, got {v!r}")
    return int(v)
