"""Gradient checks: the engine's derivatives against finite differences, first and second order.

``gradcheck`` compares backward's Jacobian with central differences (relative step, kink,
domain-edge and ill-conditioning detection, reentrancy); ``gradgradcheck`` checks second
derivatives built with ``create_graph=True`` against differences of the float gradients, and the
``create_graph`` first derivatives against the float ones; ``hessiancheck`` checks
:func:`micrograd_x.hessian` the same way, and its symmetry. Every finite difference comes from
:func:`micrograd_x.testing.differences.difference`. Imports the standard library and the engine.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x import Value, backward, gradients, hessian
from micrograd_x._checks import real
from micrograd_x.testing.differences import (
    ILL_CONDITIONED,
    UNDEFINED,
    Evaluation,
    Function,
    Pattern,
    as_floats,
    as_outputs,
    branch_pattern,
    default_eps,
    difference,
    evaluate,
    output_data,
    step,
    transpose,
)
from micrograd_x.testing.modes import compare_modes
from micrograd_x.testing.report import Entry, GradcheckError, GradcheckReport

__all__ = ["gradcheck", "gradgradcheck", "hessiancheck"]

_KINK_MODES = ("inconclusive", "fail")

Rows = list[list[float]]
Jacobian = Callable[[Sequence[float]], Rows]
"""The engine's Jacobian of the checked function at a point: one row per output."""


def _check_options(
    where: str, eps: float | None, atol: float, rtol: float, kinks: str, method: str
) -> float:
    eps = default_eps(eps, method, where)
    for name, tol in (("atol", atol), ("rtol", rtol)):
        real(f"{where}: {name}", tol, low=0.0)
    if kinks not in _KINK_MODES:
        raise ValueError(f"{where}: kinks must be one of {_KINK_MODES}, got {kinks!r}")
    return eps


class _Traced(list[Any]):
    """Outputs carrying the outputs of ``f`` they were derived from (its gradients).

    :func:`~micrograd_x.testing.differences.evaluate` then compares the branch pattern of
    ``f``'s own piecewise nodes too.
    """

    def __init__(self, items: list[Any], trace: list[Any]) -> None:
        super().__init__(items)
        self.trace = trace


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


def _analytic(
    f: Function, x: Sequence[float], backward_fn: Callable[[Value], Any]
) -> tuple[Rows, list[Any], list[Value], Pattern]:
    """The Jacobian from backward on one fresh graph: one backward call per output.

    Returns the Jacobian's rows, the outputs, the leaves and the branch pattern.
    """
    leaves = [Value(v) for v in x]
    result = f(*leaves)
    outs = as_outputs(result)
    pattern = branch_pattern([*outs, *getattr(result, "trace", ())])
    return _backward_rows(outs, leaves, backward_fn), outs, leaves, pattern


def _bits(rows: Sequence[Sequence[float]]) -> list[list[str]]:
    return [[float(v).hex() for v in row] for row in rows]


def _reentrancy(
    f: Function,
    x: Sequence[float],
    rows: Rows,
    outs: list[Any],
    leaves: list[Value],
    backward_fn: Callable[[Value], Any],
) -> list[str]:
    """Repeat backward on the same graph, then on an identical fresh graph: bit-identical?"""
    problems = []
    again = _backward_rows(outs, leaves, backward_fn)
    if _bits(again) != _bits(rows):
        problems.append(
            f"a second backward pass on the same graph (leaf grads zeroed) gave {again}, the "
            f"first gave {rows}: stale gradients from the previous pass leak into this one"
        )
    fresh = _analytic(f, x, backward_fn)[0]
    if _bits(fresh) != _bits(rows):
        problems.append(
            f"backward on an identical fresh graph gave {fresh}, the first graph gave {rows}: "
            "backward is not deterministic"
        )
    return problems


# ---------------------------------------------------------------------------------------------
# The comparison.


def _compare(
    analytic: Sequence[Sequence[float]],
    numeric: Sequence[Sequence[float] | None],
    atol: float,
    rtol: float,
) -> list[Entry]:
    """Every compared entry, column by column (``numeric[j]`` is column j, ``None``: skipped)."""
    entries = []
    for j, col in enumerate(numeric):
        if col is None:
            continue
        for i, n in enumerate(col):
            a = analytic[i][j]
            entries.append(Entry(i, j, a, n, abs(a - n), atol + rtol * abs(n)))
    return entries


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


