"""Weight and bias initializers, drawn from a seed, a generator, or Python's ``random``.

Each initializer returns plain floats for a neuron with ``fan_in`` inputs in a layer of
``fan_out`` neurons; :mod:`micrograd_x.nn` wraps them in ``Parameter`` nodes.

Seeding, as micrograd: with no seed (``seed=None``, the default) the numbers come from Python's
global ``random`` module, so ``random.seed(1337)`` makes a run reproducible and two unseeded
models differ. An explicit integer seed (a fresh ``numpy.random.default_rng(seed)``), a
``random.Random`` or a ``numpy.random.Generator`` gives the same numbers every time, bit for bit,
and leaves the global ``random`` state alone.
Imports: the standard library and numpy only.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable
from typing import Protocol, TypeAlias

import numpy as np

from micrograd_x._checks import integer, real

__all__ = [
    "INITIALIZERS",
    "Initializer",
    "Sampler",
    "SeedLike",
    "as_sampler",
    "constant",
    "get",
    "he_normal",
    "he_uniform",
    "normal",
    "uniform",
    "xavier",
    "xavier_normalized",
    "zeros",
]


SeedLike: TypeAlias = int | random.Random | np.random.Generator | None
"""What every ``seed`` argument accepts; ``None`` draws from Python's global ``random``."""


class Sampler:
    """Draws uniform and normal floats from one source of randomness.

    Wraps a ``random.Random`` or a ``numpy.random.Generator`` (an integer seed makes a
    ``numpy.random.default_rng(seed)``), so every initializer works with all three and the same
    seed always gives the same numbers, bit for bit. ``None`` draws from Python's global
    ``random`` module at each draw, as micrograd does: ``random.seed`` reproduces the numbers.

    Args:
        seed: ``None``, an integer seed, a ``random.Random`` or a ``numpy.random.Generator``.

    Raises:
        TypeError: If ``seed`` is none of these.
        ValueError: If an integer seed is negative.
    """

    __slots__ = ("_np", "_py")

    def __init__(self, seed: SeedLike) -> None:
        # Neither set: the global ``random`` module, read at each draw so random.seed applies.
        self._py: random.Random | None = None
        self._np: np.random.Generator | None = None
        if seed is None:
            pass
        elif isinstance(seed, random.Random):
            self._py = seed
        elif isinstance(seed, np.random.Generator):
            self._np = seed
        elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
            if int(seed) < 0:
                raise ValueError(f"seed: must be a non-negative integer, got {seed!r}")
            self._np = np.random.default_rng(int(seed))
        else:
            raise TypeError(
                "seed: expected None, an int, a random.Random or a numpy.random.Generator, "
                f"got {type(seed).__name__} {seed!r}"
            )

    def uniform(self, low: float, high: float, count: int) -> list[float]:
        """``count`` floats drawn uniformly from ``[low, high)``."""
        if self._np is not None:
            return [float(v) for v in self._np.uniform(low, high, count)]
        draw = random.uniform if self._py is None else self._py.uniform
        return [draw(low, high) for _ in range(count)]

    def normal(self, mean: float, std: float, count: int) -> list[float]:
        """``count`` floats drawn from the normal distribution N(mean, std²)."""
        if self._np is not None:
            return [float(v) for v in self._np.normal(mean, std, count)]
        draw = random.normalvariate if self._py is None else self._py.normalvariate
        return [draw(mean, std) for _ in range(count)]

    def __repr__(self) -> str:
        if self._np is not None:
            src = "numpy.random.Generator"
        else:
            src = "random" if self._py is None else "random.Random"
        return f"Sampler({src})"


def as_sampler(seed: SeedLike | Sampler) -> Sampler:
    """Return ``seed`` itself if it is a :class:`Sampler`, else a new sampler drawing from it.

    Args:
        seed: ``None`` (Python's global ``random``), an integer seed, a ``random.Random``, a
            ``numpy.random.Generator`` or a sampler.

    Returns:
        A sampler. Passing the same generator object twice continues its stream.
    """
    return seed if isinstance(seed, Sampler) else Sampler(seed)


