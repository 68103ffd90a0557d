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
# Below, the same small network (`MLP(2, [8, 8, 1])`, same seed, so the same starting weights)
# learns to separate two moons three times, changing only the learning rate.

# %%
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %%
from micrograd_x import data, optim
from micrograd_x.nn import MLP
from micrograd_x.train import fit

X, labels = data.make_moons(60, noise=0.1, seed=1)
y = data.to_signed(labels)  # the hinge loss wants labels ±1
STEPS = 80


def train(lr, schedule=None):
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
    "too large: 2.0": train(2.0),
    "warm-up to 2.0, then decay": train(2.0, optim.WarmupDecay(2.0, 10, STEPS, min_lr=0.05)),
}

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
for ax, (name, history) in zip(axes, runs.items()):
    ax.plot(history.loss, color="#d55e00")
    ax.set(title=name, xlabel="step", yscale="log")
    rate = ax.twinx()
    rate.plot(history.lr, "--", color="#777777", linewidth=1)
    rate.set_ylim(0, 2.2)
    rate.set_yticks([] if ax is not axes[-1] else [0, 0.5, 1, 1.5, 2])
axes[0].set_ylabel("training loss (log scale)")
fig.suptitle("same network, same start: loss (solid) and learning rate (dashed)")
fig.tight_layout()

for name, history in runs.items():
    print(f"{name:>28}: final loss {history.loss[-1]:.3f}, accuracy {history.accuracy[-1]:.0%}")

# %% [markdown]
# The small rate is still going down slowly when we stop. The large constant rate jumps: the
# loss spikes in the first steps and keeps spiking. The schedule uses the *same* peak rate, but
# ramps up to it and then lowers it: its loss ends the lowest of the three.
#
# ## Finding a good rate: the range test
#
# Rather than guessing, sweep the rate. Start tiny, multiply it a little after every step, and
# record the loss. While the rate is too small the loss barely moves; then it falls quickly; then
# it blows up. `lr_range_test` reports where the smoothed loss falls fastest and where it is
# lowest, and puts the parameters back afterwards, so the model is left as it was.

# %%
from micrograd_x.optim import SGD, lr_range_test
from micrograd_x.train import make_loss_fn

model = MLP(2, [8, 8, 1], seed=0)
loss_fn = make_loss_fn("hinge", l2=1e-4)
rows, targets = X.tolist(), list(y)
sweep = lr_range_test(
    model.parameters(),
    SGD(model.parameters(), lr=1e-3),
    loss=lambda: loss_fn(model, rows, targets)[0],
    start_lr=1e-3,
    end_lr=20.0,
    steps=60,
)

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(sweep.lrs, sweep.losses, color="#cccccc", label="loss")
ax.plot(sweep.lrs, sweep.smoothed, color="#0072b2", label="smoothed")
ax.axvline(
    sweep.suggested_lr,
    color="#d55e00",
    linestyle="--",
    label=f"steepest descent: {sweep.suggested_lr:.2g}",
)
ax.set(xscale="log", xlabel="learning rate", ylabel="loss", title="learning-rate range test")
ax.legend()
fig.tight_layout()
print(
    f"suggested {sweep.suggested_lr:.3g}, lowest loss at {sweep.best_lr:.3g}, "
    f"diverged: {sweep.diverged}"
)

# %% [markdown]
# Read the curve, not just the marker: each rate was used for a single step, so the sweep tells
# where the loss *starts* to blow up (a few units here), not which constant rate is safe for a
# whole run. We saw that 2.0 held for 80 steps already oscillates. A common recipe is to use the
# edge of the sweep as the *peak* of a warm-up-then-decay schedule, or a rate a few times below it
# as a constant.

# %% [markdown]
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
