"""skbert's on-disk cache of generated and converted encoders.

The cache lives in ``$SKBERT_HOME`` (default ``$XDG_CACHE_HOME/skbert``, else
``~/.cache/skbert``). An entry is built in a temporary directory beside its
final place, marked complete, and renamed into place under a file lock, so
two processes never build the same entry at once and a crash leaves no
half-written entry in use.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

HOME_ENV = "SKBERT_HOME"
_COMPLETE = ".complete"


def skbert_home() -> Path:
    """Return the cache root, ``$SKBERT_HOME`` or the user's cache directory."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skbert"


def built_encoder_dir(key: str, build: Callable[[Path], None]) -> Path:
    """Return the cache directory for `key`, calling ``build(tmp_dir)`` if absent.

    Parameters
    ----------
    key : str
        Name of the entry (a preset name).
    build : callable
        Writes the entry into the empty directory it is given.

    Returns
    -------
    Path
        ``skbert_home() / "encoders" / key``, complete.
    """
    root = skbert_home() / "encoders"
    target = root / key
    if (target / _COMPLETE).exists():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _COMPLETE).exists():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        try:
            build(tmp)
            (tmp / _COMPLETE).touch()
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
