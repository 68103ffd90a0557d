"""A bridge to PyTorch: a model's twin as a ``torch.nn.Sequential``, and back to an ``MLP``.

:func:`to_torch` copies a :class:`~micrograd_x.nn.MLP` (or a ``Layer``/``Neuron``) into a float64
``Sequential`` of ``Linear`` layers and activations with the same outputs and gradients;
:func:`from_torch` turns such a ``Sequential`` (a small PyTorch network) into an ``MLP``, so
its chain of partials can be drawn. This is the only module that imports torch (the optional
extra ``micrograd-x[torch]``).
"""

from __future__ import annotations

import math
from typing import Any

try:
    import torch
    from torch import nn as tnn
except ImportError as err:  # pragma: no cover - the test extra installs torch
    raise ImportError("micrograd_x.export needs PyTorch: pip install 'micrograd-x[torch]'") from err

from micrograd_x.nn import MLP, Layer, Module, Neuron

__all__ = ["SOFTPLUS_THRESHOLD", "from_torch", "to_torch"]

SOFTPLUS_THRESHOLD = 700.0
"""The ``threshold`` of the exported ``Softplus``: above it PyTorch returns x itself, and
``log(1 + e^x)`` differs from x by less than 1e-300 there (PyTorch's default, 20, would differ
from micrograd_x's softplus by up to 2e-9)."""


def _torch_activation(name: str) -> tnn.Module | None:
    """A fresh PyTorch module computing micrograd_x's activation of that name."""
    if name == "linear":
        return None
    makers: dict[str, Any] = {
        "tanh": tnn.Tanh,
        "relu": tnn.ReLU,
        "sigmoid": tnn.Sigmoid,
        "leaky_relu": lambda: tnn.LeakyReLU(negative_slope=0.01),
        "elu": lambda: tnn.ELU(alpha=1.0),
        "gelu": lambda: tnn.GELU(approximate="none"),
        "silu": tnn.SiLU,
        "softplus": lambda: tnn.Softplus(beta=1.0, threshold=SOFTPLUS_THRESHOLD),
    }
    if name not in makers:
        raise ValueError(
            f"to_torch: the activation {name!r} has no PyTorch counterpart here; use one of "
            f"{', '.join(makers)} or linear"
        )
    module: tnn.Module = makers[name]()
    return module


def _layers(model: Module) -> list[Layer | Neuron]:
    if isinstance(model, MLP):
        return list(model.layers)
    if isinstance(model, (Layer, Neuron)):
        return [model]
    raise TypeError(
        f"to_torch: expected an MLP, Layer or Neuron, got {type(model).__name__} {model!r}"
    )


def to_torch(model: Module) -> tnn.Sequential:
    """A float64 ``torch.nn.Sequential`` with the model's parameters and activations.

    Each layer becomes a ``Linear`` (row j of its weight: neuron j's weights, in order) followed
    by its activation, so outputs and gradients match the model's to rounding (about 1e-15).
    The copy is independent: training one does not change the other.

    Args:
        model: An :class:`~micrograd_x.nn.MLP`, ``Layer`` or ``Neuron`` with named activations.

    Returns:
        The ``Sequential``, in float64, in training mode.

    Raises:
        TypeError: If ``model`` is not an MLP, Layer or Neuron.
        ValueError: If an activation is a custom function (it has no PyTorch counterpart).
    """
    modules: list[tnn.Module] = []
    for layer in _layers(model):
        neurons = layer.neurons if isinstance(layer, Layer) else [layer]
        first = neurons[0]
        linear = tnn.Linear(first.nin, len(neurons), bias=first.b is not None, dtype=torch.float64)
        weights = [[w.data for w in n.w] for n in neurons]
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(weights, dtype=torch.float64))
            if linear.bias is not None:
                biases = [n.b.data if n.b is not None else 0.0 for n in neurons]
                linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
        modules.append(linear)
        try:
            act = _torch_activation(layer.activation)
        except ValueError as err:
            raise ValueError(f"{err} (in {type(layer).__name__} {layer.name!r})") from None
        if act is not None:
            modules.append(act)
    return tnn.Sequential(*modules)


