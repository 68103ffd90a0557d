"""Gradient checks for micrograd_x: compare the engine's derivatives with independent oracles.

``gradcheck`` compares backward's gradients with central differences (relative step, kink
detection, reentrancy); ``gradgradcheck`` and ``hessiancheck`` do the same one order up, and
``reference_grad`` evaluates derivatives with mpmath at 40 digits. Imports the standard library and
the engine; mpmath is imported only by the mpmath references. Strategies: ``.strategies``.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from micrograd_x import engine, transforms
from micrograd_x.engine import Value
from micrograd_x.ops import DomainError
from micrograd_x.testing._reference import MPValue, mp_context

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
    "numerical_grad",
    "reference_grad",
    "reference_hessian",
]

DEFAULT_EPS = 2.0 ** (-52 / 3)
"""The default relative step: h = DEFAULT_EPS·max(1, |x|), about 6.1e-6 (the cube root of the
float64 epsilon, which balances truncation and rounding errors of a central difference)."""

RICHARDSON_EPS = 2.0 ** (-52 / 5)
"""The default relative step of Richardson extrapolation (about 7.4e-4): its error is of order
h⁴, so the step balancing truncation and rounding is the fifth root of the epsilon."""

_KINK_MODES = ("inconclusive", "fail")
_METHODS = ("central", "richardson")
# Errors that mean "f is not defined (or not differentiable) at a shifted point".
_UNDEFINED = (DomainError, ZeroDivisionError, OverflowError)

Function = Callable[..., Any]
"""A function of ``Value`` arguments returning one ``Value`` (or number) or a sequence of them."""


# ---------------------------------------------------------------------------------------------
# Reports.


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
        passed: Whether every compared entry is within tolerance and reentrancy holds.
        analytic: The engine's Jacobian, one row per output, one column per input.
        numeric: The finite-difference Jacobian (``None`` in fast mode when the projection
            passed: only one directional derivative was computed).
        steps: The step ``h`` used for each input (fast mode: the step along the direction).
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        mismatches: The failing entries, worst first.
        worst: The entry with the largest ratio to its tolerance (``None`` if nothing compared).
        inconclusive: For each input whose branch pattern differs at ``x ± h`` (a kink) or where
            ``f`` is undefined at ``x ± h``, the input's index and the reason.
        reentrancy: Problems found by repeating backward (empty when it is bit-identical).
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
    def message(self) -> str:
        """A multi-line explanation: verdict, failing entries with hints, kinks, reentrancy."""
        verdict = "passed" if self.passed else "FAILED"
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
        if self.passed and self.worst is not None:
            w = self.worst
            lines.append(
                f"  worst entry: output {w.output}, input {w.input}, ratio to tolerance "
                f"{w.ratio:.3g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.message


class GradcheckError(AssertionError):
    """A gradient check failed; ``report`` holds the details.

    Attributes:
        report: The failing :class:`GradcheckReport`.
    """

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(report.message)
        self.report = report


# ---------------------------------------------------------------------------------------------
# Utilities.


def _floats(inputs: Sequence[Any], where: str) -> list[float]:
    if isinstance(inputs, (Value, numbers.Real)):
        raise TypeError(f"{where}: inputs must be a sequence of numbers, got {inputs!r}")
    out = []
    for i, v in enumerate(inputs):
        x = v.data if isinstance(v, Value) else v
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(
                f"{where}: input {i} must be a real number, got {type(x).__name__} {x!r}"
            )
        f = float(x)
        if not math.isfinite(f):
            raise ValueError(f"{where}: input {i} must be finite, got {f!r}")
        out.append(f)
    if not out:
        raise ValueError(f"{where}: needs at least one input")
    return out


def _check_options(
    where: str, eps: float | None, atol: float, rtol: float, kinks: str, method: str
) -> float:
    if eps is None:
        eps = RICHARDSON_EPS if method == "richardson" else DEFAULT_EPS
    if not (isinstance(eps, numbers.Real) and 0.0 < eps < 1.0):
        raise ValueError(f"{where}: eps must be a number in (0, 1), got {eps!r}")
    for name, tol in (("atol", atol), ("rtol", rtol)):
        if not (isinstance(tol, numbers.Real) and 0.0 <= tol < math.inf):
            raise ValueError(f"{where}: {name} must be a finite number >= 0, got {tol!r}")
    if kinks not in _KINK_MODES:
        raise ValueError(f"{where}: kinks must be one of {_KINK_MODES}, got {kinks!r}")
    if method not in _METHODS:
        raise ValueError(f"{where}: method must be one of {_METHODS}, got {method!r}")
    return float(eps)


def _as_outputs(result: Any) -> list[Any]:
    """The outputs of ``f`` as a list (one Value, a number, or a sequence of them)."""
    if isinstance(result, (Value, numbers.Real)):
        return [result]
    if isinstance(result, Sequence) and not isinstance(result, str):
        return list(result)
    raise TypeError(
        f"the function must return a Value, a number or a sequence of them, got "
        f"{type(result).__name__} {result!r}"
    )


def _data(out: Any) -> float:
    return out.data if isinstance(out, Value) else float(out)


def branch_pattern(outputs: Sequence[Any]) -> tuple[tuple[str, int], ...]:
    """The branch taken by every piecewise node that the outputs depend on.

    Args:
        outputs: Values (other items are ignored).

    Returns:
        ``(op name, branch)`` for each node with a piecewise op, in a deterministic order. Two
        evaluations of the same function take the same branches exactly when these are equal.
    """
    pattern: list[tuple[str, int]] = []
    seen: set[int] = set()
    for out in outputs:
        if not isinstance(out, Value):
            continue
        for node in engine.topological_order(out):
            op = node.op
            if op is None or op.branch is None or id(node) in seen:
                continue
            seen.add(id(node))
            args = [p.data for p in node.parents]
            pattern.append((op.name, op.branch(*args, **(node.params or {}))))
    return tuple(pattern)


class _Traced(list[Any]):
    """Outputs carrying the outputs of ``f`` they were derived from (its gradients).

    The branch pattern of ``f``'s own piecewise nodes is then compared too.
    """

    def __init__(self, items: list[Any], trace: list[Any]) -> None:
        super().__init__(items)
        self.trace = trace


def _pattern(result: Any, outs: list[Any]) -> tuple[tuple[str, int], ...]:
    return branch_pattern([*outs, *getattr(result, "trace", ())])


def _evaluate(f: Function, x: Sequence[float]) -> tuple[list[float], tuple[tuple[str, int], ...]]:
    result = f(*[Value(v) for v in x])
    outs = _as_outputs(result)
    return [_data(o) for o in outs], _pattern(result, outs)


def _shifted(x: Sequence[float], j: int, h: float) -> tuple[list[float], float]:
    xs = list(x)
    xs[j] = x[j] + h
    return xs, xs[j]


def _column(
    f: Function, x: Sequence[float], j: int, h: float, method: str, base: tuple[Any, ...]
) -> tuple[list[float] | None, str]:
    """Central-difference derivatives of every output with respect to input ``j``.

    Returns the column (``None`` if ``f`` is undefined at a shifted point) and, when the input
    is inconclusive (undefined, or a kink between ``x - h`` and ``x + h``), the reason.
    """
    offsets = (h, 2.0 * h) if method == "richardson" else (h,)
    estimates = []
    kink = ""
    for off in offsets:
        xp, hi = _shifted(x, j, off)
        xm, lo = _shifted(x, j, -off)
        try:
            fp, pp = _evaluate(f, xp)
            fm, pm = _evaluate(f, xm)
        except _UNDEFINED as err:
            return None, f"f is not defined or not differentiable at x ± {off:.3g}: {err}"
        if pp != base or pm != base:
            kink = (
                f"a piecewise op takes a different branch at x ± {off:.3g} (a kink between "
                f"x - h and x + h): finite differences cannot check it"
            )
        # Divide by the representable step, not by 2h.
        step = hi - lo
        estimates.append([(a - b) / step for a, b in zip(fp, fm)])
    if method == "richardson":
        d1, d2 = estimates
        return [a + (a - b) / 3.0 for a, b in zip(d1, d2)], kink
    return estimates[0], kink


def _analytic(
    f: Function, x: Sequence[float], backward_fn: Callable[[Value], Any]
) -> tuple[list[list[float]], list[Any], list[Value], tuple[tuple[str, int], ...]]:
    """The Jacobian from backward on one fresh graph: one backward call per output.

    Returns the Jacobian's rows, the outputs, the leaves and the branch pattern.
    """
    leaves = [Value(v) for v in x]
    result = f(*leaves)
    outs = _as_outputs(result)
    pattern = _pattern(result, outs)
    rows = _backward_rows(outs, leaves, backward_fn)
    return rows, outs, leaves, pattern


def _backward_rows(
    outs: Sequence[Any], leaves: Sequence[Value], backward_fn: Callable[[Value], Any]
) -> list[list[float]]:
    """One Jacobian row per output: backward from it with every leaf's grad zeroed first."""
    rows = []
    for out in outs:
        for leaf in leaves:
            leaf.grad = 0.0
        if isinstance(out, Value):
            backward_fn(out)
            rows.append([_data(leaf.grad) for leaf in leaves])
        else:
            rows.append([0.0] * len(leaves))
    return rows


