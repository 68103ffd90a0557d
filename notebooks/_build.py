"""Generate the notebooks of ``notebooks/`` from the cells written below, without outputs.

Run ``python notebooks/_build.py`` after editing a cell here; ``--check`` exits 1 if a committed
notebook differs from what this script would write (the notebook test runs that check). Imports
the standard library and ``nbformat``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from micrograd_x._files import write_atomic

__all__ = ["NOTEBOOKS", "build", "main"]

HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    """A Markdown cell."""
    return ("md", text.strip("\n"))


def code(text: str) -> Cell:
    """A code cell."""
    return ("code", text.strip("\n"))


SETUP = code(
    """
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})
"""
)

# ---------------------------------------------------------------------------------------------
NEURON = [
    md(
        """
# 1 · The neuron

A neuron does two things. It **mixes** its inputs, multiplying each input $x_i$ by a weight $w_i$
and adding a bias $b$, and it **bends** the result with an activation function:

$$n = w_1 x_1 + w_2 x_2 + b, \\qquad o = \\tanh(n).$$

The weights and the bias are what training changes. To change them sensibly we need to know how
the output moves when each of them moves: the gradient. This notebook builds one neuron from
`Value` nodes, backpropagates, and draws the graph with the numbers on it.
"""
    ),
    code(
        """
from micrograd_x import Parameter, Value, dot, draw, explain

x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")  # data
w1, w2 = Parameter(-3.0, label="w1"), Parameter(1.0, label="w2")  # what training changes
b = Parameter(6.8813735870195432, label="b")

n = dot([w1, w2], [x1, x2], b)  # Σ wᵢxᵢ + b as one node
n.label = "n"
o = n.tanh()
o.label = "o"
o.backward()

for v in (x1, x2, w1, w2, b, n, o):
    print(f"{v.label:>2}  data {v.data:8.4f}   grad {v.grad:8.4f}")
"""
    ),
    md(
        """
## The picture

Each box is a value: its name and the op that made it, its data and its gradient (orange for
positive, purple for negative). **Each edge carries the local partial derivative** of the box
below with respect to the box above: for the weighted sum, ∂n/∂w1 is x1 = 2. Asking for
`wrt=w1` highlights the path from `w1` to the output; the caption multiplies the partials along
it, and the product is exactly `w1.grad`.
"""
    ),
    code(
        """
draw(o, wrt=w1)
"""
    ),
    md(
        """
The same chain rule as a table. ∂o/∂n = 1 − tanh²(n) = 0.5 and ∂n/∂w1 = x1 = 2, so
∂o/∂w1 = 0.5 × 2 = 1. Note ∂o/∂w2 = 0: with x2 = 0, nudging w2 changes nothing.
"""
    ),
    code(
        """
explain(o, wrt=w1)
"""
    ),
    md(
        """
## Local partials are data

Every node stores its inputs in order and one local partial per input. Nothing is hidden in a
closure, so we can print them. The weighted-sum node has five inputs, ordered
(w1, w2, x1, x2, b); its partials are (x1, x2, w1, w2, 1).
"""
    ),
    code(
        """
for parent, partial in zip(n.parents, n.partials):
    print(f"∂n/∂{parent.label} = {partial:g}")
print(f"∂o/∂n = {o.partials[0]:g}   (1 − tanh²(n))")
"""
    ),
    md(
        """
## The activation decides how much gradient gets through

Same weights, same inputs, different bend. With n ≈ 0.88, tanh and sigmoid pass a fraction of
the gradient back (their slopes at n), ReLU passes all of it (slope 1 for n > 0).
"""
    ),
    code(
        """
for activation in ("tanh", "sigmoid", "relu"):
    w1.grad = 0.0
    out = getattr(dot([w1, w2], [x1, x2], b), activation)()
    out.backward()
    print(f"{activation:>8}: o = {out.data:.4f}   ∂o/∂w1 = {w1.grad:.4f}")
"""
    ),
    md(
        """
## The same neuron from `micrograd_x.nn`

`Neuron(2, activation="tanh")` makes the weights and bias as parameters (initialized from a seed)
and builds the same graph when called. Its nodes remember the module they were built in, so the
diagram groups them in a box.
"""
    ),
    code(
        """
from micrograd_x.nn import Neuron

neuron = Neuron(2, activation="tanh", seed=0)
out = neuron([2.0, 0.0])
out.backward()
print(neuron)
draw(out, wrt=neuron.w[0])
"""
    ),
]

# ---------------------------------------------------------------------------------------------
ACTIVATIONS = [
    md(
        """
