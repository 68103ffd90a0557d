# %% [markdown]
# # 9 · Coming from micrograd
#
# If you learned backpropagation with micrograd and its lecture, your code runs here with one
# change: the import line. This notebook runs the lecture's engine examples and micrograd's demo
# training loop on micrograd_x, sets micrograd's own outputs beside them, then shows what
# micrograd_x adds: the local partial derivatives stored on every edge, the chain rule checked
# path by path, gradient checks against finite differences, and training that replays a traced
# graph.
#
# **Requirements.** The side-by-side cells import micrograd 0.1.0 itself
# (`pip install micrograd==0.1.0`); the `notebooks` and `test` extras of micrograd_x install it.

# %%
from importlib.metadata import version

import micrograd.engine
import micrograd.nn

print("micrograd", version("micrograd"), "· micrograd_x", version("micrograd-x"))

# %% [markdown]
# ## The lecture's first graph, by hand
#
# The lecture builds $L = (a \cdot b + c) \cdot f$, then finds every gradient by hand, from the
# output back: $\partial L/\partial d = f$, $\partial L/\partial f = d$, a `+` passes the
# gradient through, a `*` multiplies it by the other input. Only the import differs from the
# lecture's cells.

# %%
from micrograd_x import Value

a = Value(2.0, label="a")
b = Value(-3.0, label="b")
c = Value(10.0, label="c")
e = a * b
e.label = "e"
d = e + c
d.label = "d"
f = Value(-2.0, label="f")
L = d * f
L.label = "L"

L.grad = 1.0
f.grad = d.data  # ∂L/∂f = d
d.grad = f.data  # ∂L/∂d = f
c.grad = d.grad  # a + passes the gradient through
e.grad = d.grad
a.grad = e.grad * b.data  # a * multiplies it by the other input
b.grad = e.grad * a.data
print({v.label: v.grad for v in (a, b, c, d, e, f)})

# %% [markdown]
# The lecture checks one of them numerically: nudge an input by $h$ and see how much $L$ moves.

# %%
h = 1e-4


def lol(da=0.0):
    a = Value(2.0 + da, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    f = Value(-2.0, label="f")
    return ((a * b + c) * f).data


print(f"(L(a + h) − L(a)) / h = {(lol(h) - lol()) / h:.4f}   (by hand: {a.grad})")

# %% [markdown]
# ## The neuron, one `_backward()` at a time
#
# Next, the lecture's neuron $o = \tanh(x_1 w_1 + x_2 w_2 + b)$ and its step-by-step
# backpropagation: set `o.grad = 1`, then call each node's `_backward()` from the output down.
# `_backward()` is one chain-rule step, as in micrograd: this node's gradient times each local
# partial derivative, added into its parents. `_prev` (the set of parents) and `_op` (micrograd's
# op symbol) are there too, read-only.

# %%
x1 = Value(2.0, label="x1")
x2 = Value(0.0, label="x2")
w1 = Value(-3.0, label="w1")
w2 = Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1
x1w1.label = "x1*w1"
x2w2 = x2 * w2
x2w2.label = "x2*w2"
x1w1x2w2 = x1w1 + x2w2
x1w1x2w2.label = "x1*w1 + x2*w2"
n = x1w1x2w2 + b
n.label = "n"
o = n.tanh()
o.label = "o"

o.grad = 1.0
o._backward()
n._backward()
b._backward()
x1w1x2w2._backward()
x2w2._backward()
x1w1._backward()
print(f"o = {o.data:.4f}; o._op = {o._op!r}; o._prev = {{{', '.join(v.label for v in o._prev)}}}")
print({v.label: round(v.grad, 4) for v in (x1, w1, x2, w2, b, n)})

# %% [markdown]
# The lecture then automates it: sort the nodes topologically by walking `_prev`, and call
# `_backward()` in reverse order. `o.backward()` does the same in one call (iteratively, so a
# graph of any depth works).

# %%
for v in (x1, w1, x2, w2, b, n, x1w1, x2w2, x1w1x2w2):
    v.grad = 0.0

topo = []
visited = set()


def build_topo(v):
    if v not in visited:
        visited.add(v)
        for child in v._prev:
            build_topo(child)
        topo.append(v)


build_topo(o)
o.grad = 1.0
for node in reversed(topo):
    node._backward()
by_topo = {v.label: v.grad for v in (x1, w1, x2, w2, b)}

for v in (x1, w1, x2, w2, b):
    v.grad = 0.0
o.backward()
print("topological _backward():", {k: round(g, 4) for k, g in by_topo.items()})
print("o.backward():           ", {v.label: round(v.grad, 4) for v in (x1, w1, x2, w2, b)})

# %% [markdown]
# ## The lecture's `draw_dot`
#
# The lecture draws the graph with a small helper: collect the nodes and edges by walking
# `_prev`, then give every node a record (label, data, grad) and every op its own small node.
# Written again here, it runs unchanged on micrograd_x's `Value`.

# %%
from graphviz import Digraph


def trace(root):
    """The nodes and the (parent, child) edges of the graph that ends at ``root``."""
    nodes, edges = set(), set()
    todo = [root]
    while todo:
        v = todo.pop()
        if v not in nodes:
            nodes.add(v)
            for parent in v._prev:
                edges.add((parent, v))
                todo.append(parent)
    return nodes, edges


def draw_dot(root, rankdir="LR"):
    """A Graphviz picture: a record per value, a small node per op."""
    dot = Digraph(format="svg", graph_attr={"rankdir": rankdir})
    nodes, edges = trace(root)
    for v in nodes:
        uid = str(id(v))
        dot.node(uid, f"{{ {v.label} | data {v.data:.4f} | grad {v.grad:.4f} }}", shape="record")
        if v._op:
            dot.node(uid + v._op, v._op)
            dot.edge(uid + v._op, uid)
    for parent, child in edges:
        dot.edge(str(id(parent)), str(id(child)) + child._op)
    return dot


draw_dot(o, rankdir="TB")  # top to bottom, to compare with micrograd_x's own picture below

# %% [markdown]
# micrograd_x draws the same graph itself, with what the lecture computes by hand written on the
# edges: each edge carries its **local partial derivative** (∂ head / ∂ tail), and the path from
# `w1` to the output is highlighted, its product of partials checked against `w1.grad` below the
# picture.

# %%
from micrograd_x import draw, explain

draw(o, wrt=w1)

# %% [markdown]
# ## micrograd's README example
#
# micrograd's README shows off its engine with this expression; the comments are the numbers it
# prints. Here it is with only the import line changed.

# %%
from micrograd_x.engine import Value

a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f"{g.data:.4f}")  # prints 24.7041, the outcome of this forward pass
g.backward()
print(f"{a.grad:.4f}")  # prints 138.8338, i.e. the numerical value of dg/da
print(f"{b.grad:.4f}")  # prints 645.5773, i.e. the numerical value of dg/db

