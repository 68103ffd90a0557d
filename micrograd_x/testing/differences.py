"""Finite differences: the one numerical oracle every gradient check uses.

:func:`difference` is the core: a central difference of every output of a function along one
input (or one direction), with a relative step, division by the representable step, optional
Richardson extrapolation, and the reasons a difference cannot be trusted (the function is
undefined or overflows at ``x ± h``, the shifted point overflows, a piecewise op changes branch:
a kink). :func:`numerical_grad` is the Jacobian built from it; :func:`random_direction` gives
the seeded direction of a directional check. Imports the standard library and
the engine.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd_x import Value, topological_order
from micrograd_x._checks import real
from micrograd_x.ops import DomainError

__all__ = [
    "DEFAULT_EPS",
    "DOMAIN_EDGE",
    "ILL_CONDITIONED",
    "KINK",
    "METHODS",
    "RICHARDSON_EPS",
    "UNDEFINED",
    "Difference",
    "Evaluation",
    "Function",
    "Pattern",
    "as_floats",
    "as_outputs",
    "branch_pattern",
    "default_eps",
    "difference",
    "evaluate",
    "numerical_grad",
    "output_data",
    "random_direction",
    "step",
    "transpose",
]

DEFAULT_EPS = 2.0 ** (-52 / 3)
"""The default relative step: h = DEFAULT_EPS·max(1, |x|), about 6.1e-6 (the cube root of the
float64 epsilon, which balances truncation and rounding errors of a central difference)."""

RICHARDSON_EPS = 2.0 ** (-52 / 5)
"""The default relative step of Richardson extrapolation (about 7.4e-4): its error is of order
h⁴, so the step balancing truncation and rounding is the fifth root of the epsilon."""

METHODS = ("central", "richardson")
"""The finite-difference methods."""

KINK = "kink"
"""Why an input is inconclusive: a piecewise op takes another branch at ``x ± h``."""

DOMAIN_EDGE = "domain edge"
"""Why an input is inconclusive: ``f`` is undefined or overflows at ``x ± h`` (or ``x ± h``
itself overflows)."""

ILL_CONDITIONED = "ill-conditioned"
"""Why an input is inconclusive: the derivative changes so much within ``[x - h, x + h]`` that
the central difference cannot resolve it at the tolerance (a step spanning many periods of
``sin`` at large ``|x|``, ``log`` near 0)."""

UNDEFINED = (DomainError, ZeroDivisionError, OverflowError)
"""Errors that mean "f is not defined (or not differentiable) at a shifted point"."""

Function = Callable[..., Any]
"""A function of ``Value`` arguments returning one ``Value`` (or number) or a sequence of them."""

Pattern = tuple[tuple[str, int], ...]
"""The branch taken by every piecewise node (see :func:`branch_pattern`)."""

Evaluation = Callable[[Sequence[float]], tuple[list[float], Pattern]]
"""A function of a point returning the outputs' values and their branch pattern."""


def as_floats(inputs: Sequence[Any], where: str) -> list[float]:
    """The point as finite floats (``Value`` inputs give their ``data``).

    Raises:
        TypeError: If ``inputs`` is not a sequence or an input is not a real number.
        ValueError: If an input is not finite or there is none.
    """
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


def default_eps(eps: float | None, method: str, where: str) -> float:
    """The relative step to use: ``eps`` checked, or the method's default.

    Raises:
        ValueError: If ``eps`` is not in (0, 1) or ``method`` is unknown.
    """
    if method not in METHODS:
        raise ValueError(f"{where}: method must be one of {METHODS}, got {method!r}")
    if eps is None:
        return RICHARDSON_EPS if method == "richardson" else DEFAULT_EPS
    if not 0.0 < real(f"{where}: eps", eps) < 1.0:
        raise ValueError(f"{where}: eps must be a number in (0, 1), got {eps!r}")
    return float(eps)


def step(eps: float, x: float) -> float:
    """The step for an input at ``x``: ``eps·max(1, |x|)`` (relative, never below ``eps``)."""
    return eps * max(1.0, abs(x))


def as_outputs(result: Any) -> list[Any]:
    """The outputs of ``f`` as a list (one Value, a number, or a sequence of them).

    Raises:
        TypeError: If ``result`` is something else.
    """
    if isinstance(result, (Value, numbers.Real)):
        return [result]
    if isinstance(result, Sequence) and not isinstance(result, str):
        return list(result)
    raise TypeError(
        f"the function must return a Value, a number or a sequence of them, got "
        f"{type(result).__name__} {result!r}"
    )


def output_data(out: Any) -> float:
    """An output's number: a Value's ``data``, or the number itself."""
    return out.data if isinstance(out, Value) else float(out)


def branch_pattern(outputs: Sequence[Any]) -> Pattern:
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
        for node in topological_order(out):
            op = node.op
            if op is None or op.branch is None or id(node) in seen:
                continue
            seen.add(id(node))
            args = [p.data for p in node.parents]
            pattern.append((op.name, op.branch(*args, **(node.params or {}))))
    return tuple(pattern)