def _check(
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

    Returns the steps, the numeric columns, the failing entries (worst first), every compared
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
        entries = _compare(rows, [None] * j + [d.values], atol, rtol)
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


def _finish(report: GradcheckReport, raise_exception: bool) -> GradcheckReport:
    if raise_exception and not report.passed:
        raise GradcheckError(report)
    return report


# ---------------------------------------------------------------------------------------------
# Public checks.


def gradcheck(
    f: Function,
    inputs: Sequence[float | Value],
    *,
    eps: float | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = False,
    kinks: str = "inconclusive",
    fast_mode: bool = False,
    seed: int = 0,
    method: str = "central",
    check_reentrant: bool = True,
    backward_fn: Callable[[Value], Any] | None = None,
    check_forward: bool = False,
) -> GradcheckReport:
    """Check backward's gradients of ``f`` against central differences.

    The analytic Jacobian comes from ``backward`` on a graph built from fresh leaves (one backward
    call per output, leaf grads zeroed in between). The numeric one divides
    ``f(x + h) - f(x - h)`` by the representable step, with ``h = eps·max(1, |x_j|)``. An entry
    passes when ``|analytic - numeric| <= atol + rtol·|numeric|``. An input the differences
    cannot check is reported inconclusive with the reason, never as a wrong derivative: a kink,
    a domain edge (``f`` undefined or overflowing at ``x ± h``, or ``x ± h`` itself overflowing)
    or an ill-conditioned point (a mismatch explained by the derivative's own change within
    ``[x - h, x + h]``, e.g. ``sin`` at 1e10).

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` or a sequence of them.
        inputs: The point, as numbers (or Values, whose ``data`` is used).
        eps: The relative step (default :data:`~micrograd_x.testing.DEFAULT_EPS`, about 6.1e-6;
            with ``method="richardson"``, :data:`~micrograd_x.testing.RICHARDSON_EPS`).
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        raise_exception: Raise :class:`GradcheckError` on failure instead of returning.
        kinks: ``"inconclusive"``: an input that cannot be checked (a kink, a domain edge, an
            ill-conditioned point) is skipped and reported; ``"fail"``: it fails the check.
        fast_mode: Compare one directional derivative along a random unit direction ``u``
            (seeded by ``seed``), ``J·u`` against ``(f(x + h·u) - f(x - h·u)) / 2h``, instead of
            the full Jacobian: two evaluations of ``f`` instead of two per input. On a mismatch
            or a kink the full check runs, and only it can report a failure, so fast mode
            never fails where the full check passes. For functions of many inputs, such as a
            model's parameters.
        seed: Seed of the fast mode's direction.
        method: ``"central"`` or ``"richardson"``; see
            :func:`~micrograd_x.testing.numerical_grad`.
        check_reentrant: Also require a repeated backward pass on the same graph, and one on an
            identical fresh graph, to give bit-identical gradients.
        backward_fn: The backward pass to check, ``backward_fn(root)`` filling leaves' ``grad``;
            default :func:`micrograd_x.backward`.
        check_forward: Also check forward mode (:mod:`micrograd_x.forward`): its Jacobian
            against backward's and the differences, as
            :func:`~micrograd_x.testing.jvpcheck.jvpcheck` does; disagreements are listed in
            :attr:`GradcheckReport.forward_mode` and fail the check.

    Returns:
        A :class:`GradcheckReport` (truthy when the check passes).

    Raises:
        GradcheckError: If the check fails and ``raise_exception`` is true.
        TypeError: If an input is not a number or ``f`` returns something else than Values.
        ValueError: If an option is out of range or an input is not finite.
    """
    report = _gradcheck(
        "gradcheck",
        f,
        lambda p: evaluate(f, p),
        inputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=False,
        kinks=kinks,
        fast_mode=fast_mode,
        seed=seed,
        method=method,
        check_reentrant=check_reentrant,
        backward_fn=backward_fn,
    )
    if check_forward:
        report = _with_forward_mode(f, as_floats(inputs, "gradcheck"), report, seed)
    return _finish(report, raise_exception)


def _with_forward_mode(
    f: Function, x: list[float], report: GradcheckReport, seed: int
) -> GradcheckReport:
    """The report with forward mode's disagreements added (they fail it)."""
    forward = compare_modes(f, x, report, seed=seed)
    problems = tuple(f"{m.describe()}; hint: {m.hint()}" for m in forward.mismatches)
    return dataclasses.replace(report, passed=report.passed and not problems, forward_mode=problems)


def _gradcheck(
    where: str,
    f: Function,
    oracle: Evaluation,
    inputs: Sequence[float | Value],
    *,
    eps: float | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = False,
    kinks: str = "inconclusive",
    fast_mode: bool = False,
    seed: int = 0,
    method: str = "central",
    check_reentrant: bool = True,
    backward_fn: Callable[[Value], Any] | None = None,
    consistency: Callable[[list[Any]], list[str]] | None = None,
) -> GradcheckReport:
    """:func:`gradcheck` of ``f`` with the numeric side taken from ``oracle``."""
    x = as_floats(inputs, where)
    eps = _check_options(where, eps, atol, rtol, kinks, method)
    bwd: Callable[[Value], Any] = backward_fn if backward_fn is not None else backward
    rows, outs, leaves, base = _analytic(f, x, bwd)
    problems = _reentrancy(f, x, rows, outs, leaves, bwd) if check_reentrant else []
    mismatched = consistency(outs) if consistency is not None else []
    del outs, leaves
    if fast_mode and not problems and not mismatched:
        fast = _fast(oracle, x, rows, base, eps, atol, rtol, seed, kinks)
        if fast is not None:
            return _finish(fast, raise_exception)
    steps, cols, bad, compared, inconclusive = _check(
        lambda p: _analytic(f, p, bwd)[0],
        oracle,
        x,
        rows,
        base,
        eps=eps,
        atol=atol,
        rtol=rtol,
        kinks=kinks,
        method=method,
    )
    passed = not bad and not problems and not mismatched
    passed = passed and not (kinks == "fail" and inconclusive)
    report = GradcheckReport(
        passed=passed,
        analytic=tuple(tuple(r) for r in rows),
        numeric=transpose(cols, len(rows)),
        steps=tuple(steps),
        atol=atol,
        rtol=rtol,
        mismatches=tuple(bad),
        worst=max(compared, key=lambda e: e.ratio, default=None),
        inconclusive=tuple(inconclusive),
        reentrancy=tuple(problems),
        consistency=tuple(mismatched),
        mode="fast→full" if fast_mode else "full",
        kinks=kinks,
    )
    return _finish(report, raise_exception)


def _fast(
    oracle: Evaluation,
    x: list[float],
    rows: Rows,
    base: Pattern,
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    kinks: str,
) -> GradcheckReport | None:
    """The projection check; ``None`` means "run the full check" (a mismatch or a kink)."""
    rng = random.Random(seed)
    u = [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5) for _ in x]
    norm = math.sqrt(math.fsum(d * d for d in u))
    u = [d / norm for d in u]  # a unit direction: the projection is one directional derivative
    h = eps * max(1.0, max(abs(v) for v in x))
    d = difference(oracle, x, u, h, base=base)
    if d.values is None or d.kind:
        return None
    entries = []
    for i, (row, n) in enumerate(zip(rows, d.values)):
        a = math.fsum(r * c for r, c in zip(row, u))
        # Strict: a mismatch only triggers the full check, which alone can report a failure.
        entries.append(Entry(i, -1, a, n, abs(a - n), atol + rtol * abs(n)))
    if any(not e.passed for e in entries):
        return None
    return GradcheckReport(
        passed=True,
        analytic=tuple(tuple(r) for r in rows),
        numeric=None,
        steps=(h,),
        atol=atol,
        rtol=rtol,
        worst=max(entries, key=lambda e: e.ratio, default=None),
        mode="fast",
        kinks=kinks,
        direction=tuple(u),
    )


