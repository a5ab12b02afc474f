"""Redraw only what changed, and lay out only what may have moved.

`Static.update` repaints the label and asks for a layout pass, and Textual lays out the whole
screen for it (about 40 ms for a board, and as much again to render every widget it touched):
a reload that set every label again stalled the UI loop for 70–80 ms although a write usually
changes one value. `show` leaves a label alone when it already shows the text, and updates it
without a layout pass when its size cannot change (a value of the same width, a line that fits).
"""

from __future__ import annotations

from textual.content import Content
from textual.visual import VisualType
from textual.widgets import Static


def same(shown: VisualType, wanted: VisualType) -> bool:
    """Would `wanted` draw exactly what `shown` draws? (`Content ==` compares the text only.)"""
    if type(shown) is not type(wanted):
        return False
    if isinstance(shown, Content) and isinstance(wanted, Content):
        return shown.plain == wanted.plain and shown.spans == wanted.spans
    if isinstance(shown, str):
        return shown == wanted
    return False  # anything else (a Rich renderable) is drawn again


def show(label: Static, content: str | Content) -> bool:
    """Make `label` show `content`; True if it had to change.

    A string is markup, as in `Static.update`; store text comes as `literal(...)` Content.
    """
    if same(label.content, content):
        return False
    before = label.visual
    label.update(content, layout=False)
    if not keeps_size(label, before, label.visual):
        label.refresh(layout=True)
    return True


def keeps_size(label: Static, before: object, after: object) -> bool:
    """True when the new text cannot change the label's size, so no layout pass is needed: a
    box whose width and height the stylesheet fixes (a tile's rows), or one line each, both
    empty or both not, and the same width where the width follows the text (`width: auto`),
    or fitting on one line where it does not (`1fr`, fixed)."""
    if not (isinstance(before, Content) and isinstance(after, Content)):
        return False
    if not all(node.display for node in label.ancestors_with_self):
        return True  # takes no room, or is in a box that takes none; shown again, laid out
    if not label.size:
        return False  # not laid out yet (just mounted)
    width, height = label.styles.width, label.styles.height
    if height is not None and not height.is_auto and not (width is not None and width.is_auto):
        return True  # sized by the stylesheet (no width: by its container); text is clipped
    if "\n" in before.plain or "\n" in after.plain:
        return False
    if bool(before.plain) != bool(after.plain):
        return False  # an empty Static may be 0 rows tall, and a blank one 0 columns wide
    if width is not None and width.is_auto:
        return before.cell_length == after.cell_length
    room = label.content_size.width
    return before.cell_length <= room and after.cell_length <= room
