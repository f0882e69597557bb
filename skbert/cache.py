"""skbert's on-disk cache of generated and converted encoders.

The cache lives in ``$SKBERT_HOME`` (default ``$XDG_CACHE_HOME/skbert``, else
``~/.cache/skbert``). An entry is built in a temporary directory beside its
final place, given a manifest (the cache format and the sha256 of every
file), and renamed into place under a file lock, so two processes never
build the same entry at once and a crash leaves no half-written entry in
use. An entry whose manifest is missing or does not match its files
(half-written, truncated, edited), or that is in another cache format, is
rebuilt, with a warning.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from skbert import progress
from skbert.files import sync_tree

HOME_ENV = "SKBERT_HOME"
#: The manifest: ``{"format": FORMAT, "files": {relative path: sha256}}``,
#: every other file of the entry.
_MANIFEST = ".complete"
#: What entries hold. 2: encoders saved with their call functions only (1:
#: Keras' save, with every layer's functions, slower to load).
FORMAT = 2
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")
#: Entries verified in this process, with the sizes and times they had then.
_verified: dict[Path, tuple] = {}


def skbert_home() -> Path:
    """Return the cache root, ``$SKBERT_HOME`` or the user's cache directory."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skbert"


def built_encoder_dir(key: str, build: Callable[[Path], None]) -> Path:
    """Return the cache directory for `key`, calling ``build(tmp_dir)`` if needed.

    Parameters
    ----------
    key : str
        Name of the entry (a preset name, ``@revision`` optional): letters,
        digits and ``_.@+-``, so it cannot name a path outside the cache.
    build : callable
        Writes the entry into the empty directory it is given.

    Returns
    -------
    Path
        ``skbert_home() / "encoders" / key``, complete and verified.
    """
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(
            f"cache key {key!r} is not a plain name: use letters, digits and "
            "'_.@+-' (no '/', no '..'), starting with a letter or digit."
        )
    root = skbert_home() / "encoders"
    target = root / key
    if _problem(target) is None:
        return target
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        problem = _problem(target)
        if problem is None:
            return target
        if target.exists():
            warnings.warn(
                f"skbert cache entry {target} is {problem}; rebuilding it.",
                stacklevel=3,
            )
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        start = time.perf_counter()
        progress.note(f"building encoder {key} into {target} (once: it is cached)")
        try:
            build(tmp)
            files = {name: file_sha256(tmp / name) for name in _files(tmp)}
            manifest = {"format": FORMAT, "files": files}
            (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=0))
            sync_tree(tmp)  # on disk before it is renamed into use
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
            progress.note(f"built {key} in {time.perf_counter() - start:.1f} s")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def file_sha256(path: Path) -> str:
    """Hex sha256 digest of the file at `path`, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(entry: Path) -> list[str]:
    """Relative paths of the entry's files, the manifest left out."""
    return sorted(
        str(path.relative_to(entry))
        for path in entry.rglob("*")
        if path.is_file() and path.name != _MANIFEST
    )


def _problem(entry: Path) -> str | None:
    """None if `entry` matches its manifest, else what is wrong with it."""
    if not entry.is_dir():
        return "missing"
    try:
        manifest = json.loads((entry / _MANIFEST).read_text())
    except (OSError, ValueError):
        return "incomplete (no manifest)"
    found = manifest.get("format", 1) if isinstance(manifest, dict) else "?"
    if found != FORMAT:
        return f"in cache format {found}, not {FORMAT}"
    manifest = manifest.get("files")
    files = _files(entry)
    if not isinstance(manifest, dict) or sorted(manifest) != files:
        return "incomplete (its files differ from its manifest)"
    stats = tuple((name, *_stat(entry / name)) for name in files)
    if _verified.get(entry) == stats:
        return None
    changed = [name for name in files if file_sha256(entry / name) != manifest[name]]
    if changed:
        return f"changed since it was built ({', '.join(changed[:3])})"
    _verified[entry] = stats
    return None


def _stat(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns
