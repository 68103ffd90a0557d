"""Writing files atomically: the one place every module that saves a file goes through.

A file is written to a temporary in the destination's folder, flushed to disk, given the mode
the destination had, then renamed over the destination, so a reader sees either the old file or
the new one, never half of one. Standard library only.

Temporaries are named ``.<name>.<pid>-<random>.tmp`` (for writers that need the destination's
suffix, a folder of that name holding ``<name>``), so no ``*.json`` or ``*.svg`` glob of the
folder matches one. A new file is created with mode ``0o666`` and the kernel applies the umask:
the process umask is never read or changed (``os.umask`` can only be read by setting it, which
races with other threads creating files). A temporary left by a killed process is removed by the
next write to the same destination once it is older than :data:`STALE_AFTER` seconds and its
process is gone (where that cannot be asked, once it is a day old).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["STALE_AFTER", "write_atomic", "write_atomic_with"]

STALE_AFTER = 60.0
"""Age in seconds after which a temporary whose writer process is gone is removed."""

_TEMP = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)-[0-9a-f]{16}\.tmp")


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
    target = Path(path)
    folder = _folder(target)
    _remove_stale(folder, target.name)
    fd, tmp = _create(folder, target.name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        _finish(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_atomic_with(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Let ``write`` create the file at a temporary path, then move it atomically to ``path``.

    For writers that want a path rather than bytes (``matplotlib``'s ``savefig``): the temporary
    path is ``<folder>/.<name>.<pid>-<random>.tmp/<name>``, which keeps the destination's name
    and suffix, so format detection by suffix still works.

    Args:
        path: The destination; its folder must exist.
        write: Called with the temporary path; it must create the file there.

    Returns:
        The destination path.

    Raises:
        OSError: If writing or renaming fails; the destination is then left as it was.
    """
    target = Path(path)
    folder = _folder(target)
    _remove_stale(folder, target.name)
    box = _temp_name(folder, target.name)
    box.mkdir(mode=0o700)
    tmp = box / target.name
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        _finish(tmp, target)
    finally:
        shutil.rmtree(box, ignore_errors=True)
    return target


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def _temp_name(folder: Path, name: str) -> Path:
    return folder / f".{name}.{os.getpid()}-{secrets.token_hex(8)}.tmp"


def _create(folder: Path, name: str) -> tuple[int, Path]:
    """A new temporary file, mode 0o666 less the umask (applied by the kernel), opened to write."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = _temp_name(folder, name)
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue


def _finish(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the mode ``target`` has (if it exists), then rename it over ``target``."""
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        pass  # a new file keeps the mode it was created with: 0o666 less the umask
    else:
        os.chmod(tmp, mode)
    os.replace(tmp, target)


def _alive(pid: int, age: float) -> bool:
    """Whether the process that wrote a temporary ``age`` seconds ago may still be writing it."""
    if os.name != "posix":  # Windows' os.kill would terminate the process: go by age alone
        return age < 86400.0
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: the process exists
        return True
    return True


def _remove_stale(folder: Path, name: str) -> None:
    """Remove temporaries for ``name`` left by processes that no longer run (e.g. killed)."""
    prefix = f".{name}."
    now = time.time()
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix)]
    except OSError:
        return
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        if match is None or match["name"] != name:
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if age <= STALE_AFTER or _alive(int(match["pid"]), age):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
