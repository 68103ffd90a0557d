from __future__ import annotations

import math
import random

import numpy as np
import pytest

from micrograd_x import data


def test_moons_shapes_labels_and_curves() -> None:
    X, y = data.make_moons(101, noise=0.0, shuffle=False)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert (y[:51] == 0).all() and (y[51:] == 1).all()
    up, low = X[y == 0], X[y == 1]
    # Without noise every point lies on its half circle of radius 1.
    assert np.hypot(up[:, 0], up[:, 1]) == pytest.approx(1.0)
    assert np.hypot(low[:, 0] - 1.0, low[:, 1] - 0.5) == pytest.approx(1.0)
    assert (up[:, 1] >= -1e-12).all() and (low[:, 1] <= 0.5 + 1e-12).all()


def test_moons_noise_has_the_requested_spread() -> None:
    clean = data.make_moons(4000, noise=0.0, shuffle=False).X
    noisy = data.make_moons(4000, noise=0.1, shuffle=False, seed=3).X
    resid = (noisy - clean).ravel()
    # 8000 N(0, 0.01) draws: the sample std is within a few standard errors of 0.1.
    assert abs(resid.std() - 0.1) < 5 * 0.1 / math.sqrt(2 * len(resid))


def test_same_seed_same_data_and_shuffling_keeps_pairs() -> None:
    a = data.make_moons(50, seed=7)
    b = data.make_moons(50, seed=7)
    c = data.make_moons(50, seed=8)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    r1 = data.make_moons(50, seed=random.Random(1))
    r2 = data.make_moons(50, seed=random.Random(1))
    assert np.array_equal(r1.X, r2.X)
    g = data.make_moons(50, seed=np.random.default_rng(2))
    assert np.array_equal(g.X, data.make_moons(50, seed=np.random.default_rng(2)).X)
    # Shuffled points are the unshuffled ones, each with its own label.
    clean = data.make_moons(20, noise=0.0, shuffle=False)
    mixed = data.make_moons(20, noise=0.0, seed=4)
    assert sorted(map(tuple, mixed.X.tolist())) == sorted(map(tuple, clean.X.tolist()))
    lookup = {tuple(x): int(t) for x, t in zip(clean.X.tolist(), clean.y)}
    assert all(lookup[tuple(x)] == t for x, t in zip(mixed.X.tolist(), mixed.y))


def test_circles() -> None:
    X, y = data.make_circles(100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 0] == pytest.approx(1.0) and r[y == 1] == pytest.approx(0.3)
    assert (y == 0).sum() == 50
    # No duplicated point where the circle closes.
    assert len({tuple(p) for p in np.round(X, 12).tolist()}) == 100


def test_spirals_have_k_arms() -> None:
    X, y = data.make_spirals(100, classes=4, noise=0.0, seed=0, shuffle=False)
    assert X.shape == (100, 2) and sorted(set(y.tolist())) == [0, 1, 2, 3]
    assert [int((y == c).sum()) for c in range(4)] == [25] * 4
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() == pytest.approx(1.0) and r.min() == 0.0
    assert data.make_spirals(10, classes=3).X.shape == (9, 2)


def test_xor_truth_table() -> None:
    X, y = data.make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [0, 1, 1, 0]
    Xn, yn = data.make_xor(40, noise=0.05, seed=1)
    assert Xn.shape == (40, 2) and (yn == np.logical_xor(Xn[:, 0] > 0.5, Xn[:, 1] > 0.5)).all()


def test_regression_1d() -> None:
    X, y = data.make_regression_1d(200, noise=0.0, seed=0)
    assert X.shape == (200, 1) and y.shape == (200,)
    assert (np.diff(X[:, 0]) >= 0).all()
    assert y == pytest.approx(np.sin(X[:, 0]))
    assert X.min() >= -math.pi and X.max() <= math.pi
    _, yn = data.make_regression_1d(200, noise=0.2, seed=0)
    assert 0.1 < np.std(yn - y) < 0.3


def test_to_signed_and_one_hot() -> None:
    assert data.to_signed([0, 1, 1]).tolist() == [-1.0, 1.0, 1.0]
    assert data.one_hot([2, 0]).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert data.one_hot([1], classes=3).tolist() == [[0, 1, 0]]
    with pytest.raises(ValueError, match="to_signed: labels must be 0 or 1, got 2"):
        data.to_signed([0, 2])
    with pytest.raises(ValueError, match="one_hot: labels must be a 1-D array of non-negative"):
        data.one_hot([0.5])
    with pytest.raises(ValueError, match="one_hot: label 3 needs more than 2 classes"):
        data.one_hot([3], classes=2)


def test_batches_visit_every_index_each_epoch() -> None:
    it = data.batches(10, 4, seed=0)
    epoch1 = [next(it) for _ in range(3)]
    epoch2 = [next(it) for _ in range(3)]
    assert [len(b) for b in epoch1] == [4, 4, 2]
    assert sorted(np.concatenate(epoch1).tolist()) == list(range(10))
    assert sorted(np.concatenate(epoch2).tolist()) == list(range(10))
    assert np.concatenate(epoch1).tolist() != np.concatenate(epoch2).tolist()
    fixed = data.batches(5, 2, shuffle=False, drop_last=True)
    assert [next(fixed).tolist() for _ in range(3)] == [[0, 1], [2, 3], [0, 1]]
    again = data.batches(10, 4, seed=0)
    assert all(np.array_equal(next(again), b) for b in epoch1)


@pytest.mark.parametrize(
    ("call", "kind", "msg"),
    [
        (lambda: data.make_moons(1), ValueError, "make_moons: n must be an integer >= 2, got 1"),
        (lambda: data.make_moons(10.0), TypeError, "make_moons: n must be an integer"),
        (lambda: data.make_moons(10, noise=-1), ValueError, "make_moons: noise must be a finite"),
        (lambda: data.make_moons(10, noise=math.nan), ValueError, "noise must be a finite number"),
        (lambda: data.make_moons(10, seed="a"), TypeError, "make_moons: seed must be a non-neg"),
        (lambda: data.make_moons(10, seed=-1), ValueError, "seed must be a non-negative int"),
        (lambda: data.make_circles(10, factor=1.0), ValueError, r"factor must be in \(0, 1\)"),
        (lambda: data.make_spirals(10, classes=1), ValueError, "classes must be an integer >= 2"),
        (lambda: data.make_spirals(2, classes=3), ValueError, "n must be an integer >= 3"),
        (lambda: data.make_xor(3), ValueError, "make_xor: n must be an integer >= 4"),
        (lambda: data.make_regression_1d(5, low=1, high=0), ValueError, "need finite low < high"),
        (lambda: data.batches(5, 6), ValueError, "batches: batch_size 6 exceeds the 5 samples"),
        (lambda: data.batches(5, 0), ValueError, "batch_size must be a positive integer"),
    ],
)
def test_bad_arguments(call: object, kind: type[Exception], msg: str) -> None:
    with pytest.raises(kind, match=msg):
        call()  # type: ignore[operator]