# 2 · Activation functions

Without an activation, a neuron is a straight line, and a stack of straight lines is still one
straight line: depth would buy nothing. The activation bends the sum. What matters for training
is not only its shape but its **slope**, because backpropagation multiplies the gradient by that
slope at every neuron it passes through.

Below, each curve and each derivative is computed by the engine itself: we evaluate the op on a
`Value`, call `backward()`, and read the input's gradient.
"""
    ),
    SETUP,
    code(
        """
import numpy as np

from micrograd_x import Value, ops

xs = np.linspace(-4, 4, 161)


def curve(name):
    \"\"\"The activation and its derivative at every x, both from the engine.\"\"\"
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
"""
    ),
    md(
        """
What to read in the right-hand panel:

- **sigmoid** squashes to (0, 1); its slope is at most 0.25, at x = 0. Ten sigmoid layers can
  shrink a gradient by 0.25¹⁰ ≈ 10⁻⁶: the *vanishing gradient*.
- **tanh** squashes to (−1, 1) and is centred on 0; its slope reaches 1 at the origin but falls
  to almost 0 once |x| > 3 (saturation).
- **relu** is max(x, 0): slope 1 for x > 0, so gradients pass unchanged, and slope 0 for x < 0,
  so a neuron whose input stays negative stops learning (a *dead* ReLU). At the kink x = 0 the
  engine uses the subgradient 0.
- **leaky relu**, **elu**, **gelu**, **silu** and **softplus** keep a little slope on the
  negative side, or round the kink off.

Each op's formula and its kinks are part of its record in `micrograd_x.ops`:
"""
    ),
    code(
        """
for name in names:
    op = ops.get(name)
    kinks = f"kink at {op.domain.kinks}" if op.domain.kinks else "smooth"
    peak = np.abs(curves[name][1]).max()
    print(f"{name:>10}: {op.formula:<32} {kinks:<16} max |slope| on [-4, 4]: {peak:.3f}")
"""
    ),
    md(
        """
The derivative the engine stores is the op's *local partial*, written once in the op record:
for sigmoid it is σ(x)(1 − σ(x)), reusing the output. A quick check at x = 0.5 against a central
difference:
"""
    ),
    code(
        """
from micrograd_x.testing import numerical_grad

for name in ("sigmoid", "tanh", "gelu"):
    v = Value(0.5)
    y = getattr(v, name)()
    y.backward()
    (numeric,) = numerical_grad(lambda t, name=name: getattr(t, name)(), [0.5])[0]
    print(f"{name:>8}: stored partial {y.partials[0]:.10f}   finite difference {numeric:.10f}")
"""
    ),
]

# ---------------------------------------------------------------------------------------------
CHAIN_RULE = [
    md(
        """
# 6 · The chain rule

Backpropagation is the chain rule applied over a graph. If $z$ depends on $s$ only through
$x$, then

$$\\frac{\\partial z}{\\partial s} = \\frac{\\partial z}{\\partial x} \\cdot
\\frac{\\partial x}{\\partial s}:$$

walk back from the output, and multiply the local derivative of each step. micrograd_x stores
those local derivatives on the edges of the graph, so the rule can be drawn and read off.
"""
    ),
    code(
        """
from micrograd_x import Value, draw, explain

s = Value(0.5, label="s")
x = s.sin()
x.label = "x"
z = x**2 + 1
z.label = "z"
z.backward()

print(f"∂z/∂x = 2x = {2 * x.data:.4f},  ∂x/∂s = cos(s) = {x.partials[0]:.4f}")
print(f"product = {2 * x.data * x.partials[0]:.4f},  s.grad = {s.grad:.4f}")
draw(z, wrt=s)
"""
    ),
    md(
        """
The highlighted path is the chain s → x → … → z; the caption under the picture is the product of
the partials on its edges, and the ✓ says it equals `s.grad` as computed by `backward()`.

## A value used twice

When a value feeds the output along **two paths**, each path contributes its own product and the
contributions **add up**. Here $a$ reaches $d = b \\cdot c$ through $b = 2a$ and through
$c = e^a$:

$$\\frac{\\partial d}{\\partial a}
= \\frac{\\partial d}{\\partial b}\\frac{\\partial b}{\\partial a}
+ \\frac{\\partial d}{\\partial c}\\frac{\\partial c}{\\partial a}
= c \\cdot 2 + b \\cdot e^a.$$
"""
    ),
    code(
        """
