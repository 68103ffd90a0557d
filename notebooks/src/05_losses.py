# %% [markdown]
# # 5 · Loss functions
#
# A loss turns "how wrong is the prediction" into one number to minimize. Its **gradient** is
# what training actually feels, so for each loss we plot both. Every curve below comes from the
# functions in `micrograd_x.losses`, differentiated by `backward()`.
#
# ## Regression: MSE, L1 and smooth L1
#
# With the error $d = \hat y - y$:
#
# - **MSE** $d^2$: the gradient $2d$ grows with the error, so one outlier can dominate a batch
#   (and push very large updates).
# - **L1** $|d|$: the gradient is ±1 whatever the error, robust to outliers but with a kink at 0
#   where it jumps, so training jitters near the optimum.
# - **smooth L1** (PyTorch's definition, with threshold β): quadratic, $0.5 d^2/β$, for
#   $|d| < β$ and linear, $|d| - 0.5β$, beyond. The gradient is capped at ±1 for large errors and
#   shrinks smoothly to 0 near the target: the best of both.

# %%
import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats

set_matplotlib_formats("png")  # one image format per figure keeps the notebook small
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %%
import numpy as np

from micrograd_x import Value, losses

errors = np.linspace(-3, 3, 241)


def loss_and_slope(fn):
    """The loss at each error d = prediction - 0, and its gradient from backward()."""
    values, slopes = [], []
    for d in errors:
        pred = Value(float(d))
        loss = fn(pred)
        loss.backward()
        values.append(loss.data)
        slopes.append(pred.grad)
    return values, slopes


curves = {
    "MSE": loss_and_slope(lambda p: losses.mse([p], [0.0])),
    "L1": loss_and_slope(lambda p: losses.smooth_l1([p], [0.0], beta=0.0)),
    "smooth L1, β = 1": loss_and_slope(lambda p: losses.smooth_l1([p], [0.0], beta=1.0)),
}
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
for name, (values, slopes) in curves.items():
    left.plot(errors, values, label=name)
    right.plot(errors, slopes, label=name)
left.set(title="loss", xlabel="error d = prediction − target", ylim=(0, 4))
right.set(title="gradient ∂loss/∂prediction", xlabel="error d", ylim=(-3.5, 3.5))
left.legend()
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** MSE's gradient grows without limit as the error grows, while L1
# and smooth L1 cap it at ±1; only smooth L1 also fades to 0 at the target.
#
# ## One outlier, two fits
#
# What the capped gradient buys is easiest to see on data. Twenty points lie close to the line
# $y = 0.5x + 1$; two more, far off, are outliers (a sensor glitch, a typo). We fit a line
# $\hat y = a x + b$ twice by gradient descent from the same start, once minimizing MSE and
# once smooth L1, and nothing else changes.

# %%
from micrograd_x import Parameter, optim

rng = np.random.default_rng(3)
xs = np.linspace(-3, 3, 20)
ys = 0.5 * xs + 1 + 0.25 * rng.normal(size=xs.size)
outliers_x, outliers_y = np.array([2.0, 2.6]), np.array([-6.0, -7.0])
all_x, all_y = np.r_[xs, outliers_x], np.r_[ys, outliers_y]


def fit_line(loss):
    """Fit y = a·x + b to all points by minimizing loss(predictions, targets)."""
    a, b = Parameter(0.0, label="a"), Parameter(0.0, label="b")
    adam = optim.Adam([a, b], lr=0.05)
    for _ in range(600):
        value = loss([a * x + b for x in all_x.tolist()], all_y.tolist())
        adam.zero_grad()
        value.backward()
        adam.step()
    return a.data, b.data


def pulls(a, b, loss):
    """How hard each point pulls on the fitted line: |∂loss/∂prediction| for every point."""
    preds = [Value(a * x + b) for x in all_x.tolist()]
    loss(preds, all_y.tolist()).backward()
    return np.array([abs(p.grad) for p in preds])


fits = {"MSE": losses.mse, "smooth L1, β = 1": lambda p, t: losses.smooth_l1(p, t, beta=1.0)}
lines = {name: fit_line(loss) for name, loss in fits.items()}
for name, (a, b) in lines.items():
    print(f"{name:>16}: y = {a:.3f}·x + {b:.3f}     (the 20 good points follow y = 0.5·x + 1)")

colours = {"MSE": "#0072b2", "smooth L1, β = 1": "#009e73"}
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1.4, 1]})
left.scatter(xs, ys, color="#555555", s=18, label="data")
left.scatter(outliers_x, outliers_y, color="#d55e00", s=40, marker="D", label="outliers")
grid = np.linspace(-3.2, 3.2, 2)
left.plot(grid, 0.5 * grid + 1, ":", color="black", linewidth=1, label="y = 0.5x + 1")
for name, (a, b) in lines.items():
    left.plot(grid, a * grid + b, color=colours[name], linewidth=2, label=f"fit by {name}")
