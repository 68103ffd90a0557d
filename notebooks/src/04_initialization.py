# %% [markdown]
# # 4 · Weight initialization
#
# Training starts from random weights, and *how* random matters. Each layer multiplies its input
# by a weight matrix; if the weights are too large, the signal grows layer after layer (and tanh
# neurons saturate, passing no gradient back); too small, and it shrinks towards zero. The same
# happens to gradients on the way back.
#
# The fix is to scale the weights by the number of inputs $n$ of a neuron (and outputs $m$ of the
# layer), so that the spread of the signal stays about the same from layer to layer:
#
# | name | weights drawn from | made for |
# |---|---|---|
# | micrograd's default | $U[-1, 1]$ | (nothing in particular) |
# | Xavier | $U[-1/\sqrt{n},\ 1/\sqrt{n}]$ | tanh, sigmoid |
# | normalized Xavier | $U[-\sqrt{6}/\sqrt{n+m},\ \sqrt{6}/\sqrt{n+m}]$ | tanh, sigmoid |
# | He (Kaiming) | $N(0,\ 2/n)$ | relu |
#
# We push a batch through a deep, narrow network (8 layers of 32 neurons) under each scheme and
# measure, layer by layer, the spread of the activations and of the gradients that come back;
# then we train it and watch each layer's gradient over the run.

# %%
import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats

set_matplotlib_formats("png")  # one image format per figure keeps the notebook small
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## The seed's formulas against the weights actually drawn
#
# Each layer of `MLP(2, [32] * 8 + [1])` has its own fan-in $n$ and fan-out $m$. Next to each
# formula's bound is the largest $|w|$ that `init="xavier"` and `init="xavier_normalized"` drew
# for that layer: every weight falls inside its bound, and the largest comes close to it.

# %%
import math

from micrograd_x.nn import MLP

print(
    f"{'layer':>5} {'n':>3} {'m':>3}   {'1/√n':>7} {'max |w|':>8}   {'√6/√(n+m)':>9} {'max |w|':>8}"
)
xavier = MLP(2, [32] * 8 + [1], activation="tanh", init="xavier", seed=0)
normalized = MLP(2, [32] * 8 + [1], activation="tanh", init="xavier_normalized", seed=0)
for k, (a, b) in enumerate(zip(xavier.layers, normalized.layers), start=1):
    n, m = a.nin, a.nout
    largest_a = max(abs(w.data) for neuron in a.neurons for w in neuron.w)
    largest_b = max(abs(w.data) for neuron in b.neurons for w in neuron.w)
    print(
        f"{k:>5} {n:>3} {m:>3}   {1 / math.sqrt(n):>7.3f} {largest_a:>8.3f}   "
        f"{math.sqrt(6 / (n + m)):>9.3f} {largest_b:>8.3f}"
    )

# %%
import numpy as np

from micrograd_x import Value
from micrograd_x import sum as vsum
from micrograd_x.nn import MLP

WIDTH, DEPTH, BATCH = 32, 8, 16
rng = np.random.default_rng(0)
batch = rng.normal(size=(BATCH, WIDTH))
upstream = rng.normal(size=BATCH * WIDTH)  # stands in for ∂loss/∂output: random, fixed
schemes = {
    "U[-1, 1]": "uniform",
    "Xavier": "xavier",
    "normalized Xavier": "xavier_normalized",
    "He": "he_normal",
}


def layer_statistics(activation, init):
    """Std of activations and of their gradients, per layer, for one batch."""
    model = MLP(
        WIDTH,
        [WIDTH] * DEPTH,
        activation=activation,
        output_activation=activation,
        init=init,
        seed=0,
    )
    per_layer = [[] for _ in model.layers]
    outputs = []
    for row in batch:
        h = [Value(float(x)) for x in row]
        for k, layer in enumerate(model.layers):
            h = layer(h)
            per_layer[k].extend(h)
        outputs.extend(h)
    vsum([o * float(u) for o, u in zip(outputs, upstream)]).backward()
    act = [np.std([v.data for v in values]) for values in per_layer]
    grad = [np.std([v.grad for v in values]) for values in per_layer]
    return act, grad


stats = {
    (activation, name): layer_statistics(activation, init)
    for activation in ("tanh", "relu")
    for name, init in schemes.items()
}

# %%
layers = np.arange(1, DEPTH + 1)
fig, axes = plt.subplots(2, 2, figsize=(11, 6.5), sharex=True)
for row, activation in enumerate(("tanh", "relu")):
    for name in schemes:
        act, grad = stats[activation, name]
        axes[row, 0].plot(layers, act, "o-", label=name)
        axes[row, 1].plot(layers, grad, "o-", label=name)
    axes[row, 0].set(title=f"{activation}: spread of activations", ylabel="std", yscale="log")
    axes[row, 1].set(title=f"{activation}: spread of gradients", yscale="log")
