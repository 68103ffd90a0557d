"""How a gradient check compares: the engine's Jacobian against finite differences, by column.

The analytic side is backward on a graph of fresh leaves, one backward call per output
(:func:`analytic_jacobian`), optionally repeated to catch stale or non-deterministic gradients
(:func:`reentrancy`). :func:`compare_columns` compares it with the differences of
:mod:`micrograd_x.testing.differences` input by input, and tells a mismatch the difference
cannot decide (a kink, a domain edge, an ill-conditioned point) from a wrong derivative.
:mod:`micrograd_x.testing.gradcheck` builds every check on these. Imports the standard library,
the engine, :mod:`micrograd_x.testing.differences` and :mod:`micrograd_x.testing.report`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x import Value
from micrograd_x._checks import real
from micrograd_x.testing.differences import (
    ILL_CONDITIONED,
    UNDEFINED,
    Evaluation,
    Function,
    Pattern,
    as_outputs,
    branch_pattern,
    default_eps,
    difference,
    output_data,
    step,
)
from micrograd_x.testing.report import Entry

__all__ = [
    "KINK_MODES",
    "Jacobian",
    "Rows",
    "analytic_jacobian",
    "check_options",
    "compare_columns",
    "entry",
    "reentrancy",
]

KINK_MODES = ("inconclusive", "fail")
"""What an input the differences cannot check does: it is reported, or it fails the check."""

Rows = list[list[float]]
"""A Jacobian as rows: one per output, one entry per input."""

Jacobian = Callable[[Sequence[float]], Rows]
"""The engine's Jacobian of the checked function at a point: one row per output."""


def check_options(
    where: str, eps: float | None, atol: float, rtol: float, kinks: str, method: str
) -> float:
    """Check a gradient check's options; return the relative step.

    Args:
        where: The check, as messages name it.
        eps: The relative step given, or ``None`` for the method's default.
        atol: The absolute tolerance, >= 0.
        rtol: The relative tolerance, >= 0.
        kinks: One of :data:`KINK_MODES`.
        method: One of :data:`~micrograd_x.testing.differences.METHODS`.

    Returns:
        The relative step.

    Raises:
        TypeError: If an option has the wrong type.
        ValueError: If an option is out of range.
    """
    eps = default_eps(eps, method, where)
    for name, tol in (("atol", atol), ("rtol", rtol)):
        real(f"{where}: {name}", tol, low=0.0)
    if kinks not in KINK_MODES:
        raise ValueError(f"{where}: kinks must be one of {KINK_MODES}, got {kinks!r}")
    return eps


# ---------------------------------------------------------------------------------------------
# The analytic side.


def _backward_rows(
    outs: Sequence[Any], leaves: Sequence[Value], backward_fn: Callable[[Value], Any]
) -> Rows:
    """One Jacobian row per output: backward from it with every leaf's grad zeroed first."""
    rows = []
    for out in outs:
        for leaf in leaves:
            leaf.grad = 0.0
        if isinstance(out, Value):
            backward_fn(out)
            rows.append([output_data(leaf.grad) for leaf in leaves])
        else:
            rows.append([0.0] * len(leaves))
    return rows


def analytic_jacobian(
    f: Function, x: Sequence[float], backward_fn: Callable[[Value], Any]
) -> tuple[Rows, list[Any], list[Value], Pattern]:
    """The Jacobian from backward on one fresh graph: one backward call per output.

    Args:
        f: The checked function.
        x: The point.
        backward_fn: The backward pass, ``backward_fn(root)`` filling the leaves' ``grad``.

    Returns:
        The Jacobian's rows, the outputs, the leaves and the branch pattern.
    """
    leaves = [Value(v) for v in x]
    result = f(*leaves)
    outs = as_outputs(result)
    pattern = branch_pattern([*outs, *getattr(result, "trace", ())])
    return _backward_rows(outs, leaves, backward_fn), outs, leaves, pattern


def _bits(rows: Sequence[Sequence[float]]) -> list[list[str]]:
    return [[float(v).hex() for v in row] for row in rows]


def reentrancy(
    f: Function,
    x: Sequence[float],
    rows: Rows,
    outs: list[Any],
    leaves: list[Value],
    backward_fn: Callable[[Value], Any],
) -> list[str]:
    """Repeat backward on the same graph, then on an identical fresh graph: bit-identical?

    Args:
        f: The checked function.
        x: The point.
        rows: The Jacobian of the first backward passes.
        outs: The outputs of that graph.
        leaves: Its leaves.
        backward_fn: The backward pass.

    Returns:
        What differed, one sentence each (empty: nothing).
    """
    problems = []
    again = _backward_rows(outs, leaves, backward_fn)
    if _bits(again) != _bits(rows):
        problems.append(
            f"a second backward pass on the same graph (leaf grads zeroed) gave {again}, the "
            f"first gave {rows}: stale gradients from the previous pass leak into this one"
        )
    fresh = analytic_jacobian(f, x, backward_fn)[0]
    if _bits(fresh) != _bits(rows):
        problems.append(
            f"backward on an identical fresh graph gave {fresh}, the first graph gave {rows}: "
            "backward is not deterministic"
        )
    return problems


# ---------------------------------------------------------------------------------------------
# The comparison.


