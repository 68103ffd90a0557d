"""Gradient checks: the engine's derivatives against finite differences, first and second order.

``gradcheck`` compares backward's Jacobian with central differences (relative step, kink,
domain-edge and ill-conditioning detection, reentrancy); ``gradgradcheck`` checks second
derivatives built with ``create_graph=True`` against differences of the float gradients, and the
``create_graph`` first derivatives against the float ones; ``hessiancheck`` checks
:func:`micrograd_x.hessian` the same way, and its symmetry. Every finite difference comes from
:func:`micrograd_x.testing.differences.difference`, every comparison of a Jacobian with them
from :mod:`micrograd_x.testing.comparison`. Imports the standard library, the engine and the
testing modules ``comparison``, ``differences``, ``modes`` and ``report``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x import Value, backward, gradients, hessian
from micrograd_x.testing.comparison import (
    Rows,
    analytic_jacobian,
    check_options,
    compare_columns,
    entry,
    reentrancy,
)
from micrograd_x.testing.differences import (
    Evaluation,
    Function,
    Pattern,
    as_floats,
    as_outputs,
    branch_pattern,
    difference,
    evaluate,
    output_data,
    random_direction,
    transpose,
)
from micrograd_x.testing.modes import compare_modes
from micrograd_x.testing.report import Entry, GradcheckError, GradcheckReport

__all__ = ["gradcheck", "gradgradcheck", "hessiancheck"]


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
    eps = check_options(where, eps, atol, rtol, kinks, method)
    bwd: Callable[[Value], Any] = backward_fn if backward_fn is not None else backward
    rows, outs, leaves, base = analytic_jacobian(f, x, bwd)
    problems = reentrancy(f, x, rows, outs, leaves, bwd) if check_reentrant else []
    mismatched = consistency(outs) if consistency is not None else []
    del outs, leaves
    if fast_mode and not problems and not mismatched:
        fast = _fast(oracle, x, rows, base, eps, atol, rtol, seed, kinks)
        if fast is not None:
            return _finish(fast, raise_exception)
    steps, cols, bad, compared, inconclusive = compare_columns(
        lambda p: analytic_jacobian(f, p, bwd)[0],
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
    u = random_direction(len(x), seed)  # a unit direction: one directional derivative
    h = eps * max(1.0, max(abs(v) for v in x))
    d = difference(oracle, x, u, h, base=base)
    if d.values is None or d.kind:
        return None
    entries = []
    for i, (row, n) in enumerate(zip(rows, d.values)):
        a = math.fsum(r * c for r, c in zip(row, u))
        # Strict: a mismatch only triggers the full check, which alone can report a failure.
        entries.append(entry(i, -1, a, n, atol, rtol))
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


class _Traced(list[Any]):
    """Outputs carrying the outputs of ``f`` they were derived from (its gradients).

    :func:`~micrograd_x.testing.differences.evaluate` then compares the branch pattern of
    ``f``'s own piecewise nodes too.
    """

    def __init__(self, items: list[Any], trace: list[Any]) -> None:
        super().__init__(items)
        self.trace = trace


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
    eps = check_options("hessiancheck", eps, atol, rtol, kinks, "central")

    def jacobian(p: Sequence[float]) -> Rows:
        return [list(r) for r in hessian(f)(*p)]

    oracle = _float_gradients(f)
    hess = jacobian(x)
    base = oracle(x)[1]
    steps, cols, bad, compared, inconclusive = compare_columns(
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
