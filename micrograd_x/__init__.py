"""micrograd_x: a scalar autograd engine whose local derivatives are data you can see and check.

Every ``Value`` records its op, its inputs in order and the local partial derivative of its output
with respect to each input; ``backward`` applies the chain rule over those stored partials.
This package root re-exports the public API; the core (``ops``, ``engine``) needs only the
standard library.
"""

from __future__ import annotations

from micrograd_x import ops
from micrograd_x.chainrule import explain
from micrograd_x.engine import (
    Parameter,
    Value,
    apply,
    backward,
    constant,
    dot,
    grad,
    gradients,
    hessian,
    name_scope,
    sum,
    topological_order,
    value_and_grad,
    zero_grad,
)
from micrograd_x.graph import Graph, trace
from micrograd_x.ops import (
    DomainError,
    NonDifferentiableError,
    Op,
    cos,
    erf,
    exp,
    log,
    sigmoid,
    sin,
    sqrt,
    tanh,
)
from micrograd_x.render import draw

__version__ = "0.1.0"

__all__ = [
    "DomainError",
    "Graph",
    "NonDifferentiableError",
    "Op",
    "Parameter",
    "Value",
    "__version__",
    "apply",
    "backward",
    "constant",
    "cos",
    "dot",
    "draw",
    "erf",
    "exp",
    "explain",
    "grad",
    "gradients",
    "hessian",
    "log",
    "name_scope",
    "ops",
    "sigmoid",
    "sin",
    "sqrt",
    "sum",
    "tanh",
    "topological_order",
    "trace",
    "value_and_grad",
    "zero_grad",
]
