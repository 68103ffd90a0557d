"""Leaves and single op applications: ``values()`` and ``op_cases()``.

Imports hypothesis (public API only) and micrograd_x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from micrograd_x import engine
from micrograd_x.engine import Parameter, Value
from micrograd_x.ops import Op
from micrograd_x.testing.strategies.common import (
    PARAMS,
    bounds,
    checked_int,
    finite_floats,
    op_record,
)

__all__ = [
    "OpCase",
    "op_cases",
    "values",
]


# ---------------------------------------------------------------------------------------------
# values() and op_cases()


def values(
    *,
    op: Op | str | None = None,
    arg: int = 0,
    min_value: float | None = None,
    max_value: float | None = None,
    label: str | None = None,
    parameter: bool = False,
) -> st.SearchStrategy[Value]:
    """Leaves (``Value`` or ``Parameter``) holding finite floats.

    Args:
        op: Draw from the op's safe domain (its ``domain.box``) for input ``arg``.
        arg: Which input of ``op`` the value is for.
        min_value: Lower bound (default: the op's box, else -5).
        max_value: Upper bound (default: the op's box, else 5).
        label: The leaves' label.
        parameter: Make ``Parameter`` leaves.

    Returns:
        A strategy of leaves.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once, not at draw time).
    """
    lo, hi = -5.0, 5.0
    if op is not None:
        rec = op_record(op, "values")
        box = rec.domain.box
        if not box:
            raise InvalidArgument(f"values: the op {rec.name!r} takes no inputs")
        if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
            raise InvalidArgument(f"values: arg must be an int >= 0, got {arg!r}")
        if rec.arity is not None and arg >= rec.arity:
            raise InvalidArgument(f"values: {rec.name} has {rec.arity} input(s), got arg={arg}")
        lo, hi = box[min(arg, len(box) - 1)]
    lo = lo if min_value is None else min_value
    hi = hi if max_value is None else max_value
    lo, hi = bounds(lo, hi, "values")
    if label is not None and not isinstance(label, str):
        raise InvalidArgument(f"values: label must be a string, got {label!r}")
    cls = Parameter if parameter else Value
    return finite_floats(lo, hi).map(lambda x: cls(x, label=label))


@dataclass(frozen=True)
class OpCase:
    """One application of an op: its inputs and constant parameters.

    Attributes:
        op: The op's name.
        inputs: The input values.
        params: The constant parameters (e.g. ``{"k": 2}``).
    """

    op: str
    inputs: tuple[float, ...]
    params: dict[str, float]

    def __call__(self, *args: Any) -> Any:
        """Apply the op to ``args`` (Values) with this case's parameters."""
        return engine.apply(self.op, *args, **self.params)

    def __repr__(self) -> str:
        args = ", ".join(repr(x) for x in self.inputs)
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"micrograd_x.apply({self.op!r}, {args}{params})"


def op_cases(op: Op | str, *, max_inputs: int = 4) -> st.SearchStrategy[OpCase]:
    """Inputs (inside the op's safe domain) and parameters for one op.

    Args:
        op: The op record or name.
        max_inputs: For n-ary ops (``sum``; ``dot`` counts pairs), the largest number of inputs.

    Returns:
        A strategy of :class:`OpCase`, callable on Values: ``case(*leaves)``.

    Raises:
        InvalidArgument: If the op is unknown or takes no inputs.
    """
    rec = op_record(op, "op_cases")
    max_inputs = checked_int(max_inputs, "op_cases: max_inputs", 1, 64)
    box = rec.domain.box
    if rec.arity == 0:
        raise InvalidArgument(f"op_cases: the op {rec.name!r} takes no inputs")
    params = st.fixed_dictionaries(
        {p: PARAMS.get((rec.name, p), finite_floats(0.1, 2.0)) for p in rec.params}
    )

    @st.composite
    def cases(draw: st.DrawFn) -> OpCase:
        if rec.arity is None:
            n = draw(st.integers(1, max_inputs))
            count = 2 * n + draw(st.integers(0, 1)) if rec.name == "dot" else n
        else:
            count = rec.arity
        xs = []
        for i in range(count):
            lo, hi = box[min(i, len(box) - 1)] if box else (-5.0, 5.0)
            xs.append(draw(finite_floats(lo, hi)))
        return OpCase(rec.name, tuple(xs), draw(params))

    return cases()
