"""Hypothesis strategies for property-based tests of derivatives.

``values()``, ``op_cases()``, ``expressions()`` (trees), ``programs()`` (DAGs with shared nodes),
``mlps()`` and ``loss_cases()``. Generated objects print as runnable Python and evaluate on the
engine, in plain floats and in mpmath. This package only re-exports; the strategies live by kind
of generated case: :mod:`.leaves` (leaves and op cases), :mod:`.programs` (expressions and
programs), :mod:`.models` (models and loss cases), with the shared defaults and argument checks
in :mod:`.common`. Imports hypothesis (public API only) and micrograd_x.
"""

from __future__ import annotations

from micrograd_x.testing.strategies.common import DEFAULT_OPS
from micrograd_x.testing.strategies.leaves import OpCase, op_cases, values
from micrograd_x.testing.strategies.models import LOSSES, LossCase, loss_cases, mlps
from micrograd_x.testing.strategies.programs import Program, expressions, programs

__all__ = [
    "DEFAULT_OPS",
    "LOSSES",
    "LossCase",
    "OpCase",
    "Program",
    "expressions",
    "loss_cases",
    "mlps",
    "op_cases",
    "programs",
    "values",
]
