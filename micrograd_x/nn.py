"""Neural-network modules built from ``Value`` nodes: ``Neuron``, ``Layer`` and ``MLP``.

A neuron is the seed lesson's unit: weighted inputs plus a bias (one ``dot`` node) through an
activation. Every module builds its parameters and its forward nodes inside its name scope, so
diagrams can group them (``mlp.layer1.neuron3``). No derivative is declared here. A module's
architecture is data (:meth:`Module.config`); :func:`micrograd_x.architecture.from_config`
builds a module from it.

Defaults, as micrograd: a ``Neuron`` or ``Layer`` is relu unless told otherwise (micrograd's
``nonlin=True``); an ``MLP`` has relu hidden layers and a linear output layer. micrograd's
``nonlin=`` keyword is accepted (``nonlin=False`` is linear). With no ``seed`` the weights come from
Python's ``random`` (``random.seed`` reproduces a model, two unseeded models differ); an explicit
seed gives the same model every time (see :mod:`micrograd_x.init`).

The base class ``Module`` lives in :mod:`micrograd_x.module` and the activation table in
:mod:`micrograd_x.activations`; their public names are re-exported here
(``micrograd_x.nn.Module``, ``micrograd_x.nn.ACTIVATIONS``). Imports: the standard library,
:mod:`micrograd_x.engine`, :mod:`micrograd_x.init`, :mod:`micrograd_x.activations` and
:mod:`micrograd_x.module`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from micrograd_x import init as initializers
from micrograd_x._checks import integer
from micrograd_x.activations import (
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    RELU_LIKE,
    Activation,
    activation_name,
    portable_activation,
    resolve_activation,
)
from micrograd_x.engine import Parameter, Value, dot, name_scope
from micrograd_x.init import Initializer, Sampler, SeedLike
from micrograd_x.module import Module

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_ACTIVATION",
    "MLP",
    "Activation",
    "Layer",
    "Module",
    "Neuron",
    "activation_name",
    "resolve_activation",
]


class _Default(str):
    """The default activation's name, marked so a conflicting ``nonlin=`` can be told apart."""

    __slots__ = ()


_DEFAULT = _Default(DEFAULT_ACTIVATION)


def _choose_activation(module: str, activation: Activation, nonlin: object) -> Activation:
    """Apply micrograd's ``nonlin=`` keyword (``True``: relu, ``False``: linear)."""
    if isinstance(activation, bool):
        raise TypeError(
            f"{module}: activation is a name, None or a function, got {activation!r}; "
            f"micrograd's flag is a keyword here: nonlin={activation!r}"
        )
    if nonlin is None:
        return DEFAULT_ACTIVATION if activation is _DEFAULT else activation  # a plain str
    if not isinstance(nonlin, bool):
        raise TypeError(
            f"{module}: nonlin must be True (relu) or False (linear), got "
            f"{type(nonlin).__name__} {nonlin!r}"
        )
    if activation is not _DEFAULT:
        raise TypeError(
            f"{module}: give activation={activation!r} or micrograd's nonlin={nonlin!r}, not both"
        )
    return DEFAULT_ACTIVATION if nonlin else None


def _check_size(module: str, what: str, n: object) -> int:
    return integer(f"{module}: {what}", n, low=1)


