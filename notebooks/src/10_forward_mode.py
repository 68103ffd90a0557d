# %% [markdown]
# # 10 · Forward mode and reverse mode
#
# Every node of a micrograd_x graph stores the local partial derivative of its output with
# respect to each input. `backward()` reads those numbers from the output back to the inputs:
# that is **reverse mode**. The same numbers can be read the other way, from the inputs to the
# outputs: **forward mode**. Pick a direction of change $\dot x$ of the inputs (a *tangent*);
# then each node's tangent is
#
# $$\dot v = \sum_i \frac{\partial v}{\partial p_i}\,\dot p_i,$$
#
# summed over its parents $p_i$, in the order the graph was built. One forward sweep gives the
# derivative of **every output** along **one direction** of the inputs; one backward sweep gives
# the derivative of **one output** with respect to **every input**. This notebook measures what
# that difference costs, with the engine itself.

# %%
import matplotlib.pyplot as plt

plt.rcParams.update({"figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3})

# %%
from micrograd_x import Value, grad, topological_order
from micrograd_x.forward import jvp, push_tangents

x = Value(0.5, label="x")
y = Value(2.0, label="y")
xy = x * y
xy.label = "x·y"
s = x.sin()
s.label = "sin x"
f = xy + s
f.label = "f"

# Forward mode along x: seed x with tangent 1 and y with 0, push to f.
tangents = push_tangents(f, {x: 1.0, y: 0.0})
for node in topological_order(f):
    parts = ", ".join(f"{d:.4f}" for d in node.partials) or "—"
    print(
        f"{node.label:>6}: value {node.data:7.4f}  partials ({parts})  tangent {tangents[node]:.4f}"
    )

# %% [markdown]
# `draw` shows the same sweep: with `tangents=` each value carries its tangent instead of its
# grad, and the width of each edge is the tangent flowing along it (partial × tangent of its
# input). The edge from `y` carries none: `y` does not move in this direction.

# %%
from micrograd_x import draw

draw(f, tangents={x: 1.0})

# %% [markdown]
# The tangent of `f` is $\partial f/\partial x = y + \cos x$. `jvp` wraps the same sweep as a
# function transform, like JAX's: it returns the value and the directional derivative. Reverse
# mode (`grad`) gives both partial derivatives at once; forward mode needs one sweep per input.


# %%
def func(x, y):
    """f(x, y) = x·y + sin x."""
    return x * y + x.sin()


print("jvp along x:", jvp(func)((0.5, 2.0), (1.0, 0.0)))
print("jvp along y:", jvp(func)((0.5, 2.0), (0.0, 1.0)))
print("grad       :", grad(func, argnums=(0, 1))(0.5, 2.0))

# %% [markdown]
# ## Counting the work
#
# How much work does each mode do? Let the engine count. With `create_graph=True` a derivative
# is built as a graph of new nodes instead of computed as a number: every multiplication
# *partial × tangent* (or *partial × gradient*), every sum and every partial it recomputes
# becomes one node. Counting the new nodes counts the operations of the derivative computation.
#
# **Many inputs, one output** — the shape of training, where the loss is one number and the
# parameters are many. Here a network of three hidden layers with $n$ inputs and one output;
# reverse mode gets the whole gradient in one sweep, forward mode needs $n$ sweeps, one per input.

# %%
from micrograd_x import MLP, gradients


def new_nodes(derivatives, graph):
    """How many nodes the derivative computation added to the graph."""
    made = set()
    for d in derivatives:
        if isinstance(d, Value):
            made.update(topological_order(d))
    return len(made - graph)


def forward_cost(outputs, inputs):
    """Nodes built by forward mode's Jacobian: one sweep per input."""
    cost = 0
    graph = {node for out in outputs for node in topological_order(out)}
    for x in inputs:
        t = push_tangents(outputs, {x: 1.0}, create_graph=True)
        cost += new_nodes([t[out] for out in outputs], graph)
    return cost


def reverse_cost(outputs, inputs):
    """Nodes built by reverse mode's Jacobian: one sweep per output."""
    cost = 0
    graph = {node for out in outputs for node in topological_order(out)}
    for out in outputs:
        cost += new_nodes(gradients(out, inputs, create_graph=True), graph)
    return cost


sizes = [1, 2, 4, 8, 16, 32, 64]
many_in = {"forward": [], "reverse": [], "graph": []}
for n in sizes:
    net = MLP(n, [8, 8, 8, 1], activation="tanh", seed=0)
    xs = [Value(0.1 * (i % 7) - 0.3) for i in range(n)]
    loss = net(xs)
    many_in["graph"].append(len(topological_order(loss)))
    many_in["forward"].append(forward_cost([loss], xs))
    many_in["reverse"].append(reverse_cost([loss], xs))

print(f"{'n':>4} {'graph':>7} {'forward':>9} {'reverse':>8}  ratio")
for i, n in enumerate(sizes):
    g, fw, rv = many_in["graph"][i], many_in["forward"][i], many_in["reverse"][i]
    print(f"{n:>4} {g:>7} {fw:>9} {rv:>8}  {fw / rv:5.1f}")

# %% [markdown]
# **One input, many outputs** — the opposite shape: a curve $x \mapsto (o_1, \dots, o_m)$, here
# $m$ outputs of a network with one input. Now forward mode needs one sweep and reverse mode $m$.

# %%
one_in = {"forward": [], "reverse": [], "graph": []}
for m in sizes:
    net = MLP(1, [8, 8, 8, m], activation="tanh", seed=0)
    x = Value(0.4)
    outs = net.forward([x])
    one_in["graph"].append(len({node for out in outs for node in topological_order(out)}))
    one_in["forward"].append(forward_cost(outs, [x]))
    one_in["reverse"].append(reverse_cost(outs, [x]))

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
style = {
    "forward": dict(color="tab:orange", marker="o"),
    "reverse": dict(color="tab:blue", marker="s"),
}
for mode in ("forward", "reverse"):
    left.plot(sizes, many_in[mode], label=f"{mode} mode", **style[mode])
    right.plot(sizes, one_in[mode], label=f"{mode} mode", **style[mode])
panels = (
    (left, many_in, "forward", "reverse", "n inputs → 1 output (a loss): the gradient"),
    (right, one_in, "reverse", "forward", "1 input → m outputs: the derivative of each"),
)
for ax, counts, more, less, title in panels:
    ax.plot(sizes, counts["graph"], color="gray", linestyle=":", label="nodes of f itself")
    ratio = counts[more][-1] / counts[less][-1]
    ax.set_title(f"{title}\nat {sizes[-1]}, {more} mode builds {ratio:.0f}× as many nodes")
left.set(xlabel="number of inputs n", ylabel="nodes built by the derivative")
right.set(xlabel="number of outputs m")
for ax in (left, right):
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.legend()
fig.suptitle("Operations of forward and reverse mode, counted by the engine", y=1.0)
fig.tight_layout()
plt.show()

# %% [markdown]
# On the left, reverse mode's cost grows like the network itself (the dotted line): one sweep,
# a few operations per node. Forward mode's grows like $n$ times the part of the graph each input
# reaches, which after the first layer is all of it; with 64 inputs it does over twenty times
# the work. On the right the roles swap. That is why deep learning trains with reverse mode
# (millions of parameters, one loss), and why `jacobian` picks its mode by shape:

# %%
from micrograd_x.forward import jacobian, jacobian_mode

print("1 input, 3 outputs :", jacobian_mode(1, 3))
print("3 inputs, 1 output :", jacobian_mode(3, 1))
print(jacobian(lambda t: [t.cos(), t.sin(), t * t])(0.3))

# %% [markdown]
# ## Forward over reverse: Hessian-vector products
#
# The two modes compose. `grad(f)` builds its gradient as a graph when it is given Values, and
# `jvp` can push a tangent $v$ through that graph: the result is the derivative of the gradient
# along $v$, the Hessian-vector product $Hv$, for the price of about one gradient more, without
# ever forming the $n \times n$ Hessian.

# %%
from micrograd_x import hessian


def bowl(x, y):
    """A small curved function of two variables."""
    return (x * x * y).tanh() + (x - y).exp()


point, v = (0.3, -0.5), (1.0, 2.0)
_, hv = jvp(grad(bowl, argnums=(0, 1)))(point, v)
H = hessian(bowl)(*point)
print("forward over reverse:", hv)
print("H · v from hessian  :", tuple(sum(h * d for h, d in zip(row, v)) for row in H))

# %% [markdown]
# `micrograd_x.testing.jvpcheck` checks forward mode the way `gradcheck` checks reverse mode:
# forward mode's Jacobian against reverse mode's (they must agree to rounding, since both read
# the same partials) and against finite differences.

# %%
from micrograd_x.testing import jvpcheck

print(jvpcheck(bowl, point))