a = Value(0.7, label="a")
b = 2 * a
b.label = "b"
c = a.exp()
c.label = "c"
d = b * c
d.label = "d"
d.backward()
draw(d, wrt=a)
"""
    ),
    code(
        """
explain(d, wrt=a)
"""
    ),
    md(
        """
Forgetting one of the paths, or overwriting a gradient instead of adding to it, is the classic
backpropagation bug. An independent check catches it: `gradcheck` compares the engine's
gradients with central finite differences.
"""
    ),
    code(
        """
from micrograd_x.testing import gradcheck

report = gradcheck(lambda a: (2 * a) * a.exp(), [0.7])
print(report)
"""
    ),
    md(
        """
## From text

`micrograd_x.expr` parses an arithmetic expression (with a small parser of its own: nothing is
passed to Python's `eval`) into the same graph, one labelled leaf per variable. The command line
does the same: `micrograd-x draw "log(x) * exp(x)" --at x=1.5` prints the gradients and the chain
rule and writes `graph.svg`.
"""
    ),
    code(
        """
from micrograd_x.expr import parse

program = parse("log(x) * exp(x) + x^2")
leaves = program.leaves({"x": 1.5})
out = program.evaluate(leaves)
out.label = "out"
out.backward()
print(explain(out, wrt=leaves["x"]))
draw(out, wrt=leaves["x"])
"""
    ),
]

# ---------------------------------------------------------------------------------------------
LEARNING_RATE = [
    md(
        """
# 3 · The learning rate

A training step moves every parameter against its gradient: $p \\leftarrow p - \\eta \\cdot
\\partial L / \\partial p$. The learning rate $\\eta$ sets the length of that step.

- **Too small** and training crawls: each step is safe but barely changes the loss.
- **Too large** and a step jumps past the valley floor to the far wall, where the gradient is
  steeper still: the loss oscillates or blows up.
- **A schedule** gets the best of both: a short warm-up, large steps while the loss is far from
  its minimum, then ever smaller ones to settle in.

Below, the same small network (`MLP(2, [8, 8, 1])`, same seed, so the same starting weights)
learns to separate two moons three times, changing only the learning rate.
"""
    ),
    SETUP,
    code(
        """
from micrograd_x import data, optim
from micrograd_x.nn import MLP
from micrograd_x.train import fit

X, labels = data.make_moons(60, noise=0.1, seed=1)
y = data.to_signed(labels)  # the hinge loss wants labels ±1
STEPS = 80


def train(lr, schedule=None):
    \"\"\"Train a fresh copy of the same network; stop early if the loss explodes.\"\"\"
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
"""
    ),
    code(
        """
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
"""
    ),
    md(
        """
The small rate is still going down slowly when we stop. The large constant rate jumps: the
loss spikes in the first steps and keeps spiking. The schedule uses the *same* peak rate, but
ramps up to it and then lowers it: its loss ends the lowest of the three.

## Finding a good rate: the range test

Rather than guessing, sweep the rate. Start tiny, multiply it a little after every step, and
record the loss. While the rate is too small the loss barely moves; then it falls quickly; then
it blows up. `lr_range_test` reports where the smoothed loss falls fastest and where it is
lowest, and puts the parameters back afterwards, so the model is left as it was.
"""
    ),
    code(
        """
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
"""
    ),
    md(
        """
Read the curve, not just the marker: each rate was used for a single step, so the sweep tells
where the loss *starts* to blow up (a few units here), not which constant rate is safe for a
whole run. We saw that 2.0 held for 80 steps already oscillates. A common recipe is to use the
edge of the sweep as the *peak* of a warm-up-then-decay schedule, or a rate a few times below it
as a constant.
"""
    ),
    md(
        """
## Schedules

Every schedule is a function from the step number to a rate. The ones in `micrograd_x.optim`
follow PyTorch's formulas; micrograd's own demo decays linearly from 1.0 to 0.1.
"""
    ),
    code(
        """
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
"""
    ),
]

# ---------------------------------------------------------------------------------------------
INITIALIZATION = [
    md(
        """
# 4 · Weight initialization

Training starts from random weights, and *how* random matters. Each layer multiplies its input
by a weight matrix; if the weights are too large, the signal grows layer after layer (and tanh
neurons saturate, passing no gradient back); too small, and it shrinks towards zero. The same
happens to gradients on the way back.

The fix is to scale the weights by the number of inputs $n$ of a neuron (and outputs $m$ of the
layer), so that the spread of the signal stays about the same from layer to layer:

| name | weights drawn from | made for |
|---|---|---|
| micrograd's default | $U[-1, 1]$ | (nothing in particular) |
| Xavier | $U[-1/\\sqrt{n},\\ 1/\\sqrt{n}]$ | tanh, sigmoid |
| normalized Xavier | $U[-\\sqrt{6}/\\sqrt{n+m},\\ \\sqrt{6}/\\sqrt{n+m}]$ | tanh, sigmoid |
| He (Kaiming) | $N(0,\\ 2/n)$ | relu |

We push a batch through a deep, narrow network (8 layers of 32 neurons) under each scheme and
measure, layer by layer, the spread of the activations and of the gradients that come back.
"""
    ),
    SETUP,
    code(
        """
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
    \"\"\"Std of activations and of their gradients, per layer, for one batch.\"\"\"
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
"""
    ),
    code(
        """
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
"""
    ),
    md(
        """
How to read it. A neuron sums $n = 32$ inputs; if each weight has variance $v$, the sum's
variance is about $n v$ times the input's. Keeping $n v$ near 1 (near 2 for relu, which zeroes
half its inputs) keeps the signal, forwards and backwards, the same size at every layer.

