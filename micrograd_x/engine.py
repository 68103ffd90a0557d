"""The engine's public names in one place: nodes, applying ops, reverse mode.

``from micrograd_x.engine import Value`` works as micrograd's import does. The code lives in
three modules, one idea each: :mod:`micrograd_x.value` (the ``Value`` node class and how one node
is made), :mod:`micrograd_x.applying` (``apply`` by name, and the n-ary nodes ``sum`` and ``dot``)
and :mod:`micrograd_x.backward` (the backward sweeps), helped by :mod:`micrograd_x.rules` (an
op's rules run on floats, checked), :mod:`micrograd_x.scopes` (``name_scope``) and
:mod:`micrograd_x.compat` (micrograd's names). The functional transforms (``grad``, ``hessian``)
are in :mod:`micrograd_x.transforms`. Imports ``value``, ``applying``, ``backward`` and ``scopes``.
"""

from __future__ import annotations

from micrograd_x.applying import apply, dot, sum
from micrograd_x.backward import backward, gradients, topological_order, zero_grad
from micrograd_x.scopes import name_scope
from micrograd_x.value import Parameter, Value, constant, to_float

__all__ = [
    "Parameter",
    "Value",
    "apply",
    "backward",
    "constant",
    "dot",
    "gradients",
    "name_scope",
    "sum",
    "to_float",
    "topological_order",
    "zero_grad",
]
