# %% [markdown]
# # 8 · Exploring the backward pass
#
# In the classic micrograd lecture the gradients are filled in by hand, node by node, from the
# output back: each node's gradient times the local partial derivative on an edge, added into the
# node at the other end. micrograd_x stores those local partials, so that walk can be stepped
# through, one node at a time, in the order the engine itself uses.
#
# `explore(f, a=..., b=...)` shows a function of named inputs as an interactive widget:
#
# - **◀ ▶ play reset** step through the backward pass; each step is one node's chain-rule step,
#   written as an equation such as `e.grad += -2 × 1 = -2`; gradients not reached yet show `?`;
# - **click a box** to highlight its paths to the output (or, with the menu, to an input) and read
#   its chain-rule table;
# - **move a slider** and the forward and backward passes run again: numbers, edge widths and
#   the caption change in place.
#
# The widget needs `pip install 'micrograd-x[widgets]'` (anywidget) and a Jupyter front end
# (JupyterLab, Notebook 7, VS Code, Colab). Without one, everything below still runs and prints.

# %%
from IPython.display import display

from micrograd_x import Value, draw, explore

# %% [markdown]
# ## The lecture's example: L = (a·b + c)·f


# %%
def lecture(a, b, c, f):
    """L = (a·b + c)·f, with the lecture's labels."""
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    return L


ex = explore(lecture, a=2.0, b=-3.0, c=10.0, f=-2.0)
display(ex)

# %% [markdown]
# Press ▶ four times. The first step seeds the output, `L.grad = 1`. Then `L = d × f` passes its
# gradient to `d` and `f`, times the local partials ∂L/∂d = f = -2 and ∂L/∂f = d = 4; then
# `d = e + c` passes -2 on unchanged (a sum's partials are 1); then `e = a × b` multiplies by the
# *other* factor. The same steps as text:

# %%
for step in ex.steps:
    print("\n".join(step.lines))

# %% [markdown]
# Click `a` in the drawing: the path a → e → d → L lights up and the table below it multiplies the
# partials along that path, -2 × 1 × -3 = 6, which is `a.grad`.
#
# Moving the slider of `a` reruns everything. From Python, `set_input` does the same, and the
# widget above follows:

# %%
ex.set_input("a", 3.0)
print(ex.state()["caption"])
print("\n".join(ex.steps[-1].lines))

# %% [markdown]
# `∂L/∂a = b·f` does not depend on `a`, so `a.grad` stays 6 while `L` changes; `b.grad = a·f`
# does change.
#
# ## A neuron
#
# The lecture's neuron: two inputs, two weights, a bias, and tanh. Ranges for the sliders can be
# given as `(value, low, high)`.


# %%
def neuron(x1, x2, w1, w2, b):
    """The neuron o = tanh(x1·w1 + x2·w2 + b)."""
    x1w1 = x1 * w1
    x1w1.label = "x1w1"
    x2w2 = x2 * w2
    x2w2.label = "x2w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1w1x2w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


cell = explore(
    neuron,
    x1=(2.0, -3.0, 3.0),
    x2=(0.0, -3.0, 3.0),
    w1=(-3.0, -4.0, 4.0),
    w2=(1.0, -4.0, 4.0),
    b=(6.8813735870195432, 0.0, 10.0),
)
display(cell)

# %% [markdown]
# Step to the tanh node: `n.grad += 1 × 0.5 = 0.5`, because tanh′(n) = 1 − o² = 0.5 at o = 0.7071.
# Then drag `b` up: o saturates towards 1, tanh′ towards 0, and the edges into `n` thin out — the
# gradient that reaches the weights vanishes. That is what a saturated tanh unit does to learning.

# %%
for step in cell.steps[:3]:
    print("\n".join(step.lines))

# %% [markdown]
# ## Any graph you already built
#
# `explore(root)` takes a `Value` you computed yourself. It works on a private copy, so your
# gradients are left as they were.

# %%
x = Value(-1.5, label="x")
y = (x * x).exp() * x.sigmoid()
y.label = "y"
display(explore(y))

# %% [markdown]
# ## The same, without a kernel
#
# `save` writes one self-contained HTML page — the drawing, the steps, the tables and the script
# in one file, with no network access — that steps and highlights like the widget (the sliders
# need a kernel, so a page keeps the values it was saved with). Open it in a browser, put it on a
# course page, or embed it in slides with `<iframe src="chain.html">`.

# %%
path = ex.save("chain.html")
print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")

# %% [markdown]
# For a static picture of the same graph, with the chain for one input highlighted, there is
# `draw` (notebook 6):

# %%
draw(ex.output)
