"""teamboard's store: the domain, the KPI rules and the shared TinyDB file. Knows nothing of Textual."""

from .db import Store, whoami
from .errors import BadInput, NotFound, StoreCorrupt, StoreError, StoreMissing, StoreReadOnly
from .snapshot import Snapshot

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
