"""The forward-mode check: forward mode's Jacobian against reverse mode and finite differences.

:func:`jvpcheck` reads the Jacobian of ``f`` three ways on fresh graphs: column by column with
forward mode (one tangent sweep per input), row by row with reverse mode and by central
differences (both from :func:`~micrograd_x.testing.gradcheck`), then also one Jacobian-vector
product along a seeded random direction. Forward and reverse mode read the same stored partials,
so they must agree to rounding; finite differences must agree to the usual tolerance. Messages
follow PyTorch's gradcheck. The comparison itself, the report types and the default tolerances
live in :mod:`micrograd_x.testing.modes` (re-exported here). Imports the engine and the checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x import Value
from micrograd_x.testing.gradcheck import gradcheck
from micrograd_x.testing.modes import (
    MODES_ATOL,
    MODES_RTOL,
    JvpcheckError,
    JvpcheckReport,
    Mismatch,
    check_modes_tolerances,
    compare_modes,
    path_magnitudes,
)
from micrograd_x.testing.report import GradcheckReport

__all__ = [
    "MODES_ATOL",
    "MODES_RTOL",
    "JvpcheckError",
    "JvpcheckReport",
    "Mismatch",
    "compare_modes",
    "jvpcheck",
    "path_magnitudes",
]


def jvpcheck(
    f: Callable[..., Any],
    inputs: Sequence[float | Any],
    *,
    eps: float | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    modes_atol: float = MODES_ATOL,
    modes_rtol: float = MODES_RTOL,
    raise_exception: bool = False,
    kinks: str = "inconclusive",
    method: str = "central",
    seed: int = 0,
) -> JvpcheckReport:
    """Check forward mode's derivatives of ``f`` against reverse mode and central differences.

    Forward mode's Jacobian (one sweep per input, on one fresh graph) is compared entry by entry
    with reverse mode's, within ``modes_atol + modes_rtol·scale`` (``scale``: the sum over paths of
    the absolute products of partials, :func:`path_magnitudes`), and with central
    differences, within ``atol + rtol·|numeric|`` (columns across a kink are skipped, or fail
    with ``kinks="fail"``, as in :func:`~micrograd_x.testing.gradcheck`). Then
    ``jvp(f)(x, u)`` along a seeded random unit direction ``u`` is compared with reverse mode's
    ``J·u``, which checks tangents that are not one-hot.

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` or a sequence of them.
        inputs: The point, as numbers (or Values, whose ``data`` is used).
        eps: The relative step of the finite differences (see ``gradcheck``).
        atol: Absolute tolerance against finite differences.
        rtol: Relative tolerance against finite differences.
        modes_atol: Absolute tolerance between forward and reverse mode.
        modes_rtol: Relative tolerance between forward and reverse mode.
        raise_exception: Raise :class:`JvpcheckError` on failure instead of returning.
        kinks: ``"inconclusive"`` or ``"fail"`` (see ``gradcheck``).
        method: ``"central"`` or ``"richardson"`` (see ``numerical_grad``).
        seed: Seed of the random direction.

    Returns:
        A :class:`JvpcheckReport` (truthy when the check passes).

    Raises:
        JvpcheckError: If the check fails and ``raise_exception`` is true.
        TypeError: If an input is not a number or ``f`` returns something else than Values.
        ValueError: If an option is out of range or an input is not finite.
    """
    check_modes_tolerances(modes_atol, modes_rtol)
    rev: GradcheckReport = gradcheck(
        f,
        inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        kinks=kinks,
        method=method,
        check_reentrant=False,
    )
    x = [v.data if isinstance(v, Value) else float(v) for v in inputs]
    report = compare_modes(f, x, rev, modes_atol=modes_atol, modes_rtol=modes_rtol, seed=seed)
    if raise_exception and not report.passed:
        raise JvpcheckError(report)
    return report
