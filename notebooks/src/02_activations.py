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
from matplotlib_inline.backend_inline import set_matplotlib_formats

set_matplotlib_formats("png")  # one image format per figure keeps the notebook small
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %%
import numpy as np

from micrograd_x import Value, ops

xs = np.linspace(-4, 4, 161)  # includes x = 0 exactly, where the kinks are
VANISH = 0.05  # a slope below this passes less than 5% of the gradient back


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


def saturated(slope):
    """The (start, end) x of each tail where |slope| stays below VANISH out to the plot's edge."""
    small = np.abs(slope) < VANISH
    tails = []
    if small[0]:
        tails.append((xs[0], xs[np.argmin(small) - 1]))  # argmin: the first False
    if small[-1]:
        tails.append((xs[len(xs) - np.argmin(small[::-1])], xs[-1]))
    return tails


names = ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "silu", "softplus"]
curves = {name: curve(name) for name in names}

fig, axes = plt.subplots(2, 4, figsize=(12.5, 5.6), sharex=True, sharey=True)
for ax, name in zip(axes.flat, names):
    f, slope = curves[name]
    for a, b in saturated(slope):
        ax.axvspan(a, b, color="#999999", alpha=0.18, linewidth=0)
    ax.plot(xs, f, color="#0072b2", linewidth=2, label="f(x)")
    ax.plot(xs, slope, color="#d55e00", linewidth=2, linestyle="--", label="f′(x), from backward()")
    for k in ops.get(name).domain.kinks:
        i = int(np.argmin(np.abs(xs - k)))
        ax.axvline(k, color="black", linewidth=0.8, linestyle=":")
        ax.plot(xs[i - 1], slope[i - 1], "o", mfc="white", mec="#d55e00", markersize=6)
        ax.plot(xs[i + 1], slope[i + 1], "o", mfc="white", mec="#d55e00", markersize=6)
        ax.plot(k, slope[i], "o", color="#d55e00", markersize=5)
    ax.text(0.97, 0.05, f"f′(−4) = {slope[0]:.2g}", transform=ax.transAxes, ha="right")
    ax.set(title=name, ylim=(-1.3, 2.3))
    ax.axhline(0, color="black", linewidth=0.6)
for ax in axes[1]:
    ax.set_xlabel("x")
axes[0, 0].legend(loc="upper left", fontsize=8)
fig.suptitle(
    "each activation f (solid) and its slope f′ (dashed); grey: a saturated tail, where "
    f"|f′| < {VANISH} out to the edge; dotted: a kink, ● the slope the engine uses there",
    fontsize=10,
)
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** the dashed slope, not the solid curve, is what backpropagation
# multiplies by, and the grey bands show where each activation lets almost no gradient through.
# The number in each corner tells the look-alikes apart: relu passes exactly 0 on the left, leaky
# relu 0.01.
#
# What to read in the panels:
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
