from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd_x import ops
from micrograd_x.architecture import from_config
from micrograd_x.engine import Parameter, Value, topological_order
from micrograd_x.nn import ACTIVATIONS, MLP, Layer, Module, Neuron
from micrograd_x.testing import gradcheck


def _act(name: str, a: float) -> float:
    # Closed forms, written independently of the op records.
    if name == "tanh":
        return math.tanh(a)
    if name == "relu":
        return max(a, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-a))
    if name == "leaky_relu":
        return a if a > 0 else 0.01 * a
    if name == "elu":
        return a if a > 0 else math.exp(a) - 1.0
    if name == "gelu":
        return 0.5 * a * (1.0 + math.erf(a / math.sqrt(2.0)))
    if name == "silu":
        return a / (1.0 + math.exp(-a))
    if name == "softplus":
        return math.log1p(math.exp(a))
    assert name == "linear"
    return a


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_neuron_is_activation_of_one_dot_node(name: str) -> None:
    n = Neuron(3, activation=name, seed=1)
    x = [0.5, -1.25, 2.0]
    out = n(x)
    a = sum(w.data * xi for w, xi in zip(n.w, x)) + (n.b.data if n.b else 0.0)
    assert out.data == pytest.approx(_act(name, a), rel=1e-12, abs=1e-15)
    pre = out if name == "linear" else out.parents[0]
    assert pre.op is ops.DOT
    assert pre.parents[:3] == tuple(n.w)
    assert [p.data for p in pre.parents[3:6]] == x
    assert pre.parents[6] is n.b
    if name != "linear":
        assert out.op is ops.get(name)
    # One dot node and one activation node; nothing else built.
    interior = [v for v in topological_order(out) if not v.is_leaf]
    assert len(interior) == (1 if name == "linear" else 2)


def test_none_is_linear_and_custom_function_works() -> None:
    n = Neuron(2, activation=None, seed=0)
    assert n.activation == "linear"

    def cube(v: Value) -> Value:
        return v * v * v

    c = Neuron(2, activation=cube, seed=0)
    assert c.activation == "cube"
    x = [0.3, -0.7]
    a = sum(w.data * xi for w, xi in zip(c.w, x))
    assert c(x).data == pytest.approx(a**3)


def test_parameters_are_labelled_parameters_in_the_module_scope() -> None:
    m = MLP(2, [16, 16, 1], seed=0)
    assert m.num_parameters() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1 == 337
    named = m.named_parameters()
    assert named[0][0] == "layer1.neuron1.w1"
    assert named[2][0] == "layer1.neuron1.b"
    assert named[-1][0] == "layer3.neuron1.b"
    assert all(isinstance(p, Parameter) for _, p in named)
    for name, p in named:
        *path, label = name.split(".")
        assert p.label == label
        assert p.scope == "mlp." + ".".join(path)
    assert m.parameters() == [p for _, p in named]
    assert len({id(p) for p in m.parameters()}) == 337


def test_forward_nodes_carry_the_module_scope() -> None:
    m = MLP(2, [3, 2], seed=0, name="net")
    outs = m([1.0, -2.0])
    assert isinstance(outs, list) and len(outs) == 2
    assert outs[1].scope == "net.layer2.neuron2"
    scopes = {v.scope for v in topological_order(outs[0]) if not v.is_leaf}
    assert scopes == {"net.layer1.neuron1", "net.layer1.neuron2", "net.layer1.neuron3",
                      "net.layer2.neuron1"}  # fmt: skip
    # Inputs are labelled leaves outside any module scope.
    xs = [v for v in topological_order(outs[0]) if v.label in ("x1", "x2")]
    assert {v.label for v in xs} == {"x1", "x2"} and all(v.scope is None for v in xs)
    # A layer or a neuron used alone scopes its nodes by its own name.
    layer = Layer(2, 2, seed=0, name="dense")
    assert layer([1.0, 2.0])[1].scope == "dense.neuron2"
    assert Neuron(2, seed=0)([1.0, 2.0]).scope == "neuron"