def _activation_name(module: tnn.Module, where: str) -> str:
    """micrograd_x's name for a PyTorch activation module; refuse what does not match exactly."""
    simple = {tnn.Tanh: "tanh", tnn.ReLU: "relu", tnn.Sigmoid: "sigmoid", tnn.SiLU: "silu"}
    kind = type(module)
    if kind in simple:
        return simple[kind]
    # An activation with a parameter: (the attribute, the value ours has, our name, what ours is).
    fixed: dict[type[tnn.Module], tuple[str, object, str, str]] = {
        tnn.LeakyReLU: (
            "negative_slope",
            0.01,
            "leaky_relu",
            "MLP's leaky_relu has the slope 0.01",
        ),
        tnn.ELU: ("alpha", 1.0, "elu", "MLP's elu has alpha 1.0"),
        tnn.GELU: (
            "approximate",
            "none",
            "gelu",
            "MLP's gelu is the exact (erf) form, GELU(approximate='none')",
        ),
    }
    for cls, (attribute, ours, name, why) in fixed.items():
        if isinstance(module, cls):
            got = getattr(module, attribute)
            if got != ours:
                raise ValueError(
                    f"from_torch: {where} {cls.__name__}({attribute}={got!r}) is not supported: "
                    f"{why}"
                )
            return name
    if isinstance(module, tnn.Softplus):
        if module.beta != 1.0 or module.threshold < 20.0:
            raise ValueError(
                f"from_torch: {where} Softplus(beta={module.beta!r}, "
                f"threshold={module.threshold!r}) is not supported: MLP's softplus is "
                "log(1 + e^x), beta 1, and a threshold below 20 changes it by more than 2e-9"
            )
        return "softplus"
    raise ValueError(
        f"from_torch: {where} is a {kind.__name__}, which an MLP cannot hold; supported: "
        "Linear, Tanh, ReLU, Sigmoid, LeakyReLU(0.01), ELU(1.0), GELU(), SiLU, Softplus()"
    )


def _floats(tensor: torch.Tensor, where: str) -> list[Any]:
    values: list[Any] = tensor.detach().to(torch.float64).cpu().tolist()
    flat = [v for row in values for v in row] if values and isinstance(values[0], list) else values
    bad = next((v for v in flat if not math.isfinite(v)), None)
    if bad is not None:
        raise ValueError(f"from_torch: {where} holds the non-finite number {bad!r}")
    return values


def from_torch(module: tnn.Module, *, name: str = "mlp", fused: bool = True) -> MLP:
    """An :class:`~micrograd_x.nn.MLP` with the parameters of a PyTorch ``Sequential``.

    The ``Sequential`` must alternate ``Linear`` layers with at most one supported activation
    after each; every hidden layer must have the same activation (an MLP has one hidden and one
    output activation), and either every ``Linear`` has a bias or none has.

    Args:
        module: A ``torch.nn.Sequential`` of ``Linear`` layers and activations (any float dtype;
            parameters are copied as float64 numbers).
        name: The MLP's name (its scope in diagrams).
        fused: See :class:`~micrograd_x.nn.Neuron`.

    Returns:
        A new MLP computing the same function.

    Raises:
        TypeError: If ``module`` is not a ``torch.nn.Sequential``.
        ValueError: Naming the layer, if a layer is not supported, two activations follow each
            other, sizes do not chain, hidden activations differ, biases are mixed, or a
            parameter is not finite.
    """
    if not isinstance(module, tnn.Sequential):
        raise TypeError(f"from_torch: expected a torch.nn.Sequential, got {type(module).__name__}")
    linears: list[tnn.Linear] = []
    acts: list[str] = []
    for key, layer in module.named_children():
        where = f"layer {key!r} ({type(layer).__name__})"
        if isinstance(layer, tnn.Linear):
            if linears and layer.in_features != linears[-1].out_features:
                raise ValueError(
                    f"from_torch: {where} takes {layer.in_features} inputs but the previous "
                    f"Linear gives {linears[-1].out_features}"
                )
            linears.append(layer)
            acts.append("linear")
            continue
        act = _activation_name(layer, f"layer {key!r}")
        if not linears:
            raise ValueError(f"from_torch: {where} comes before any Linear layer")
        if acts[-1] != "linear":
            raise ValueError(
                f"from_torch: {where} follows another activation ({acts[-1]}); an MLP applies "
                "one activation per layer"
            )
        acts[-1] = act
    if not linears:
        raise ValueError("from_torch: the Sequential has no Linear layer")
    hidden = set(acts[:-1])
    if len(hidden) > 1:
        raise ValueError(
            f"from_torch: the hidden layers use different activations ({', '.join(acts[:-1])}); "
            "an MLP has one hidden activation"
        )
    has_bias = {layer.bias is not None for layer in linears}
    if len(has_bias) > 1:
        raise ValueError("from_torch: some Linear layers have a bias and some do not")
    model = MLP(
        linears[0].in_features,
        [layer.out_features for layer in linears],
        activation=acts[0] if len(acts) > 1 else "linear",
        output_activation=acts[-1],
        bias=has_bias.pop(),
        name=name,
        fused=fused,
    )
    for i, (ours, theirs) in enumerate(zip(model.layers, linears)):
        where = f"Linear layer {i + 1}"
        weights = _floats(theirs.weight, f"{where}'s weight")
        biases = _floats(theirs.bias, f"{where}'s bias") if theirs.bias is not None else None
        for j, neuron in enumerate(ours.neurons):
            for w, v in zip(neuron.w, weights[j]):
                w.data = float(v)
            if neuron.b is not None and biases is not None:
                neuron.b.data = float(biases[j])
    return model
