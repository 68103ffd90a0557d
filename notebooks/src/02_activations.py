# %% [markdown]
# # 2 · Activation functions
#
# Without an activation, a neuron is a straight line, and a stack of straight lines is still one
# straight line: depth would buy nothing. The activation bends the sum. What matters for training
# is not only its shape but its **slope**, because backpropagation multiplies the gradient by that
# slope at every neuron it passes through.
#
# Below, each curve and each derivative is computed by the engine itself: we evaluate the op on a
# `Value`, call `backward()`, and read the input's gradient.

# %%
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %%
import numpy as np

from micrograd_x import Value, ops

xs = np.linspace(-4, 4, 161)


def curve(name):
    """The activation and its derivative at every x, both from the engine."""
    values, slopes = [], []
    for x in xs:
        v = Value(float(x))
        y = getattr(v, name)()
        y.backward()
        values.append(y.data)
        slopes.append(v.grad)
    return np.array(values), np.array(slopes)


names = ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "silu", "softplus"]
curves = {name: curve(name) for name in names}

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for name in names:
    style = "-" if name in ("relu", "sigmoid", "tanh") else ":"
    left.plot(xs, curves[name][0], style, label=name)
    right.plot(xs, curves[name][1], style, label=name)
left.set(title="activation f(x)", xlabel="x", ylim=(-1.5, 4))
right.set(title="derivative f′(x), from backward()", xlabel="x", ylim=(-0.2, 1.3))
left.legend(ncol=2, fontsize=8)
fig.tight_layout()

# %% [markdown]
# What to read in the right-hand panel:
#
# - **sigmoid** squashes to (0, 1); its slope is at most 0.25, at x = 0. Ten sigmoid layers can
#   shrink a gradient by 0.25¹⁰ ≈ 10⁻⁶: the *vanishing gradient*.
# - **tanh** squashes to (−1, 1) and is centred on 0; its slope reaches 1 at the origin but falls
#   to almost 0 once |x| > 3 (saturation).
# - **relu** is max(x, 0): slope 1 for x > 0, so gradients pass unchanged, and slope 0 for x < 0,
#   so a neuron whose input stays negative stops learning (a *dead* ReLU). At the kink x = 0 the
#   engine uses the subgradient 0.
# - **leaky relu**, **elu**, **gelu**, **silu** and **softplus** keep a little slope on the
#   negative side, or round the kink off.
#
# Each op's formula and its kinks are part of its record in `micrograd_x.ops`:

# %%
for name in names:
    op = ops.get(name)
    kinks = f"kink at {op.domain.kinks}" if op.domain.kinks else "smooth"
    peak = np.abs(curves[name][1]).max()
    print(f"{name:>10}: {op.formula:<32} {kinks:<16} max |slope| on [-4, 4]: {peak:.3f}")

# %% [markdown]
# The derivative the engine stores is the op's *local partial*, written once in the op record:
# for sigmoid it is σ(x)(1 − σ(x)), reusing the output. A quick check at x = 0.5 against a central
# difference:

# %%
from micrograd_x.testing import numerical_grad

for name in ("sigmoid", "tanh", "gelu"):
    v = Value(0.5)
    y = getattr(v, name)()
    y.backward()
    (numeric,) = numerical_grad(lambda t, name=name: getattr(t, name)(), [0.5])[0]
    print(f"{name:>8}: stored partial {y.partials[0]:.10f}   finite difference {numeric:.10f}")