def _check_name(module: str, name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{module}: name must be a string, got {type(name).__name__} {name!r}")
    if not name or "." in name:
        raise ValueError(f"{module}: name must be a non-empty string without dots, got {name!r}")
    return name


def _weight_init(
    init: str | float | Initializer | Callable[..., list[float]], act: str
) -> Initializer:
    if init == "auto":
        return initializers.he_uniform if act in RELU_LIKE else initializers.xavier
    return initializers.get(init)


class Neuron(Module):
    """One neuron: ``activation(Σ wᵢxᵢ + b)``, the pre-activation being one ``dot`` node.

    Args:
        nin: The number of inputs.
        activation: A name from :data:`ACTIVATIONS`, ``None`` (linear) or a function; relu by
            default, as micrograd.
        init: The weight initializer: a name from :data:`micrograd_x.init.INITIALIZERS`, a
            number or a function; ``"auto"`` is He uniform for ReLU-like activations and the seed's
            Xavier ``U[±1/√n]`` otherwise (``"uniform"`` is micrograd's ``U[-1, 1]``).
        nonlin: micrograd's keyword, instead of ``activation``: ``True`` is relu, ``False``
            linear.
        bias: Whether the neuron has a bias.
        bias_init: The bias initializer (default 0).
        seed: ``None`` (the default: Python's global ``random``, as micrograd), an int,
            ``random.Random`` or numpy ``Generator`` (or a ``Sampler``).
        fan_out: The number of neurons in the layer (used by normalized Xavier).
        name: The module's name (its scope in diagrams).
        fused: If ``False``, build the pre-activation from separate ``×`` and ``+`` nodes, as
            micrograd does, to show every multiplication in diagrams.

    Raises:
        ValueError: If a size, name, activation or initializer has a wrong value.
        TypeError: If one has a wrong type, or ``nonlin`` is not a bool or is given with
            ``activation``.

    Attributes:
        w: The weights, labelled ``w1…wn``.
        b: The bias, labelled ``b`` (``None`` without a bias).
    """

    def __init__(
        self,
        nin: int,
        activation: Activation = _DEFAULT,
        init: str | float | Initializer = "auto",
        *,
        nonlin: bool | None = None,
        bias: bool = True,
        bias_init: str | float | Initializer = 0.0,
        seed: SeedLike | Sampler = None,
        fan_out: int = 1,
        name: str = "neuron",
        fused: bool = True,
    ) -> None:
        self.name = _check_name("Neuron", name)
        n = _check_size("Neuron", "nin", nin)
        fan_out = _check_size("Neuron", "fan_out", fan_out)
        activation = _choose_activation("Neuron", activation, nonlin)
        self.activation, self._act = resolve_activation(activation)
        self.fused = bool(fused)
        sampler = initializers.as_sampler(seed)
        weights = _weight_init(init, self.activation)(n, fan_out, sampler, n)
        with name_scope(self.name):
            self.w = [Parameter(v, label=f"w{i + 1}") for i, v in enumerate(weights)]
            self.b: Parameter | None = None
            if bias:
                (b0,) = initializers.get(bias_init)(n, fan_out, sampler, 1)
                self.b = Parameter(b0, label="b")

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return len(self.w)

    @property
    def nout(self) -> int:
        """A neuron has one output."""
        return 1

    def own_parameters(self) -> list[tuple[str, Parameter]]:
        """The weights ``w1…wn`` then the bias ``b``."""
        out = [(f"w{i + 1}", w) for i, w in enumerate(self.w)]
        if self.b is not None:
            out.append(("b", self.b))
        return out

    def has_static_graph(self) -> bool:
        """See :meth:`Module.has_static_graph`."""
        return type(self) is Neuron and ACTIVATIONS.get(self.activation, self) is self._act

    def __call__(self, x: Sequence[Value | float] | Value | float) -> Value:
        """The neuron's output for ``nin`` inputs (numbers or Values).

        Raises:
            ValueError: If the number of inputs is wrong or an input is not finite.
            TypeError: If an input is not a number or a Value.
        """
        return self._forward_batch([self._inputs(x)])[0][0]

    def _forward_batch(self, batch: list[list[Value]]) -> list[list[Value]]:
        with name_scope(self.name):
            return [[self._out(xs)] for xs in batch]

    def _out(self, xs: list[Value]) -> Value:
        # The caller has opened this neuron's scope.
        if self.fused:
            a = dot(self.w, xs, self.b)
        else:
            terms = [w * x for w, x in zip(self.w, xs)]
            a = terms[0]
            for t in terms[1:]:
                a = a + t
            if self.b is not None:
                a = a + self.b
        act = self._act
        return a if act is None else act(a)

    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (see :mod:`micrograd_x.architecture`)."""
        activation = portable_activation(self._who(), self.activation)
        return _architecture("Neuron", self, self, activation=activation)

    def __repr__(self) -> str:
        return _described("Neuron", self, f"{self.nin} inputs, {self.activation}")


class Layer(Module):
    """A layer of ``nout`` neurons, each seeing the same ``nin`` inputs.

    Args:
        nin: The number of inputs.
        nout: The number of neurons (outputs).
        activation: The neurons' activation (see :class:`Neuron`); relu by default.
        init: The weight initializer (see :class:`Neuron`).
        nonlin: micrograd's keyword, instead of ``activation``: ``True`` is relu, ``False``
            linear.
        bias: Whether the neurons have biases.
        bias_init: The bias initializer.
        seed: ``None`` (Python's global ``random``), an int, ``random.Random`` or numpy
            ``Generator`` (or a ``Sampler``); the neurons draw from it in order.
        name: The module's name; the neurons are named ``neuron1…``.
        fused: See :class:`Neuron`.

    Raises:
        ValueError: If a size, name, activation or initializer has a wrong value.
        TypeError: If one has a wrong type, or ``nonlin`` is not a bool or is given with
            ``activation``.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: Activation = _DEFAULT,
        init: str | float | Initializer = "auto",
        *,
        nonlin: bool | None = None,
        bias: bool = True,
        bias_init: str | float | Initializer = 0.0,
        seed: SeedLike | Sampler = None,
        name: str = "layer",
        fused: bool = True,
    ) -> None:
        self.name = _check_name("Layer", name)
        n_in = _check_size("Layer", "nin", nin)
        n_out = _check_size("Layer", "nout", nout)
        activation = _choose_activation("Layer", activation, nonlin)
        sampler = initializers.as_sampler(seed)
        with name_scope(self.name):
            self.neurons = [
                Neuron(
                    n_in,
                    activation,
                    init,
                    bias=bias,
                    bias_init=bias_init,
                    seed=sampler,
                    fan_out=n_out,
                    name=f"neuron{j + 1}",
                    fused=fused,
                )
                for j in range(n_out)
            ]
        self.activation = self.neurons[0].activation

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        """The number of neurons."""
        return len(self.neurons)

    def children(self) -> Sequence[Module]:
        """The neurons."""
        return self.neurons

    def has_static_graph(self) -> bool:
        """See :meth:`Module.has_static_graph`."""
        return type(self) is Layer and all(n.has_static_graph() for n in self.neurons)

    def __call__(self, x: Sequence[Value | float] | Value | float) -> list[Value]:
        """The layer's ``nout`` outputs for ``nin`` inputs (numbers or Values).

        Raises:
            ValueError: If the number of inputs is wrong or an input is not finite.
            TypeError: If an input is not a number or a Value.
        """
        return self._forward_batch([self._inputs(x)])[0]

    def _forward_batch(self, batch: list[list[Value]]) -> list[list[Value]]:
        outs: list[list[Value]] = [[] for _ in batch]
        with name_scope(self.name):
            for neuron in self.neurons:
                out = neuron._out
                with name_scope(neuron.name):
                    for row, xs in zip(outs, batch):
                        row.append(out(xs))
        return outs

    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (see :mod:`micrograd_x.architecture`)."""
        activation = portable_activation(self._who(), self.activation)
        return _architecture("Layer", self, self.neurons[0], nout=self.nout, activation=activation)

    def __repr__(self) -> str:
        return _described("Layer", self, f"{self.nin} → {self.nout}, {self.activation}")


class MLP(Module):
    """A multi-layer perceptron: layers of neurons, each layer feeding the next.

    ``MLP(2, [16, 16, 1])`` is micrograd's demo network: two hidden layers of 16 ReLU neurons and
    one linear output. Calling it on one sample returns a ``Value`` when the last layer has one
    neuron, else a list (use :meth:`forward` for a list always).

    Args:
        nin: The number of inputs.
        sizes: The number of neurons of each layer, the last being the output layer.
        activation: The hidden layers' activation (see :class:`Neuron`); relu by default.
        output_activation: The output layer's activation (default linear).
        init: The weight initializer (see :class:`Neuron`).
        bias: Whether the neurons have biases.
        bias_init: The bias initializer.
        seed: ``None`` (the default: Python's global ``random``, so ``random.seed`` reproduces
            the model, as micrograd), an int, ``random.Random`` or numpy ``Generator``; the same
            explicit seed gives the same model, bit for bit.
        name: The module's name (default ``"mlp"``); its layers are ``layer1…``.
        fused: See :class:`Neuron`.

    Raises:
        ValueError: If a size, name, activation or initializer has a wrong value.
        TypeError: If one has a wrong type.
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: Activation = DEFAULT_ACTIVATION,
        output_activation: Activation = None,
        init: str | float | Initializer = "auto",
        *,
        bias: bool = True,
        bias_init: str | float | Initializer = 0.0,
        seed: SeedLike | Sampler = None,
        name: str = "mlp",
        fused: bool = True,
    ) -> None:
        self.name = _check_name("MLP", name)
        n_in = _check_size("MLP", "nin", nin)
        # The hidden activation is checked even when no layer uses it (no hidden layer).
        for act in (activation, output_activation):
            try:
                resolve_activation(act)
            except (TypeError, ValueError) as e:
                raise type(e)(f"MLP: {e}") from None
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(
                f"MLP: sizes must be a list of layer sizes, got {type(sizes).__name__} {sizes!r}"
            )
        if not sizes:
            raise ValueError(f"MLP: sizes must be a non-empty list of layer sizes, got {sizes!r}")
        dims = [n_in] + [_check_size("MLP", "every layer size", s) for s in sizes]
        sampler = initializers.as_sampler(seed)
        last = len(sizes) - 1
        with name_scope(self.name):
            self.layers = [
                Layer(
                    dims[i],
                    dims[i + 1],
                    output_activation if i == last else activation,
                    init,
                    bias=bias,
                    bias_init=bias_init,
                    seed=sampler,
                    name=f"layer{i + 1}",
                    fused=fused,
                )
                for i in range(len(sizes))
            ]

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return self.layers[0].nin

    @property
    def nout(self) -> int:
        """The number of outputs."""
        return self.layers[-1].nout

    @property
    def sizes(self) -> list[int]:
        """The number of neurons of each layer."""
        return [layer.nout for layer in self.layers]

    def children(self) -> Sequence[Module]:
        """The layers."""
        return self.layers

    def has_static_graph(self) -> bool:
        """See :meth:`Module.has_static_graph`."""
        return type(self) is MLP and all(layer.has_static_graph() for layer in self.layers)

    def __call__(self, x: Sequence[Value | float] | Value | float) -> Value | list[Value]:
        """The network's output for one sample: a Value if ``nout == 1``, else a list.

        Raises:
            ValueError: If the number of inputs is wrong or an input is not finite.
            TypeError: If an input is not a number or a Value.
        """
        out = self._forward_batch([self._inputs(x)])[0]
        return out[0] if len(out) == 1 else out

    def _forward_batch(self, batch: list[list[Value]]) -> list[list[Value]]:
        with name_scope(self.name):
            for layer in self.layers:
                batch = layer._forward_batch(batch)
        return batch

    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data (see :mod:`micrograd_x.architecture`)."""
        hidden = [layer.activation for layer in self.layers[:-1]]
        if len(set(hidden)) > 1:  # pragma: no cover - the constructor gives one activation
            raise ValueError(f"{self._who()}: hidden layers have different activations")
        return _architecture(
            "MLP",
            self,
            self.layers[0].neurons[0],
            sizes=self.sizes,
            activation=portable_activation(self._who(), hidden[0]) if hidden else None,
            output_activation=portable_activation(self._who(), self.layers[-1].activation),
        )

    def __repr__(self) -> str:
        dims = " → ".join(
            [str(self.nin)] + [f"{layer.nout} {layer.activation}" for layer in self.layers]
        )
        return _described("MLP", self, dims)


def _architecture(kind: str, module: Module, first: Neuron, **shape: Any) -> dict[str, Any]:
    """A module's config: type, inputs, ``shape`` fields, then what its neurons share.

    The shared fields (bias, fused) are read from the module's ``first`` neuron.
    """
    return {
        "type": kind,
        "nin": module.nin,
        **shape,
        "bias": first.b is not None,
        "name": module.name,
        "fused": first.fused,
    }


def _described(kind: str, module: Module, shape: str) -> str:
    """A module's repr: ``Kind('name': shape, N parameters)``."""
    return f"{kind}({module.name!r}: {shape}, {module.num_parameters()} parameters)"