def _bits(rows: Sequence[Sequence[float]]) -> list[list[str]]:
    return [[float(v).hex() for v in row] for row in rows]


def _reentrancy(
    f: Function,
    x: Sequence[float],
    rows: list[list[float]],
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


def _compare(
    analytic: Sequence[Sequence[float]],
    numeric: Sequence[Sequence[float] | None],
    atol: float,
    rtol: float,
) -> tuple[list[Entry], Entry | None]:
    """Compare column by column (``numeric[j]`` is column j, or ``None`` when skipped)."""
    entries = []
    for j, col in enumerate(numeric):
        if col is None:
            continue
        for i, n in enumerate(col):
            a = analytic[i][j]
            entries.append(Entry(i, j, a, n, abs(a - n), atol + rtol * abs(n)))
    worst = max(entries, key=lambda e: e.ratio, default=None)
    bad = sorted((e for e in entries if not e.passed), key=lambda e: -e.ratio)
    return bad, worst


def _transpose(cols: Sequence[Sequence[float] | None], n_out: int) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(math.nan if c is None else c[i] for c in cols) for i in range(n_out))


def _finish(report: GradcheckReport, raise_exception: bool) -> GradcheckReport:
    if raise_exception and not report.passed:
        raise GradcheckError(report)
    return report


