"""Writing files atomically: the one place every module that saves a file goes through.

A file is written to a temporary file in the destination's folder, flushed to disk, given the
mode the destination had (or the usual mode under the umask), then renamed over the destination,
so a reader sees either the old file or the new one, never half of one. Standard library only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["write_atomic", "write_atomic_with"]


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically.

    Args:
        path: The destination; its folder must exist.
        data: The whole content.

    Returns:
        The destination path.

    Raises:
        OSError: If writing or renaming fails; the destination is then left as it was.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return write_atomic_with(path, lambda tmp: tmp.write_bytes(raw))


def write_atomic_with(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Let ``write`` create the file at a temporary path, then move it atomically to ``path``.

    For writers that want a path rather than bytes (``matplotlib``'s ``savefig``): the temporary
    path keeps the destination's suffix, so format detection by suffix still works.

    Args:
        path: The destination; its folder must exist.
        write: Called with the temporary path; it must create the file there.

    Returns:
        The destination path.

    Raises:
        OSError: If writing or renaming fails; the destination is then left as it was.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _mode_for(target: Path) -> int:
    """The destination's current mode, else the usual mode for a new file (0o666 less umask)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask
