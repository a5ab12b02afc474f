"""teamboard's store: the domain, the KPI rules and the shared TinyDB file.

It knows nothing of Textual, so the command line starts fast over SSH.
"""

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
