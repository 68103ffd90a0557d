"""The base class of every model part: ``Module``, with parameters, inputs and architecture.

A module has children (sub-modules) and its own parameters; :meth:`Module.named_parameters`
names every parameter by its dotted path (``layer1.neuron2.w1``). :meth:`Module.forward` checks a
call's inputs and turns numbers into labelled input leaves before a subclass runs them; a
micrograd or PyTorch attribute name that does not exist here gets a pointer to ours. The
concrete modules (``Neuron``, ``Layer``, ``MLP``) are in :mod:`micrograd_x.nn`.
Imports: the standard library and :mod:`micrograd_x.engine`.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any

from micrograd_x.engine import Parameter, Value, zero_grad

__all__ = ["Module"]


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

        Parameters are not included; :mod:`micrograd_x.architecture` rebuilds the module.

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
