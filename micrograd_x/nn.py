"""Neural-network modules built from ``Value`` nodes: ``Neuron``, ``Layer`` and ``MLP``.

A neuron is the seed lesson's unit: weighted inputs plus a bias (one ``dot`` node) through an
activation. Every module builds its parameters and its forward nodes inside its name scope, so
diagrams can group them (``mlp.layer1.neuron3``). No derivative is declared here.

Defaults, as micrograd: a ``Neuron`` or ``Layer`` is relu unless told otherwise (micrograd's
``nonlin=True``); an ``MLP`` has relu hidden layers and a linear output layer. micrograd's
``nonlin=`` keyword is accepted (``nonlin=False`` is linear). With no ``seed`` the weights come from
Python's ``random`` (``random.seed`` reproduces a model, two unseeded models differ); an explicit
seed gives the same model every time (see :mod:`micrograd_x.init`).
Imports: the standard library, :mod:`micrograd_x.engine` and :mod:`micrograd_x.init`.
"""

from __future__ import annotations

import itertools
import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any, TypeAlias

from micrograd_x import init as initializers
from micrograd_x._checks import integer
from micrograd_x.engine import Parameter, Value, dot, name_scope, zero_grad
from micrograd_x.init import Initializer, Sampler, SeedLike

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_ACTIVATION",
    "MAX_CONFIG_PARAMETERS",
    "MLP",
    "Activation",
    "Layer",
    "Module",
    "Neuron",
    "activation_name",
    "from_config",
    "parameter_count",
    "resolve_activation",
]

Activation: TypeAlias = str | Callable[[Value], Value] | None
"""An activation given by name (see :data:`ACTIVATIONS`), as a function, or ``None`` (linear)."""

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "tanh": Value.tanh,
    "relu": Value.relu,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
    "elu": Value.elu,
    "gelu": Value.gelu,
    "silu": Value.silu,
    "softplus": Value.softplus,
    "linear": None,
}
"""Activations by name; ``"linear"`` (or ``None``) adds no node."""

DEFAULT_ACTIVATION = "relu"
"""The activation of a ``Neuron``, a ``Layer`` and an MLP's hidden layers when none is given."""


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


# Activations for which He initialization is the right default; the others get the seed's Xavier.
_RELU_LIKE = frozenset({"relu", "leaky_relu", "elu", "gelu", "silu", "softplus"})


def resolve_activation(activation: Activation) -> tuple[str, Callable[[Value], Value] | None]:
    """Return ``(name, function)`` for an activation given by name, as a function, or ``None``.

    Args:
        activation: A name from :data:`ACTIVATIONS`, ``None`` (linear) or a function of a Value.

    Returns:
        The activation's name and its function (``None`` for linear).

    Raises:
        ValueError: If the name is unknown.
        TypeError: If ``activation`` is neither a name, ``None`` nor callable.
    """
    if activation is None:
        return "linear", None
    if isinstance(activation, str):
        try:
            return activation, ACTIVATIONS[activation]
        except KeyError:
            raise ValueError(
                f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)} "
                "(or None, or a function of a Value)"
            ) from None
    if callable(activation):
        return getattr(activation, "__name__", "custom"), activation
    raise TypeError(
        f"activation must be a name, None or a function, got {type(activation).__name__} "
        f"{activation!r}"
    )


def activation_name(activation: Activation) -> str:
    """The name of an activation (``"linear"`` for ``None``)."""
    return resolve_activation(activation)[0]


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
        return initializers.he_uniform if act in _RELU_LIKE else initializers.xavier
    return initializers.get(init)