- **U[-1, 1]** has $v = 1/3$, so $n v ≈ 11$. tanh neurons saturate at ±1 (activation spread
  stuck near 0.85 in every layer), and gradients grow tenfold on the way back to layer 1; relu
  activations and gradients grow about 2.2× per layer: they explode.
- **Xavier** as the seed lesson writes it, $U[±1/\\sqrt{n}]$, has $v = 1/(3n)$, so $n v = 1/3$:
  the signal shrinks by about √3 per tanh layer (by √6 per relu layer) and the gradients
  reaching layer 1 are a hundredth (tanh) or a thousandth (relu) of those at layer 8: they
  vanish.
- **Normalized Xavier** has $v = 2/(n+m) = 1/n$ here, so $n v = 1$: much flatter. tanh still
  loses a little per layer (it compresses), relu loses half its power per layer.
- **He** has $v = 2/n$: flat for relu, as designed, and here flat for tanh as well.

So the scale should follow the fan-in and the activation: He for relu, normalized Xavier (or He)
for tanh. The table gives the change from the first layer to the last.

"""
    ),
    code(
        """
print(f"{'':>8} {'scheme':>18}  activations: layer 8 / layer 1   gradients: layer 1 / layer 8")
for (activation, name), (act, grad) in stats.items():
    print(f"{activation:>8} {name:>18}  {act[-1] / act[0]:>30.3g}   {grad[0] / grad[-1]:>28.3g}")
"""
    ),
]

# ---------------------------------------------------------------------------------------------
LOSSES = [
    md(
        """
# 5 · Loss functions

A loss turns "how wrong is the prediction" into one number to minimize. Its **gradient** is
what training actually feels, so for each loss we plot both. Every curve below comes from the
functions in `micrograd_x.losses`, differentiated by `backward()`.

## Regression: MSE, L1 and smooth L1

With the error $d = \\hat y - y$:

- **MSE** $d^2$: the gradient $2d$ grows with the error, so one outlier can dominate a batch
  (and push very large updates).
- **L1** $|d|$: the gradient is ±1 whatever the error, robust to outliers but with a kink at 0
  where it jumps, so training jitters near the optimum.
