"""Per-layer training statistics (``fit(..., layer_stats=True)``) and their plot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_x import nn
from micrograd_x.layerstats import STATS, layer_stats
from micrograd_x.plots import plot_layer_stats
from micrograd_x.train import History, fit


def _set(model: nn.MLP, layers: list[tuple[list[list[float]], list[float]]]) -> None:
    for layer, (ws, bs) in zip(model.layers, layers):
        for neuron, w, b in zip(layer.neurons, ws, bs):
            for p, v in zip(neuron.w, w):
                p.data = v
            assert neuron.b is not None
            neuron.b.data = b


def test_one_step_matches_a_hand_computation() -> None:
    # MLP(1, [2, 1]) with ReLU, MSE on two points. Hidden neuron 2 is dead on this batch.
    model = nn.MLP(1, [2, 1], activation="relu")
    w1, c1, w2, c2 = 0.5, 0.1, -1.0, -5.0
    v1, v2, d = 2.0, -3.0, 0.25
    _set(model, [([[w1], [w2]], [c1, c2]), ([[v1, v2]], [d])])
    xs, ts = [1.0, 3.0], [1.0, -1.0]

    # By hand: h1 = relu(w1 x + c1) (> 0 here), h2 = relu(w2 x + c2) = 0, out = v1 h1 + v2 h2 + d.
    h1 = [w1 * x + c1 for x in xs]
    h2 = [0.0, 0.0]
    out = [v1 * a + v2 * b + d for a, b in zip(h1, h2)]
    r = [2.0 * (o - t) / len(xs) for o, t in zip(out, ts)]  # dL/dout for the mean of squares
    g_v1 = sum(ri * a for ri, a in zip(r, h1))
    g_v2 = 0.0
    g_d = sum(r)
    g_w1 = sum(ri * v1 * x for ri, x in zip(r, xs))
    g_c1 = sum(ri * v1 for ri in r)
    hidden = h1 + h2
    mean_h = sum(hidden) / 4
    std_h = math.sqrt(sum((a - mean_h) ** 2 for a in hidden) / 4)
    mean_o = sum(out) / 2
    std_o = math.sqrt(sum((o - mean_o) ** 2 for o in out) / 2)

    for replay in (False, True):
        m = nn.MLP(1, [2, 1], activation="relu")
        _set(m, [([[w1], [w2]], [c1, c2]), ([[v1, v2]], [d])])
        hist = fit(
            m, [[x] for x in xs], ts, loss="mse", steps=3, lr=0.0, replay=replay, layer_stats=True
        )
        assert hist.mode == ("replay" if replay else "eager")
        assert len(hist.layer_stats) == 3
        first = hist.layer_stats[0]
        assert list(first) == ["layer1", "layer2"]
        assert first["layer1"]["grad_norm"] == pytest.approx(math.hypot(g_w1, g_c1), rel=1e-12)
        assert first["layer2"]["grad_norm"] == pytest.approx(
            math.sqrt(g_v1**2 + g_v2**2 + g_d**2), rel=1e-12
        )
        assert first["layer1"]["act_mean"] == pytest.approx(mean_h, rel=1e-12)
        assert first["layer1"]["act_std"] == pytest.approx(std_h, rel=1e-12)
        assert first["layer1"]["dead_fraction"] == 0.5
        assert first["layer2"]["act_mean"] == pytest.approx(mean_o, rel=1e-12)
        assert first["layer2"]["act_std"] == pytest.approx(std_o, rel=1e-12)
        assert first["layer2"]["dead_fraction"] == 0.0  # linear output: never dead


def test_eager_and_replay_record_the_same_statistics() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    runs = []
    for replay in (False, True):
        model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=5)
        runs.append(
            fit(
                model, X, y, loss="hinge", l2=1e-4, steps=6, lr=0.3, replay=replay, layer_stats=True
            )
        )
    eager, replayed = runs
    assert (eager.mode, replayed.mode) == ("eager", "replay")
    assert len(eager.layer_stats) == len(replayed.layer_stats) == 6
    for a, b in zip(eager.layer_stats, replayed.layer_stats):
        assert list(a) == list(b) == ["layer1", "layer2", "layer3"]
        for name in a:
            assert set(a[name]) == set(STATS)
            for stat in STATS:
                assert a[name][stat] == pytest.approx(b[name][stat], rel=1e-12, abs=1e-15)
    # The statistics move with training: the first hidden layer's gradient norm changes.
    norms = [s["layer1"]["grad_norm"] for s in eager.layer_stats]
    assert len(set(norms)) > 1


def test_mini_batch_statistics_use_the_step_batch() -> None:
    X = np.linspace(-1, 1, 20).reshape(-1, 2)
    y = X[:, 0] - X[:, 1]
    model = nn.MLP(2, [4, 1], activation="relu", seed=1)
    hist = fit(model, X, y, loss="mse", steps=1, lr=0.0, batch_size=4, seed=0, layer_stats=True)
    # With lr = 0 the model is unchanged: recompute the step's batch and compare.
    from micrograd_x.data import batches

    idx = next(batches(len(X), 4, seed=0))
    again = layer_stats(model, X[idx])
    assert hist.layer_stats[0]["layer1"]["act_mean"] == again["layer1"]["act_mean"]


def test_custom_activation_is_measured_through_its_values() -> None:
    X = np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 2.0]])
    stats = []
    for act in ("relu", lambda v: v.relu()):
        model = nn.Layer(2, 3, activation=act, init="xavier", seed=2)
        stats.append(layer_stats(model, X))
    named, custom = stats
    for stat in ("act_mean", "act_std", "dead_fraction"):
        assert custom["layer"][stat] == pytest.approx(named["layer"][stat], rel=1e-12)


def test_layer_stats_needs_known_layers() -> None:
    class Custom(nn.MLP):
        pass

    with pytest.raises(ValueError, match="shape"):
        layer_stats(nn.MLP(2, [2]), [[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="MLP, Layer or Neuron"):
        from micrograd_x.layerstats import model_layers

        model_layers(object())  # type: ignore[arg-type]
    assert isinstance(Custom(2, [2]), nn.MLP)


def test_plot_layer_stats_draws_one_line_per_layer() -> None:
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    model = nn.MLP(2, [6, 6, 1], seed=0)
    hist = fit(model, X, y, steps=5, layer_stats=True)
    ax = plot_layer_stats(hist)
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["layer1", "layer2", "layer3"]
    xs = ax.get_lines()[0].get_xdata()
    assert list(xs) == [0, 1, 2, 3, 4]
    ys = ax.get_lines()[0].get_ydata()
    assert list(ys) == [s["layer1"]["grad_norm"] for s in hist.layer_stats]
    assert plot_layer_stats(hist, "dead_fraction").get_yscale() == "linear"
    with pytest.raises(ValueError, match="stat must be one of"):
        plot_layer_stats(hist, "nope")
    with pytest.raises(ValueError, match="layer_stats=True"):
        plot_layer_stats(History())