# %% [markdown]
# Side by side with micrograd itself: the same lines as a function of the leaves `a` and `b`,
# run once with each library's `Value` class.

# %%
import micrograd_x.engine


def readme_g(a, b):
    """The g of micrograd's README example, as a function of the leaves a and b."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def readme_example(Value):
    """Run micrograd's README example with the given Value class; return what it prints."""
    a = Value(-4.0)
    b = Value(2.0)
    g = readme_g(a, b)
    g.backward()
    return {"g": g.data, "dg/da": a.grad, "dg/db": b.grad}


theirs = readme_example(micrograd.engine.Value)
ours = readme_example(micrograd_x.engine.Value)
print(f"{'':6} {'micrograd':>20} {'micrograd_x':>20}")
for key in theirs:
    print(f"{key:6} {theirs[key]:20.12f} {ours[key]:20.12f}")

# %% [markdown]
# ## micrograd's demo: training an MLP on two moons
#
# micrograd's `demo.ipynb` trains `MLP(2, [16, 16, 1])` (two hidden layers of 16 relu neurons, a
# linear output) with a hinge loss, L2 regularization and a learning rate decaying from 1.0 to
# 0.1. Below are its cells with the imports changed, and one more change: the data come from
# `micrograd_x.data.make_moons` (the same two moons as scikit-learn's, without needing
# scikit-learn).
#
# As in micrograd, `Neuron` and `Layer` are relu unless told otherwise (`nonlin=False` is
# linear), an `MLP`'s output layer is linear, and with no `seed` the weights come from Python's
# `random`, so `random.seed(1337)` makes the run reproducible. (An explicit `seed=` gives the
# same model every time without touching `random`.)

# %%
import random

import numpy as np

from micrograd_x import data
from micrograd_x.engine import Value
from micrograd_x.nn import MLP

np.random.seed(1337)
random.seed(1337)

X, y = data.make_moons(100, noise=0.1, seed=1337)
y = y * 2 - 1  # make y be -1 or 1

model = MLP(2, [16, 16, 1])  # 2-layer neural network
print(model)
print("number of parameters", len(model.parameters()))


# %%
# loss function
def loss(batch_size=None):
    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


total_loss, acc = loss()
print(total_loss, acc)

# %%
# optimization
for k in range(100):
    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    if k % 10 == 0:
        print(f"step {k} loss {total_loss.data}, accuracy {acc * 100}%")

# %% [markdown]
# ### Side by side with micrograd
#
# micrograd's `MLP` draws its weights from $U(-1, 1)$; micrograd_x's default is He uniform,
# $U(\pm\sqrt{6/n})$, better suited to relu. With `init="uniform"` and the same `random.seed`,
# micrograd_x builds **exactly micrograd's weights**, and the demo loop, run on both, gives the
# same losses step after step (to the last digits: the sums are added in another order).
# micrograd takes over a second per step here, so both run the first four steps only.

# %%
import time


