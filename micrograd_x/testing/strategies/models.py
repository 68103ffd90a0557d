"""Models and loss cases: ``mlps()`` and ``loss_cases()``.

:mod:`micrograd_x.nn` pulls in numpy, so it is imported only when these strategies are used.
Imports hypothesis (public API only) and micrograd_x.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from micrograd_x.engine import Value

if TYPE_CHECKING:
    from micrograd_x.nn import MLP, Module
from micrograd_x.testing.strategies.common import (
    SEEDS,
    VARIABLES,
    checked_int,
    finite_floats,
    int_strategy,
)

__all__ = [
    "LOSSES",
    "LossCase",
    "loss_cases",
    "mlps",
]


# ---------------------------------------------------------------------------------------------
# Models and losses. micrograd_x.nn pulls in numpy, so it is imported only when these are used.

_ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "elu", "gelu", "silu", "softplus")
LOSSES: tuple[str, ...] = ("mse", "smooth_l1", "hinge", "binary_cross_entropy", "cross_entropy")
"""The losses :func:`loss_cases` draws from."""


def _activations(chosen: Iterable[str] | None, where: str) -> tuple[str, ...]:
    if chosen is None:
        return _ACTIVATIONS
    if isinstance(chosen, str):
        raise InvalidArgument(f"{where}: activations must be a collection of names, got {chosen!r}")
    names = tuple(chosen)
    from micrograd_x.nn import ACTIVATIONS

    unknown = [a for a in names if a not in ACTIVATIONS]
    if unknown or not names:
        raise InvalidArgument(
            f"{where}: unknown or no activations {unknown or names!r}; known: {list(ACTIVATIONS)}"
        )
    return names


def mlps(
    *,
    nin: int | st.SearchStrategy[int] = VARIABLES,
    hidden: Sequence[int] | st.SearchStrategy[list[int]] | None = None,
    nout: int | st.SearchStrategy[int] = 1,
    activations: Iterable[str] | None = None,
    output_activation: str | st.SearchStrategy[str | None] | None = None,
    seed: int | st.SearchStrategy[int] = SEEDS,
) -> st.SearchStrategy[MLP]:
    """Small multi-layer perceptrons (:class:`micrograd_x.nn.MLP`), seeded.

    Failing examples print as the constructor call, e.g. ``MLP(2, [3, 1], activation='tanh',
    output_activation=None, seed=7)``.

    Args:
        nin: Number of inputs (an int or a strategy, 1..16).
        hidden: The hidden layers' sizes (a list, or a strategy of lists); default 0-2 layers of
            1-4 neurons.
        nout: Number of outputs (an int or a strategy, 1..16).
        activations: The hidden activations to draw from; default the smooth and piecewise ones
            of :data:`micrograd_x.nn.ACTIVATIONS`.
        output_activation: The output layer's activation (a name, ``None`` or a strategy).
        seed: The initialization seed (an int or a strategy).

    Returns:
        A strategy of ``MLP``.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once).
    """
    from micrograd_x.nn import MLP

    nin_s = int_strategy(nin, "mlps: nin", 1, 16)
    nout_s = int_strategy(nout, "mlps: nout", 1, 16)
    acts = _activations(activations, "mlps")
    if hidden is None:
        hidden_s: st.SearchStrategy[list[int]] = st.lists(st.integers(1, 4), max_size=2)
    elif isinstance(hidden, st.SearchStrategy):
        hidden_s = hidden
    else:
        sizes = [checked_int(h, "mlps: hidden sizes", 1, 1024) for h in hidden]
        hidden_s = st.just(sizes)
    if isinstance(output_activation, st.SearchStrategy):
        out_s = output_activation
    else:
        if output_activation is not None:
            _activations([output_activation], "mlps: output_activation")
        out_s = st.just(output_activation)
    seed_s = (
        seed
        if isinstance(seed, st.SearchStrategy)
        else st.just(checked_int(seed, "mlps: seed", 0, 2**32))
    )
    return st.builds(
        MLP,
        nin_s,
        st.tuples(hidden_s, nout_s).map(lambda t: [*t[0], t[1]]),
        activation=st.sampled_from(acts),
        output_activation=out_s,
        seed=seed_s,
    )


def _swap(model: Module, values: Sequence[Value]) -> list[tuple[Any, list[Any], Any]]:
    """Put ``values`` in place of the model's parameters; return what to restore."""
    from micrograd_x.nn import Neuron

    saved = []
    it = iter(values)
    stack: list[Module] = [model]
    neurons = []
    while stack:
        m = stack.pop()
        if isinstance(m, Neuron):
            neurons.append(m)
        stack.extend(reversed(m.children()))
    for n in neurons:
        saved.append((n, n.w, n.b))
        n.w = [next(it) for _ in n.w]  # type: ignore[misc]
        if n.b is not None:
            n.b = next(it)  # type: ignore[assignment]
    return saved


