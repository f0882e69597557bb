"""Directories a user keeps: written whole beside their place, then renamed in.

`write_directory` writes into a new hidden sibling of the destination
(``.NAME.partial-XXXXXXXX``), flushes every file and folder of it to disk
(``fsync``), and renames it into place with `os.replace`. An interrupted or
failed write (Ctrl-C, a full disk, an error) removes the sibling and leaves
the destination as it was: the old complete directory, or none. Only a
process killed outright (SIGKILL, power loss) can leave a hidden
``.NAME.partial-*`` or ``.NAME.old-*`` sibling behind, never a half ``NAME``.

A destination is written when it does not exist or is an empty directory.
One that holds an earlier result of the same kind (recognised by its
manifest, by the caller's ``is_ours``) is replaced only when the caller asks
(``overwrite``): the old directory is renamed aside, the new one renamed in,
and the old one deleted. Anything else is never replaced nor deleted.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
PARTIAL = ".partial-"
OLD = ".old-"


def check_destination(
    path,
    *,
    overwrite: bool,
    is_ours: Callable[[Path], bool],
    what: str,
    flag: str = "overwrite=True",
) -> None:
    """Raise `FileExistsError` unless `write_directory` may write `path`.

    Parameters
    ----------
    path : str or path
        The destination.
    overwrite : bool
        Whether a directory that `is_ours` recognises may be replaced.
    is_ours : callable
        ``is_ours(directory)``: whether a non-empty directory holds nothing
        but an earlier result of this kind.
    what : str
        What is written, for the error ("saved estimator").
    flag : str
        How the user asks to replace, for the error (``--overwrite``).
    """
    path = Path(path)
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise FileExistsError(
            f"{path} exists and is not a directory; choose a new path for the {what}."
        )
    entries = sorted(p.name for p in path.iterdir())
    if not entries:
        return
    if not is_ours(path):
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise FileExistsError(
            f"{path} holds files skbert did not write ({shown}); skbert never "
            f"replaces or deletes them. Choose a new path for the {what}, or move "
            "those files away."
        )
    if not overwrite:
        raise FileExistsError(
            f"{path} holds a {what} already; pass {flag} to replace it, or choose "
            "a new path."
        )


def write_directory(
    path,
    write: Callable[[Path], T],
    *,
    overwrite: bool = False,
    is_ours: Callable[[Path], bool] = lambda _: False,
    what: str = "result",
    flag: str = "overwrite=True",
) -> T:
    """Run ``write(tmp)`` into a hidden sibling of `path`, then rename it to `path`.

    `path` is checked first (`check_destination`, whose parameters these
    are) and again just before the rename. Returns what `write` returns.
    On any exception, KeyboardInterrupt included, the sibling is removed
    and `path` is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = Path(tmp) / "out"
    ...     _ = write_directory(out, lambda d: (d / "a.txt").write_text("one"))
    ...     sorted(p.name for p in Path(tmp).iterdir()), (out / "a.txt").read_text()
    (['out'], 'one')
    """
    path = Path(path)
    rules = dict(overwrite=overwrite, is_ours=is_ours, what=what, flag=flag)
    check_destination(path, **rules)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkdtemp: its mode 0o700 would become the result's.
    tmp = path.parent / f".{path.name}{PARTIAL}{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        result = write(tmp)
        sync_tree(tmp)
        check_destination(path, **rules)
        _rename_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


def _rename_into_place(tmp: Path, path: Path) -> None:
    """`tmp` becomes `path`; an old `path` (checked replaceable) is deleted after."""
    if not path.is_dir() or not any(path.iterdir()):
        os.replace(tmp, path)  # onto nothing, or onto an empty directory
        sync_directory(path.parent)
        return
    old = path.parent / f".{path.name}{OLD}{secrets.token_hex(4)}"
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old, path)
        raise
    sync_directory(path.parent)
    try:
        shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(old, ignore_errors=True)
        raise


def sync_tree(root: Path) -> None:
    """``fsync`` every file and folder below `root`, and `root` itself."""
    for folder, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        sync_directory(Path(folder))


def sync_directory(path: Path) -> None:
    """``fsync`` the folder `path`, so that renames in it reach the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
