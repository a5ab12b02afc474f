"""What the probes read off the board, the same for every tree they measure."""

from __future__ import annotations

from typing import Any


def first_word(label: Any) -> str:
    """The value on a tile's value line: it reads `93.1 %` since the tile kept one shape
    (session 8), the value alone before; the probes measure either tree."""
    return str(label.render()).partition(" ")[0]