# ---------------------------------------------------------------------------------------------
# Public checks.


def numerical_grad(
    f: Function,
    inputs: Sequence[float | Value],
    *,
    eps: float | None = None,
    method: str = "central",
) -> list[list[float]]:
    """The Jacobian of ``f`` at ``inputs`` by central differences with a relative step.

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` (or number) or several.
        inputs: The point, as numbers (or Values, whose ``data`` is used).
        eps: The relative step; ``h = eps·max(1, |x|)``. Default :data:`DEFAULT_EPS`
            (:data:`RICHARDSON_EPS` for Richardson extrapolation).
        method: ``"central"``, or ``"richardson"`` (extrapolates steps h and 2h: more accurate
            on smooth single ops, less so on compositions with high curvature).

    Returns:
        One row per output, one column per input (a scalar ``f`` gives one row).

    Raises:
        TypeError: If an input is not a number.
        ValueError: If an option is out of range or an input is not finite.
    """
    x = _floats(inputs, "numerical_grad")
    eps = _check_options("numerical_grad", eps, 0.0, 0.0, "inconclusive", method)
    n_out = len(_evaluate(f, x)[0])
    cols: list[Sequence[float] | None] = []
    for j, xj in enumerate(x):
        h = eps * max(1.0, abs(xj))
        offsets = (h, 2.0 * h) if method == "richardson" else (h,)
        estimates = []
        for off in offsets:
            xp, hi = _shifted(x, j, off)
            xm, lo = _shifted(x, j, -off)
            fp, fm = _evaluate(f, xp)[0], _evaluate(f, xm)[0]
            estimates.append([(a - b) / (hi - lo) for a, b in zip(fp, fm)])
        if method == "richardson":
            cols.append([a + (a - b) / 3.0 for a, b in zip(*estimates)])
        else:
            cols.append(estimates[0])
    return [list(r) for r in _transpose(cols, n_out)]


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
) -> GradcheckReport:
    """Check backward's gradients of ``f`` against central differences.

    The analytic Jacobian comes from ``backward`` on a graph built from fresh leaves (one backward
    call per output, leaf grads zeroed in between). The numeric one divides
    ``f(x + h) - f(x - h)`` by the representable step, with ``h = eps·max(1, |x_j|)``. An entry
    passes when ``|analytic - numeric| <= atol + rtol·|numeric|``.

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` or a sequence of them.
        inputs: The point, as numbers (or Values, whose ``data`` is used).
        eps: The relative step (default :data:`DEFAULT_EPS`, about 6.1e-6; with
            ``method="richardson"``, :data:`RICHARDSON_EPS`).
        atol: The absolute tolerance.
        rtol: The relative tolerance.
        raise_exception: Raise :class:`GradcheckError` on failure instead of returning.
        kinks: When a piecewise op (relu, abs, max, ...) takes a different branch at
            ``x ± h`` than at ``x``, the input is ``"inconclusive"`` (skipped, reported) or
            makes the check ``"fail"``.
        fast_mode: Compare one directional derivative along a random unit direction ``u``
            (seeded by ``seed``), ``J·u`` against ``(f(x + h·u) - f(x - h·u)) / 2h``, instead of
            the full Jacobian: two evaluations of ``f`` instead of two per input. On a mismatch
            or a kink the full check runs, and only it can report a failure, so fast mode
            never fails where the full check passes. For functions of many inputs, such as a
            model's parameters.
        seed: Seed of the fast mode's direction.
        method: ``"central"`` or ``"richardson"``; see :func:`numerical_grad`.
        check_reentrant: Also require a repeated backward pass on the same graph, and one on an
            identical fresh graph, to give bit-identical gradients.
        backward_fn: The backward pass to check, ``backward_fn(root)`` filling leaves' ``grad``;
            default :func:`micrograd_x.backward`.

    Returns:
        A :class:`GradcheckReport` (truthy when the check passes).

    Raises:
        GradcheckError: If the check fails and ``raise_exception`` is true.
        TypeError: If an input is not a number or ``f`` returns something else than Values.
        ValueError: If an option is out of range or an input is not finite.
    """
    x = _floats(inputs, "gradcheck")
    eps = _check_options("gradcheck", eps, atol, rtol, kinks, method)
    bwd: Callable[[Value], Any] = backward_fn if backward_fn is not None else engine.backward
    rows, outs, leaves, base = _analytic(f, x, bwd)
    problems = _reentrancy(f, x, rows, outs, leaves, bwd) if check_reentrant else []
    del outs, leaves
    if fast_mode:
        fast = _fast(f, x, rows, base, eps, atol, rtol, seed, kinks, problems)
        if fast is not None:
            return _finish(fast, raise_exception)
    steps = tuple(eps * max(1.0, abs(v)) for v in x)
    cols: list[Sequence[float] | None] = []
    compared: list[Sequence[float] | None] = []
    inconclusive = []
    for j, h in enumerate(steps):
        col, why = _column(f, x, j, h, method, base)
        if why:
            inconclusive.append((j, why))
        cols.append(col)
        # Across a kink the column is shown; it is compared (with hints) only when kinks fail.
        compared.append(col if not why or kinks == "fail" else None)
    bad, worst = _compare(rows, compared, atol, rtol)
    passed = not bad and not problems and not (kinks == "fail" and inconclusive)
    report = GradcheckReport(
        passed=passed,
        analytic=tuple(tuple(r) for r in rows),
        numeric=_transpose(cols, len(rows)),
        steps=steps,
        atol=atol,
        rtol=rtol,
        mismatches=tuple(bad),
        worst=worst,
        inconclusive=tuple(inconclusive),
        reentrancy=tuple(problems),
        mode="fast→full" if fast_mode else "full",
        kinks=kinks,
    )
    return _finish(report, raise_exception)