def evaluate(f: Function, x: Sequence[float]) -> tuple[list[float], Pattern]:
    """``f`` at ``x`` on fresh leaves: the outputs' values and their branch pattern.

    A result carrying a ``trace`` attribute (outputs it was derived from) adds their branches.
    """
    result = f(*[Value(v) for v in x])
    outs = as_outputs(result)
    pattern = branch_pattern([*outs, *getattr(result, "trace", ())])
    return [output_data(o) for o in outs], pattern


@dataclass(frozen=True)
class Difference:
    """A finite-difference estimate of the derivatives of every output along one direction.

    Attributes:
        values: One estimate per output (``None`` if ``f`` could not be evaluated at ``x ± h``).
        kind: ``""`` when the estimate can be trusted, else :data:`KINK` or
            :data:`DOMAIN_EDGE`.
        reason: Why it cannot be trusted, starting with the kind (``"kink: ..."``).
        error: The exception that made ``f`` undefined at a shifted point, if any.
    """

    values: list[float] | None
    kind: str = ""
    reason: str = ""
    error: BaseException | None = None


def _shifted(x: Sequence[float], direction: int | Sequence[float], off: float) -> list[float]:
    if isinstance(direction, int):
        xs = list(x)
        xs[direction] = x[direction] + off
        return xs
    return [v + off * d for v, d in zip(x, direction)]


def difference(
    evaluation: Evaluation,
    x: Sequence[float],
    direction: int | Sequence[float],
    h: float,
    *,
    method: str = "central",
    base: Pattern | None = None,
) -> Difference:
    """The central difference of every output of ``evaluation`` at ``x`` along ``direction``.

    ``(f(x + h·u) - f(x - h·u)) / step``, where for an input index the step is the
    representable one, ``(x_j + h) - (x_j - h)``, not ``2h``. Richardson extrapolation combines
    the steps ``h`` and ``2h`` as ``D(h) + (D(h) - D(2h)) / 3``.

    Args:
        evaluation: The function as :data:`Evaluation` (e.g. ``lambda p: evaluate(f, p)``).
        x: The point.
        direction: An input index, or a direction vector (then the step is ``2h``).
        h: The step.
        method: ``"central"`` or ``"richardson"``.
        base: The branch pattern at ``x``; when given, a different pattern at a shifted point
            is reported as a kink.

    Returns:
        The estimates, or why they cannot be trusted.
    """
    offsets = (h, 2.0 * h) if method == "richardson" else (h,)
    estimates = []
    kind = reason = ""
    for off in offsets:
        xp, xm = _shifted(x, direction, off), _shifted(x, direction, -off)
        if not all(math.isfinite(v) for v in (*xp, *xm)):
            why = (
                f"{DOMAIN_EDGE}: x ± {off:.3g} overflows the float range (|x| is near the "
                "largest float), so no finite difference exists here"
            )
            return Difference(None, DOMAIN_EDGE, why, OverflowError(why))
        try:
            fp, pp = evaluation(xp)
            fm, pm = evaluation(xm)
        except UNDEFINED as err:
            why = f"{DOMAIN_EDGE}: f is not defined or overflows at x ± {off:.3g}: {err}"
            return Difference(None, DOMAIN_EDGE, why, err)
        if base is not None and (pp != base or pm != base):
            kind = KINK
            reason = (
                f"{KINK}: a piecewise op takes a different branch at x ± {off:.3g} (a kink "
                "between x - h and x + h): finite differences cannot check it"
            )
        # Along an input: the representable step (x_j + h) - (x_j - h), not 2h.
        divisor = xp[direction] - xm[direction] if isinstance(direction, int) else 2.0 * off
        estimates.append([(a - b) / divisor for a, b in zip(fp, fm)])
    if method == "richardson":
        d1, d2 = estimates
        return Difference([a + (a - b) / 3.0 for a, b in zip(d1, d2)], kind, reason)
    return Difference(estimates[0], kind, reason)


def random_direction(n: int, seed: int) -> list[float]:
    """A seeded random unit direction in ``n`` dimensions, for one directional difference.

    Every component is at least about ``0.5/√n·(1/1.5)`` in size, so no input is left out.

    Args:
        n: The number of inputs.
        seed: The seed; the same seed gives the same direction.

    Returns:
        ``n`` components of Euclidean norm 1.
    """
    rng = random.Random(seed)
    u = [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.5) for _ in range(n)]
    norm = math.sqrt(math.fsum(d * d for d in u))
    return [d / norm for d in u]


def transpose(cols: Sequence[Sequence[float] | None], n_out: int) -> tuple[tuple[float, ...], ...]:
    """Columns (``None``: not computed, shown as NaN) to rows."""
    return tuple(tuple(math.nan if c is None else c[i] for c in cols) for i in range(n_out))


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
        DomainError: If ``f`` is undefined at a shifted point (likewise ``ZeroDivisionError``,
            ``OverflowError``; also when ``x ± h`` overflows).
    """
    x = as_floats(inputs, "numerical_grad")
    eps = default_eps(eps, method, "numerical_grad")
    n_out = len(evaluate(f, x)[0])
    cols = []
    for j, xj in enumerate(x):
        d = difference(lambda p: evaluate(f, p), x, j, step(eps, xj), method=method)
        if d.values is None:
            assert d.error is not None
            raise d.error
        cols.append(d.values)
    return [list(r) for r in transpose(cols, n_out)]
