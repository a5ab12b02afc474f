"""The forms of the tiers: escalate an action (why, and to which board above), answer an
escalation, take one over, record a leader's review. The same rules as the command line."""

from __future__ import annotations

from typing import Any

from textual import getters
from textual.app import ComposeResult
from textual.widgets import Label, Select

from store import validate
from store.errors import BadInput
from widgets.literal import literal_text

from .forms import Field, FormScreen, Rule


def required(what: str) -> Rule:
    """Text that must not be empty: `what` says what to write."""

    def parse(text: str) -> str:
        cleaned = validate.text(text)
        if not cleaned:
            raise BadInput(f"write {what}")
        return cleaned

    return Rule(parse)


class EscalateForm(FormScreen):
    """Why it goes up, and to which board above (the parent by default)."""

    target_select = getters.query_one("#field-to", Select)

    def __init__(self, title: str, targets: list[tuple[int, str]]) -> None:
        super().__init__(
            title,
            [
                Field(
                    "why",
                    "Why does it need the board above? (what you need from them)",
                    required("why it goes up: what the team cannot do alone"),
                    placeholder="e.g. needs a budget for a new fixture",
                )
            ],
        )
        self.targets = targets  # (board id, name), the parent first

    def compose_extra(self) -> ComposeResult:
        yield Label("Raise it to", classes="field-label")
        yield Select(
            [(literal_text(name), board_id) for board_id, name in self.targets],
            value=self.targets[0][0],
            allow_blank=False,
            id="field-to",
        )

    def result(self) -> dict[str, Any]:
        values = super().result()
        chosen = self.target_select.value
        values["to"] = chosen if isinstance(chosen, int) else None
        return values


def escalate_form(
    action_title: str, action_id: int, targets: list[tuple[int, str]]
) -> EscalateForm:
    return EscalateForm(f"Escalate #{action_id} {action_title}", targets)


def answer_form(action_title: str, action_id: int, where: str) -> FormScreen:
    return FormScreen(
        f"Answer #{action_id} {action_title} ({where})",
        [
            Field(
                "note",
                "Your answer (the team sees it on its board)",
                required("the answer the team will see"),
            )
        ],
    )


def take_form(action_title: str, action_id: int, owner: str) -> FormScreen:
    return FormScreen(
        f"Take over #{action_id} {action_title}: it moves to this board",
        [Field("owner", "Owner (login)", Rule(validate.owner, optional=True), value=owner)],
    )


def review_form(board: str, reds: int) -> FormScreen:
    said = f"{reds} red KPI{'s' if reds != 1 else ''} on the board now" if reds else "no red KPI"
    return FormScreen(
        f"Leader's review of {board} ({said})",
        [
            Field(
                "note",
                "What did you ask? (optional)",
                Rule(validate.text, optional=True),
                placeholder="e.g. why is scrap up since Monday?",
            )
        ],
    )