def _fast(
    f: Function,
    x: list[float],
    rows: list[list[float]],
    base: tuple[Any, ...],
    eps: float,
    atol: float,
    rtol: float,
    seed: int,
    kinks: str,
    problems: list[str],
) -> GradcheckReport | None:
    """The projection check; ``None`` means "run the full check" (a mismatch or a kink)."""
    if problems:
        return None
    rng = random.Random(seed)
    u = [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5) for _ in x]
    norm = math.sqrt(math.fsum(d * d for d in u))
    u = [d / norm for d in u]  # a unit direction: the projection is one directional derivative
    h = eps * max(1.0, max(abs(v) for v in x))
    xp = [v + h * d for v, d in zip(x, u)]
    xm = [v - h * d for v, d in zip(x, u)]
    try:
        fp, pp = _evaluate(f, xp)
        fm, pm = _evaluate(f, xm)
    except _UNDEFINED:
        return None
    if pp != base or pm != base:
        return None
    entries = []
    for i, row in enumerate(rows):
        a = math.fsum(r * d for r, d in zip(row, u))
        n = (fp[i] - fm[i]) / (2.0 * h)
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


def _gradient_function(f: Function) -> Function:
    """``g(*xs)``: the gradients of every output of ``f`` as Value graphs (create_graph)."""

    def g(*xs: Value) -> _Traced:
        grads: list[Any] = []
        outs = _as_outputs(f(*xs))
        for out in outs:
            if isinstance(out, Value):
                grads.extend(engine.gradients(out, list(xs), create_graph=True))
            else:
                grads.extend([0.0] * len(xs))
        return _Traced(grads, outs)

    return g


