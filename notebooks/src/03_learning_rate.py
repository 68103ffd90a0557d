# %% [markdown]
# # 3 · The learning rate
#
# A training step moves every parameter against its gradient: $p \leftarrow p - \eta \cdot
# \partial L / \partial p$. The learning rate $\eta$ sets the length of that step.
#
# - **Too small** and training crawls: each step is safe but barely changes the loss.
# - **Too large** and a step jumps past the valley floor to the far wall, where the gradient is
#   steeper still: the loss oscillates or blows up.
# - **A schedule** gets the best of both: a short warm-up, large steps while the loss is far from
#   its minimum, then ever smaller ones to settle in.
#
# First we watch these steps on a loss surface small enough to draw; then we train a real network
# four times from the same start, changing only the learning rate, after finding a good rate with
# a range test.

# %%
import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats

set_matplotlib_formats("png")  # one image format per figure keeps the notebook small
plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## Steps you can see: a model with two weights
#
# A linear neuron $\hat y = w_1 x_1 + w_2 x_2$ fitted by mean squared error to 40 points whose
# two inputs are correlated. With only two weights, the loss is a surface over the
# $(w_1, w_2)$ plane that we can draw as contour lines: a long, narrow bowl. Gradient descent
# starts at the black square, and each dot is one step.
#
# How large a step can be is set by the bowl's steepest curvature: along a direction of
# curvature $\lambda$ (an eigenvalue of the Hessian, the matrix of second derivatives) a step
# multiplies the distance to the floor by $|1 - \eta\lambda|$, so descent is stable only for
# $\eta < 2/\lambda_{\max}$. The engine computes the Hessian itself.

# %%
import numpy as np

from micrograd_x import Parameter, dot, hessian, losses, optim

rng = np.random.default_rng(0)
x1 = rng.normal(size=40)
x2 = 0.8 * x1 + 0.6 * rng.normal(size=40)  # correlated inputs: a long, narrow bowl
inputs = np.column_stack([x1, x2])
targets = x1 - 0.5 * x2 + 0.1 * rng.normal(size=40)
START, STEPS_2D = (-1.5, 1.5), 30


def loss_2d(w1, w2):
    """Mean squared error of the linear neuron with weights (w1, w2)."""
    return losses.mse([dot([w1, w2], row) for row in inputs.tolist()], targets.tolist())


curvatures = np.linalg.eigvalsh(hessian(loss_2d)(*START))
limit = 2 / curvatures.max()
print(f"curvatures {curvatures.round(3)}: descent is stable for rates below 2/λmax = {limit:.3f}")


def descend(schedule):
    """Full-batch gradient descent from START; the weights and the loss after every step."""
    w = [Parameter(START[0], label="w1"), Parameter(START[1], label="w2")]
    sgd = optim.SGD(w, lr=schedule(0))
    path, loss_curve = [START], []
    for step in range(STEPS_2D):
        schedule.apply(sgd, step)
        loss = loss_2d(*w)
        sgd.zero_grad()
        loss.backward()
        sgd.step()
        path.append((w[0].data, w[1].data))
        loss_curve.append(loss_2d(w[0].data, w[1].data).data)
    return np.array(path), loss_curve


paths = {
    "too small: 0.05": descend(optim.Constant(0.05)),
    "just right: 0.5": descend(optim.Constant(0.5)),
    "too large: 0.95": descend(optim.Constant(0.95)),
    "warm-up to 0.95, then decay": descend(optim.WarmupDecay(0.95, 5, STEPS_2D, min_lr=0.05)),
}
for name, (_, loss_curve) in paths.items():
    print(f"{name:>28}: loss after {STEPS_2D} steps {loss_curve[-1]:.3g}")

# %%
best = np.linalg.lstsq(inputs, targets, rcond=None)[0]  # the floor, solved directly
grid = np.linspace(-2.5, 2.5, 61)
g1, g2 = np.meshgrid(grid, grid)
surface = np.array([[loss_2d(a, b).data for a, b in zip(r1, r2)] for r1, r2 in zip(g1, g2)])

fig, axes = plt.subplots(1, 4, figsize=(13, 3.7), sharex=True, sharey=True)
for ax, (name, (path, loss_curve)) in zip(axes, paths.items()):
    ax.contour(g1, g2, surface, levels=np.geomspace(0.02, 20, 10), colors="#bbbbbb", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "o-", color="#d55e00", markersize=3, linewidth=1)
    ax.plot(*START, "s", color="black", markersize=6)
    ax.plot(*best, "+", color="black", markersize=12, markeredgewidth=2)
    ax.set(title=name, xlim=(-2.5, 2.5), ylim=(-2.5, 2.5), xlabel="w₁", aspect="equal")
    ax.grid(False)  # the contours are the grid here
    if loss_curve[-1] > 10:
        ax.text(
            -2.3,
            -2.3,
            f"leaves the picture:\nloss {loss_curve[-1]:.0f} at step {STEPS_2D}",
            fontsize=9,
            color="#d55e00",
            va="bottom",
        )