def test_mlp_matches_a_plain_numpy_forward() -> None:
    m = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", seed=2)
    x = np.array([0.1, -0.4, 0.9])
    h = x
    for k, layer in enumerate(m.layers):
        W = np.array([[w.data for w in n.w] for n in layer.neurons])
        b = np.array([n.b.data for n in layer.neurons if n.b is not None])
        z = W @ h + b
        h = np.tanh(z) if k < 2 else 1 / (1 + np.exp(-z))
    out = m.forward(x)
    assert [v.data for v in out] == pytest.approx(h.tolist(), rel=1e-12)


def test_single_output_returns_a_value_and_forward_a_list() -> None:
    m = MLP(2, [4, 1], seed=0)
    y = m([0.5, 0.5])
    assert isinstance(y, Value)
    assert m.forward([0.5, 0.5])[0].data == y.data
    one = MLP(1, [3, 1], seed=0)
    assert one(0.5).data == one([0.5]).data  # type: ignore[union-attr]


def test_forward_batch_equals_forward_per_sample() -> None:
    m = MLP(2, [5, 3], activation="tanh", seed=4)
    rows = [[0.1, 0.2], [-1.0, 0.5], [2.0, -0.3]]
    batch = m.forward_batch(rows)
    assert [[v.data for v in out] for out in batch] == [
        [v.data for v in m.forward(r)] for r in rows
    ]
    assert {v.scope for out in batch for v in out} == {
        "mlp.layer2.neuron1",
        "mlp.layer2.neuron2",
        "mlp.layer2.neuron3",
    }
    layer = Layer(2, 2, seed=0)
    assert [[v.data for v in o] for o in layer.forward_batch(rows)] == [
        [v.data for v in layer(r)] for r in rows
    ]
    neuron = Neuron(2, seed=0)
    assert [o[0].data for o in neuron.forward_batch(rows)] == [neuron(r).data for r in rows]
    with pytest.raises(ValueError, match=r"MLP 'mlp': expected 2 input\(s\), got 3"):
        m.forward_batch([[1.0, 2.0], [1.0, 2.0, 3.0]])


def test_unfused_neuron_gives_the_same_values_and_gradients() -> None:
    a = Neuron(4, "tanh", seed=7)
    b = Neuron(4, "tanh", seed=7, fused=False)
    x = [0.2, -0.5, 1.5, 0.1]
    ya, yb = a(x), b(x)
    assert ya.data == pytest.approx(yb.data, rel=1e-14)
    ya.backward()
    yb.backward()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert pa.grad == pytest.approx(pb.grad, rel=1e-12)
    assert not any(v.op is ops.DOT for v in topological_order(yb))


def test_gradients_wrt_inputs_match_finite_differences() -> None:
    m = MLP(3, [4, 4, 1], activation="tanh", seed=11)

    def f(x1: Value, x2: Value, x3: Value) -> Value:
        out = m([x1, x2, x3])
        assert isinstance(out, Value)
        return out

    report = gradcheck(f, [0.3, -0.8, 1.1])
    assert report.passed, report.message


def test_gradients_wrt_parameters_match_finite_differences() -> None:
    m = MLP(2, [3, 2], activation="sigmoid", output_activation="tanh", seed=5)
    x = [0.7, -0.2]

    def loss() -> float:
        o = m.forward(x)
        return (o[0] * o[1] + o[0]).data

    out = m.forward(x)
    m.zero_grad()
    (out[0] * out[1] + out[0]).backward()
    for p in m.parameters():
        h = 1e-6 * max(1.0, abs(p.data))
        p0 = p.data
        p.data = p0 + h
        up = loss()
        p.data = p0 - h
        down = loss()
        p.data = p0
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


def test_zero_grad_and_accumulation() -> None:
    m = MLP(2, [3, 1], seed=0)
    out = m([1.0, 2.0])
    assert isinstance(out, Value)
    out.backward()
    before = [p.grad for p in m.parameters()]
    assert any(g != 0.0 for g in before)
    m([1.0, 2.0]).backward()  # type: ignore[union-attr]
    assert [p.grad for p in m.parameters()] == [2 * g for g in before]
    m.zero_grad()
    assert all(p.grad == 0.0 for p in m.parameters())


