"""Files only their owner may read: the data directory (0700) and what is in it (0600).

The database, its `-wal`/`-shm` companions, `demo.json`, key files and the simulator's state
hold API keys, SMPP passwords and webhook secrets. Modes are set with `fchmod`/`chmod` after
creation, so they do not depend on the process's umask. SQLite gives the `-wal` and `-shm`
files it creates the permissions of the main database file, so creating that one 0600 before
SQLite opens it is enough for all three.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "create_private",
    "private_dir",
    "tighten_files",
    "write_private",
]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path, *, tighten: bool = True) -> Path:
    """Make `path` (and missing parents) exist; a directory created here is 0700, and an
    existing one is made 0700 too when `tighten` (our own data directory)."""
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    if created or tighten:
        os.chmod(path, DIR_MODE)
    return path


def create_private(path: Path) -> bool:
    """Create `path` empty with mode 0600 unless it exists; True when it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return True


def write_private(path: Path, data: str | bytes) -> None:
    """Replace `path` atomically with `data` (str: UTF-8), mode 0600 from the first byte
    written; it is on disk (fsync) before it replaces the old file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    tmp.replace(path)


def tighten_files(directory: Path) -> None:
    """Make every regular file directly in `directory` 0600 (left by an older version)."""
    for entry in directory.iterdir():
        if entry.is_file() and not entry.is_symlink():
            os.chmod(entry, FILE_MODE)
