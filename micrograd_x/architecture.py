"""A module's architecture as data: count the parameters it describes, and rebuild the module.

:meth:`Module.config <micrograd_x.module.Module.config>` gives a module's architecture as
JSON-ready data (a saved model file holds it); :func:`parameter_count` reads how many parameters
it describes without building anything, and :func:`from_config` builds a fresh module from it,
refusing sizes a scalar engine cannot reasonably build. Imports: the standard library,
:mod:`micrograd_x.init`, :mod:`micrograd_x.module` and :mod:`micrograd_x.nn`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from micrograd_x.init import Sampler, SeedLike
from micrograd_x.module import Module
from micrograd_x.nn import MLP, Layer, Neuron

__all__ = ["MAX_CONFIG_PARAMETERS", "from_config", "parameter_count"]


MAX_CONFIG_PARAMETERS = 10_000_000
"""The largest model :func:`from_config` builds: a guard against corrupt sizes in a saved file."""


def parameter_count(config: dict[str, Any]) -> int:
    """The number of parameters a :meth:`Module.config` describes, computed without building it.

    Args:
        config: The architecture (as saved in a model file).

    Returns:
        The count, or 0 if a size is not a positive integer (the constructor then says which).
    """

    def size(v: object) -> int:
        return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0

    widths = [size(config.get("nin"))]
    kind = config.get("type")
    if kind == "MLP" and isinstance(config.get("sizes"), list):
        widths += [size(n) for n in config["sizes"]]
    elif kind == "Layer":
        widths.append(size(config.get("nout")))
    elif kind == "Neuron":
        widths.append(1)
    if 0 in widths:
        return 0
    bias = 1 if config.get("bias", True) else 0
    return sum((a + bias) * b for a, b in itertools.pairwise(widths))


def from_config(config: dict[str, Any], seed: SeedLike | Sampler = None) -> Module:
    """Build a module from :meth:`Module.config` data (parameters freshly initialized).

    Args:
        config: The architecture.
        seed: The seed for the fresh parameters (``None``: Python's global ``random``).

    Returns:
        The new module.

    Raises:
        TypeError: If ``config`` is not a dict.
        ValueError: If the data does not describe a module.
    """
    if not isinstance(config, dict):
        raise TypeError(f"from_config: expected a dict, got {type(config).__name__}")
    kind = config.get("type")
    count = parameter_count(config)
    if count > MAX_CONFIG_PARAMETERS:
        raise ValueError(
            f"from_config: the {kind} architecture has {count:,} parameters, more than the "
            f"{MAX_CONFIG_PARAMETERS:,} a scalar engine can reasonably build; is the file corrupt?"
        )
    # Each kind: its class, the fields passed by position, and the default name.
    kinds: dict[str, tuple[Callable[..., Module], tuple[str, ...], str]] = {
        "MLP": (MLP, ("nin", "sizes", "activation", "output_activation"), "mlp"),
        "Layer": (Layer, ("nin", "nout", "activation"), "layer"),
        "Neuron": (Neuron, ("nin", "activation"), "neuron"),
    }
    if not isinstance(kind, str) or kind not in kinds:
        raise ValueError(f"from_config: unknown module type {kind!r}; known: {', '.join(kinds)}")
    build, fields, default_name = kinds[kind]
    try:
        return build(
            *[config[field] for field in fields],
            seed=seed,
            name=config.get("name", default_name),
            bias=bool(config.get("bias", True)),
            fused=bool(config.get("fused", True)),
        )
    except KeyError as e:
        raise ValueError(f"from_config: the {kind} architecture lacks the field {e}") from None
    except TypeError as e:
        raise ValueError(f"from_config: invalid {kind} architecture: {e}") from None