def test_auto_init_is_he_for_relu_and_xavier_for_tanh() -> None:
    relu = Layer(8, 200, "relu", seed=0)
    tanh = Layer(8, 200, "tanh", seed=0)
    w_relu = [w.data for n in relu.neurons for w in n.w]
    w_tanh = [w.data for n in tanh.neurons for w in n.w]
    assert max(map(abs, w_relu)) <= math.sqrt(6 / 8) and max(map(abs, w_relu)) > 0.99 * math.sqrt(
        6 / 8
    )
    assert max(map(abs, w_tanh)) <= 1 / math.sqrt(8) and max(map(abs, w_tanh)) > 0.99 / math.sqrt(8)
    # Normalized Xavier uses the layer's size as fan_out.
    nx = Layer(8, 200, "tanh", init="xavier_normalized", seed=0)
    w_nx = [w.data for n in nx.neurons for w in n.w]
    assert max(map(abs, w_nx)) <= math.sqrt(6) / math.sqrt(208)
    assert all(n.b is not None and n.b.data == 0.0 for n in relu.neurons)
    b = Layer(2, 3, bias_init=0.1, seed=0)
    assert all(n.b is not None and n.b.data == 0.1 for n in b.neurons)
    nb = Layer(2, 3, bias=False, seed=0)
    assert nb.num_parameters() == 6


def test_readable_reprs() -> None:
    m = MLP(2, [16, 16, 1])
    assert repr(m) == "MLP('mlp': 2 → 16 relu → 16 relu → 1 linear, 337 parameters)"
    assert repr(m.layers[0]) == "Layer('layer1': 2 → 16, relu, 48 parameters)"
    assert repr(m.layers[0].neurons[2]) == "Neuron('neuron3': 2 inputs, relu, 3 parameters)"


def test_config_round_trip_rebuilds_the_same_architecture() -> None:
    for module in (
        MLP(3, [4, 2], "tanh", "sigmoid", bias=False, name="net", fused=False),
        Layer(2, 5, "gelu", name="dense"),
        Neuron(4, None),
    ):
        rebuilt = from_config(module.config())
        assert rebuilt.config() == module.config()
        assert [n for n, _ in rebuilt.named_parameters()] == [
            n for n, _ in module.named_parameters()
        ]


def test_config_of_a_custom_activation_is_refused() -> None:
    m = MLP(2, [2, 1], activation=lambda v: v * v)
    with pytest.raises(ValueError, match="custom activation '<lambda>' cannot be saved"):
        m.config()


def test_from_config_errors() -> None:
    with pytest.raises(ValueError, match="unknown module type 'CNN'"):
        from_config({"type": "CNN"})
    with pytest.raises(ValueError, match="the MLP architecture lacks the field 'sizes'"):
        from_config({"type": "MLP", "nin": 2, "activation": None, "output_activation": None})
    with pytest.raises(TypeError, match="expected a dict"):
        from_config([1])  # type: ignore[arg-type]


# -- bad input ----------------------------------------------------------------------------------


def test_wrong_number_of_inputs_names_the_module_and_the_values() -> None:
    m = MLP(2, [3, 1])
    with pytest.raises(ValueError, match=r"MLP 'mlp': expected 2 input\(s\), got 3: \[1, 2, 3\]"):
        m([1, 2, 3])
    with pytest.raises(ValueError, match=r"expected 2 input\(s\), got 1"):
        m([1.0])
    with pytest.raises(ValueError, match=r"Layer 'layer': expected 2 input\(s\), got 0"):
        Layer(2, 2)([])
    with pytest.raises(ValueError, match=r"Neuron 'n': expected 3 input\(s\), got 2"):
        Neuron(3, name="n")([1.0, 2.0])
    with pytest.raises(ValueError, match=r"MLP 'mlp': expected 2 input\(s\), got 1: \[0.5\]"):
        m(0.5)


