"""The plugin manager: finds plugins, collects what they register, lists it.

Built-in plugins are the modules in `DEFAULT_PLUGINS`; third-party ones are
entry points of the ``skbert`` group. They are loaded lazily, once, on the
first lookup. Set ``SKBERT_BLOCK_PLUGINS`` to a comma-separated list of
plugin names (entry-point names, or module names for built-ins) to keep them
from being imported. A plugin that fails to import, raises in a hook or
registers a name already taken is reported with a `PluginWarning` and
skipped; skbert goes on without it.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import os
import threading
import warnings
from collections.abc import Callable
from types import ModuleType

import pluggy

from skbert import hookspecs
from skbert.specs import EncoderSpec, HeadSpec

DEFAULT_PLUGINS = (
    "skbert.default_plugins.hub_encoders",
    "skbert.default_plugins.minilm",
    "skbert.default_plugins.tiny_random",
    "skbert.default_plugins.heads",
)
ENTRY_POINT_GROUP = "skbert"
BLOCK_ENV = "SKBERT_BLOCK_PLUGINS"


class PluginWarning(UserWarning):
    """A plugin could not be loaded or registered something invalid."""


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """A plugin skbert found, and whether it loaded.

    Parameters
    ----------
    name : str
        Plugin name: the entry-point name, or the module name of a built-in.
    distribution, version : str
        The installed distribution that provides it.
    status : {"loaded", "blocked", "failed"}
        What happened to it.
    error : str
        Why it failed, when it did.
    """

    name: str
    distribution: str
    version: str
    status: str
    error: str = ""


def _skbert_version() -> str:
    try:
        return importlib.metadata.version("skbert")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class _Registry:
    def __init__(self):
        self._lock = threading.Lock()
        self._loaded = False
        self.plugins: list[PluginInfo] = []
        self.encoders: dict[str, EncoderSpec] = {}
        self.heads: dict[str, HeadSpec] = {}

    def ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def _load(self) -> None:
        manager = pluggy.PluginManager("skbert")
        manager.add_hookspecs(hookspecs)
        blocked = {
            name.strip()
            for name in os.environ.get(BLOCK_ENV, "").split(",")
            if name.strip()
        }
        candidates: list[tuple[str, str, str, Callable[[], ModuleType]]] = [
            (name, "skbert", _skbert_version(), _importer(name))
            for name in DEFAULT_PLUGINS
        ]
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else "unknown"
            version = ep.dist.version if ep.dist else "unknown"
            candidates.append((ep.name, dist, version, ep.load))
        for name, dist, version, load in candidates:
            if name in blocked:
                manager.set_blocked(name)
                self.plugins.append(PluginInfo(name, dist, version, "blocked"))
                continue
            try:
                manager.register(load(), name=name)
            except Exception as exc:
                self._fail(PluginInfo(name, dist, version, "failed", repr(exc)))
                continue
            self.plugins.append(PluginInfo(name, dist, version, "loaded"))
        self._collect(manager.hook.skbert_register_encoders, self.encoders, EncoderSpec)
        self._collect(manager.hook.skbert_register_heads, self.heads, HeadSpec)

    def _fail(self, info: PluginInfo) -> None:
        self.plugins = [p for p in self.plugins if p.name != info.name] + [info]
        warnings.warn(
            f"skbert plugin {info.name!r} ({info.distribution} {info.version}) "
            f"is skipped: {info.error}",
            PluginWarning,
            stacklevel=4,
        )

    def _collect(self, hook, table: dict, kind: type) -> None:
        for impl in hook.get_hookimpls():
            source = impl.plugin_name

            def register(spec, source=source):
                if not isinstance(spec, kind):
                    raise TypeError(
                        f"register() takes a {kind.__name__}, got {type(spec).__name__}"
                    )
                if spec.name in table:
                    warnings.warn(
                        f"skbert plugin {source!r} registers {kind.__name__} "
                        f"{spec.name!r}, already registered by "
                        f"{table[spec.name].source!r}; the second one is skipped.",
                        PluginWarning,
                        stacklevel=2,
                    )
                    return
                table[spec.name] = dataclasses.replace(spec, source=source)

            try:
                impl.function(register=register)
            except Exception as exc:
                info = next(p for p in self.plugins if p.name == source)
                self._fail(dataclasses.replace(info, status="failed", error=repr(exc)))


def _importer(module: str) -> Callable[[], ModuleType]:
    return lambda: importlib.import_module(module)


_registry = _Registry()


def list_plugins() -> list[PluginInfo]:
    """Return the plugins skbert found, loaded or not.

    Examples
    --------
    >>> import skbert
    >>> [p.name for p in skbert.list_plugins()][:1]
    ['skbert.default_plugins.hub_encoders']
    """
    _registry.ensure_loaded()
    return list(_registry.plugins)


def plugin_info(name: str) -> PluginInfo | None:
    """Return what skbert found of the plugin called `name`, or None.

    Examples
    --------
    >>> plugin_info("skbert.default_plugins.heads").distribution
    'skbert'
    """
    _registry.ensure_loaded()
    return next((p for p in _registry.plugins if p.name == name), None)


def list_encoders() -> list[EncoderSpec]:
    """Return the registered encoders, sorted by name.

    Examples
    --------
    >>> import skbert
    >>> spec = {s.name: s for s in skbert.list_encoders()}["bert_base_en_uncased"]
    >>> spec.hidden_size, spec.source
    (768, 'skbert.default_plugins.hub_encoders')
    """
    _registry.ensure_loaded()
    return sorted(_registry.encoders.values(), key=lambda s: s.name)


def list_heads() -> list[HeadSpec]:
    """Return the registered heads, sorted by name.

    Examples
    --------
    >>> import skbert
    >>> {"sigmoid", "softmax"} <= {h.name for h in skbert.list_heads()}
    True
    """
    _registry.ensure_loaded()
    return sorted(_registry.heads.values(), key=lambda s: s.name)


def get_encoder(name: str) -> EncoderSpec:
    """Return the encoder registered as `name`; `ValueError` lists the known ones."""
    _registry.ensure_loaded()
    return _lookup(_registry.encoders, name, "encoder")


def get_head(name: str) -> HeadSpec:
    """Return the head registered as `name`; `ValueError` lists the known ones."""
    _registry.ensure_loaded()
    return _lookup(_registry.heads, name, "head")


def _lookup(table: dict, name: str, kind: str):
    try:
        return table[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(table)) or "none"
        raise ValueError(
            f"Unknown {kind} {name!r}. Registered {kind}s: {known}. "
            f"Install a plugin that provides it, or see `skbert {kind}s`."
        ) from None
