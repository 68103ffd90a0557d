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
# measure, layer by layer, the spread of the activations and of the gradients that come back.

# %%
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

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
