"""The PyTorch bridge: round trips, identical outputs and gradients, clear refusals."""

from __future__ import annotations

import math
import random

import pytest
import torch
from torch import nn as tnn

from micrograd_x import Value
from micrograd_x import sum as vsum
from micrograd_x.export import from_torch, to_torch
from micrograd_x.nn import ACTIVATIONS, MLP, Layer, Neuron

ACTS = [a for a in ACTIVATIONS]


def _state(model: MLP) -> tuple[object, list[float]]:
    return model.config(), [p.data for p in model.parameters()]


def _inputs(n: int, rows: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    # Wide inputs, so activations are exercised in their tails too (softplus beyond 20).
    return [[rng.uniform(-30.0, 30.0) for _ in range(n)] for _ in range(rows)]


def _compare(model: MLP | Layer | Neuron, net: tnn.Sequential, x: list[float]) -> None:
    """Outputs and every parameter's gradient of Σ out² agree to 1e-12."""
    out = model.forward(x)
    loss = vsum([o * o for o in out])
    model.zero_grad()
    loss.backward()
    net.zero_grad()
    t_out = net(torch.tensor([x], dtype=torch.float64))
    (t_out**2).sum().backward()
    for a, b in zip(out, t_out[0].tolist()):
        assert abs(a.data - b) <= 1e-12 * max(1.0, abs(b)), (a.data, b)
    grads: list[float] = []
    for p in net.parameters():
        assert p.grad is not None
        grads += p.grad.flatten().tolist()
    # Torch's order: layer by layer, weight rows (neurons) then biases; ours: neuron by neuron.
    ours: list[float] = []
    layers = model.layers if isinstance(model, MLP) else [model]
    for layer in layers:
        neurons = layer.neurons if isinstance(layer, Layer) else [layer]
        ours += [w.grad for n in neurons for w in n.w]  # type: ignore[misc]
        ours += [n.b.grad for n in neurons if n.b is not None]  # type: ignore[misc]
    assert len(ours) == len(grads)
    for a, b in zip(ours, grads):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b)), (a, b)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("bias", [True, False])
def test_round_trip_and_identical_outputs_and_gradients(act: str, bias: bool) -> None:
    m = MLP(3, [5, 4, 2], activation=act, output_activation="tanh", bias=bias, seed=7)
    net = to_torch(m)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    back = from_torch(net)
    assert _state(back) == _state(m)
    for x in _inputs(3, 5, seed=1):
        _compare(m, net, x)
        _compare(back, net, x)


def test_the_copy_is_independent() -> None:
    m = MLP(2, [3, 1], seed=0)
    net = to_torch(m)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert _state(from_torch(to_torch(m))) == _state(m)
    assert _state(from_torch(net)) != _state(m)


def test_a_layer_and_a_neuron_export() -> None:
    layer = Layer(3, 2, activation="sigmoid", seed=3)
    neuron = Neuron(4, activation="relu", seed=4)
    for model, n in ((layer, 3), (neuron, 4)):
        net = to_torch(model)
        for x in _inputs(n, 3, seed=2):
            _compare(model, net, x)


def test_a_pytorch_network_becomes_an_mlp_computing_the_same_function() -> None:
    torch.manual_seed(0)
    net = tnn.Sequential(
        tnn.Linear(2, 8), tnn.GELU(), tnn.Linear(8, 8), tnn.GELU(), tnn.Linear(8, 1)
    )  # float32, PyTorch's default
    m = from_torch(net, name="net")
    assert m.sizes == [8, 8, 1] and m.config()["activation"] == "gelu" and m.name == "net"
    # The float32 parameters are copied exactly; compare with the float64 twin of the network.
    net64 = net.to(torch.float64)
    for x in _inputs(2, 5, seed=3):
        _compare(m, net64, x)


def test_pytorch_default_softplus_is_accepted() -> None:
    m = from_torch(tnn.Sequential(tnn.Linear(1, 1), tnn.Softplus()))
    assert m.layers[-1].activation == "softplus"


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([tnn.Linear(2, 3), tnn.Dropout(0.5), tnn.Linear(3, 1)], r"layer '1' is a Dropout"),
        ([tnn.Linear(2, 3), tnn.Conv1d(1, 1, 1)], r"layer '1' is a Conv1d"),
        ([tnn.ReLU(), tnn.Linear(2, 1)], r"layer '0' \(ReLU\) comes before any Linear"),
        (
            [tnn.Linear(2, 3), tnn.ReLU(), tnn.Tanh(), tnn.Linear(3, 1)],
            r"layer '2' \(Tanh\) follows another activation \(relu\)",
        ),
        (
            [tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 3), tnn.Tanh(), tnn.Linear(3, 1)],
            r"hidden layers use different activations \(relu, tanh\)",
        ),
        (
            [tnn.Linear(2, 3), tnn.Linear(4, 1)],
            r"layer '1' \(Linear\) takes 4 inputs but the previous Linear gives 3",
        ),
        ([tnn.Linear(2, 3, bias=False), tnn.Linear(3, 1)], r"some Linear layers have a bias"),
        ([tnn.Linear(2, 1), tnn.LeakyReLU(0.2)], r"layer '1' LeakyReLU\(negative_slope=0.2\)"),
        ([tnn.Linear(2, 1), tnn.ELU(alpha=0.5)], r"layer '1' ELU\(alpha=0.5\)"),
        ([tnn.Linear(2, 1), tnn.GELU(approximate="tanh")], r"GELU\(approximate='tanh'\)"),
        ([tnn.Linear(2, 1), tnn.Softplus(beta=2.0)], r"Softplus\(beta=2.0, threshold=20"),
        ([], r"has no Linear layer"),
    ],
    ids=lambda v: "" if isinstance(v, str) else "-".join(type(m).__name__ for m in v) or "empty",
)
def test_unsupported_networks_are_refused_naming_the_layer(
    layers: list[tnn.Module], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        from_torch(tnn.Sequential(*layers))


def test_other_refusals() -> None:
    with pytest.raises(TypeError, match=r"expected a torch\.nn\.Sequential, got Linear"):
        from_torch(tnn.Linear(2, 1))
    net = tnn.Sequential(tnn.Linear(2, 1))
    with torch.no_grad():
        net[0].weight[0, 1] = math.inf
    with pytest.raises(ValueError, match="Linear layer 1's weight holds the non-finite number inf"):
        from_torch(net)
    custom = MLP(2, [2, 1], activation=lambda v: v * v, seed=0)
    with pytest.raises(ValueError, match=r"activation '<lambda>'.*in Layer 'layer1'"):
        to_torch(custom)
    with pytest.raises(TypeError, match="expected an MLP, Layer or Neuron"):
        to_torch(Value(1.0))  # type: ignore[arg-type]