class Module(ABC):
    """Base class of every model part: parameters, named parameters and zeroing gradients.

    Attributes:
        name: The module's name; its nodes are built in ``name_scope(name)``.
    """

    name: str

    # -- structure ----------------------------------------------------------------------------

    def children(self) -> Sequence[Module]:
        """The sub-modules, in order."""
        return ()

    def own_parameters(self) -> list[tuple[str, Parameter]]:
        """The parameters that belong to this module itself (not to a child), with names."""
        return []

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        """Every parameter with its dotted name relative to this module (``layer1.neuron2.w1``).

        Args:
            prefix: Prepended to each name.

        Returns:
            ``(name, parameter)`` pairs in a fixed order.
        """
        out = [(prefix + key, p) for key, p in self.own_parameters()]
        for child in self.children():
            out += child.named_parameters(f"{prefix}{child.name}.")
        return out

    def parameters(self) -> list[Parameter]:
        """Every parameter, in the order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.named_parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0 (call between training steps)."""
        zero_grad(self.parameters())

    def has_static_graph(self) -> bool:
        """Whether the forward pass builds the same graph whatever the values.

        True for this package's :class:`Neuron`, :class:`Layer` and :class:`MLP` with named
        activations (their code never looks at a value; every named activation is one op), so
        training may capture the graph once and replay it. False for anything else, including
        subclasses (their forward pass might branch on ``.data``) and custom activation
        functions, unless a subclass overrides this to promise it.
        """
        return False

    # -- calling ------------------------------------------------------------------------------

    @property
    @abstractmethod
    def nin(self) -> int:
        """The number of inputs."""

    @property
    @abstractmethod
    def nout(self) -> int:
        """The number of outputs."""

    def forward(self, x: Sequence[Value | float] | Value | float) -> list[Value]:
        """Validate the inputs, run the module and return its outputs as a list.

        Args:
            x: ``nin`` numbers or Values (a single one when ``nin`` is 1).

        Returns:
            The ``nout`` output nodes.

        Raises:
            ValueError: If the number of inputs is wrong or an input is not finite.
            TypeError: If an input is not a number or a Value.
        """
        return self._forward_batch([self._inputs(x)])[0]

    def forward_batch(
        self, rows: Iterable[Sequence[Value | float] | Value | float]
    ) -> list[list[Value]]:
        """Validate and run a batch of samples; one list of outputs per sample.

        The same nodes as calling :meth:`forward` on each sample, built neuron by neuron (each
        module's scope is entered once per batch rather than once per sample, which is faster).

        Args:
            rows: The samples, each ``nin`` numbers or Values.

        Returns:
            The outputs of each sample.

        Raises:
            ValueError: If a sample has the wrong number of inputs or a non-finite input.
            TypeError: If an input is not a number or a Value.
        """
        return self._forward_batch([self._inputs(x) for x in rows])

    @abstractmethod
    def _forward_batch(self, batch: list[list[Value]]) -> list[list[Value]]:
        """Run the module on validated samples."""

    def _inputs(self, x: object) -> list[Value]:
        """Check the inputs of a call and turn numbers into labelled input leaves."""
        nin = self.nin
        if isinstance(x, (Value, numbers.Real)) and not isinstance(x, bool):
            items: list[object] = [x]
        elif isinstance(x, (str, bytes, Mapping, Set)) or not isinstance(x, Iterable):
            raise TypeError(
                f"{self._who()}: expected a sequence of {nin} input(s), got "
                f"{type(x).__name__} {x!r}"
            )
        else:
            items = list(x)
        if len(items) != nin:
            raise ValueError(
                f"{self._who()}: expected {nin} input(s), got {len(items)}: {_short(items)}"
            )
        xs: list[Value] = []
        for i, v in enumerate(items):
            if isinstance(v, Value):
                xs.append(v)
            elif isinstance(v, numbers.Real) and not isinstance(v, bool):
                try:
                    f = float(v)
                except OverflowError:  # an integer too large for a float
                    f = math.inf
                if not math.isfinite(f):
                    raise ValueError(
                        f"{self._who()}: input x{i + 1} is {f!r}; inputs must be finite"
                    )
                xs.append(Value(f, label=f"x{i + 1}"))
            else:
                raise TypeError(
                    f"{self._who()}: input x{i + 1} must be a real number or a Value, got "
                    f"{type(v).__name__} {v!r}"
                )
        return xs

    def _who(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def __getattr__(self, name: str) -> Any:
        # Reached only when normal lookup fails: a micrograd or PyTorch name gets a pointer.
        known = object.__dir__(self)
        target, advice = _HINTS.get(name, (None, ""))
        hint = advice if target is None or target in known else ""
        if not hint and not name.startswith("__"):
            import difflib

            close = difflib.get_close_matches(name, [n for n in known if n[0] != "_"], n=1)
            hint = close[0] if close else ""
        more = f"; did you mean {hint}?" if hint else ""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}{more}")

    # -- architecture -------------------------------------------------------------------------

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The architecture as JSON-ready data, enough to rebuild the module.

        Parameters are not included; :func:`from_config` rebuilds the module.

        Raises:
            ValueError: If an activation is a custom function (it has no portable name).
        """


_HINTS: dict[str, tuple[str | None, str]] = {
    "nonlin": ("activation", "activation (micrograd's nonlin=True is 'relu', False 'linear')"),
    "weight": ("w", "w (the weights, a list of Parameters)"),
    "weights": ("w", "w (the weights, a list of Parameters)"),
    "bias": ("b", "b (the bias Parameter; None without a bias)"),
    "nouts": ("sizes", "sizes (the number of neurons of each layer)"),
    "state_dict": (None, "micrograd_x.serialize.to_dict(model), or serialize.save(model, path)"),
    "load_state_dict": (None, "micrograd_x.serialize.from_dict(data), or serialize.load(path)"),
}
"""micrograd and PyTorch names a module spells differently: (our attribute, advice)."""


def _short(items: Sequence[object], limit: int = 6) -> str:
    head = ", ".join(repr(v) for v in items[:limit])
    return f"[{head}{', ...' if len(items) > limit else ''}]"


def _portable(module: str, act_name: str) -> str | None:
    if act_name not in ACTIVATIONS:
        raise ValueError(
            f"{module}: the custom activation {act_name!r} cannot be saved; "
            f"use one of {', '.join(ACTIVATIONS)}"
        )
    return None if act_name == "linear" else act_name


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
        """The architecture as JSON-ready data (see :func:`from_config`)."""
        return {
            "type": "Neuron",
            "nin": self.nin,
            "activation": _portable(self._who(), self.activation),
            "bias": self.b is not None,
            "name": self.name,
            "fused": self.fused,
        }

    def __repr__(self) -> str:
        return (
            f"Neuron({self.name!r}: {self.nin} inputs, {self.activation}, "
            f"{self.num_parameters()} parameters)"
        )


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
        """The architecture as JSON-ready data (see :func:`from_config`)."""
        first = self.neurons[0]
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": _portable(self._who(), self.activation),
            "bias": first.b is not None,
            "name": self.name,
            "fused": first.fused,
        }

    def __repr__(self) -> str:
        return (
            f"Layer({self.name!r}: {self.nin} → {self.nout}, {self.activation}, "
            f"{self.num_parameters()} parameters)"
        )


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
        """The architecture as JSON-ready data (see :func:`from_config`)."""
        first = self.layers[0].neurons[0]
        hidden = [layer.activation for layer in self.layers[:-1]]
        if len(set(hidden)) > 1:  # pragma: no cover - the constructor gives one activation
            raise ValueError(f"{self._who()}: hidden layers have different activations")
        return {
            "type": "MLP",
            "nin": self.nin,
            "sizes": self.sizes,
            "activation": _portable(self._who(), hidden[0]) if hidden else None,
            "output_activation": _portable(self._who(), self.layers[-1].activation),
            "bias": first.b is not None,
            "name": self.name,
            "fused": first.fused,
        }

    def __repr__(self) -> str:
        dims = " → ".join(
            [str(self.nin)] + [f"{layer.nout} {layer.activation}" for layer in self.layers]
        )
        return f"MLP({self.name!r}: {dims}, {self.num_parameters()} parameters)"


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
    common = {"bias": bool(config.get("bias", True)), "fused": bool(config.get("fused", True))}
    try:
        if kind == "MLP":
            return MLP(
                config["nin"],
                config["sizes"],
                config["activation"],
                config["output_activation"],
                seed=seed,
                name=config.get("name", "mlp"),
                **common,
            )
        if kind == "Layer":
            return Layer(
                config["nin"],
                config["nout"],
                config["activation"],
                seed=seed,
                name=config.get("name", "layer"),
                **common,
            )
        if kind == "Neuron":
            return Neuron(
                config["nin"],
                config["activation"],
                seed=seed,
                name=config.get("name", "neuron"),
                **common,
            )
    except KeyError as e:
        raise ValueError(f"from_config: the {kind} architecture lacks the field {e}") from None
    except TypeError as e:
        raise ValueError(f"from_config: invalid {kind} architecture: {e}") from None
    raise ValueError(f"from_config: unknown module type {kind!r}; known: MLP, Layer, Neuron")
