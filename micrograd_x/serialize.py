"""Save and load models as versioned JSON: architecture plus every parameter, no pickle.

Files are written atomically (a temporary file in the same folder, then ``os.replace``), so a
crash never leaves half a file. Loading validates everything into temporaries first; a truncated,
corrupt or mismatched file raises :class:`SerializationError` and leaves the model untouched.
Loading reads only regular files of at most :data:`MAX_FILE_BYTES` (a device, a FIFO or a socket
is refused without reading from it) and checks the parameter count an architecture declares
against the parameters the file holds before building anything.
Imports: the standard library and :mod:`micrograd_x.nn`.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from micrograd_x._files import write_atomic
from micrograd_x.architecture import from_config, parameter_count
from micrograd_x.nn import Module

__all__ = [
    "FORMAT",
    "MAX_FILE_BYTES",
    "VERSION",
    "SerializationError",
    "from_dict",
    "load",
    "load_parameters",
    "read",
    "save",
    "to_dict",
]

FORMAT = "micrograd_x.model"
"""The ``format`` field of every saved model."""

VERSION = 1
"""The format version this code writes and reads."""

MAX_FILE_BYTES = 64 * 1024 * 1024
"""The largest model file :func:`read` accepts by default (64 MiB, about 1.5 million parameters).

