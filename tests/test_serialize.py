from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from micrograd_x import serialize
from micrograd_x.nn import MLP, Layer, Module, Neuron
from micrograd_x.serialize import SerializationError


def _bits(m: Module) -> list[str]:
    return [p.data.hex() for p in m.parameters()]


def test_save_load_round_trips_exactly(tmp_path: Path) -> None:
    model = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", seed=7, name="net")
    path = serialize.save(model, tmp_path / "model.json")
    loaded = serialize.load(path)
    assert isinstance(loaded, MLP)
    assert loaded.config() == model.config()
    assert _bits(loaded) == _bits(model)
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    x = [0.3, -1.2, 0.8]
    assert [v.data for v in loaded.forward(x)] == [v.data for v in model.forward(x)]
    # The file is plain JSON with a format, a version and named parameters.
    doc = json.loads(path.read_text())
    assert doc["format"] == "micrograd_x.model" and doc["version"] == 1
    assert doc["parameters"]["layer1.neuron1.w1"] == model.layers[0].neurons[0].w[0].data


@pytest.mark.parametrize(
    "module",
    [Layer(2, 3, "gelu", seed=1, bias=False), Neuron(4, None, seed=2, fused=False)],
    ids=["layer", "neuron"],
)
def test_layers_and_neurons_round_trip(tmp_path: Path, module: Module) -> None:
    loaded = serialize.load(serialize.save(module, tmp_path / "m.json"))
    assert type(loaded) is type(module) and loaded.config() == module.config()
    assert _bits(loaded) == _bits(module)


def test_load_parameters_into_an_existing_model(tmp_path: Path) -> None:
    src = MLP(2, [4, 1], seed=1)
    dst = MLP(2, [4, 1], seed=2)
    for p in dst.parameters():
        p.grad = 5.0
    serialize.save(src, tmp_path / "m.json")
    assert serialize.load_parameters(dst, tmp_path / "m.json") is dst
    assert _bits(dst) == _bits(src)
    assert all(p.grad == 0.0 for p in dst.parameters())


def test_dict_round_trip() -> None:
    model = MLP(2, [3, 1], seed=4)
    assert _bits(serialize.from_dict(serialize.to_dict(model))) == _bits(model)


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    serialize.save(MLP(2, [3, 1], seed=1), target)
    before = target.read_bytes()
    serialize.save(MLP(2, [3, 1], seed=2), target)  # overwrite
    assert target.read_bytes() != before
    assert sorted(os.listdir(tmp_path)) == ["m.json"]