- **smooth L1** (PyTorch's definition, with threshold β): quadratic, $0.5 d^2/β$, for
  $|d| < β$ and linear, $|d| - 0.5β$, beyond. The gradient is capped at ±1 for large errors and
  shrinks smoothly to 0 near the target: the best of both.
"""
    ),
    SETUP,
    code(
        """
import numpy as np

from micrograd_x import Value, losses

errors = np.linspace(-3, 3, 241)


def loss_and_slope(fn):
    \"\"\"The loss at each error d = prediction - 0, and its gradient from backward().\"\"\"
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
"""
    ),
    md(
        """
## Classification: softmax and cross entropy

A classifier outputs one score (logit) per class; **softmax** turns them into probabilities,
$p_k = e^{z_k} / \\sum_j e^{z_j}$. **Cross entropy** is $-\\log p_{\\text{true}}$: zero when
the model is certain and right, and without bound as the probability of the true class goes to
zero. So a **confident wrong** prediction costs far more than a hesitant one.

Its gradient with respect to the logits is simply $p - \\text{onehot}(\\text{true})$: push the
true class up by how much probability it is missing, and every other class down by the
probability it took.
"""
    ),
    code(
        """
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
"""
    ),
    md(
        """
Computed naively, $\\log \\sum_j e^{z_j}$ overflows for logits of a few hundred. The loss uses
the stable form (subtract the largest logit first), so even absurd logits give finite losses
and gradients:
"""
    ),
    code(
        """
logits = [Value(1000.0), Value(-1000.0), Value(0.0)]
loss = losses.cross_entropy(logits, 1)
loss.backward()
print(f"loss = {loss.data:g}, gradients = {[round(z.grad, 6) for z in logits]}")
"""
    ),
    md(
        """
The seed lesson writes cross entropy from probabilities, $-\\sum_k y_k \\log \\hat y_k$;
`cross_entropy_from_probs` is that form, and for a one-hot target it equals the above:
"""
    ),
    code(
        """
logits = [Value(2.0), Value(0.5), Value(-1.0)]
from_logits = losses.cross_entropy(logits, 0).data
from_probs = losses.cross_entropy_from_probs(losses.softmax(logits), [1.0, 0.0, 0.0]).data
print(f"from logits {from_logits:.12f}, from probabilities {from_probs:.12f}")
"""
    ),
]

# ---------------------------------------------------------------------------------------------
END_TO_END = [
    md(
        """
# 7 · End to end: two moons

Everything together, as in micrograd's demo: a two-layer relu network `MLP(2, [16, 16, 1])`
learns to separate two interleaving half-moons. The loss is the hinge loss (a score's sign is the
class; the loss is zero once a point is on the right side with a margin of 1) plus a small L2
penalty on the weights, minimized by plain gradient descent with the learning rate decaying
linearly from 1.0 to 0.1. The command `micrograd-x demo` runs the same thing and saves the
figures.
"""
    ),
    SETUP,
    code(
        """
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
"""
    ),
    code(
        """
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
left.plot(history.loss, color="#d55e00")
left.set(title="training loss", xlabel="step", yscale="log")
right.plot(history.accuracy, color="#0072b2")
right.set(title="training accuracy", xlabel="step", ylim=(0.4, 1.02))
fig.tight_layout()
"""
    ),
    md(
        """
## The decision boundary

Evaluate the trained network on a grid of points and colour each by the sign of its score.
"""
    ),
    code(
        """
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
"""
    ),
    md(
        """
## Gradient flow through the network

One more forward pass over the 100 points builds a graph of about 7,500 values. Drawn in full
it would be unreadable, so the renderer collapses it: one box per neuron, grouped by layer. Edge
width shows how much gradient flows along it; dashed edges carry none. After training, most
points are classified with a margin, so their hinge terms are zero, and some relu neurons pass
no gradient back at all (their parameters' largest |grad| reads 0).
"""
    ),
    code(
        """
from micrograd_x import losses
from micrograd_x.render import draw

scores = [model(row) for row in X.tolist()]
loss = losses.hinge(scores, list(y))
loss.label = "hinge loss"
model.zero_grad()
loss.backward()
draw(loss, direction="LR")
"""
    ),
]


NOTEBOOKS: dict[str, list[Cell]] = {
    "01_neuron": NEURON,
    "02_activations": ACTIVATIONS,
    "03_learning_rate": LEARNING_RATE,
    "04_initialization": INITIALIZATION,
    "05_losses": LOSSES,
    "06_chain_rule": CHAIN_RULE,
    "07_end_to_end": END_TO_END,
}
"""Every notebook: its file stem and its cells."""


def build(cells: list[Cell]) -> nbformat.NotebookNode:
    """A notebook with the given cells, no outputs and a Python 3 kernel."""
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
        cell["id"] = f"cell-{i:02d}"  # stable ids, so regenerating changes nothing
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def _write(path: Path, text: str) -> None:
    write_atomic(path, text)


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) every notebook.

    Returns:
        0, or 1 when ``--check`` finds a notebook out of date.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    for stem, cells in NOTEBOOKS.items():
        path = HERE / f"{stem}.ipynb"
        text = _text(build(cells))
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path.name)
        else:
            _write(path, text)
            print(f"wrote {path.name}")
    if stale:
        print(f"out of date (run python notebooks/_build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