def gradgradcheck(
    f: Function,
    inputs: Sequence[float | Value],
    **options: Any,
) -> GradcheckReport:
    """Check second derivatives: :func:`gradcheck` of the gradient function of ``f``.

    The gradient function returns ``d out_i / d x_j`` for every output i and input j (row-major),
    built with ``create_graph=True``; its Jacobian is compared with central differences of those
    gradients. Entry ``(i·n + j, k)`` of the report is ``d² out_i / dx_j dx_k``.

    Args:
        f: A function of ``Value`` arguments returning one ``Value`` or several.
        inputs: The point.
        **options: Passed to :func:`gradcheck` (``eps``, ``atol``, ``rtol``, ``kinks``, ...).

    Returns:
        The report of the check of the gradient function.

    Raises:
        GradcheckError: If the check fails and ``raise_exception=True`` was passed.
    """
    return gradcheck(_gradient_function(f), inputs, **options)


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
        eps: The relative step (default :data:`DEFAULT_EPS`).
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
    x = _floats(inputs, "hessiancheck")
    eps = _check_options("hessiancheck", eps, atol, rtol, kinks, "central")
    hess = transforms.hessian(f)(*x)

    def grads(vals: Sequence[float]) -> tuple[list[float], tuple[Any, ...]]:
        leaves = [Value(v) for v in vals]
        out = f(*leaves)
        if not isinstance(out, Value):
            return [0.0] * len(vals), ()
        return [float(g) for g in engine.gradients(out, leaves)], branch_pattern([out])

    base = grads(x)[1]
    steps = tuple(eps * max(1.0, abs(v)) for v in x)
    cols: list[Sequence[float] | None] = []
    inconclusive = []
    for j, h in enumerate(steps):
        xp, hi = _shifted(x, j, h)
        xm, lo = _shifted(x, j, -h)
        try:
            gp, pp = grads(xp)
            gm, pm = grads(xm)
        except _UNDEFINED as err:
            inconclusive.append((j, f"f is not defined at x ± {h:.3g}: {err}"))
            cols.append(None)
            continue
        if pp != base or pm != base:
            inconclusive.append((j, "a piecewise op takes a different branch at x ± h (a kink)"))
            cols.append(None)
            continue
        cols.append([(a - b) / (hi - lo) for a, b in zip(gp, gm)])
    bad, worst = _compare(hess, cols, atol, rtol)
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
        numeric=_transpose(cols, n),
        steps=steps,
        atol=atol,
        rtol=rtol,
        mismatches=tuple(bad),
        worst=worst,
        inconclusive=tuple(inconclusive),
        mode="hessian",
        kinks=kinks,
    )
    return _finish(report, raise_exception)


