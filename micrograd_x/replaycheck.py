"""Check mode of a replay: a graph's structure as data, and its comparison with eager mode.

:class:`~micrograd_x.replay.Replay` with ``check=n`` rebuilds the graph eagerly on its next ``n``
runs and calls :func:`compare`: a different structure, output or gradient raises
:class:`ReplayDivergenceError` (re-exported by :mod:`micrograd_x.replay`).
Imports :mod:`micrograd_x.engine` and :mod:`micrograd_x.backward`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from micrograd_x.backward import gradients, topological_order
from micrograd_x.engine import Value

__all__ = [
    "ReplayDivergenceError",
    "compare",
    "describe",
    "params_key",
    "same_structure",
    "signature",
]


class ReplayDivergenceError(RuntimeError):
    """A checked replay found a graph (or a result) that differs from eager mode."""


def params_key(params: Mapping[str, float] | None) -> tuple[tuple[str, float], ...]:
    """A node's op parameters as a sorted, hashable tuple."""
    return tuple(sorted(params.items())) if params else ()


def signature(root: Value, inputs: Sequence[Value]) -> list[tuple[Any, ...]]:
    """The graph's structure as data: one entry per node in topological order.

    Leaves are ``("input", i)``, ``("const", value)`` or ``("leaf", value, label)``; other
    nodes ``(op name, params, parent positions)``.
    """
    where = {id(x): i for i, x in enumerate(inputs)}
    order = topological_order(root)
    pos = {id(n): i for i, n in enumerate(order)}
    sig: list[tuple[Any, ...]] = []
    for node in order:
        i = where.get(id(node))
        if i is not None:
            sig.append(("input", i))
        elif node.is_constant:
            sig.append(("const", node.data))
        elif node.is_leaf:
            sig.append(("leaf", node.data, node.label))
        else:
            op = node.op
            assert op is not None
            parents = tuple(pos[id(p)] for p in node.parents)
            sig.append((op.name, params_key(node.params), parents))
    return sig


def same_structure(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two entries of :func:`signature` are the same node (frozen numbers aside)."""
    # Frozen leaves may hold other numbers (e.g. a stabilizing shift such as max(logits)):
    # that is a divergence only if the results differ, which the value check decides.
    if a[0] in ("const", "leaf"):
        return bool(a[0] == b[0])
    return a == b


def describe(entry: tuple[Any, ...]) -> str:
    """An entry of :func:`signature` in words, for error messages."""
    if entry[0] == "input":
        return f"input {entry[1]}"
    if entry[0] == "const":
        return f"the constant {entry[1]!r}"
    if entry[0] == "leaf":
        label = f" {entry[2]!r}" if entry[2] else ""
        return f"the frozen leaf{label} = {entry[1]!r}"
    params = "".join(f", {k}={v!r}" for k, v in entry[1])
    return f"{entry[0]}({', '.join(f'#{p}' for p in entry[2])}{params})"


_HINT = (
    "The structure of a replayed graph is fixed at capture: Python control flow that depends on "
    "values, and leaves that are not inputs, are frozen. Capture again, or run this function in "
    "eager mode."
)


def compare(
    call: int,
    ref: list[tuple[Any, ...]],
    root: Value,
    inputs: Sequence[Value],
    out: float,
    grads: Sequence[float] | None,
    input_names: Sequence[str],
) -> None:
    """Compare a replayed run with the same graph built eagerly.

    Args:
        call: The run's number (for messages).
        ref: The captured graph's :func:`signature`.
        root: The output of the graph built again eagerly, at the run's input values.
        inputs: That graph's inputs.
        out: The replayed output.
        grads: The replayed input gradients (``None``: a forward run only).
        input_names: A name per input, for messages.

    Raises:
        ReplayDivergenceError: If the structure, the output or a gradient differs (beyond
            1e-9 relative).
    """
    sig = signature(root, inputs)
    for i, (a, b) in enumerate(zip(ref, sig)):
        if not same_structure(a, b):
            raise ReplayDivergenceError(
                f"replay: at call {call}, eager mode builds a different graph: node #{i} is "
                f"{describe(b)} now but was {describe(a)} at capture. {_HINT}"
            )
    if len(ref) != len(sig):
        raise ReplayDivergenceError(
            f"replay: at call {call}, eager mode builds {len(sig)} nodes but {len(ref)} "
            f"were captured. {_HINT}"
        )
    changed = [
        f"node #{i} is {describe(b)} now but was {describe(a)} at capture"
        for i, (a, b) in enumerate(zip(ref, sig))
        if a != b
    ]
    why = f" ({'; '.join(changed[:3])})" if changed else ""
    tol = 1e-9
    eager = root.data
    if not abs(eager - out) <= tol * max(1.0, abs(eager)):
        raise ReplayDivergenceError(
            f"replay: at call {call}, the output is {out!r} in replay but {eager!r} in "
            f"eager mode{why}. {_HINT}"
        )
    if grads is not None:
        eg = gradients(root, list(inputs))
        for i, (got, e) in enumerate(zip(grads, eg)):
            if not abs(got - e) <= tol * max(1.0, abs(e)):
                raise ReplayDivergenceError(
                    f"replay: at call {call}, the gradient of input {i} ({input_names[i]}) is "
                    f"{got!r} in replay but {e!r} in eager mode{why}. {_HINT}"
                )
