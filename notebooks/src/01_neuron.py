# %% [markdown]
# # 1 · The neuron
#
# A neuron does two things. It **mixes** its inputs, multiplying each input $x_i$ by a weight $w_i$
# and adding a bias $b$, and it **bends** the result with an activation function:
#
# $$n = w_1 x_1 + w_2 x_2 + b, \qquad o = \tanh(n).$$
#
# The weights and the bias are what training changes. To change them sensibly we need to know how
# the output moves when each of them moves: the gradient. This notebook builds one neuron from
# `Value` nodes, backpropagates, and draws the graph with the numbers on it.

# %%
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

# %% [markdown]
# ## The picture
#
# Each box is a value: its name and the op that made it, its data and its gradient (orange for
# positive, purple for negative). **Each edge carries the local partial derivative** of the box
# below with respect to the box above: for the weighted sum, ∂n/∂w1 is x1 = 2. Asking for
# `wrt=w1` highlights the path from `w1` to the output; the caption multiplies the partials along
# it, and the product is exactly `w1.grad`.

# %%
draw(o, wrt=w1)

# %% [markdown]
# The same chain rule as a table. ∂o/∂n = 1 − tanh²(n) = 0.5 and ∂n/∂w1 = x1 = 2, so
# ∂o/∂w1 = 0.5 × 2 = 1. Note ∂o/∂w2 = 0: with x2 = 0, nudging w2 changes nothing.

# %%
print(explain(o, wrt=w1))

# %% [markdown]
# ## Local partials are data
#
# Every node stores its inputs in order and one local partial per input. Nothing is hidden in a
# closure, so we can print them. The weighted-sum node has five inputs, ordered
# (w1, w2, x1, x2, b); its partials are (x1, x2, w1, w2, 1).

# %%
for parent, partial in zip(n.parents, n.partials):
    print(f"∂n/∂{parent.label} = {partial:g}")
print(f"∂o/∂n = {o.partials[0]:g}   (1 − tanh²(n))")

# %% [markdown]
# ## The activation decides how much gradient gets through
#
# Same weights, same inputs, different bend. With n ≈ 0.88, tanh and sigmoid pass a fraction of
# the gradient back (their slopes at n), ReLU passes all of it (slope 1 for n > 0).

# %%
for activation in ("tanh", "sigmoid", "relu"):
    w1.grad = 0.0
    out = getattr(dot([w1, w2], [x1, x2], b), activation)()
    out.backward()
    print(f"{activation:>8}: o = {out.data:.4f}   ∂o/∂w1 = {w1.grad:.4f}")

# %% [markdown]
# ## The same neuron from `micrograd_x.nn`
#
# `Neuron(2, activation="tanh")` makes the weights and bias as parameters (initialized from a seed)
# and builds the same graph when called. Its nodes remember the module they were built in, so the
# diagram groups them in a box.

# %%
from micrograd_x.nn import Neuron

neuron = Neuron(2, activation="tanh", seed=0)
out = neuron([2.0, 0.0])
out.backward()
print(neuron)
draw(out, wrt=neuron.w[0])