@pytest.mark.parametrize(
    ("bad", "kind", "msg"),
    [
        ("3", TypeError, r"input x2 must be a real number or a Value, got str '3'"),
        (None, TypeError, r"input x2 must be a real number or a Value, got NoneType None"),
        (True, TypeError, r"input x2 must be a real number or a Value, got bool True"),
        (1j, TypeError, r"input x2 must be a real number or a Value, got complex 1j"),
        (math.nan, ValueError, r"input x2 is nan; inputs must be finite"),
        (math.inf, ValueError, r"input x2 is inf"),
        (10**400, ValueError, r"input x2 is inf; inputs must be finite"),
    ],
)
def test_non_numbers_are_refused_with_the_module_and_value(
    bad: object, kind: type[Exception], msg: str
) -> None:
    with pytest.raises(kind, match=r"MLP 'mlp': " + msg):
        MLP(2, [3, 1])([1.0, bad])  # type: ignore[list-item]


def test_non_sequence_inputs() -> None:
    with pytest.raises(TypeError, match=r"MLP 'mlp': expected a sequence of 2 input\(s\), got str"):
        MLP(2, [1])("ab")
    with pytest.raises(TypeError, match="got dict"):
        MLP(2, [1])({"a": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got object"):
        MLP(2, [1])(object())  # type: ignore[arg-type]


def test_numpy_rows_and_values_are_accepted() -> None:
    m = MLP(2, [2, 1], seed=0)
    a = m(np.array([0.5, -1.0]))
    b = m([np.float64(0.5), Value(-1.0)])
    c = m([np.int64(1), 2])
    assert isinstance(a, Value) and isinstance(b, Value) and isinstance(c, Value)
    assert a.data == b.data


@pytest.mark.parametrize(
    ("build", "error", "msg"),
    [
        (lambda: Neuron(0), ValueError, r"Neuron: nin must be a positive integer, got 0"),
        (lambda: Neuron(2.5), TypeError, r"Neuron: nin must be a positive integer, got float 2.5"),
        (lambda: Neuron(2, "swish"), ValueError, r"unknown activation 'swish'; known: tanh, relu"),
        (
            lambda: Neuron(2, 3),
            TypeError,
            r"activation must be a name, None or a function, got int",
        ),
        (lambda: Neuron(2, init="bogus"), ValueError, r"init: unknown initializer 'bogus'"),
        (lambda: Layer(2, 0), ValueError, r"Layer: nout must be a positive integer, got 0"),
        (lambda: MLP(2, []), ValueError, r"MLP: sizes must be a non-empty list of layer sizes"),
        (lambda: MLP(2, [3, -1]), ValueError, r"MLP: every layer size must be a positive integer"),
        (lambda: MLP(2, 3), TypeError, r"MLP: sizes must be a list of layer sizes, got int 3"),
        (lambda: MLP(2, [3], name="a.b"), ValueError, r"MLP: name must be a non-empty string"),
        (lambda: MLP(2, [3], name=""), ValueError, r"MLP: name must be a non-empty string"),
        (lambda: MLP(2, [3], name=3), TypeError, r"MLP: name must be a string, got int 3"),
    ],
)
def test_bad_construction(build: object, error: type[Exception], msg: str) -> None:
    # A wrong type is a TypeError, a wrong value of the right type a ValueError.
    with pytest.raises(error, match=msg) as caught:
        build()  # type: ignore[operator]
    assert type(caught.value) is error


def test_base_module_is_abstract() -> None:
    class Empty(Module):
        name = "empty"

    with pytest.raises(TypeError, match="abstract"):
        Empty()  # type: ignore[abstract]


@given(
    x=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
    seed=st.integers(0, 1000),
)
def test_mlp_output_is_deterministic_and_finite(x: list[float], seed: int) -> None:
    a = MLP(3, [4, 1], activation="tanh", seed=seed)
    b = MLP(3, [4, 1], activation="tanh", seed=seed)
    ya, yb = a(x), b(x)
    assert isinstance(ya, Value) and isinstance(yb, Value)
    assert ya.data == yb.data and math.isfinite(ya.data)


def test_from_config_refuses_absurd_sizes_without_building() -> None:
    from micrograd_x.architecture import from_config

    config = MLP(2, [3, 1]).config()
    config["sizes"] = [1_000_000_000, 1]
    with pytest.raises(ValueError, match=r"from_config: the MLP architecture has 4,000,000,001"):
        from_config(config)
