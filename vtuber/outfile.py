"""Safe output files: never truncate or replace an existing file unless asked, never write onto
an input, and never leave a half-written file under the name the user gave.

Every command that writes a file (``track --record``, ``record-vmc --out``, ``export -o``,
``calibrate --out``) goes through here (docs/reliability.md):

- :func:`check_output` refuses, with one clear :class:`~vtuber.errors.ConfigError` line, an
  output that is one of the command's inputs (same file, also through links) or that already
  exists when ``overwrite`` is false (the CLI's ``--overwrite`` / ``-y``).
- The data is written to a temporary name next to the target (:func:`temp_path`, same folder so
  the final rename is atomic) and :func:`commit` moves it into place: with ``overwrite`` by an
  atomic replace, without it by a hard link that fails if the name appeared meanwhile (a
  concurrent writer's file is never clobbered). A start that fails removes the temporary file,
  so every existing file stays byte-identical.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vtuber.errors import ConfigError, OutputError

OVERWRITE_HINT = "choose another name, or pass --overwrite (-y) to replace it"


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (also through symlinks and hard links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        try:
            return Path(a).resolve() == Path(b).resolve()
        except OSError:
            return False


def check_output(
    path: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path | None] = ()
) -> Path:
    """Validate an output path before anything is written; returns it as a Path.

    Raises ConfigError when the path is one of ``inputs``, is a folder, sits in a folder that does
    not exist, or already exists and ``overwrite`` is false."""
    p = Path(path)
    for i in inputs:
        if i is not None and str(i) != "" and same_file(p, i):
            raise ConfigError(
                f"refusing to write {p}: it is the input {i}; choose another output name"
            )
    if p.is_dir():
        raise ConfigError(f"cannot write {p}: it is a folder")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ConfigError(f"cannot write {p}: the folder {parent} does not exist")
    if (p.exists() or p.is_symlink()) and not overwrite:
        raise ConfigError(f"{p} already exists: {OVERWRITE_HINT}")
    return p


def temp_path(path: str | Path) -> Path:
    """A fresh temporary name for writing ``path`` until :func:`commit`: same folder (so the
    rename is atomic), hidden, unique per call (process id + a random token)."""
    p = Path(path)
    return p.with_name(f".{p.name}.{os.getpid()}-{secrets.token_hex(4)}.part")


def commit(tmp: str | Path, final: str | Path, *, overwrite: bool = False) -> None:
    """Move the finished temporary file into place (atomic on one file system).

    Without ``overwrite`` a file that appeared at ``final`` since :func:`check_output` is kept
    and OutputError says where the new data is (``tmp`` is left in place)."""
    tmp, final = Path(tmp), Path(final)
    if overwrite:
        try:
            os.replace(tmp, final)
        except OSError as e:
            raise OutputError(f"cannot move {tmp} to {final}: {e.strerror}") from e
        return
    try:
        os.link(tmp, final)
    except FileExistsError as e:
        raise OutputError(f"{final} appeared while writing; the new data is kept in {tmp}") from e
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise OutputError(f"cannot move {tmp} to {final}: {e.strerror}") from e
        # A file system without hard links (FAT, some network shares): check, then rename.
        if final.exists():
            raise OutputError(
                f"{final} appeared while writing; the new data is kept in {tmp}"
            ) from e
        try:
            os.rename(tmp, final)
        except OSError as e2:
            raise OutputError(f"cannot move {tmp} to {final}: {e2.strerror}") from e2
        return
    try:
        os.unlink(tmp)
    except OSError:
        pass


def discard(tmp: str | Path) -> None:
    """Remove a temporary file that will not be committed (missing is fine)."""
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    except OSError:
        pass


@contextmanager
def atomic_output(
    path: str | Path, *, overwrite: bool = False, inputs: Iterable[str | Path | None] = ()
) -> Iterator[Path]:
    """Check ``path``, yield a temporary path to write, and commit it when the block succeeds.

    If the block raises, the temporary file is removed and ``path`` is untouched. A write error
    (full disk, permissions) becomes one OutputError line."""
    final = check_output(path, overwrite=overwrite, inputs=inputs)
    tmp = temp_path(final)
    discard(tmp)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        discard(tmp)
        raise OutputError(f"cannot write {final}: {e.strerror or e}") from e
    except BaseException:
        discard(tmp)
        raise
    commit(tmp, final, overwrite=overwrite)  # on failure it says where the data is kept