axes[0].set_ylabel("w₂")
fig.suptitle("the same bowl, the same start (■), four learning rates; + marks the floor", y=0.98)
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** the step size alone decides whether descent crawls, arrives, or
# is thrown out of the bowl.
#
# - **0.05** creeps down the long axis and is still far from the floor after 30 steps.
# - **0.5** is below the limit of 0.855: a few long steps down the valley, then it settles.
# - **0.95** is above the limit. Each step overshoots across the narrow direction by more than it
#   corrects, so the zig-zag grows by a factor $|1 - 0.95\lambda_{\max}| \approx 1.2$ per step
#   until it leaves the picture: divergence.
# - **Warm-up to 0.95, then decay** uses the same peak rate, yet arrives: it starts at a tenth of
#   the peak, and while the rate is above the limit, only a few steps long, the overshoot has
#   little to grow from; the decay then brings it back below.
#
# ## A real network: finding the rate with a range test
#
# The same small network (`MLP(2, [8, 8, 1])`, same seed, so the same starting weights) learns to
# separate two moons. Rather than guessing its rate, sweep: start tiny, multiply the rate a little
# after every step, and record the loss (`lr_range_test` puts the weights back afterwards).

# %%
from micrograd_x import data
from micrograd_x.nn import MLP
from micrograd_x.optim import SGD, lr_range_test
from micrograd_x.train import fit, make_loss_fn

X, labels = data.make_moons(60, noise=0.1, seed=1)
y = data.to_signed(labels)  # the hinge loss wants labels ±1

model = MLP(2, [8, 8, 1], seed=0)
loss_fn = make_loss_fn("hinge", l2=1e-4)
rows, targets_moons = X.tolist(), list(y)
sweep = lr_range_test(
    model.parameters(),
    SGD(model.parameters(), lr=1e-3),
    loss=lambda: loss_fn(model, rows, targets_moons)[0],
    start_lr=1e-3,
    end_lr=20.0,
    steps=60,
)
rates, sweep_loss = np.array(sweep.lrs), np.array(sweep.losses)

# %% [markdown]
# The raw curve is noisy: every point is a single step. The rule, in three lines:
#
# 1. **Smooth without lag**: average the log of the loss over each rate and its two neighbours
#    on either side (a centred window, so a bump stays where it happened; a running average that
#    only looks back would report it several rates late).
# 2. **Find the edge**: walk up the rates, keeping the lowest smoothed loss so far; the first
#    time the smoothed loss climbs 10% above that lowest value, training has started to break.
#    The *edge* is the rate of that lowest value: the largest rate that still helped.
# 3. **Back off**: a sweep step uses each rate once; a whole run at one rate must survive it many
#    times. Take a third of the edge as the constant rate (a common rule of thumb).

# %%
window = 2  # rates on either side
padded = np.pad(np.log(sweep_loss), window, mode="edge")
smoothed = np.exp(np.convolve(padded, np.ones(2 * window + 1) / (2 * window + 1), mode="valid"))
lowest = np.minimum.accumulate(smoothed)
breaks = int(np.flatnonzero(smoothed > 1.1 * lowest)[0])
edge = rates[int(np.argmin(smoothed[:breaks]))]
suggested = float(f"{edge / 3:.2g}")
print(f"smoothed loss first climbs 10% above its lowest at rate {rates[breaks]:.3g}")
print(f"edge {edge:.3g}, suggested constant rate {edge:.3g} / 3 ≈ {suggested}")

fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.plot(rates, sweep_loss, "o", color="#aaaaaa", markersize=3, label="loss after one step")
ax.plot(rates, smoothed, color="#0072b2", label="smoothed (centred window of 5)")
ax.axvspan(rates[breaks], rates[-1], color="#d55e00", alpha=0.08, label="breaking down")
ax.axvline(edge, color="#555555", linestyle="--", linewidth=1)
ax.annotate(f"edge {edge:.2g}", (edge, 2.2), xytext=(4, 0), textcoords="offset points")
ax.axvline(suggested, color="#009e73", linewidth=2, label=f"suggested: edge / 3 = {suggested}")
ax.set(
    xscale="log",
    yscale="log",
    xlabel="learning rate (one step each, rising)",
    ylabel="training loss",
    title="learning-rate range test",
)
ax.set_yticks([0.3, 0.5, 1, 2, 4], labels=["0.3", "0.5", "1", "2", "4"])
ax.minorticks_off()
ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** the loss falls as the rate grows until, just below 1, single steps
# start to undo progress; a third of that edge is the suggestion.
#
# Why not the sweep's own `sweep.suggested_lr`, the rate where its smoothed loss falls fastest?
# Its smoothing is a running average that looks only back, so it lags behind the raw curve, and
# its slope is almost the same over a wide range of rates, so which rate wins is decided by
# noise:

# %%
look_back = np.array(sweep.smoothed)
slope = np.diff(look_back) / np.diff(np.log(rates))  # per factor e of the rate
near = int(np.argmin(abs(rates[:-1] - 0.11)))
print(f"sweep.suggested_lr = {sweep.suggested_lr:.2g}, slope there {slope.min():.4f}")
print(f"slope at rate {rates[near]:.2g}: {slope[near]:.4f}")
#
# ## Four rates from the same start
#
# Now train the network four times for 80 steps: too small, the suggested rate, too large, and a
# schedule that warms up to a rate well past the edge and then decays. A run stops early if its
# loss passes 50.

# %%
STEPS = 80


def train(lr=0.1, schedule=None):
    """Train a fresh copy of the same network; stop early if the loss explodes."""
    model = MLP(2, [8, 8, 1], seed=0)
    return fit(
        model,
        X,
        y,
        loss="hinge",
        l2=1e-4,
        lr=lr,
        schedule=schedule,
        steps=STEPS,
        progress=False,
        callbacks=[lambda record, trainer: record.loss > 50],
    )


runs = {
    "too small: 0.03": train(0.03),
    f"just right: {suggested}": train(suggested),
    "too large: 8": train(8.0),
    "warm-up to 2, then decay": train(schedule=optim.WarmupDecay(2.0, 10, STEPS, min_lr=0.05)),
}
for name, history in runs.items():
    print(
        f"{name:>25}: {len(history.loss):>2} steps, final loss {history.loss[-1]:8.3f}, "
        f"accuracy {history.accuracy[-1]:.0%}"
    )

# %%
colours = ["#0072b2", "#009e73", "#d55e00", "#cc79a7"]
fig, (top, bottom) = plt.subplots(
    2, 1, figsize=(8, 5.6), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]}
)
for colour, (name, history) in zip(colours, runs.items()):
    top.plot(history.loss, color=colour, label=name, linewidth=1.6)
    bottom.plot(history.lr, color=colour, linewidth=1.6)
    if len(history.loss) < STEPS:  # stopped: mark where it blew up
        last = len(history.loss) - 1
        top.plot(last, history.loss[-1], "x", color=colour, markersize=10, markeredgewidth=2)
        top.annotate(
            f"loss {history.loss[-1]:.0f} at step {last}: stopped",
            (last, history.loss[-1]),
            xytext=(8, -4),
            textcoords="offset points",
            color=colour,
        )
top.set(yscale="log", ylabel="training loss (log)", title="same network, same start")
top.legend(fontsize=9, loc="center right")
bottom.set(yscale="log", ylabel="learning rate (log)", xlabel="step")
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** with the same start, the rate alone separates crawling (blue),
# steady progress (green), a blow-up within three steps (red) and the best result of the four
# (pink), whose rate, in the lower panel, climbs past the edge and comes back down.
#
# The too-small rate is still going down slowly when we stop. The suggested rate makes steady
# progress. At 8 the first step already overshoots (the loss rises from 0.72 to 2.9) and the next
# throws it past 500. The schedule peaks at 2, more than twice the edge, and survives it: the
# warm-up lets the loss fall first, and the decay lets it settle.
#
# ## Schedules
#
# Every schedule is a function from the step number to a rate. The ones in `micrograd_x.optim`
# follow PyTorch's formulas; micrograd's own demo decays linearly from 1.0 to 0.1.

# %%
schedules = {
    "constant": optim.Constant(1.0),
    "step (÷10 every 40)": optim.StepDecay(1.0, step_size=40, gamma=0.1),
    "exponential (×0.97)": optim.Exponential(1.0, gamma=0.97),
    "linear 1.0 → 0.1": optim.Linear(1.0, total_steps=100, end_factor=0.1),
    "cosine": optim.CosineAnnealing(1.0, total_steps=100),
    "warm-up + cosine": optim.WarmupDecay(1.0, warmup_steps=10, total_steps=100),
}
fig, ax = plt.subplots(figsize=(7, 3.6))
for name, schedule in schedules.items():
    ax.plot(schedule.rates(100), label=name)
ax.set(xlabel="step", ylabel="learning rate", title="learning-rate schedules")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# **The point of the figure:** every schedule starts from the same peak and differs only in how
# fast, and in which shape, it gives the step length back.
