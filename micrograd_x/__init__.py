"""micrograd_x: a scalar autograd engine whose local derivatives are data you can see and check.

Every ``Value`` records its op, its inputs in order and the local partial derivative of its output
with respect to each input; ``backward`` applies the chain rule over those stored partials.
This package root re-exports the public API; the core (``ops``, ``engine``) needs only the
standard library.

``from micrograd_x import *`` binds the names in ``__all__``, which shadow no builtin and are not
too generic to collide with a notebook's variables: ``micrograd_x.sum`` (n-ary Σ), the functional
``micrograd_x.grad`` and the datasets module ``micrograd_x.data`` are reached by their qualified
names (or imported by name).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from micrograd_x import ops
from micrograd_x.engine import (
    Parameter,
    Value,
    apply,
    backward,
    constant,
    dot,
    gradients,
    name_scope,
    topological_order,
    zero_grad,
)

# Re-exported, but kept out of __all__ (see the module docstring).
from micrograd_x.engine import sum as sum
from micrograd_x.graph import Graph, trace
from micrograd_x.ops import (
    DomainError,
    NonDifferentiableError,
    Op,
    cos,
    erf,
    erfc,
    exp,
    log,
    sigmoid,
    sin,
    sqrt,
    tanh,
)
from micrograd_x.transforms import grad as grad
from micrograd_x.transforms import hessian, value_and_grad

if TYPE_CHECKING:
    from micrograd_x import data as data
    from micrograd_x import forward as forward
    from micrograd_x import init, losses, nn, optim, replay, serialize, train
    from micrograd_x.chainrule import explain
    from micrograd_x.explore import explore
    from micrograd_x.forward import jacobian, jvp
    from micrograd_x.nn import MLP, Layer, Module, Neuron
    from micrograd_x.render import draw, draw_dot
    from micrograd_x.train import fit

# The layers that need numpy or tqdm load on first use, so `import micrograd_x` (and the core
# engine) stays standard-library only.
_LAZY: dict[str, tuple[str, str | None]] = {
    **{m: (f"micrograd_x.{m}", None) for m in ("data", "init", "losses", "nn", "optim")},
    **{m: (f"micrograd_x.{m}", None) for m in ("replay", "serialize", "train")},
    "MLP": ("micrograd_x.nn", "MLP"),
    "Layer": ("micrograd_x.nn", "Layer"),
    "Module": ("micrograd_x.nn", "Module"),
    "Neuron": ("micrograd_x.nn", "Neuron"),
    "fit": ("micrograd_x.train", "fit"),
    # Lazy too, so `python -m micrograd_x.render` runs a module the package has not imported.
    "draw": ("micrograd_x.render", "draw"),
    "draw_dot": ("micrograd_x.render", "draw_dot"),  # micrograd's lecture name for draw
    "explain": ("micrograd_x.chainrule", "explain"),
    "explore": ("micrograd_x.explore", "explore"),
    # Forward mode. (The PyTorch bridge, micrograd_x.export, needs torch, an optional extra:
    # it is imported by name only, so `from micrograd_x import *` works without torch.)
    "forward": ("micrograd_x.forward", None),
    "jvp": ("micrograd_x.forward", "jvp"),
    "jacobian": ("micrograd_x.forward", "jacobian"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        hint = ""
        if not name.startswith("__"):
            import difflib

            close = difflib.get_close_matches(name, __dir__(), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
        raise AttributeError(f"module 'micrograd_x' has no attribute {name!r}{hint}")
    module = importlib.import_module(target[0])
    value = module if target[1] is None else getattr(module, target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

# Not exported by `import *`: sum (the builtin's name), grad and data (too generic).
__all__ = [
    "MLP",
    "DomainError",
    "Graph",
    "Layer",
    "Module",
    "Neuron",
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
    "draw_dot",
    "erf",
    "erfc",
    "exp",
    "explain",
    "explore",
    "fit",
    "gradients",
    "hessian",
    "init",
    "jacobian",
    "jvp",
    "log",
    "losses",
    "name_scope",
    "nn",
    "ops",
    "optim",
    "replay",
    "serialize",
    "sigmoid",
    "sin",
    "sqrt",
    "tanh",
    "topological_order",
    "trace",
    "train",
    "value_and_grad",
    "zero_grad",
]