class Initializer(Protocol):
    """``(fan_in, fan_out, seed, count) -> count floats``; ``count`` defaults to ``fan_in``."""

    def __call__(
        self, fan_in: int, fan_out: int, seed: SeedLike | Sampler, count: int | None = None
    ) -> list[float]:
        """Draw the initial values."""
        ...


def _check(name: str, fan_in: int, fan_out: int, count: int | None) -> int:
    for arg, v in (("fan_in", fan_in), ("fan_out", fan_out)):
        integer(f"{name}: {arg}", v, low=1)
    return integer(f"{name}: count", fan_in if count is None else count, low=0)


def xavier(
    fan_in: int, fan_out: int = 1, seed: SeedLike | Sampler = None, count: int | None = None
) -> list[float]:
    """The seed lesson's Xavier initialization: ``U[-1/√n, 1/√n]`` with ``n = fan_in``.

    Suited to tanh and sigmoid neurons (it is also PyTorch's default for ``nn.Linear``).

    Args:
        fan_in: The number of inputs to the neuron, n.
        fan_out: Unused (kept so every initializer has the same signature).
        seed: The source of randomness (``None``: Python's global ``random``).
        count: How many values to draw (default ``fan_in``).

    Returns:
        The drawn weights.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is below 1.
    """
    n = _check("xavier", fan_in, fan_out, count)
    bound = 1.0 / math.sqrt(fan_in)
    return as_sampler(seed).uniform(-bound, bound, n)


def xavier_normalized(
    fan_in: int, fan_out: int = 1, seed: SeedLike | Sampler = None, count: int | None = None
) -> list[float]:
    """Normalized Xavier (Glorot uniform): ``U[-√6/√(n+m), √6/√(n+m)]``.

    Args:
        fan_in: The number of inputs to the neuron, n.
        fan_out: The number of neurons in the layer (outputs of the layer), m.
        seed: The source of randomness (``None``: Python's global ``random``).
        count: How many values to draw (default ``fan_in``).

    Returns:
        The drawn weights.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is below 1.
    """
    n = _check("xavier_normalized", fan_in, fan_out, count)
    bound = math.sqrt(6.0) / math.sqrt(fan_in + fan_out)
    return as_sampler(seed).uniform(-bound, bound, n)


def he_normal(
    fan_in: int,
    fan_out: int = 1,
    seed: SeedLike | Sampler = None,
    count: int | None = None,
    gain: float = math.sqrt(2.0),
) -> list[float]:
    """He (Kaiming) normal initialization: ``N(0, σ²)`` with ``σ = gain/√fan_in``.

    The default gain √2 suits ReLU (as PyTorch's ``kaiming_normal_`` with ``fan_in`` mode).

    Args:
        fan_in: The number of inputs to the neuron.
        fan_out: Unused (kept so every initializer has the same signature).
        seed: The source of randomness (``None``: Python's global ``random``).
        count: How many values to draw (default ``fan_in``).
        gain: The activation's gain.

    Returns:
        The drawn weights.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is below 1.
    """
    n = _check("he_normal", fan_in, fan_out, count)
    return as_sampler(seed).normal(0.0, gain / math.sqrt(fan_in), n)


def he_uniform(
    fan_in: int,
    fan_out: int = 1,
    seed: SeedLike | Sampler = None,
    count: int | None = None,
    gain: float = math.sqrt(2.0),
) -> list[float]:
    """He (Kaiming) uniform initialization: ``U[-b, b]`` with ``b = gain·√(3/fan_in)``.

    With the default gain √2 the bound is √(6/fan_in) (PyTorch's ``kaiming_uniform_`` for ReLU).

    Args:
        fan_in: The number of inputs to the neuron.
        fan_out: Unused (kept so every initializer has the same signature).
        seed: The source of randomness (``None``: Python's global ``random``).
        count: How many values to draw (default ``fan_in``).
        gain: The activation's gain.

    Returns:
        The drawn weights.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is below 1.
    """
    n = _check("he_uniform", fan_in, fan_out, count)
    bound = gain * math.sqrt(3.0 / fan_in)
    return as_sampler(seed).uniform(-bound, bound, n)


