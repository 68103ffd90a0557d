"""What the strategies share: the default draws and the eager argument checks.

The ops drawn by default, the default sizes, the bound on generated values, the constant
parameters of ops, and the checks that turn a bad argument into Hypothesis's
:class:`~hypothesis.errors.InvalidArgument` when a strategy is built (not when it draws).
Imports hypothesis (public API only) and micrograd_x.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from micrograd_x import ops
from micrograd_x.ops import Op

__all__ = [
    "BOUND",
    "DEFAULT_OPS",
    "LENGTH",
    "PARAMS",
    "SEEDS",
    "VARIABLES",
    "bounds",
    "checked_int",
    "checked_ops",
    "finite_floats",
    "int_strategy",
    "op_record",
]


DEFAULT_OPS: tuple[str, ...] = tuple(op.name for op in ops.registry() if op.name != "const")
"""Every registered op except ``const``: what ``expressions()`` and ``programs()`` draw from."""

VARIABLES = st.integers(1, 3)
SEEDS = st.integers(0, 2**16)
LENGTH = st.integers(1, 8)

BOUND = 50.0
"""Generated intermediate values stay within ±BOUND (larger ones are squashed by tanh), so
gradients stay moderate and finite differences stay accurate."""

# Constant parameters: what each op's keyword parameters are drawn from.
PARAMS: dict[tuple[str, str], st.SearchStrategy[float]] = {
    ("pow", "k"): st.sampled_from([2, 3, -1, -2, 0.5, 1.5, -0.5, 0, 1, 2.5]),
    ("leaky_relu", "slope"): st.sampled_from([0.01, 0.1, 0.2, 0.5]),
    ("elu", "alpha"): st.sampled_from([1.0, 0.5, 2.0]),
}


# ---------------------------------------------------------------------------------------------
# Argument validation (eager: at strategy construction, not at draw time).


def int_strategy(value: int | st.SearchStrategy[int], name: str, low: int, high: int) -> Any:
    """An int in [low, high] or a strategy of ints, as a strategy."""
    if isinstance(value, st.SearchStrategy):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name} must be an int or a strategy of ints, got {value!r}")
    if not low <= value <= high:
        raise InvalidArgument(f"{name} must be in [{low}, {high}], got {value!r}")
    return st.just(value)


def checked_int(value: int, name: str, low: int, high: int) -> int:
    """An int in [low, high] (not a bool), else :class:`InvalidArgument` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgument(f"{name} must be an int in [{low}, {high}], got {value!r}")
    return value


def bounds(min_value: float, max_value: float, where: str) -> tuple[float, float]:
    """Finite bounds with ``min_value < max_value``, as floats."""
    for name, v in (("min_value", min_value), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise InvalidArgument(f"{where}: {name} must be a finite number, got {v!r}")
    if not min_value < max_value:
        raise InvalidArgument(
            f"{where}: min_value must be < max_value, got {min_value!r} and {max_value!r}"
        )
    return float(min_value), float(max_value)


def op_record(op: Op | str, where: str) -> Op:
    """The op record of ``op`` (a record or a registered name)."""
    if isinstance(op, Op):
        return op
    if not isinstance(op, str):
        raise InvalidArgument(f"{where}: op must be an Op or an op name, got {op!r}")
    try:
        return ops.get(op)
    except KeyError as err:
        raise InvalidArgument(f"{where}: {err.args[0]}") from None


def checked_ops(chosen: Iterable[Op | str] | None, where: str) -> tuple[str, ...]:
    """The names of the ops to draw from (default :data:`DEFAULT_OPS`); never ``const``."""
    if chosen is None:
        return DEFAULT_OPS
    if isinstance(chosen, (str, Op)):
        raise InvalidArgument(f"{where}: ops must be a collection of ops, got {chosen!r}")
    names = tuple(op_record(o, where).name for o in chosen)
    if not names:
        raise InvalidArgument(f"{where}: ops must not be empty")
    if "const" in names:
        raise InvalidArgument(f"{where}: 'const' is a leaf, not an op to draw")
    return names


def finite_floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]``."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
