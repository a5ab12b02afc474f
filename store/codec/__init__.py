"""The on-disk shape of every document: the one place that decodes and encodes them.

A store is a JSON object of tables (`store.schema` knows the tables and the version); each table
maps TinyDB's keys to documents. Decoding (`decode.py`) checks every field a reader relies on
(type, range, enum, date) and every reference between documents, so a file that parses but is
not what we expect becomes one `StoreCorrupt` line naming the table, the id and the field, never
a traceback somewhere later. Encoding (`encode.py`) builds the documents every write stores.

Numbers stay within ±1e15 and finite: then no difference, mean or ratio of two can overflow.
"""

from .decode import (
    check_references,
    decode_action,
    decode_board,
    decode_change,
    decode_entry,
    decode_estimate,
    decode_explanation,
    decode_goal,
    decode_huddle,
    decode_kpi,
    decode_review,
    decode_revision,
    decode_table,
    reference_problems,
    same_entry,
    tier_problems,
)
from .encode import (
    action_doc,
    board_doc,
    entry_doc,
    escalation_doc,
    estimate_doc,
    explanation_doc,
    goal_doc,
    history_doc,
    kpi_doc,
    plain,
    plain_escalation,
    review_doc,
    revision_doc,
    target_doc,
)
from .fields import LIMIT, Malformed

__all__ = [
    "LIMIT",
    "Malformed",
    "action_doc",
    "board_doc",
    "check_references",
    "decode_action",
    "decode_board",
    "decode_change",
    "decode_entry",
    "decode_estimate",
    "decode_explanation",
    "decode_goal",
    "decode_huddle",
    "decode_kpi",
    "decode_review",
    "decode_revision",
    "decode_table",
    "entry_doc",
    "escalation_doc",
    "estimate_doc",
    "explanation_doc",
    "goal_doc",
    "history_doc",
    "kpi_doc",
    "plain",
    "plain_escalation",
    "reference_problems",
    "review_doc",
    "revision_doc",
    "same_entry",
    "target_doc",
    "tier_problems",
]