# ---------------------------------------------------------------------------------------------
# Second order.


def _gradient_function(f: Function) -> Function:
    """``g(*xs)``: the gradients of every output of ``f`` as Value graphs (create_graph)."""

    def g(*xs: Value) -> _Traced:
        grads: list[Any] = []
        outs = as_outputs(f(*xs))
        for out in outs:
            if isinstance(out, Value):
                grads.extend(gradients(out, list(xs), create_graph=True))
            else:
                grads.extend([0.0] * len(xs))
        return _Traced(grads, outs)

    return g


def _float_gradients(f: Function) -> Evaluation:
    """The float gradients of every output of ``f`` (row-major) and ``f``'s branch pattern.

    Computed on floats, with the rules' float branch: the oracle whose differences check second
    order independently of the ``Value`` branch.
    """

    def g(x: Sequence[float]) -> tuple[list[float], Pattern]:
        leaves = [Value(v) for v in x]
        outs = as_outputs(f(*leaves))
        grads: list[float] = []
        for out in outs:
            if isinstance(out, Value):
                grads.extend(output_data(d) for d in gradients(out, leaves))
            else:
                grads.extend([0.0] * len(leaves))
        return grads, branch_pattern(outs)

    return g


def _consistency(
    oracle: Evaluation, x: Sequence[float], n: int, atol: float, rtol: float
) -> Callable[[list[Any]], list[str]]:
    """Compare the ``create_graph`` first derivatives (the outputs) with the float ones."""

    def compare(outs: list[Any]) -> list[str]:
        floats = oracle(x)[0]
        problems = []
        for k, (out, want) in enumerate(zip(outs, floats)):
            got = output_data(out)
            if not abs(got - want) <= atol + rtol * abs(want):
                problems.append(
                    f"d(output {k // n})/d(input {k % n}) is {got!r} with create_graph=True "
                    f"but {want!r} on floats: the Value branch of a rule differs from its "
                    "float branch"
                )
        return problems

    return compare


