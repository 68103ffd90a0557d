"""The result of a gradient check: the compared entries, hints at causes, and a readable message.

:class:`GradcheckReport` is what :func:`~micrograd_x.testing.gradcheck`,
:func:`~micrograd_x.testing.gradgradcheck` and :func:`~micrograd_x.testing.hessiancheck`
return; :class:`Entry` is one compared derivative; :class:`GradcheckError` is raised on failure
when asked. :class:`CheckError` is the base of every check's failure (the forward-mode check's
too). Imports the standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

__all__ = ["CheckError", "Entry", "GradcheckError", "GradcheckReport"]


@dataclass(frozen=True)
class Entry:
    """One compared entry of a Jacobian.

    Attributes:
        output: Index of the output.
        input: Index of the input (-1: the fast mode's random direction).
        analytic: The engine's derivative.
        numeric: The oracle's derivative (finite differences).
        diff: ``|analytic - numeric|``.
        bound: The allowed difference ``atol + rtol·|numeric|``.
    """

    output: int
    input: int
    analytic: float
    numeric: float
    diff: float
    bound: float

    @property
    def ratio(self) -> float:
        """``diff / bound``: above 1 means the entry fails."""
        return self.diff / self.bound if self.bound > 0 else math.inf if self.diff else 0.0

    @property
    def passed(self) -> bool:
        """Whether the entry is within tolerance."""
        return self.diff <= self.bound

    def hint(self) -> str:
        """A guess at the cause of a mismatch, from the ratio of the two derivatives."""
        a, n = self.analytic, self.numeric
        if n != 0.0 and a != 0.0:
            q = a / n
            if abs(q + 1.0) < 1e-3:
                return "analytic = -numeric: a sign flip, probably a wrong local derivative"
            if abs(q - 2.0) < 1e-3 or abs(q - 0.5) < 1e-3:
                return (
                    "a factor of exactly 2: a wrong local derivative (a term doubled or lost), "
                    "or a gradient overwritten instead of accumulated; numeric = analytic/2 "
                    "at a relu, abs or max is a kink (the difference averages the two sides)"
                )
        if a == 0.0 and n != 0.0:
            return (
                "no gradient reached this input: an edge missing from the graph, a gradient "
                "overwritten (= instead of +=) or propagated out of topological order; or a "
                "kink such as relu at 0, where the subgradient is 0 and the difference sees "
                "the average slope"
            )
        return "a wrong local derivative, or a gradient lost or counted twice on a shared node"

    def describe(self) -> str:
        """The PyTorch-style one-line description of the entry."""
        head = "mismatch" if not self.passed else "entry"
        wrt = f"input {self.input}" if self.input >= 0 else "the random direction u"
        return (
            f"{head} for output {self.output} with respect to {wrt}: "
            f"analytic {self.analytic!r}, numeric {self.numeric!r}, |diff| {self.diff:.6g} "
            f"{'>' if not self.passed else '<='} atol + rtol·|numeric| = {self.bound:.6g} "
            f"(ratio to tolerance {self.ratio:.3g})"
        )


@dataclass(frozen=True)
class GradcheckReport:
    """The result of a gradient check; truthy when it passes.

    Attributes:
        passed: Whether every compared entry is within tolerance, reentrancy holds and (second
            order) the ``create_graph`` first derivatives agree with the float ones.
        analytic: The engine's Jacobian, one row per output, one column per input.
        numeric: The finite-difference Jacobian (``None`` in fast mode when the projection
            passed: only one directional derivative was computed).
        steps: The step ``h`` used for each input (fast mode: the step along the direction).
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        mismatches: The failing entries, worst first.
        worst: The entry with the largest ratio to its tolerance (``None`` if nothing compared).
        inconclusive: For each input that finite differences cannot check, the input's index
            and the reason, which starts with its kind (see :attr:`inconclusive_kinds`): a
            ``"kink"`` (a piecewise op takes another branch at ``x ± h``), a ``"domain edge"``
            (``f`` is undefined or overflows at ``x ± h``) or ``"ill-conditioned"`` (the
            derivative changes too much within ``[x - h, x + h]`` for the difference to
            resolve it, e.g. ``sin`` at 1e10); never reported as a wrong derivative.
        reentrancy: Problems found by repeating backward (empty when it is bit-identical).
        consistency: Second order: first derivatives computed with ``create_graph=True`` that
            differ from the ones computed on floats (a wrong ``Value`` branch of a rule).
        forward_mode: With ``gradcheck(..., check_forward=True)``: where forward mode disagrees
            with backward or the differences (empty when it agrees).
        mode: ``"full"``, ``"fast"``, ``"fast→full"`` (the projection failed or met a kink,
            and the full check explains it), or ``"hessian"`` (:func:`hessiancheck`).
        kinks: How kinks were treated: ``"inconclusive"`` or ``"fail"``.
        direction: Fast mode: the seeded random direction ``u``.
    """

    passed: bool
    analytic: tuple[tuple[float, ...], ...]
    numeric: tuple[tuple[float, ...], ...] | None
    steps: tuple[float, ...]
    atol: float
    rtol: float
    mismatches: tuple[Entry, ...] = ()
    worst: Entry | None = None
    inconclusive: tuple[tuple[int, str], ...] = ()
    reentrancy: tuple[str, ...] = ()
    consistency: tuple[str, ...] = ()
    forward_mode: tuple[str, ...] = ()
    mode: str = "full"
    kinks: str = "inconclusive"
    direction: tuple[float, ...] | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def inconclusive_inputs(self) -> tuple[int, ...]:
        """The indices of the inputs reported inconclusive."""
        return tuple(j for j, _ in self.inconclusive)

    @property
    def inconclusive_kinds(self) -> dict[int, str]:
        """Each inconclusive input's kind: ``"kink"``, ``"domain edge"``, ``"ill-conditioned"``."""
        return {j: why.partition(":")[0] for j, why in self.inconclusive}

    @property
    def verdict(self) -> str:
        """``"passed"``, ``"FAILED"``, or ``"inconclusive"`` (passed, but no input was checked)."""
        if not self.passed:
            return "FAILED"
        checked = self.mode == "fast" or len(self.inconclusive) < len(self.steps)
        return "passed" if checked else "inconclusive"

    @property
    def message(self) -> str:
        """A multi-line explanation: verdict, failing entries with hints, inconclusive inputs."""
        verdict = self.verdict
        lines = [f"gradcheck {verdict} ({self.mode} mode, atol={self.atol:g}, rtol={self.rtol:g})"]
        for e in self.mismatches[:10]:
            lines.append("  " + e.describe())
            lines.append("    hint: " + e.hint())
        if len(self.mismatches) > 10:
            lines.append(f"  ... and {len(self.mismatches) - 10} more mismatches")
        if self.mode == "fast" and self.direction is not None and self.worst is not None:
            lines.append(f"  projection along a seeded random direction: {self.worst.describe()}")
        for j, why in self.inconclusive:
            verb = "fails" if self.kinks == "fail" else "is inconclusive"
            lines.append(f"  input {j} {verb}: {why}")
        for problem in self.reentrancy:
            lines.append("  reentrancy: " + problem)
        for problem in self.consistency:
            lines.append("  create_graph: " + problem)
        for problem in self.forward_mode:
            lines.append("  forward mode: " + problem)
        if self.passed and self.worst is not None:
            w = self.worst
            lines.append(
                f"  worst entry: output {w.output}, input {w.input}, ratio to tolerance "
                f"{w.ratio:.3g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message


class _Readable(Protocol):
    @property
    def message(self) -> str: ...


_R = TypeVar("_R", bound=_Readable)


class CheckError(AssertionError, Generic[_R]):
    """A check failed; ``report`` holds the details and the message is the report's.

    Attributes:
        report: The failing check's report.
    """

    def __init__(self, report: _R) -> None:
        super().__init__(report.message)
        self.report = report


class GradcheckError(CheckError[GradcheckReport]):
    """A gradient check failed; ``report`` holds the details.

    Attributes:
        report: The failing :class:`GradcheckReport`.
    """
