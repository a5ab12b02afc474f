"""teamboard's store: the domain, the KPI rules and the shared TinyDB file.

It knows nothing of Textual, so the command line starts fast over SSH. The names below are
loaded when first used (PEP 562): importing one light module of the package (`store.quick`,
`store.lock`) must not pay for the read model's dataclasses, which `teamboard record` on a
small store does without.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .db import Store, whoami
    from .errors import BadInput, NotFound, StoreCorrupt, StoreError, StoreMissing, StoreReadOnly
    from .snapshot import Snapshot

_LAZY = {
    "Store": "db",
    "whoami": "db",
    "Snapshot": "snapshot",
    "BadInput": "errors",
    "NotFound": "errors",
    "StoreCorrupt": "errors",
    "StoreError": "errors",
    "StoreMissing": "errors",
    "StoreReadOnly": "errors",
}


def __getattr__(name: str) -> object:
    """A name of `__all__` (from its module), or a submodule not imported yet (`store.db`)."""
    import importlib

    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    if name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


__all__ = [
    "BadInput",
    "NotFound",
    "Snapshot",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreMissing",
    "StoreReadOnly",
    "whoami",
]
