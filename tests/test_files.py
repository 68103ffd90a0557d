from __future__ import annotations

import os
from pathlib import Path

import pytest

from micrograd_x._files import write_atomic, write_atomic_with


def test_writes_bytes_and_text(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.bin", b"\x00\x01")
    write_atomic(tmp_path / "b.txt", "σ ✓\n")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "σ ✓\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt"]


def test_new_files_get_the_usual_mode_and_old_files_keep_theirs(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        fresh = write_atomic(tmp_path / "new.json", "{}")
        assert fresh.stat().st_mode & 0o777 == 0o644
        old = tmp_path / "old.json"
        old.write_text("[]")
        old.chmod(0o600)
        write_atomic(old, "{}")
        assert old.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(mask)


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    target.write_text("old")
    seen: list[Path] = []

    def broken(tmp: Path) -> None:
        seen.append(tmp)
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic_with(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
    # The temporary file kept the target's name and suffix (for savefig's format detection),
    # inside a hidden folder next to the target whose name no *.json glob matches.
    assert seen[0].name == "model.json" and seen[0].parent.parent == tmp_path
    assert seen[0].parent.name.startswith(".model.json.") and seen[0].parent.suffix == ".tmp"
