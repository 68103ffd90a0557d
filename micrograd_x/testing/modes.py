"""Forward mode against reverse mode: the comparison core of the forward-mode checks.

:func:`compare_modes` takes a gradient check's report of ``f`` at ``x`` (reverse mode's Jacobian,
the finite differences, the tolerances and kinks) and compares forward mode's Jacobian with it,
entry by entry, then one Jacobian-vector product along a seeded random direction. Both
:func:`micrograd_x.testing.jvpcheck.jvpcheck` and ``gradcheck(check_forward=True)`` build on it,
so neither check imports the other's module for it. Also here: the report types
(:class:`Mismatch`, :class:`JvpcheckReport`, :class:`JvpcheckError`) and the default tolerances.
Imports the standard library, the engine, :mod:`micrograd_x.forward`, the report of
:mod:`micrograd_x.testing.report` and :mod:`micrograd_x.testing.differences` (the direction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from micrograd_x import Value, topological_order
from micrograd_x._checks import real
from micrograd_x.forward import jacobian, jvp
from micrograd_x.testing.differences import random_direction
from micrograd_x.testing.report import CheckError, GradcheckReport

__all__ = [
    "MODES_ATOL",
    "MODES_RTOL",
    "JvpcheckError",
    "JvpcheckReport",
    "Mismatch",
    "check_modes_tolerances",
    "compare_modes",
    "path_magnitudes",
]

MODES_ATOL = 1e-12
"""The default absolute tolerance between forward and reverse mode."""

MODES_RTOL = 1e-9
"""The default relative tolerance between forward and reverse mode, relative to the sum of the
absolute values of the products of partials along every path (see :func:`path_magnitudes`): both
modes sum those products, in different orders, so only rounding separates them, and rounding is
bounded by that sum even where the terms cancel."""


@dataclass(frozen=True)
class Mismatch:
    """One Jacobian entry where forward mode disagrees with reverse mode or with the numbers.

    Attributes:
        output: Index of the output.
        input: Index of the input (-1: the seeded random direction).
        against: ``"reverse"`` or ``"numeric"``: what forward mode was compared with.
        forward: Forward mode's derivative.
        reverse: Reverse mode's derivative.
        numeric: The finite-difference derivative (NaN where it was not computed).
        diff: ``|forward - other|``.
        bound: The allowed difference.
        reverse_matches_numeric: Whether reverse mode is within tolerance of the numbers.
    """

    output: int
    input: int
    against: str
    forward: float
    reverse: float
    numeric: float
    diff: float
    bound: float
    reverse_matches_numeric: bool

    @property
    def ratio(self) -> float:
        """``diff / bound``: above 1 means the entry fails."""
        return self.diff / self.bound if self.bound > 0 else math.inf

    def describe(self) -> str:
        """The PyTorch-style one-line description."""
        wrt = f"input {self.input}" if self.input >= 0 else "the random direction u"
        other = self.reverse if self.against == "reverse" else self.numeric
        return (
            f"Jacobian computed with forward mode mismatch for output {self.output} with "
            f"respect to {wrt}: forward {self.forward!r}, {self.against} {other!r}, |diff| "
            f"{self.diff:.6g} > {self.bound:.6g} (ratio to tolerance {self.ratio:.3g})"
        )

    def hint(self) -> str:
        """A guess at the cause, from which of the three derivatives agree."""
        if self.against == "numeric":
            return (
                "forward and reverse mode agree, finite differences do not: a wrong local "
                "partial in an op record (both modes read it), or a kink between x - h and x + h"
            )
        if self.reverse_matches_numeric:
            return (
                "reverse mode matches finite differences, forward mode does not: the forward "
                "sweep loses or double-counts a tangent, or visits a node before its inputs"
            )
        if not math.isnan(self.numeric) and abs(self.forward - self.numeric) <= self.bound:
            return "forward mode matches finite differences, reverse mode does not: see gradcheck"
        return "the two modes disagree and finite differences cannot tell which is right here"


@dataclass(frozen=True)
class JvpcheckReport:
    """The result of :func:`jvpcheck`; truthy when it passes.

    Attributes:
        passed: Whether every entry agrees and (with ``kinks="fail"``) no input met a kink.
        forward: Forward mode's Jacobian (one row per output, one column per input).
        reverse: Reverse mode's Jacobian.
        numeric: The finite-difference Jacobian (NaN in columns where ``f`` is undefined at
            ``x ± h``).
        mismatches: The failing entries, worst first.
        inconclusive: Inputs whose finite differences cross a kink or leave the domain, with
            the reason; their columns are compared between the two modes only.
        atol: Absolute tolerance against finite differences.
        rtol: Relative tolerance against finite differences.
        modes_atol: Absolute tolerance between the two modes.
        modes_rtol: Relative tolerance between the two modes.
        kinks: ``"inconclusive"`` or ``"fail"``.
        direction: The seeded random unit direction ``u`` of the Jacobian-vector product check.
    """

    passed: bool
    forward: tuple[tuple[float, ...], ...]
    reverse: tuple[tuple[float, ...], ...]
    numeric: tuple[tuple[float, ...], ...]
    mismatches: tuple[Mismatch, ...]
    inconclusive: tuple[tuple[int, str], ...]
    atol: float
    rtol: float
    modes_atol: float
    modes_rtol: float
    kinks: str
    direction: tuple[float, ...] = field(repr=False, default=())

    def __bool__(self) -> bool:
        return self.passed

    @property
    def message(self) -> str:
        """A multi-line explanation: verdict, failing entries with hints, kinks."""
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"jvpcheck {verdict} (forward mode against reverse mode: atol={self.modes_atol:g}, "
            f"rtol={self.modes_rtol:g}; against finite differences: atol={self.atol:g}, "
            f"rtol={self.rtol:g})"
        ]
        for m in self.mismatches[:10]:
            lines.append("  " + m.describe())
            lines.append("    hint: " + m.hint())
        if len(self.mismatches) > 10:
            lines.append(f"  ... and {len(self.mismatches) - 10} more mismatches")
        for j, why in self.inconclusive:
            verb = "fails" if self.kinks == "fail" else "is inconclusive"
            lines.append(f"  input {j} {verb} against finite differences: {why}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message


class JvpcheckError(CheckError[JvpcheckReport]):
    """A forward-mode check failed; ``report`` holds the details.

    Attributes:
        report: The failing :class:`JvpcheckReport`.
    """


def path_magnitudes(f: Callable[..., Any], inputs: Sequence[float]) -> list[list[float]]:
    """For each output and input, Σ over paths of |product of the partials along the path|.

    The derivative is the same sum without the absolute values, so this is the scale of the
    terms forward and reverse mode add up: their rounding errors are a small multiple of it.

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` or a sequence of them.
        inputs: The point.

    Returns:
        One row per output, one column per input.
    """
    leaves = [Value(v) for v in inputs]
    result = f(*leaves)
    outs = list(result) if isinstance(result, (list, tuple)) else [result]
    order: list[Value] = []
    seen: set[Value] = set()
    for out in outs:
        if isinstance(out, Value):
            for node in topological_order(out):
                if node not in seen:
                    seen.add(node)
                    order.append(node)
    rows = [[0.0] * len(leaves) for _ in outs]
    for j, leaf in enumerate(leaves):
        mag: dict[Value, float] = {leaf: 1.0}
        for node in order:
            if node is not leaf and node.parents:
                mag[node] = math.fsum(
                    abs(d) * mag.get(p, 0.0) for d, p in zip(node.partials, node.parents)
                )
        for i, out in enumerate(outs):
            if isinstance(out, Value):
                rows[i][j] = mag.get(out, 0.0)
    return rows


def _as_tuple(x: Any) -> tuple[float, ...]:
    return tuple(x) if isinstance(x, tuple) else (x,)


def check_modes_tolerances(modes_atol: float, modes_rtol: float) -> None:
    """Check the two tolerances between the modes (messages name ``jvpcheck``).

    Raises:
        TypeError: If a tolerance is not a real number.
        ValueError: If it is negative or not finite.
    """
    for name, tol in (("modes_atol", modes_atol), ("modes_rtol", modes_rtol)):
        real(f"jvpcheck: {name}", tol, low=0.0)


def compare_modes(
    f: Callable[..., Any],
    x: Sequence[float],
    rev: GradcheckReport,
    *,
    modes_atol: float = MODES_ATOL,
    modes_rtol: float = MODES_RTOL,
    seed: int = 0,
) -> JvpcheckReport:
    """Compare forward mode with a gradient check's reverse-mode and numeric Jacobians.

    The comparisons of :func:`jvpcheck`, given the :class:`GradcheckReport` of ``f`` at ``x``
    (its tolerances, kinks and inconclusive inputs are used; in fast mode, which computes no
    numeric Jacobian, forward mode is compared with reverse mode only).

    Args:
        f: The checked function.
        x: The point.
        rev: ``gradcheck(f, x, ...)``'s report.
        modes_atol: Absolute tolerance between forward and reverse mode.
        modes_rtol: Relative tolerance between forward and reverse mode.
        seed: Seed of the random direction.

    Returns:
        The :class:`JvpcheckReport`.
    """
    check_modes_tolerances(modes_atol, modes_rtol)
    atol, rtol, kinks = rev.atol, rev.rtol, rev.kinks
    fwd = jacobian(f, mode="forward")(*x)
    scale = path_magnitudes(f, x)
    reverse = rev.analytic
    numeric = rev.numeric or ()
    skipped = {j for j, _ in rev.inconclusive} if kinks == "inconclusive" else set()
    bad: list[Mismatch] = []
    for i, row in enumerate(fwd):
        for j, a in enumerate(row):
            r = reverse[i][j]
            n = numeric[i][j] if numeric else math.nan
            if math.isnan(n):  # fast mode: the projection checked reverse mode as a whole
                rev_ok = rev.passed and rev.mode == "fast"
            else:
                rev_ok = abs(r - n) <= atol + rtol * abs(n)
            bound = modes_atol + modes_rtol * max(abs(r), scale[i][j])
            if not abs(a - r) <= bound:
                bad.append(Mismatch(i, j, "reverse", a, r, n, abs(a - r), bound, rev_ok))
            elif j not in skipped and not math.isnan(n):
                bound = atol + rtol * abs(n)
                if not abs(a - n) <= bound:
                    bad.append(Mismatch(i, j, "numeric", a, r, n, abs(a - n), bound, rev_ok))
    u = random_direction(len(x), seed)
    along = _as_tuple(jvp(f)(x, u)[1])
    for i, a in enumerate(along):
        r = math.fsum(d * c for d, c in zip(reverse[i], u))
        bound = modes_atol + modes_rtol * math.fsum(m * abs(c) for m, c in zip(scale[i], u))
        if not abs(a - r) <= bound:
            bad.append(Mismatch(i, -1, "reverse", a, r, math.nan, abs(a - r), bound, False))
    bad.sort(key=lambda m: -m.ratio)
    passed = not bad and not (kinks == "fail" and rev.inconclusive)
    report = JvpcheckReport(
        passed=passed,
        forward=tuple(tuple(r) for r in fwd),
        reverse=reverse,
        numeric=numeric,
        mismatches=tuple(bad),
        inconclusive=rev.inconclusive,
        atol=atol,
        rtol=rtol,
        modes_atol=modes_atol,
        modes_rtol=modes_rtol,
        kinks=kinks,
        direction=tuple(u),
    )
    return report