Pass ``max_bytes=`` to :func:`read`, :func:`load` or :func:`load_parameters` (or assign this
attribute) to change it."""


class SerializationError(ValueError):
    """A model file (or dict) is unreadable, corrupt, of another version, or does not match."""


def to_dict(model: Module) -> dict[str, Any]:
    """The model as JSON-ready data: format, version, architecture and named parameters.

    Raises:
        ValueError: If the model has a custom (unnamed) activation.
    """
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.config(),
        "parameters": {name: p.data for name, p in model.named_parameters()},
    }


def save(model: Module, path: str | os.PathLike[str]) -> Path:
    """Write the model to ``path`` as JSON, atomically.

    The JSON goes to a temporary file in the same folder, is flushed to disk, then renamed over
    ``path``; if anything fails the old file (if any) is intact and the temporary file is removed.

    Args:
        model: The model.
        path: The destination file.

    Returns:
        The path written.

    Raises:
        ValueError: If the model has a custom activation.
        OSError: If the folder is not writable.
    """
    target = Path(path)
    text = json.dumps(to_dict(model), indent=1, allow_nan=False) + "\n"
    write_atomic(target, text)
    return target


def _reject_constant(name: str) -> float:
    raise SerializationError(f"the file holds {name}, which is not a finite number")


def _read_text(where: Path, max_bytes: int | None) -> str:
    """The text of a regular file of at most ``max_bytes`` bytes, checked before reading.

    The file is opened without blocking (a FIFO with no writer would block forever) and checked
    with ``fstat`` on the open descriptor, so what is checked is what is read.
    """
    limit = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"read: max_bytes must be an int, got {type(limit).__name__} {limit!r}")
    if limit < 0:
        raise ValueError(f"read: max_bytes must be >= 0, got {limit!r}")
    shown = repr(str(where))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(where, flags)
    except OSError as e:
        raise SerializationError(f"cannot read model file {shown}: {e}") from e
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise SerializationError(
                f"model file {shown} is {kind} (a device, a FIFO or a socket is never read)"
            )
        if info.st_size > limit:
            raise SerializationError(
                f"model file {shown} has {info.st_size:,} bytes, more than the limit of "
                f"{limit:,} (pass max_bytes= to read a larger model)"
            )
        chunks, size = [], 0
        while size <= limit:  # the file may have grown since fstat: read at most limit + 1
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
    except OSError as e:
        raise SerializationError(f"cannot read model file {shown}: {e}") from e
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise SerializationError(
            f"model file {shown} has more than the limit of {limit:,} bytes "
            "(pass max_bytes= to read a larger model)"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SerializationError(f"cannot read model file {shown}: {e}") from e


def read(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> dict[str, Any]:
    """Read and validate the envelope of a model file (format and version).

    Args:
        path: The file: a regular file (or a link to one).
        max_bytes: The size limit; default :data:`MAX_FILE_BYTES`.

    Returns:
        The decoded data.

    Raises:
        SerializationError: If the file cannot be read, is not a regular file, is larger than
            the limit, is not valid JSON (e.g. truncated), or has the wrong format or version.
        TypeError: If ``max_bytes`` is not an int.
        ValueError: If ``max_bytes`` is negative.
    """
    where = Path(path)
    text = _read_text(where, max_bytes)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise SerializationError(
            f"model file {str(where)!r} is truncated or not valid JSON "
            f"(line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    except SerializationError as e:
        raise SerializationError(f"model file {str(where)!r}: {e}") from None
    except RecursionError:
        raise SerializationError(f"model file {str(where)!r} is nested too deeply") from None
    except ValueError as e:  # e.g. an integer literal of more digits than Python converts
        raise SerializationError(f"model file {str(where)!r} is not a valid model: {e}") from None
    _check_envelope(data, repr(str(where)))
    result: dict[str, Any] = data
    return result


def _check_envelope(data: object, where: str) -> None:
    if not isinstance(data, dict):
        raise SerializationError(f"{where}: expected a JSON object, got {type(data).__name__}")
    if data.get("format") != FORMAT:
        raise SerializationError(
            f"{where}: not a micrograd_x model (format {data.get('format')!r}, expected {FORMAT!r})"
        )
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise SerializationError(
            f"{where}: format version {version!r} is not supported (this code reads {VERSION})"
        )
    for key, kind in (("architecture", dict), ("parameters", dict)):
        if not isinstance(data.get(key), kind):
            raise SerializationError(f"{where}: the {key!r} field is missing or not an object")


def _values(model: Module, data: dict[str, Any], where: str) -> list[float]:
    """Validate the saved parameters against ``model`` and return them in its order."""
    arch = model.config()
    saved_arch = data["architecture"]
    if saved_arch != arch:
        diffs = [
            f"{k}: file {saved_arch.get(k)!r} vs model {arch.get(k)!r}"
            for k in sorted(set(arch) | set(saved_arch))
            if saved_arch.get(k) != arch.get(k)
        ]
        raise SerializationError(
            f"{where}: the architecture does not match the model ({'; '.join(diffs)})"
        )
    params: dict[str, Any] = data["parameters"]
    names = [name for name, _ in model.named_parameters()]
    missing = [n for n in names if n not in params]
    extra = sorted(set(params) - set(names))
    if missing or extra:
        raise SerializationError(
            f"{where}: parameters do not match the model (missing {missing[:5]}, "
            f"unexpected {extra[:5]})"
        )
    out = []
    for n in names:
        v = params[n]
        try:
            f = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
        except OverflowError:  # an integer literal too large for a float
            f = math.inf
        if not math.isfinite(f):
            shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
            raise SerializationError(f"{where}: parameter {n!r} is {shown}, not a finite number")
        out.append(f)
    return out


def load_parameters(
    model: Module, path: str | os.PathLike[str], *, max_bytes: int | None = None
) -> Module:
    """Load the parameters saved in ``path`` into ``model`` (same architecture required).

    Everything is validated before any parameter changes, so on error the model is untouched.
    Gradients are reset to 0.

    Args:
        model: The model to fill.
        path: The file written by :func:`save`.
        max_bytes: The file size limit; default :data:`MAX_FILE_BYTES`.

    Returns:
        ``model``.

    Raises:
        SerializationError: If the file is unreadable, corrupt, of another version, or its
            architecture or parameter names do not match the model.
    """
    data = read(path, max_bytes=max_bytes)
    values = _values(model, data, repr(str(path)))
    for p, v in zip(model.parameters(), values):
        p.data = v
        p.grad = 0.0
    return model


def from_dict(data: dict[str, Any]) -> Module:
    """Rebuild a model from :func:`to_dict` data.

    Raises:
        SerializationError: If the data is invalid.
    """
    _check_envelope(data, "model data")
    # Before building anything: a few bytes can declare millions of parameters.
    declared, held = parameter_count(data["architecture"]), len(data["parameters"])
    if declared and declared != held:
        raise SerializationError(
            f"model data: the architecture declares {declared:,} parameters but "
            f"{held:,} are saved; nothing was built"
        )
    try:
        # The parameters are overwritten below: a fixed seed leaves Python's `random` alone.
        model = from_config(data["architecture"], seed=0)
    except (ValueError, TypeError) as e:
        raise SerializationError(f"model data: invalid architecture: {e}") from None
    values = _values(model, data, "model data")
    for p, v in zip(model.parameters(), values):
        p.data = v
    return model


def load(path: str | os.PathLike[str], *, max_bytes: int | None = None) -> Module:
    """Build the model saved in ``path``: its architecture with its parameters.

    The parameter count the architecture declares is checked against the saved parameters
    before the model is built, so a small corrupt file cannot make it build millions.

    Args:
        path: The file written by :func:`save`.
        max_bytes: The file size limit; default :data:`MAX_FILE_BYTES`.

    Returns:
        A new model, equal parameter for parameter to the one saved.

    Raises:
        SerializationError: If the file is unreadable, corrupt, of another version, or invalid.
    """
    data = read(path, max_bytes=max_bytes)
    try:
        return from_dict(data)
    except SerializationError as e:
        raise SerializationError(f"{str(path)!r}: {e}") from None
