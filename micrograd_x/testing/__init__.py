"""Gradient checks for micrograd_x: compare the engine's derivatives with independent oracles.

This package only re-exports. The checks (``gradcheck``, ``gradgradcheck``, ``hessiancheck``)
live in :mod:`.gradcheck`, their one finite-difference core (step, representable step,
Richardson extrapolation, kinks and domain edges) and ``numerical_grad`` in :mod:`.differences`,
the report in :mod:`.report`, the mpmath references in :mod:`.reference`; the forward-mode
check in :mod:`.jvpcheck`, on the comparison of the modes in :mod:`.modes` (which
``gradcheck(check_forward=True)`` uses too); Hypothesis strategies in the :mod:`.strategies`
package (imported only when asked for). Imports the standard library and the engine.
"""

from __future__ import annotations

from micrograd_x.testing.differences import (
    DEFAULT_EPS,
    RICHARDSON_EPS,
    branch_pattern,
    numerical_grad,
)
from micrograd_x.testing.gradcheck import gradcheck, gradgradcheck, hessiancheck
from micrograd_x.testing.jvpcheck import jvpcheck
from micrograd_x.testing.reference import reference_grad, reference_hessian
from micrograd_x.testing.report import Entry, GradcheckError, GradcheckReport

__all__ = [
    "DEFAULT_EPS",
    "RICHARDSON_EPS",
    "Entry",
    "GradcheckError",
    "GradcheckReport",
    "branch_pattern",
    "gradcheck",
    "gradgradcheck",
    "hessiancheck",
    "jvpcheck",
    "numerical_grad",
    "reference_grad",
    "reference_hessian",
]
