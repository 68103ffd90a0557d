# %% [markdown]
# # 7 · End to end: two moons
#
# Everything together, as in micrograd's demo: a two-layer relu network `MLP(2, [16, 16, 1])`
# learns to separate two interleaving half-moons. The loss is the hinge loss (a score's sign is the
# class; the loss is zero once a point is on the right side with a margin of 1) plus a small L2
# penalty on the weights, minimized by plain gradient descent with the learning rate decaying
# linearly from 1.0 to 0.1. The command `micrograd-x demo` runs the same thing and saves the
# figures.

# %%
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %%
from micrograd_x import data, optim
from micrograd_x.nn import MLP
from micrograd_x.train import fit

X, labels = data.make_moons(100, noise=0.1, seed=0)
y = data.to_signed(labels)
model = MLP(2, [16, 16, 1], seed=0)
print(model)

history = fit(
    model,
    X,
    y,
    loss="hinge",
    l2=1e-4,
    schedule=optim.Linear(1.0, total_steps=100, end_factor=0.1),
    steps=100,
    progress=True,
)
print(f"accuracy {history.accuracy[-1]:.0%}, first 100% at step {history.first_step(1.0)}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
left.plot(history.loss, color="#d55e00")
left.set(title="training loss", xlabel="step", yscale="log")
right.plot(history.accuracy, color="#0072b2")
right.set(title="training accuracy", xlabel="step", ylim=(0.4, 1.02))
fig.tight_layout()

# %% [markdown]
# ## The decision boundary
#
# Evaluate the trained network on a grid of points and colour each by the sign of its score.

# %%
import numpy as np

from micrograd_x.train import predict

xs = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 50)
ys = np.linspace(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 50)
gx, gy = np.meshgrid(xs, ys)
scores = np.array(predict(model, np.column_stack([gx.ravel(), gy.ravel()]))).reshape(gx.shape)

fig, ax = plt.subplots(figsize=(5, 4))
ax.contourf(gx, gy, scores > 0, levels=[-0.5, 0.5, 1.5], colors=["#b2abd2", "#fdb863"])
ax.contour(gx, gy, scores, levels=[0.0], colors="#333333", linewidths=1)
ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="PuOr_r", s=18, edgecolors="white", linewidths=0.5)
ax.set(title="decision boundary", xlabel="x₁", ylabel="x₂")
fig.tight_layout()

# %% [markdown]
# ## Gradient flow through the network
#
# One more forward pass over the 100 points builds a graph of about 7,500 values. Drawn in full
# it would be unreadable, so the renderer collapses it: one box per neuron, grouped by layer. Edge
# width shows how much gradient flows along it; dashed edges carry none. After training, most
# points are classified with a margin, so their hinge terms are zero, and some relu neurons pass
# no gradient back at all (their parameters' largest |grad| reads 0).

# %%
from micrograd_x import losses
from micrograd_x.render import draw

scores = [model(row) for row in X.tolist()]
loss = losses.hinge(scores, list(y))
loss.label = "hinge loss"
model.zero_grad()
loss.backward()
draw(loss, direction="LR")