def test_a_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m.json"
    serialize.save(MLP(2, [3, 1], seed=1), target)
    before = target.read_bytes()

    def broken_replace(src: str, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(serialize.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        serialize.save(MLP(2, [3, 1], seed=2), target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.json"]


def test_a_custom_activation_cannot_be_saved(tmp_path: Path) -> None:
    model = MLP(2, [2, 1], activation=lambda v: v * v)
    with pytest.raises(ValueError, match="custom activation '<lambda>' cannot be saved"):
        serialize.save(model, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


# -- bad files: a clear error and the model untouched -------------------------------------------


def _saved(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = serialize.save(MLP(2, [3, 1], seed=1), tmp_path / "m.json")
    return path, json.loads(path.read_text())


def _write(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc))


def _write_bias(path: Path, literal: str) -> None:
    """Put ``literal`` as it stands in a saved file's text, as the value of one bias."""
    text = path.read_text()
    assert '"layer2.neuron1.b": 0.0' in text
    path.write_text(text.replace('"layer2.neuron1.b": 0.0', f'"layer2.neuron1.b": {literal}'))


def _assert_refused_untouched(path: Path, msg: str) -> None:
    """``load_parameters`` refuses the file with ``msg`` and leaves the model as it was."""
    model = MLP(2, [3, 1], seed=99)
    before = _bits(model)
    with pytest.raises(SerializationError, match=msg):
        serialize.load_parameters(model, path)
    assert _bits(model) == before


def _edit(key: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        doc[key] = value
        return doc

    return change


def _edit_param(name: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        if value is KeyError:
            del doc["parameters"][name]
        else:
            doc["parameters"][name] = value
        return doc

    return change


def _edit_arch(key: str, value: Any) -> Any:
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        doc["architecture"][key] = value
        return doc

    return change


@pytest.mark.parametrize(
    ("change", "msg"),
    [
        (_edit("format", "other"), r"not a micrograd_x model \(format 'other'"),
        (_edit("version", 2), "format version 2 is not supported"),
        (_edit("version", True), "format version True is not supported"),
        (_edit("parameters", [1, 2]), "the 'parameters' field is missing or not an object"),
        (_edit("architecture", None), "the 'architecture' field is missing"),
        (_edit_arch("sizes", [4, 1]), r"architecture does not match the model \(sizes: file"),
        (_edit_arch("activation", "tanh"), "activation: file 'tanh' vs model 'relu'"),
        (_edit_param("layer1.neuron2.w1", KeyError), r"missing \['layer1.neuron2.w1'\]"),
        (_edit_param("layer9.neuron1.w1", 0.5), r"unexpected \['layer9.neuron1.w1'\]"),
        (_edit_param("layer2.neuron1.b", "0.5"), "parameter 'layer2.neuron1.b' is '0.5', not a"),
        (_edit_param("layer2.neuron1.b", True), "parameter 'layer2.neuron1.b' is True"),
        (_edit_param("layer2.neuron1.b", None), "parameter 'layer2.neuron1.b' is None"),
        (_edit_param("layer2.neuron1.b", 1e400), "the file holds Infinity, which is not a finite"),
    ],
)
def test_mismatched_files_raise_and_leave_the_model_untouched(
    tmp_path: Path, change: Any, msg: str
) -> None:
    path, doc = _saved(tmp_path)
    _write(path, change(doc))
    _assert_refused_untouched(path, msg)


def test_huge_number_literal_is_refused(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    _write_bias(path, "1e400")
    with pytest.raises(
        SerializationError, match=r"parameter 'layer2\.neuron1\.b' is inf, not a finite"
    ):
        serialize.load(path)


def test_huge_integer_literal_is_refused(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    _write_bias(path, "1" + "0" * 400)
    with pytest.raises(SerializationError, match=r"parameter 'layer2\.neuron1\.b' is 1000"):
        serialize.load(path)
    _assert_refused_untouched(path, r"parameter 'layer2\.neuron1\.b' is 1000")
    path.write_text(path.read_text().replace("1" + "0" * 400, "1" + "0" * 5000))
    with pytest.raises(SerializationError, match="is not a valid model: Exceeds the limit"):
        serialize.load(path)


def test_saved_file_is_not_private(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o640)
    serialize.save(MLP(2, [3, 1], seed=0), path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_truncated_file(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    _assert_refused_untouched(path, r"is truncated or not valid JSON \(line \d+")
    with pytest.raises(SerializationError, match="is truncated or not valid JSON"):
        serialize.load(path)


@pytest.mark.parametrize(
    ("content", "msg"),
    [
        (b"", "is truncated or not valid JSON"),
        (b"\x00\x01garbage", "truncated or not valid JSON"),
        (b"\xff\xfe\xfa", "cannot read model file"),
        (b"[1, 2, 3]", "expected a JSON object, got list"),
        (b'{"format": "micrograd_x.model", "version": NaN}', "holds NaN, which is not a finite"),
        (b"[" * 100_000, "nested too deeply|not valid JSON"),
    ],
)
def test_corrupt_files(tmp_path: Path, content: bytes, msg: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    _assert_refused_untouched(path, msg)


def test_nan_in_parameters(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    _write_bias(path, "NaN")
    with pytest.raises(SerializationError, match="holds NaN, which is not a finite number"):
        serialize.load(path)


def test_missing_file_and_invalid_architecture(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="cannot read model file"):
        serialize.load(tmp_path / "nope.json")
    path, doc = _saved(tmp_path)
    doc["architecture"]["type"] = "Transformer"
    _write(path, doc)
    with pytest.raises(SerializationError, match=r"invalid architecture: .*unknown module type"):
        serialize.load(path)
    doc["architecture"] = {"type": "MLP", "nin": 2}
    _write(path, doc)
    with pytest.raises(SerializationError, match="lacks the field 'sizes'"):
        serialize.load(path)
    doc["architecture"] = {"type": "MLP", "nin": -2, "sizes": [1], "activation": None,
                           "output_activation": None}  # fmt: skip
    _write(path, doc)
    with pytest.raises(SerializationError, match="nin must be a positive integer"):
        serialize.load(path)