def _entries(
    analytic: Sequence[Sequence[float]],
    numeric: Sequence[Sequence[float] | None],
    atol: float,
    rtol: float,
) -> list[Entry]:
    """Every compared entry, column by column.

    Args:
        analytic: The engine's Jacobian, one row per output.
        numeric: Column ``j`` of the differences (``None``: input ``j`` is skipped).
        atol: The absolute tolerance.
        rtol: The relative tolerance.

    Returns:
        The entries, each with its tolerance bound.
    """
    return [
        entry(i, j, analytic[i][j], n, atol, rtol)
        for j, col in enumerate(numeric)
        if col is not None
        for i, n in enumerate(col)
    ]


def entry(
    output: int, input: int, analytic: float, numeric: float, atol: float, rtol: float
) -> Entry:
    """One compared entry: it passes when ``|analytic - numeric| <= atol + rtol·|numeric|``.

    Args:
        output: The output's index.
        input: The input's index (-1: a random direction).
        analytic: The engine's derivative.
        numeric: The finite difference.
        atol: The absolute tolerance.
        rtol: The relative tolerance.

    Returns:
        The entry.
    """
    return Entry(
        output, input, analytic, numeric, abs(analytic - numeric), atol + rtol * abs(numeric)
    )


def _ill_conditioned(
    jacobian: Jacobian, x: Sequence[float], j: int, h: float, rows: Rows, bad: Sequence[Entry]
) -> str:
    """Why a mismatched column cannot be trusted, or ``""`` if the mismatch is real.

    A central difference with step ``s`` is the mean of the derivative over ``[x - s, x + s]``;
    its error is about ``((f'(x + s) + f'(x - s)) / 2 - f'(x)) / 3``, which for a smooth
    function shrinks like ``s²``. The error at ``h`` is estimated from the derivative at
    ``x ± s`` for ``s = h, h/2, h/4`` (scaled by ``(h/s)²``, the largest taken, so a step that
    spans many periods, as for ``sin`` at 1e10, cannot hide by luck). If it exceeds an entry's
    tolerance, the difference cannot decide the entry: the point is ill-conditioned for this
    step (``sin`` at 1e10, ``log`` or ``1/x`` near 0, ``tanh(x - 1e4)`` at 1e4), and the
    mismatch says nothing about the rule. A wrong rule at a well-conditioned point keeps its
    mismatch and fails.
    """
    error = [0.0] * len(rows)
    try:
        for scale in (1.0, 2.0, 4.0):
            s = h / scale
            plus = jacobian([*x[:j], x[j] + s, *x[j + 1 :]])
            minus = jacobian([*x[:j], x[j] - s, *x[j + 1 :]])
            for i, row in enumerate(rows):
                mean = (plus[i][j] + minus[i][j]) / 2.0
                error[i] = max(error[i], scale * scale * abs(mean - row[j]) / 3.0)
    except UNDEFINED:
        return ""
    for e in bad:
        if not 2.0 * error[e.output] <= e.bound:  # a margin for rounding; true for NaN
            return (
                f"{ILL_CONDITIONED}: the step h = {h:.3g} is too large for the function's "
                f"curvature at x = {x[j]!r}: the central difference's own error is about "
                f"{error[e.output]:.3g} (from the derivative's change within [x - h, x + h]), "
                f"more than the tolerance {e.bound:.3g}, so its {e.numeric!r} cannot check "
                f"the analytic {e.analytic!r} (try a smaller eps)"
            )
    return ""


def compare_columns(
    jacobian: Jacobian,
    oracle: Evaluation,
    x: list[float],
    rows: Rows,
    base: Pattern,
    *,
    eps: float,
    atol: float,
    rtol: float,
    kinks: str,
    method: str,
) -> tuple[list[float], list[Sequence[float] | None], list[Entry], list[Entry], list[Any]]:
    """Compare ``rows`` with finite differences of ``oracle``, column by column.

    Args:
        jacobian: The engine's Jacobian at any point (to tell ill-conditioned columns apart).
        oracle: The function whose differences are the numeric side.
        x: The point.
        rows: The engine's Jacobian at ``x``.
        base: The branch pattern at ``x``.
        eps: The relative step.
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        kinks: ``"inconclusive"`` or ``"fail"``.
        method: ``"central"`` or ``"richardson"``.

    Returns:
        The steps, the numeric columns, the failing entries (worst first), every compared
        entry, and the inconclusive inputs with their reasons.
    """
    steps = [step(eps, v) for v in x]
    cols: list[Sequence[float] | None] = []
    bad: list[Entry] = []
    compared: list[Entry] = []
    inconclusive = []
    for j, h in enumerate(steps):
        d = difference(oracle, x, j, h, method=method, base=base)
        cols.append(d.values)
        if d.values is None or (d.kind and kinks != "fail"):
            # Across a kink the column is shown; it is compared (with hints) only when kinks fail.
            inconclusive.append((j, d.reason))
            continue
        entries = _entries(rows, [None] * j + [d.values], atol, rtol)
        wrong = [e for e in entries if not e.passed]
        why = d.reason or (_ill_conditioned(jacobian, x, j, h, rows, wrong) if wrong else "")
        if why:
            inconclusive.append((j, why))
        if why.startswith(ILL_CONDITIONED):
            continue
        compared.extend(entries)
        bad.extend(wrong)
    bad.sort(key=lambda e: -e.ratio)
    return steps, cols, bad, compared, inconclusive
