"""Small synthetic datasets, generated with numpy from an explicit seed: no download needed.

Two moons, circles, k-class spirals, XOR and a 1-D regression set; each returns a
:class:`Dataset` of numpy arrays ``X`` (n × d floats) and ``y`` (n labels or targets). Also
mini-batch index iteration for training.
Imports: the standard library and numpy only.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from micrograd_x._checks import integer, real

__all__ = [
    "Dataset",
    "batches",
    "make_circles",
    "make_moons",
    "make_regression_1d",
    "make_spirals",
    "make_xor",
    "one_hot",
    "to_signed",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Dataset(NamedTuple):
    """Inputs and labels (or regression targets).

    Attributes:
        X: The inputs, shape ``(n, d)``, float64.
        y: The labels (int64 class indices) or targets (float64), shape ``(n,)``.
    """

    X: FloatArray
    y: npt.NDArray[np.float64] | IntArray


def _rng(where: str, seed: int | random.Random | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, random.Random):
        return np.random.default_rng(seed.getrandbits(64))
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(integer(f"{where}: seed", seed, low=0))
    raise TypeError(
        f"{where}: seed must be a non-negative int, a random.Random or a numpy Generator, got "
        f"{type(seed).__name__} {seed!r}"
    )


def _count(where: str, name: str, n: object, low: int = 1) -> int:
    return integer(f"{where}: {name}", n, low)


def _noise(where: str, noise: object) -> float:
    return real(f"{where}: noise", noise, low=0.0)


def _shuffled(rng: np.random.Generator, X: FloatArray, y: IntArray) -> Dataset:
    order = rng.permutation(len(y))
    return Dataset(np.ascontiguousarray(X[order]), np.ascontiguousarray(y[order]))


def _noisy(
    rng: np.random.Generator, X: FloatArray, y: IntArray, sd: float, shuffle: bool
) -> Dataset:
    """Jitter the points by ``N(0, sd²)``, then shuffle them (in that order of draws)."""
    if sd:
        X = X + rng.normal(0.0, sd, X.shape)
    return _shuffled(rng, X, y) if shuffle else Dataset(X, y)


def _circle(t: FloatArray) -> FloatArray:
    """The points ``(cos t, sin t)`` of the unit circle, one row per angle."""
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _two_classes(
    rng: np.random.Generator, first: FloatArray, second: FloatArray, sd: float, shuffle: bool
) -> Dataset:
    """``first``'s points labelled 0, then ``second``'s labelled 1; jittered and shuffled."""
    X = np.concatenate([first, second])
    y = np.concatenate([np.zeros(len(first), np.int64), np.ones(len(second), np.int64)])
    return _noisy(rng, X, y, sd, shuffle)


def make_moons(
    n: int = 100,
    noise: float = 0.1,
    seed: int | random.Random | np.random.Generator = 0,
    shuffle: bool = True,
) -> Dataset:
    """Two interleaving half circles (micrograd's demo data), labels 0 and 1.

    The upper moon is ``(cos t, sin t)`` and the lower ``(1 − cos t, 0.5 − sin t)`` for ``t``
    evenly spaced in [0, π]; then Gaussian noise of standard deviation ``noise``.

    Args:
        n: The number of points (the upper moon gets the extra one when n is odd), >= 2.
        noise: The standard deviation of the noise, >= 0.
        seed: An int, ``random.Random`` or numpy ``Generator``.
        shuffle: Shuffle the points (else the upper moon comes first).

    Returns:
        ``X`` of shape (n, 2) and labels ``y`` in {0, 1}. Use :func:`to_signed` for ±1.

    Raises:
        ValueError: If ``n`` < 2, ``noise`` < 0 or ``seed`` < 0.
        TypeError: If an argument has the wrong type.
    """
    n = _count("make_moons", "n", n, low=2)
    sd = _noise("make_moons", noise)
    rng = _rng("make_moons", seed)
    n_up = n - n // 2
    t_up = np.linspace(0.0, math.pi, n_up)
    t_low = np.linspace(0.0, math.pi, n // 2)
    lower = np.array([1.0, 0.5]) - _circle(t_low)
    return _two_classes(rng, _circle(t_up), lower, sd, shuffle)


def make_circles(
    n: int = 100,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int | random.Random | np.random.Generator = 0,
    shuffle: bool = True,
) -> Dataset:
    """Two concentric circles: the outer of radius 1 (label 0), the inner of radius ``factor``.

    The inner circle has label 1.

    Args:
        n: The number of points (the outer circle gets the extra one), >= 2.
        noise: The standard deviation of the Gaussian noise, >= 0.
        factor: The inner radius, in (0, 1).
        seed: An int, ``random.Random`` or numpy ``Generator``.
        shuffle: Shuffle the points.

    Returns:
        ``X`` of shape (n, 2) and labels ``y`` in {0, 1}.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If an argument is out of range.
    """
    n = _count("make_circles", "n", n, low=2)
    sd = _noise("make_circles", noise)
    if not 0 < real("make_circles: factor", factor) < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = _rng("make_circles", seed)
    n_out = n - n // 2
    # endpoint=False: 0 and 2π are the same point.
    t_out = np.linspace(0.0, 2.0 * math.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2.0 * math.pi, n // 2, endpoint=False)
    return _two_classes(rng, _circle(t_out), float(factor) * _circle(t_in), sd, shuffle)


def make_spirals(
    n: int = 150,
    classes: int = 3,
    noise: float = 0.2,
    seed: int | random.Random | np.random.Generator = 0,
    shuffle: bool = True,
) -> Dataset:
    """``classes`` interleaved spiral arms (labels 0 … classes−1), ``n // classes`` points each.

    Arm ``k`` has radius ``r`` evenly spaced in [0, 1] and angle ``4r + 2πk/classes`` plus Gaussian
    noise of standard deviation ``noise`` (in radians): ``(r sin θ, r cos θ)``.

    Args:
        n: The total number of points, >= ``classes``; a remainder is dropped.
        classes: The number of arms, >= 2.
        noise: The angular noise, >= 0.
        seed: An int, ``random.Random`` or numpy ``Generator``.
        shuffle: Shuffle the points.

    Returns:
        ``X`` of shape (classes·(n // classes), 2) and labels ``y``.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If an argument is out of range.
    """
    k = _count("make_spirals", "classes", classes, low=2)
    n = _count("make_spirals", "n", n, low=k)
    sd = _noise("make_spirals", noise)
    rng = _rng("make_spirals", seed)
    per = n // k
    xs, ys = [], []
    for c in range(k):
        r = np.linspace(0.0, 1.0, per)
        theta = 4.0 * r + 2.0 * math.pi * c / k
        if sd:
            theta = theta + rng.normal(0.0, sd, per)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(per, c, np.int64))
    X, y = np.concatenate(xs), np.concatenate(ys)
    return _shuffled(rng, X, y) if shuffle else Dataset(X, y)


def make_xor(
    n: int = 4,
    noise: float = 0.0,
    seed: int | random.Random | np.random.Generator = 0,
) -> Dataset:
    """The XOR problem: points at the corners of the unit square, label ``x₁ XOR x₂``.

    Point ``i`` sits at corner ``i mod 4`` of ``(0,0), (0,1), (1,0), (1,1)`` (labels 0, 1, 1, 0),
    plus Gaussian noise; ``make_xor()`` is the four-row truth table.

    Args:
        n: The number of points, >= 4.
        noise: The standard deviation of the noise, >= 0.
        seed: An int, ``random.Random`` or numpy ``Generator``.

    Returns:
        ``X`` of shape (n, 2) and labels ``y`` in {0, 1}.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If an argument is out of range.
    """
    n = _count("make_xor", "n", n, low=4)
    sd = _noise("make_xor", noise)
    rng = _rng("make_xor", seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    idx = np.arange(n) % 4
    X = corners[idx]
    if sd:
        X = X + rng.normal(0.0, sd, X.shape)
    y = np.array([0, 1, 1, 0], np.int64)[idx]
    return Dataset(np.ascontiguousarray(X, dtype=np.float64), y)


def make_regression_1d(
    n: int = 100,
    noise: float = 0.1,
    seed: int | random.Random | np.random.Generator = 0,
    low: float = -math.pi,
    high: float = math.pi,
) -> Dataset:
    """A 1-D regression set: ``y = sin(x) + noise`` for ``x`` drawn uniformly, sorted.

    Args:
        n: The number of points, >= 1.
        noise: The standard deviation of the Gaussian noise on ``y``, >= 0.
        seed: An int, ``random.Random`` or numpy ``Generator``.
        low: The smallest ``x``.
        high: The largest ``x``, > ``low``.

    Returns:
        ``X`` of shape (n, 1) and float targets ``y``.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If an argument is out of range.
    """
    n = _count("make_regression_1d", "n", n)
    sd = _noise("make_regression_1d", noise)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"make_regression_1d: need finite low < high, got {low!r}, {high!r}")
    rng = _rng("make_regression_1d", seed)
    x = np.sort(rng.uniform(low, high, n))
    y = np.sin(x)
    if sd:
        y = y + rng.normal(0.0, sd, n)
    return Dataset(x.reshape(n, 1), y)


def to_signed(y: npt.ArrayLike) -> FloatArray:
    """Map labels {0, 1} to {−1.0, +1.0} (for the hinge loss).

    Raises:
        ValueError: If a label is neither 0 nor 1.
    """
    a = np.asarray(y)
    bad = ~np.isin(a, (0, 1))
    if bad.any():
        raise ValueError(f"to_signed: labels must be 0 or 1, got {a[bad][0].item()!r}")
    return np.where(a == 1, 1.0, -1.0)


def one_hot(y: npt.ArrayLike, classes: int | None = None) -> FloatArray:
    """One-hot rows for class indices (for cross entropy from probabilities).

    Args:
        y: Class indices 0 … classes−1.
        classes: The number of classes (default ``max(y) + 1``).

    Returns:
        An array of shape (n, classes).

    Raises:
        ValueError: If a label is not an index below ``classes``.
    """
    a = np.asarray(y)
    if a.ndim != 1 or (a.size and (not np.all(a == np.round(a)) or a.min() < 0)):
        raise ValueError("one_hot: labels must be a 1-D array of non-negative integers")
    idx = a.astype(np.int64)
    k = int(idx.max()) + 1 if classes is None and idx.size else int(classes or 0)
    if idx.size and idx.max() >= k:
        raise ValueError(f"one_hot: label {int(idx.max())} needs more than {k} classes")
    out = np.zeros((idx.size, k))
    out[np.arange(idx.size), idx] = 1.0
    return out


def batches(
    n: int,
    batch_size: int,
    seed: int | random.Random | np.random.Generator = 0,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[IntArray]:
    """Endless mini-batches of indices into ``n`` samples: epoch after epoch.

    Each epoch visits every index once (in a fresh random order when ``shuffle``).

    Args:
        n: The number of samples, >= 1.
        batch_size: The batch size, in [1, n].
        seed: An int, ``random.Random`` or numpy ``Generator`` for the shuffling.
        shuffle: Shuffle each epoch.
        drop_last: Skip an epoch's last, smaller batch.

    Yields:
        Index arrays.

    Raises:
        TypeError: If a size is not an integer.
        ValueError: If a size is out of range.
    """
    n = _count("batches", "n", n)
    b = _count("batches", "batch_size", batch_size)
    if b > n:
        raise ValueError(f"batches: batch_size {b} exceeds the {n} samples")
    rng = _rng("batches", seed)
    return _batches(n, b, rng, shuffle, drop_last)


def _batches(
    n: int, b: int, rng: np.random.Generator, shuffle: bool, drop_last: bool
) -> Iterator[IntArray]:
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for start in range(0, n, b):
            chunk = order[start : start + b]
            if drop_last and len(chunk) < b:
                break
            yield chunk