def gradgradcheck(
    f: Function,
    inputs: Sequence[float | Value],
    **options: Any,
) -> GradcheckReport:
    """Check second derivatives: the Jacobian of the ``create_graph`` gradients of ``f``.

    The gradient function returns ``d out_i / d x_j`` for every output i and input j (row-major),
    built with ``create_graph=True``; backward through it gives the analytic second
    derivatives. The oracle is independent of the rules' ``Value`` branch: central differences
    of the gradients computed on floats. The ``create_graph`` first derivatives themselves must
    also match the float ones (reported under ``consistency``). Entry ``(i·n + j, k)`` of the
    report is ``d² out_i / dx_j dx_k``.

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` or several.
        inputs: The point.
        **options: As for :func:`gradcheck` (``eps``, ``atol``, ``rtol``, ``kinks``, ...).

    Returns:
        The report of the check of the gradient function.

    Raises:
        GradcheckError: If the check fails and ``raise_exception=True`` was passed.
    """
    x = as_floats(inputs, "gradgradcheck")
    oracle = _float_gradients(f)
    compare = _consistency(oracle, x, len(x), options.get("atol", 1e-5), options.get("rtol", 1e-3))
    return _gradcheck(
        "gradgradcheck", _gradient_function(f), oracle, x, consistency=compare, **options
    )


def hessiancheck(
    f: Function,
    inputs: Sequence[float | Value],
    *,
    eps: float | None = None,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = False,
    kinks: str = "inconclusive",
) -> GradcheckReport:
    """Check :func:`micrograd_x.hessian` against central differences of the gradient, and symmetry.

    Args:
        f: A function of ``Value`` arguments returning one ``Value``.
        inputs: The point.
        eps: The relative step (default :data:`~micrograd_x.testing.DEFAULT_EPS`).
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        raise_exception: Raise :class:`GradcheckError` on failure.
        kinks: ``"inconclusive"`` or ``"fail"``, as in :func:`gradcheck`.

    Returns:
        A report whose ``analytic`` is the engine's Hessian; asymmetric pairs are reported as
        mismatches of entry ``(i, j)`` against ``(j, i)``.

    Raises:
        GradcheckError: If the check fails and ``raise_exception`` is true.
    """
    x = as_floats(inputs, "hessiancheck")
    eps = _check_options("hessiancheck", eps, atol, rtol, kinks, "central")

    def jacobian(p: Sequence[float]) -> Rows:
        return [list(r) for r in hessian(f)(*p)]

    oracle = _float_gradients(f)
    hess = jacobian(x)
    base = oracle(x)[1]
    steps, cols, bad, compared, inconclusive = _check(
        jacobian,
        oracle,
        x,
        hess,
        base,
        eps=eps,
        atol=atol,
        rtol=rtol,
        kinks=kinks,
        method="central",
    )
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = hess[i][j], hess[j][i]
            e = Entry(i, j, a, b, abs(a - b), atol + rtol * max(abs(a), abs(b)))
            if not e.passed:
                bad.append(e)
    passed = not bad and not (kinks == "fail" and inconclusive)
    report = GradcheckReport(
        passed=passed,
        analytic=tuple(tuple(r) for r in hess),
        numeric=transpose(cols, n),
        steps=tuple(steps),
        atol=atol,
        rtol=rtol,
        mismatches=tuple(bad),
        worst=max(compared, key=lambda e: e.ratio, default=None),
        inconclusive=tuple(inconclusive),
        mode="hessian",
        kinks=kinks,
    )
    return _finish(report, raise_exception)
