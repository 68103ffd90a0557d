"""Applying ops by name, and the n-ary nodes: ``apply``, ``sum`` and ``dot``.

:func:`apply` checks its inputs and parameters against the op record and runs the record's
general path (:func:`micrograd_x.value.apply_record`); :func:`sum` and :func:`dot` make one node
of many inputs, ``dot`` with its float rule spelled out, since every neuron of a network is one.
Imports: the standard library, :mod:`micrograd_x.ops` and :mod:`micrograd_x.value`.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Iterable, Sequence
from operator import mul as _mul
from typing import Any, cast

from micrograd_x import ops
from micrograd_x.ops import DOT, SUM, Op
from micrograd_x.value import Value, apply_record, as_node, make_node, to_float

__all__ = ["apply", "dot", "sum"]

_sum = builtins.sum  # this module's own sum() makes a node
_data_of: Any = Value.__dict__["_data"].__get__
"""``_data_of(v)``: a Value's number; a TypeError for anything that is not a Value."""


def apply(op: Op | str, *inputs: Value | float, **params: float) -> Value:
    """Apply any registered op to Values or numbers.

    Args:
        op: The op record or its registered name.
        *inputs: The op's inputs; plain numbers become constant nodes.
        **params: The op's constant parameters (e.g. ``k=2`` for ``pow``).

    Returns:
        The new node.

    Raises:
        TypeError: If the number of inputs or the parameter names do not fit the op, or an
            input is not a number.
    """
    rec = ops.get(op) if isinstance(op, str) else op
    if not isinstance(rec, Op):
        raise TypeError(f"apply: expected an Op or an op name, got {type(rec).__name__} {rec!r}")
    if rec.arity is not None and len(inputs) != rec.arity:
        raise TypeError(f"{rec.name}: takes {rec.arity} input(s), got {len(inputs)}")
    if rec.arity is None and not inputs:
        raise TypeError(f"{rec.name}: needs at least one input")
    unknown = set(params) - set(rec.params)
    if unknown:
        raise TypeError(
            f"{rec.name}: unknown parameter(s) {sorted(unknown)}; it takes {list(rec.params)}"
        )
    missing = [k for k in rec.params if k not in params and _required(rec, k)]
    if missing:
        raise TypeError(f"{rec.name}: missing parameter(s) {missing}; it takes {list(rec.params)}")
    nodes = tuple(as_node(x, rec.name) for x in inputs)
    kw = {k: to_float(v, rec.name) for k, v in params.items()} or None
    return apply_record(rec, nodes, kw)


def _required(op: Op, param: str) -> bool:
    """Whether the op's forward has no default for ``param`` (``pow``'s ``k``)."""
    p = inspect.signature(op.forward).parameters.get(param)
    return p is not None and p.default is inspect.Parameter.empty


def sum(values: Iterable[Value | float]) -> Value:
    """Σ of the inputs as one n-ary node (all partials 1).

    Raises:
        ValueError: If ``values`` is empty.
    """
    nodes = tuple(as_node(x, "sum") for x in values)
    if not nodes:
        raise ValueError("sum: needs at least one input")
    return apply_record(SUM, nodes, None)


def dot(
    weights: Sequence[Value | float],
    inputs: Sequence[Value | float],
    bias: Value | float | None = None,
) -> Value:
    """Σ wᵢxᵢ + b as one node: a neuron's pre-activation.

    The node's parents are ordered ``(w₁…wₙ, x₁…xₙ, b)``; its partials are ``xᵢ`` for ``wᵢ``,
    ``wᵢ`` for ``xᵢ`` and 1 for ``b``.

    Args:
        weights: The weights w₁…wₙ.
        inputs: The inputs x₁…xₙ; plain numbers become constant nodes.
        bias: The bias b, or ``None`` for no bias.

    Raises:
        ValueError: If the lengths differ or are zero.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: {len(weights)} weights but {len(inputs)} inputs")
    if not weights:
        raise ValueError("dot: needs at least one weight and input")
    nodes: tuple[Value, ...]
    try:
        # The common case in a network: every input a Value. The slot's getter reads each
        # one's number and refuses anything else (TypeError) in one C-level pass.
        ws = list(map(_data_of, weights))
        xs = list(map(_data_of, inputs))
        b = 0.0 if bias is None else _data_of(bias)
        every = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
        nodes = cast("tuple[Value, ...]", every)
    except TypeError:
        # Numbers become constants.
        every = (*weights, *inputs) if bias is None else (*weights, *inputs, bias)
        nodes = tuple([as_node(v, "dot") for v in every])
        n = len(weights)
        ws = [v._data for v in nodes[:n]]
        xs = [v._data for v in nodes[n : 2 * n]]
        b = 0.0 if bias is None else nodes[-1]._data
    # DOT's forward and partials, spelled out for the hot path of every network (the same float
    # operations in the same order as ops._dot and ops._dot_partials, so the same bits).
    out = _sum(map(_mul, ws, xs), b)
    if out - out != 0.0:
        return apply_record(DOT, nodes, None)  # the record's path raises its error
    xs += ws
    if bias is not None:
        xs.append(1.0)
    return make_node(DOT, nodes, out, tuple(xs), None)