# ---------------------------------------------------------------------------------------------
# mpmath references.


def _mp_function(f: Function, ctx: Any) -> Callable[..., Any]:
    def g(*xs: Any) -> Any:
        out = f(*[MPValue(v, ctx) for v in xs])
        if isinstance(out, MPValue):
            return out.x
        if isinstance(out, Value):
            raise TypeError(
                "reference_grad: the function built a Value from MPValue arguments; use "
                "operators and Value methods (micrograd_x.sum/dot need real Values)"
            )
        return ctx.convert(out)

    return g


def reference_grad(
    f: Function, inputs: Sequence[float | Value], *, dps: int = 40
) -> tuple[float, list[float]]:
    """The value and gradient of ``f`` at ``inputs`` computed with mpmath at ``dps`` digits.

    ``f`` is called with :class:`~micrograd_x.testing._reference.MPValue` stand-ins that support
    the operators and op methods of ``Value``, so the same function serves the engine and the
    reference. Derivatives come from ``mpmath.diff``: independent of the engine's rules.

    Args:
        f: A function written with operators and ``Value`` methods, returning one scalar.
        inputs: The point.
        dps: Working precision in decimal digits.

    Returns:
        ``(value, [df/dx_0, df/dx_1, ...])`` rounded to floats.

    Raises:
        TypeError: If an input is not a number, or ``f`` needs real Values.
    """
    x = _floats(inputs, "reference_grad")
    ctx = mp_context(int(dps))
    g = _mp_function(f, ctx)
    point = [ctx.mpf(v) for v in x]
    value = g(*point)
    grads = []
    for j in range(len(x)):
        order = [0] * len(x)
        order[j] = 1
        grads.append(float(ctx.diff(g, point, order)))
    return float(value), grads


def reference_hessian(
    f: Function, inputs: Sequence[float | Value], *, dps: int = 40
) -> list[list[float]]:
    """The Hessian of ``f`` at ``inputs`` computed with mpmath at ``dps`` digits.

    Args:
        f: As for :func:`reference_grad`.
        inputs: The point.
        dps: Working precision in decimal digits.

    Returns:
        The matrix of second derivatives, as floats.
    """
    x = _floats(inputs, "reference_hessian")
    ctx = mp_context(int(dps))
    g = _mp_function(f, ctx)
    point = [ctx.mpf(v) for v in x]
    n = len(x)
    rows = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            order = [0] * n
            order[i] += 1
            order[j] += 1
            rows[i][j] = rows[j][i] = float(ctx.diff(g, point, order))
    return rows