def demo_run(Value, model, steps):
    """The demo's full-batch loop for a few steps; the loss and the seconds of each step."""
    losses, seconds = [], []
    for k in range(steps):
        start = time.perf_counter()
        inputs = [list(map(Value, xrow)) for xrow in X]
        scores = list(map(model, inputs))
        hinge = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
        total = sum(hinge) * (1.0 / len(hinge)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        losses.append(total.data)
        seconds.append(time.perf_counter() - start)
    return losses, seconds


random.seed(1337)
theirs_model = micrograd.nn.MLP(2, [16, 16, 1])
random.seed(1337)
ours_model = MLP(2, [16, 16, 1], init="uniform")
same = all(p.data == q.data for p, q in zip(ours_model.parameters(), theirs_model.parameters()))
print("same initial weights:", same)

theirs_loss, theirs_time = demo_run(micrograd.engine.Value, theirs_model, steps=4)
ours_loss, ours_time = demo_run(micrograd_x.engine.Value, ours_model, steps=4)
print(f"{'step':>4} {'micrograd':>18} {'micrograd_x':>18} {'difference':>11}")
for k, (l1, l2) in enumerate(zip(theirs_loss, ours_loss)):
    print(f"{k:>4} {l1:18.14f} {l2:18.14f} {abs(l1 - l2):11.1e}")
print(
    f"seconds per step: micrograd {np.median(theirs_time):.2f}, "
    f"micrograd_x {np.median(ours_time):.3f} (both rebuilding the graph every step)"
)

# %% [markdown]
# ## What micrograd_x adds
#
# ### The local partials are data
#
# micrograd keeps each op's derivative inside a closure (`_backward`); micrograd_x stores it on
# the node: `parents` (in order, a value used twice appears twice) and `partials`, the local
# derivative of the node with respect to each parent. The neuron's pre-activation `n` is a sum,
# so its partials are 1; `o = tanh(n)` has $1 - o^2$.

# %%
print("n.parents  ", [v.label for v in n.parents])
print("n.partials ", n.partials)
print("o.partials ", o.partials, " 1 − o² =", 1 - o.data**2)

# %% [markdown]
# ### The chain, checked
#
# `explain` lists every path from an input to the output with its product of local partials and
# checks that their sum equals the gradient `backward()` left in `.grad`.

# %%
explain(o, wrt=w1)

# %% [markdown]
# ### Gradient checks
#
# `gradcheck` compares the engine's gradients with central finite differences (kinks such as
# relu's at 0 are reported as inconclusive rather than failed). Here, the README expression as a
# function of `a` and `b`, `readme_g` from the side-by-side cell above:

# %%
from micrograd_x.testing import gradcheck

print(gradcheck(readme_g, [-4.0, 2.0]))

# %% [markdown]
# ### Trace once, replay fast
#
# The demo loop rebuilds the same graph at every step. `replay.capture` traces the demo's own
# `loss()` once and re-runs its forward and backward passes as array operations; the update loop
# is unchanged. (`train.fit` does all of this for you.)

# %%
from micrograd_x import replay

random.seed(1337)
model = MLP(2, [16, 16, 1])
params = model.parameters()
step = replay.capture(lambda: loss()[0], params)

start = time.perf_counter()
for k in range(100):
    model.zero_grad()
    total = step.step()  # forward and backward, with the grads added into p.grad
    for p in params:
        p.data -= (1.0 - 0.9 * k / 100) * p.grad
seconds = time.perf_counter() - start
step.sync()  # write the replayed values back into the traced nodes
print(f"100 replayed steps in {seconds:.2f} s; final loss {total:.6f}, accuracy {loss()[1]:.0%}")

# %% [markdown]
# ## What differs
#
# - **Making nodes.** micrograd's `Value(data, _children, _op)` builds any node; here
#   `Value(data, label=None)` builds a leaf, and ops build interior nodes with their partials
#   (`Value(2.0, (a, b), '+')` raises a `TypeError` that says so).
# - **Reading nodes.** `_prev`, `_op` and `_backward()` work, read-only; `parents`, `op` and
#   `partials` say more (order, multiplicity, the local derivatives).
# - **Layers.** micrograd's `Layer` returns a single `Value` when it has one neuron; ours always
#   returns a list (an `MLP` with one output returns a `Value`, as micrograd's).
# - **Initial weights.** micrograd draws $U(-1, 1)$; the default here is He uniform for relu and
#   Xavier for tanh; `init="uniform"` is micrograd's.
# - **Pictures.** `draw(root, wrt=x)` puts the local partial on every edge; `explain(root, wrt=x)`
#   writes the chain rule out path by path.
# - **`import *`.** `from micrograd_x import *` gives `Value`, `MLP`, `draw`, `explain`, … but not
#   `sum`, `grad` or `data`, which would hide Python's `sum` or your own variables: write
#   `micrograd_x.sum`, `micrograd_x.grad`, `micrograd_x.data`.