class LossCase:
    """A model, a batch of inputs and targets, and a loss: a function of the model's parameters.

    Calling the case with one ``Value`` per parameter (in the order of ``model.parameters()``)
    evaluates the loss with those in place of the parameters, so it can go straight to
    :func:`~micrograd_x.testing.gradcheck`: ``gradcheck(case, case.point)``. ``repr`` prints
    runnable Python.

    Attributes:
        model: The ``MLP``.
        xs: The input samples.
        ys: The targets (numbers, labels ±1, 0/1 or class indices, by loss).
        loss: The loss's name in :mod:`micrograd_x.losses`.
        options: The loss's keyword arguments (e.g. ``beta``).
        spec: The model's constructor arguments, for printing.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        xs: Sequence[Sequence[float]],
        ys: Sequence[Any],
        loss: str,
        options: dict[str, Any],
    ) -> None:
        from micrograd_x.nn import MLP

        self.spec = dict(spec)
        self.model = MLP(**spec)
        self.xs = [list(x) for x in xs]
        self.ys = list(ys)
        self.loss = loss
        self.options = dict(options)

    @property
    def point(self) -> list[float]:
        """The parameters' current values."""
        return [p.data for p in self.model.parameters()]

    def value(self) -> Value:
        """The loss on the model's own parameters (a graph ending at the loss)."""
        from micrograd_x import losses

        outs = [self.model(x) for x in self.xs]
        fn = getattr(losses, self.loss)
        return fn(outs, self.ys, **self.options)  # type: ignore[no-any-return]

    def __call__(self, *parameters: Value) -> Value:
        """The loss with ``parameters`` in place of the model's parameters."""
        if len(parameters) != self.model.num_parameters():
            raise TypeError(
                f"the case's model has {self.model.num_parameters()} parameters, got "
                f"{len(parameters)} values"
            )
        saved = _swap(self.model, parameters)
        try:
            return self.value()
        finally:
            for neuron, w, b in saved:
                neuron.w, neuron.b = w, b

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.spec.items())
        options = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return (
            "from micrograd_x import losses\nfrom micrograd_x.nn import MLP\n\n"
            f"model = MLP({args})\nxs = {self.xs!r}\nys = {self.ys!r}\n"
            f"loss = losses.{self.loss}([model(x) for x in xs], ys{options})\n"
        )


def loss_cases(
    *,
    losses: Iterable[str] | None = None,
    samples: int | st.SearchStrategy[int] = VARIABLES,
    nin: int | st.SearchStrategy[int] = VARIABLES,
    activations: Iterable[str] | None = None,
) -> st.SearchStrategy[LossCase]:
    """Cases of (model, inputs, targets, loss) whose loss is a function of the parameters.

    Args:
        losses: Loss names to draw from (default :data:`LOSSES`).
        samples: Batch size (an int or a strategy, 1..64).
        nin: Number of model inputs (an int or a strategy, 1..16).
        activations: The hidden activations to draw from (see :func:`mlps`).

    Returns:
        A strategy of :class:`LossCase`.

    Raises:
        InvalidArgument: If an argument is out of range (raised at once).
    """
    if losses is None:
        chosen = LOSSES
    elif isinstance(losses, str):
        raise InvalidArgument(f"loss_cases: losses must be a collection of names, got {losses!r}")
    else:
        chosen = tuple(losses)
        bad = [name for name in chosen if name not in LOSSES]
        if bad or not chosen:
            raise InvalidArgument(
                f"loss_cases: unknown or no losses {bad or chosen!r}; known: {LOSSES}"
            )
    n_s = int_strategy(samples, "loss_cases: samples", 1, 64)
    nin_s = int_strategy(nin, "loss_cases: nin", 1, 16)
    acts = _activations(activations, "loss_cases")

    @st.composite
    def build(draw: st.DrawFn) -> LossCase:
        loss = draw(st.sampled_from(chosen))
        n_in, n = draw(nin_s), draw(n_s)
        classes = draw(st.integers(2, 3)) if loss == "cross_entropy" else 1
        spec = {
            "nin": n_in,
            "sizes": [*draw(st.lists(st.integers(1, 4), max_size=2)), classes],
            "activation": draw(st.sampled_from(acts)),
            "output_activation": "sigmoid" if loss == "binary_cross_entropy" else None,
            "seed": draw(SEEDS),
        }
        xs = [[draw(finite_floats(-2.0, 2.0)) for _ in range(n_in)] for _ in range(n)]
        options: dict[str, Any] = {}
        ys: list[Any]
        if loss == "mse":
            ys = [draw(finite_floats(-2.0, 2.0)) for _ in range(n)]
        elif loss == "smooth_l1":
            ys = [draw(finite_floats(-2.0, 2.0)) for _ in range(n)]
            options["beta"] = draw(st.sampled_from([1.0, 0.5, 2.0]))
        elif loss == "hinge":
            ys = [draw(st.sampled_from([-1.0, 1.0])) for _ in range(n)]
        elif loss == "binary_cross_entropy":
            ys = [draw(st.sampled_from([0.0, 1.0])) for _ in range(n)]
        else:
            ys = [draw(st.integers(0, classes - 1)) for _ in range(n)]
        return LossCase(spec, xs, ys, loss, options)

    return build()