def uniform(
    fan_in: int,
    fan_out: int = 1,
    seed: SeedLike | Sampler = None,
    count: int | None = None,
    low: float = -1.0,
    high: float = 1.0,
) -> list[float]:
    """``U[low, high]`` whatever the sizes; the default ``U[-1, 1]`` is micrograd's.

    Args:
        fan_in: The number of inputs to the neuron.
        fan_out: Unused (kept so every initializer has the same signature).
        seed: The source of randomness (``None``: Python's global ``random``).
        count: How many values to draw (default ``fan_in``).
        low: The lower bound.
        high: The upper bound.

    Returns:
        The drawn weights.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is below 1 or ``low > high``.
    """
    n = _check("uniform", fan_in, fan_out, count)
    if not low <= high:
        raise ValueError(f"uniform: low must be <= high, got low={low!r}, high={high!r}")
    return as_sampler(seed).uniform(low, high, n)


def normal(
    fan_in: int,
    fan_out: int = 1,
    seed: SeedLike | Sampler = None,
    count: int | None = None,
    std: float = 1.0,
) -> list[float]:
    """``N(0, std²)`` whatever the sizes.

    Args:
        fan_in: The number of inputs to the neuron.
        fan_out: Unused (kept so every initializer has the same signature).
        seed: The source of randomness (``None``: Python's global ``random``).
        count: How many values to draw (default ``fan_in``).
        std: The standard deviation.

    Returns:
        The drawn weights.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is below 1 or ``std < 0``.
    """
    n = _check("normal", fan_in, fan_out, count)
    if not std >= 0.0:
        raise ValueError(f"normal: std must be >= 0, got {std!r}")
    return as_sampler(seed).normal(0.0, std, n)


def zeros(
    fan_in: int = 1, fan_out: int = 1, seed: SeedLike | Sampler = None, count: int | None = None
) -> list[float]:
    """All zeros (the usual bias initialization); draws nothing from ``seed``.

    Returns:
        ``count`` zeros (default ``fan_in``).
    """
    return [0.0] * _check("zeros", fan_in, fan_out, count)


def constant(value: float) -> Initializer:
    """An initializer giving ``value`` everywhere (e.g. a small positive bias for ReLU).

    Args:
        value: A finite number.

    Returns:
        The initializer.

    Raises:
        ValueError: If ``value`` is not a finite real number.
    """
    v = real("constant: value", value)

    def init(
        fan_in: int = 1, fan_out: int = 1, seed: SeedLike | Sampler = None, count: int | None = None
    ) -> list[float]:
        return [v] * _check("constant", fan_in, fan_out, count)

    init.__name__ = f"constant({v!r})"
    return init


INITIALIZERS: dict[str, Initializer] = {
    "xavier": xavier,
    "xavier_normalized": xavier_normalized,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "uniform": uniform,
    "normal": normal,
    "zeros": zeros,
}
"""The initializers by name, as ``Neuron(init=...)`` accepts them."""


def get(init: str | float | Initializer | Callable[..., list[float]]) -> Initializer:
    """Resolve an initializer given by name, by constant value, or as a function.

    Args:
        init: A name from :data:`INITIALIZERS`, a number (a constant initializer) or an
            initializer function.

    Returns:
        The initializer.

    Raises:
        ValueError: If the name is unknown.
        TypeError: If ``init`` is none of the accepted kinds.
    """
    if isinstance(init, str):
        try:
            return INITIALIZERS[init]
        except KeyError:
            raise ValueError(
                f"init: unknown initializer {init!r}; known: {', '.join(INITIALIZERS)}"
            ) from None
    if isinstance(init, numbers.Real) and not isinstance(init, bool):
        return constant(float(init))
    if callable(init):
        return init
    raise TypeError(
        f"init: expected a name, a number or a function, got {type(init).__name__} {init!r}"
    )
