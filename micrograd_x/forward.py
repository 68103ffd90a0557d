"""Forward mode: tangents pushed from the inputs to the outputs through the stored partials.

Reverse mode sends one gradient from an output back to every input; forward mode sends one
*tangent* (a direction of change of the inputs) forward to every node. Both read the same local
partials that each node recorded when it was made: a node's tangent is
``Σᵢ ∂node/∂parentᵢ × tangent(parentᵢ)``, in topological order. Nothing here declares a derivative.

:func:`jvp` is the Jacobian-vector product (JAX's ``jvp``); :func:`jacobian` picks forward or
reverse mode by shape (:func:`jacobian_mode`); :func:`push_tangents` is the sweep itself, which
diagrams use to label nodes with their tangents. Imports: the standard library and the engine.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from micrograd_x import Value, gradients, topological_order

__all__ = ["MODES", "jacobian", "jacobian_mode", "jvp", "push_tangents"]

MODES = ("auto", "forward", "reverse")
"""The modes :func:`jacobian` accepts."""


def _is_zero(x: object) -> bool:
    return type(x) is float and x == 0.0


def _is_one(x: object) -> bool:
    return type(x) is float and x == 1.0


def _order(outputs: Sequence[Value]) -> list[Value]:
    """Every node the outputs depend on, each after all of its inputs."""
    seen: set[Value] = set()
    order: list[Value] = []
    for out in outputs:
        # A node already seen came with all of its inputs, so appending keeps the order valid.
        for node in topological_order(out):
            if node not in seen:
                seen.add(node)
                order.append(node)
    return order


def _sweep(
    order: Sequence[Value], seeds: Mapping[Value, Any], create_graph: bool
) -> dict[Value, Any]:
    """The forward sweep: tangents of the nodes that a seed reaches (the others are zero)."""
    tangents: dict[Value, Any] = {}
    get = tangents.get
    for node in order:
        seed = seeds.get(node)
        if seed is not None:
            tangents[node] = seed  # an input: its tangent is given, not computed
            continue
        parents = node.parents
        if not parents:
            continue
        flowing = [(i, t) for i, p in enumerate(parents) if (t := get(p)) is not None]
        if not flowing:
            continue
        if create_graph:
            # The op's partials rule applied to the nodes themselves, as backward(create_graph)
            # does, so the tangent is a graph that can be differentiated again.
            op = node.op
            assert op is not None  # a node with parents was made by an op
            parts = op.partials(node, *parents, **(node.params or {}))
        else:
            parts = node.partials  # the numbers stored when the node was made
        total: Any = None
        for i, t in flowing:
            d = parts[i]
            if _is_zero(d) or _is_zero(t):
                continue
            term = t if _is_one(d) else d * t
            total = term if total is None else total + term
        if total is None:
            total = 0.0
        elif not create_graph and not math.isfinite(total):
            raise _bad_tangent(node, total)
        tangents[node] = total
    return tangents


def _bad_tangent(node: Value, t: object) -> OverflowError:
    where = node.op.name if node.op is not None else "leaf"
    label = f" {node.label!r}" if node.label else ""
    return OverflowError(f"jvp: the tangent at the {where} node{label} overflowed to {t!r}")


def _tangent(t: object, where: str, allow_value: bool) -> Any:
    """Validate one seed tangent: a finite real number (or, in graph mode, a Value)."""
    if isinstance(t, Value):
        if not allow_value:
            raise TypeError(f"{where}: expected a number, got a Value; pass v.data to copy it")
        return t
    if isinstance(t, bool) or not isinstance(t, numbers.Real):
        raise TypeError(f"{where}: expected a real number, got {type(t).__name__} {t!r}")
    try:
        f = float(t)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ValueError(f"{where}: {t!r} is not a finite number")
    return f


def push_tangents(
    outputs: Value | Sequence[Value],
    seeds: Mapping[Value, float | Value],
    *,
    create_graph: bool = False,
) -> dict[Value, Any]:
    """Run forward mode over a built graph: the tangent of every node the outputs depend on.

    Each seeded node takes its seed as its tangent (its own inputs are ignored, as for a
    variable); every other node takes ``Σᵢ partialᵢ × tangent(parentᵢ)`` over its stored
    partials, inputs before the nodes that use them.

    Args:
        outputs: One node or several.
        seeds: The tangent of each input node, e.g. ``{x: 1.0}`` for d/dx.
        create_graph: Compute the tangents as ``Value`` graphs (the ops' partials rules applied
            to the nodes), so they can be differentiated again; seeds may then be Values.

    Returns:
        A dict node → tangent for every node the outputs depend on: a float (0.0 where no seed
        reaches), or with ``create_graph`` a Value where one flows.

    Raises:
        TypeError: If an output or a seed's key is not a Value, or a seed is not a number.
        ValueError: If a seed is not finite.
        OverflowError: If a tangent overflows to infinity.
    """
    outs = [outputs] if isinstance(outputs, Value) else list(outputs)
    for i, out in enumerate(outs):
        if not isinstance(out, Value):
            raise TypeError(f"push_tangents: output {i} must be a Value, got {type(out).__name__}")
    checked: dict[Value, Any] = {}
    for node, t in seeds.items():
        if not isinstance(node, Value):
            raise TypeError(
                f"push_tangents: seeds must map Values to tangents, got the key "
                f"{type(node).__name__} {node!r}"
            )
        checked[node] = _tangent(t, f"push_tangents: the seed of {node!r}", create_graph)
    order = _order(outs)
    tangents = _sweep(order, checked, create_graph)
    return {node: tangents.get(node, 0.0) for node in order}


def _structure(result: Any) -> tuple[list[Any], bool]:
    """The outputs of ``f`` as a list, and whether ``f`` returned a sequence of them."""
    if isinstance(result, (Value, numbers.Real)) and not isinstance(result, bool):
        return [result], False
    if isinstance(result, Sequence) and not isinstance(result, (str, bytes)):
        items = list(result)
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, (Value, numbers.Real)):
                raise TypeError(
                    f"jvp: output {i} of the function must be a Value or a number, got "
                    f"{type(item).__name__} {item!r}"
                )
        return items, True
    raise TypeError(
        f"jvp: the function must return a Value, a number or a sequence of them, got "
        f"{type(result).__name__} {result!r}"
    )


def _pairs(primals: Any, tangents: Any) -> tuple[list[Any], list[Any]]:
    for name, seq in (("primals", primals), ("tangents", tangents)):
        if isinstance(seq, (str, bytes, Value, numbers.Number)) or not isinstance(seq, Sequence):
            raise TypeError(
                f"jvp: {name} must be a sequence (one entry per argument of the function), got "
                f"{type(seq).__name__} {seq!r}"
            )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); give one tangent "
            "per argument"
        )
    if not primals:
        raise ValueError("jvp: needs at least one primal")
    return list(primals), list(tangents)


def jvp(f: Callable[..., Any]) -> Callable[[Sequence[Any], Sequence[Any]], tuple[Any, Any]]:
    """Turn ``f`` into ``(primals, tangents) -> (f(*primals), J·tangents)``, in forward mode.

    One forward sweep gives the derivative of every output along one direction of the inputs:
    ``jvp(f)((x, y), (1.0, 0.0))`` is ``(f(x, y), ∂f/∂x)``. Called with numbers, ``f`` sees
    fresh leaves and the results are floats. Called with ``Value`` primals (or tangents), the
    results are ``Value`` graphs of them, so transforms compose: ``jvp(grad(f))((x,), (v,))`` is
    the Hessian-vector product (forward-over-reverse), and ``grad`` of a jvp differentiates it
    again.

    Args:
        f: A function of scalars returning a ``Value``, a number or a sequence of them.

    Returns:
        A function of ``(primals, tangents)``, two sequences with one entry per argument of
        ``f``, returning ``(value, tangent)``; both are tuples when ``f`` returns a sequence.

    Raises:
        TypeError: If primals or tangents are not sequences of numbers (or Values), or ``f``
            returns something else than Values and numbers.
        ValueError: If their lengths differ, a number is not finite, or the same Value is given
            as two primals (their tangents could not be told apart).
    """

    def wrapped(primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
        ps, ts = _pairs(primals, tangents)
        nested = any(isinstance(a, Value) for a in (*ps, *ts))
        args: list[Value] = []
        seeds: dict[Value, Any] = {}
        for i, (p, t) in enumerate(zip(ps, ts)):
            if isinstance(p, Value):
                if p in seeds:
                    raise ValueError(
                        f"jvp: primal {i} is the same Value as an earlier primal; pass distinct "
                        "Values (or numbers)"
                    )
                leaf = p
            else:
                leaf = Value(_tangent(p, f"jvp: primal {i}", False))
            args.append(leaf)
            seeds[leaf] = _tangent(t, f"jvp: tangent {i}", nested)
        outs, many = _structure(f(*args))
        nodes = [o for o in outs if isinstance(o, Value)]
        swept = _sweep(_order(nodes), seeds, nested) if nodes else {}
        values: list[Any] = []
        derivs: list[Any] = []
        for o in outs:
            if isinstance(o, Value):
                values.append(o if nested else o.data)
                derivs.append(swept.get(o, 0.0))
            else:
                values.append(float(o))
                derivs.append(0.0)
        if many:
            return tuple(values), tuple(derivs)
        return values[0], derivs[0]

    return wrapped


def jacobian_mode(n_inputs: int, n_outputs: int) -> str:
    """The cheaper mode for a Jacobian with ``n_outputs`` rows and ``n_inputs`` columns.

    Forward mode gets one column per sweep, reverse mode one row per sweep, and a sweep of
    either kind costs about one multiplication per edge of the graph. So: ``"forward"`` when
    there are fewer inputs than outputs, else ``"reverse"`` (a tie goes to reverse, the mode
    training uses).

    Args:
        n_inputs: The number of inputs (columns).
        n_outputs: The number of outputs (rows).

    Returns:
        ``"forward"`` or ``"reverse"``.
    """
    return "forward" if n_inputs < n_outputs else "reverse"


def jacobian(f: Callable[..., Any], mode: str = "auto") -> Callable[..., list[list[float]]]:
    """Turn ``f`` into a function returning its Jacobian at the arguments.

    ``f`` runs once on fresh leaves; the Jacobian is then read off that one graph, column by
    column in forward mode (:func:`push_tangents`) or row by row in reverse mode
    (:func:`micrograd_x.gradients`). ``mode="auto"`` follows :func:`jacobian_mode`: forward
    when ``f`` has fewer inputs than outputs, else reverse.

    Args:
        f: A function of scalars returning a ``Value``, a number or a sequence of them.
        mode: ``"auto"``, ``"forward"`` or ``"reverse"``.

    Returns:
        A function of numbers returning the Jacobian: one row per output (a single row when
        ``f`` returns one value), one column per argument.

    Raises:
        ValueError: If ``mode`` is unknown.
    """
    if mode not in MODES:
        raise ValueError(f"jacobian: mode must be one of {MODES}, got {mode!r}")

    def wrapped(*args: float) -> list[list[float]]:
        if not args:
            raise ValueError("jacobian: needs at least one argument")
        leaves = [Value(_tangent(a, f"jacobian: argument {i}", False)) for i, a in enumerate(args)]
        outs, _ = _structure(f(*leaves))
        chosen = jacobian_mode(len(leaves), len(outs)) if mode == "auto" else mode
        nodes = [o for o in outs if isinstance(o, Value)]
        if chosen == "reverse":
            return [
                gradients(o, leaves) if isinstance(o, Value) else [0.0] * len(leaves) for o in outs
            ]
        order = _order(nodes)
        rows: list[list[float]] = [[0.0] * len(leaves) for _ in outs]
        for j, leaf in enumerate(leaves):
            swept = _sweep(order, {leaf: 1.0}, create_graph=False)
            for i, o in enumerate(outs):
                if isinstance(o, Value):
                    rows[i][j] = swept.get(o, 0.0)
        return rows

    return wrapped