left.set(title="the same data, two losses", xlabel="x", ylabel="y")
left.legend(fontsize=8, loc="lower left")
order = np.argsort(all_x)
for k, (name, (a, b)) in enumerate(lines.items()):
    pull = pulls(a, b, fits[name])
    right.bar(
        np.arange(all_x.size) + (k - 0.5) * 0.4,
        pull[order],
        width=0.4,
        color=colours[name],
        label=f"{name}: the outliers pull {pull[-2]:.2f} and {pull[-1]:.2f}",
    )
for i in np.flatnonzero(order >= xs.size):  # where the outliers' bars stand
    right.annotate(
        "outlier",
        (i, 0),
        xytext=(0, -12),
        textcoords="offset points",
        ha="center",
        color="#d55e00",
        fontsize=8,
    )
right.set_xticks([])
right.set_title("each point's pull |∂loss/∂ŷᵢ| at the fitted line")
right.set_xlabel("the 22 points, by x", loc="left")
right.legend(fontsize=8, loc="upper left")
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** under MSE the two outliers pull harder than any good point and
# drag the line down to them; under smooth L1 their pull is capped at $1/N$, no more than that of
# a point one unit off the line, so the fit stays on the good points.
#
# The right panel shows why. A point's pull on the line is its gradient $\partial L / \partial
# \hat y_i$: under MSE it is $2 d_i / N$, proportional to its error, so the points farthest away
# decide where the line goes. Under smooth L1 it is capped at $1/N$: past an error of β a point
# counts as "wrong" but not as "very wrong". That is what the seed lesson means by *robust*.

# %% [markdown]
# ## Classification: softmax and cross entropy
#
# A classifier outputs one score (logit) per class; **softmax** turns them into probabilities,
# $p_k = e^{z_k} / \sum_j e^{z_j}$. **Cross entropy** is $-\log p_{\text{true}}$: zero when
# the model is certain and right, and without bound as the probability of the true class goes to
# zero. So a **confident wrong** prediction costs far more than a hesitant one.
#
# Its gradient with respect to the logits is simply $p - \text{onehot}(\text{true})$: push the
# true class up by how much probability it is missing, and every other class down by the
# probability it took.

# %%
# Three classes, the true one is class 0; make the model more and more sure of class 2.
confidence = np.linspace(-4, 6, 101)
loss_values, slope_true = [], []
for c in confidence:
    logits = [Value(0.0), Value(0.0), Value(float(c))]
    loss = losses.cross_entropy(logits, 0)
    loss.backward()
    loss_values.append(loss.data)
    slope_true.append(logits[0].grad)

# Two classes with logits (log p, log(1 − p)): softmax gives back exactly p for the true class.
ps = np.linspace(0.005, 0.995, 100)
ce = [losses.cross_entropy([Value(np.log(p)), Value(np.log1p(-p))], 0).data for p in ps]

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
left.plot(ps, ce, color="#d55e00")
left.set(title="cross entropy = −log p(true class)", xlabel="p(true class)", ylabel="loss")
right.plot(confidence, loss_values, color="#d55e00", label="loss")
right.plot(confidence, slope_true, color="#0072b2", label="∂loss/∂z_true = p_true − 1")
right.set(title="a wrong class grows more confident", xlabel="logit of the wrong class")
right.legend()
fig.tight_layout()

for p in (0.9, 0.5, 0.1, 0.01):
    print(f"p(true) = {p:<5} → loss {-np.log(p):.2f}")

# %% [markdown]
# **The point of the figure:** the loss of the true class climbs without bound as its
# probability goes to zero, and a wrong class that grows confident drives the gradient on the
# true logit to its full strength, −1.
#
# Computed naively, $\log \sum_j e^{z_j}$ overflows for logits of a few hundred. The loss uses
# the stable form (subtract the largest logit first), so even absurd logits give finite losses
# and gradients:

# %%
logits = [Value(1000.0), Value(-1000.0), Value(0.0)]
loss = losses.cross_entropy(logits, 1)
loss.backward()
print(f"loss = {loss.data:g}, gradients = {[round(z.grad, 6) for z in logits]}")

# %% [markdown]
# The seed lesson writes cross entropy from probabilities, $-\sum_k y_k \log \hat y_k$;
# `cross_entropy_from_probs` is that form, and for a one-hot target it equals the above:

# %%
logits = [Value(2.0), Value(0.5), Value(-1.0)]
from_logits = losses.cross_entropy(logits, 0).data
from_probs = losses.cross_entropy_from_probs(losses.softmax(logits), [1.0, 0.0, 0.0]).data
print(f"from logits {from_logits:.12f}, from probabilities {from_probs:.12f}")
