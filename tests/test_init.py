from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import init
from micrograd_x.nn import MLP

N = 20_000  # samples for the statistics tests


def _uniform_stats_ok(xs: list[float], bound: float) -> None:
    # U[-b, b]: mean 0, variance b²/3; the variance of x² is b⁴/5 - b⁴/9 = 4b⁴/45.
    a = np.asarray(xs)
    assert np.all(np.abs(a) <= bound)
    mean_se = math.sqrt(bound**2 / 3 / len(a))
    var_se = math.sqrt(4 * bound**4 / 45 / len(a))
    assert abs(a.mean()) < 5 * mean_se
    assert abs(a.var() - bound**2 / 3) < 5 * var_se
    # The samples fill the interval (not a narrower one).
    assert a.max() > 0.99 * bound and a.min() < -0.99 * bound


def _normal_stats_ok(xs: list[float], std: float) -> None:
    # N(0, σ²): the variance of x² is 2σ⁴.
    a = np.asarray(xs)
    assert abs(a.mean()) < 5 * std / math.sqrt(len(a))
    assert abs(a.var() - std**2) < 5 * math.sqrt(2 * std**4 / len(a))


@pytest.mark.parametrize("fan_in", [1, 2, 16, 100])
def test_xavier_is_the_seeds_uniform_on_one_over_root_n(fan_in: int) -> None:
    _uniform_stats_ok(init.xavier(fan_in, 7, seed=1, count=N), 1 / math.sqrt(fan_in))


@pytest.mark.parametrize(("n", "m"), [(2, 16), (16, 16), (16, 1), (100, 3)])
def test_normalized_xavier_bound_uses_inputs_and_outputs(n: int, m: int) -> None:
    _uniform_stats_ok(
        init.xavier_normalized(n, m, seed=2, count=N), math.sqrt(6) / math.sqrt(n + m)
    )


@pytest.mark.parametrize("fan_in", [2, 16, 64])
def test_he_uniform_and_normal(fan_in: int) -> None:
    _uniform_stats_ok(init.he_uniform(fan_in, 1, seed=3, count=N), math.sqrt(6 / fan_in))
    _normal_stats_ok(init.he_normal(fan_in, 1, seed=4, count=N), math.sqrt(2 / fan_in))
    _normal_stats_ok(init.he_normal(fan_in, 1, seed=4, count=N, gain=1.0), 1 / math.sqrt(fan_in))


def test_uniform_normal_zeros_constant() -> None:
    _uniform_stats_ok(init.uniform(3, seed=5, count=N), 1.0)
    xs = init.uniform(3, seed=5, count=N, low=2.0, high=4.0)
    assert min(xs) >= 2.0 and max(xs) <= 4.0
    _normal_stats_ok(init.normal(3, seed=6, count=N, std=0.5), 0.5)
    assert init.zeros(4) == [0.0] * 4
    assert init.constant(0.25)(3) == [0.25] * 3
    assert init.get(0.1)(2, 1, 0, 1) == [0.1]


def test_statistics_hold_with_python_random_too() -> None:
    _uniform_stats_ok(init.xavier(4, seed=random.Random(7), count=N), 0.5)
    _normal_stats_ok(init.he_normal(8, seed=random.Random(7), count=N), 0.5)


def test_default_count_is_fan_in() -> None:
    assert len(init.xavier(5, 3, seed=0)) == 5
    assert len(init.he_uniform(5, 3, seed=0, count=0)) == 0


@given(
    fan_in=st.integers(1, 500),
    fan_out=st.integers(1, 500),
    seed=st.integers(0, 2**32),
)
def test_bounds_hold_for_any_sizes_and_seed(fan_in: int, fan_out: int, seed: int) -> None:
    assert all(abs(v) <= 1 / math.sqrt(fan_in) for v in init.xavier(fan_in, fan_out, seed))
    b = math.sqrt(6) / math.sqrt(fan_in + fan_out)
    assert all(abs(v) <= b for v in init.xavier_normalized(fan_in, fan_out, seed))
    assert all(abs(v) <= math.sqrt(6 / fan_in) for v in init.he_uniform(fan_in, fan_out, seed))


def test_same_seed_same_numbers_for_every_kind_of_seed() -> None:
    assert init.xavier(16, 1, 42) == init.xavier(16, 1, 42)
    assert init.xavier(16, 1, 42) != init.xavier(16, 1, 43)
    assert init.xavier(16, 1, random.Random(9)) == init.xavier(16, 1, random.Random(9))
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert init.he_normal(16, 1, g1) == init.he_normal(16, 1, g2)
    # A generator object continues its stream: two draws differ.
    assert init.he_normal(16, 1, g1) != init.he_normal(16, 1, g1)


def test_same_seed_same_model_bit_for_bit() -> None:
    def bits(m: MLP) -> list[str]:
        return [p.data.hex() for p in m.parameters()]

    assert bits(MLP(2, [16, 16, 1], seed=3)) == bits(MLP(2, [16, 16, 1], seed=3))
    assert bits(MLP(2, [16, 16, 1], seed=3)) != bits(MLP(2, [16, 16, 1], seed=4))
    assert bits(MLP(3, [4, 2], seed=random.Random(1))) == bits(
        MLP(3, [4, 2], seed=random.Random(1))
    )
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    assert bits(MLP(3, [4, 2], seed=r1)) == bits(MLP(3, [4, 2], seed=r2))


def test_bad_seeds_and_sizes() -> None:
    with pytest.raises(TypeError, match=r"seed: expected None, an int, .* got str '1'"):
        init.xavier(2, 1, "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got float 1\.5"):
        init.xavier(2, 1, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got bool"):
        init.xavier(2, 1, True)
    with pytest.raises(ValueError, match="seed: must be a non-negative integer, got -1"):
        init.xavier(2, 1, -1)
    with pytest.raises(ValueError, match="xavier: fan_in must be a positive integer, got 0"):
        init.xavier(0)
    with pytest.raises(ValueError, match="xavier_normalized: fan_out must be a positive integer"):
        init.xavier_normalized(2, -3)
    with pytest.raises(ValueError, match="he_uniform: count must be a non-negative integer"):
        init.he_uniform(2, 1, 0, count=-1)
    with pytest.raises(ValueError, match="uniform: low must be <= high"):
        init.uniform(2, low=1.0, high=0.0)
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        init.normal(2, std=-1.0)
    with pytest.raises(ValueError, match="constant: value must be a finite number, got nan"):
        init.constant(math.nan)
    with pytest.raises(ValueError, match="init: unknown initializer 'glorot'; known: xavier"):
        init.get("glorot")
    with pytest.raises(TypeError, match="init: expected a name, a number or a function"):
        init.get([1.0])  # type: ignore[arg-type]