for ax in axes[1]:
    ax.set_xlabel("layer")
axes[0, 0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** the initial scale decides whether the signal and the gradients keep
# their size through eight layers (flat lines) or grow and shrink by decades.
#
# How to read it. A neuron sums $n = 32$ inputs; if each weight has variance $v$, the sum's
# variance is about $n v$ times the input's. Keeping $n v$ near 1 (near 2 for relu, which zeroes
# half its inputs) keeps the signal, forwards and backwards, the same size at every layer.
#
# - **U[-1, 1]** has $v = 1/3$, so $n v ≈ 11$. tanh neurons saturate at ±1 (activation spread
#   stuck near 0.85 in every layer), and gradients grow tenfold on the way back to layer 1; relu
#   activations and gradients grow about 2.2× per layer: they explode.
# - **Xavier** as the seed lesson writes it, $U[±1/\sqrt{n}]$, has $v = 1/(3n)$, so $n v = 1/3$:
#   the signal shrinks by about √3 per tanh layer (by √6 per relu layer) and the gradients
#   reaching layer 1 are a hundredth (tanh) or a thousandth (relu) of those at layer 8: they
#   vanish.
# - **Normalized Xavier** has $v = 2/(n+m) = 1/n$ here, so $n v = 1$: much flatter. tanh still
#   loses a little per layer (it compresses), relu loses half its power per layer.
# - **He** has $v = 2/n$: flat for relu, as designed, and here flat for tanh as well.
#
# So the scale should follow the fan-in and the activation: He for relu, normalized Xavier (or He)
# for tanh. The table gives the change from the first layer to the last.

# %%
print(f"{'':>8} {'scheme':>18}  activations: layer 8 / layer 1   gradients: layer 1 / layer 8")
for (activation, name), (act, grad) in stats.items():
    print(f"{activation:>8} {name:>18}  {act[-1] / act[0]:>30.3g}   {grad[0] / grad[-1]:>28.3g}")

# %% [markdown]
# ## In motion: each layer's gradient while training
#
# The spreads above are a snapshot at the start. Does training repair a bad start? Train the same
# deep tanh network (9 layers: 8 of 32 neurons and the output) on the two moons under each
# scheme, with the same rate and data, and record every layer's gradient norm (the L2 norm of its
# weight and bias gradients) at every step with `fit(..., layer_stats=True)`. Lines run from dark
# (layer 1, next to the input) to yellow (layer 9, the output): a wide fan means the layers learn
# at very different speeds.

# %%
from micrograd_x import data
from micrograd_x.plots import plot_layer_stats
from micrograd_x.train import fit

X, labels = data.make_moons(40, noise=0.1, seed=1)
y = data.to_signed(labels)
histories = {}
for name, init in schemes.items():
    model = MLP(2, [WIDTH] * DEPTH + [1], activation="tanh", init=init, seed=0)
    histories[name] = fit(
        model, X, y, loss="hinge", lr=0.05, steps=40, progress=False, layer_stats=True
    )

fig, axes = plt.subplots(2, 2, figsize=(9, 6), sharex=True, sharey=True)
shades = plt.get_cmap("viridis")
for ax, (name, history) in zip(axes.flat, histories.items()):
    plot_layer_stats(history, "grad_norm", ax=ax)
    lines = ax.get_lines()
    for k, line in enumerate(lines):
        line.set(color=shades(k / (len(lines) - 1)), linestyle="-")
    ax.legend([lines[0], lines[-1]], ["layer 1 (input side)", "layer 9 (output)"], fontsize=8)
    ax.set_title(f"{name}: final accuracy {history.accuracy[-1]:.0%}", fontsize=10)
    ax.set_ylabel("gradient norm per layer" if ax in axes[:, 0] else "")
    if ax not in axes[1]:
        ax.set_xlabel("")
fig.tight_layout()
for name, history in histories.items():
    print(f"{name:>18}: loss {history.loss[0]:.3f} → {history.loss[-1]:.3f}")

# %% [markdown]
# **The point of the figure:** the initial scale sets the size of every layer's gradient for the
# whole run; under the seed's Xavier form it starts tens of times below the others and stays
# there, so with the same rate that network barely learns.
#
# - **U[−1, 1]**: gradients of order 1 to 10, largest at layer 1 and smallest at the output, a
#   fan about ten wide. By step 31 every point has a margin, the hinge loss is 0 and so is every
#   gradient, which a log scale cannot show: the lines end there.
# - **Xavier** (the seed's form): every layer's gradient stays between about 0.007 and 0.04 for
#   all 40 steps, and the loss barely falls.
# - **Normalized Xavier**: gradients near 1 at first, falling by a factor of ten as the loss falls.
# - **He**: gradients of order 1 throughout, the layers' lines close together.
