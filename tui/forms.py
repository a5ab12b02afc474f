"""Modal forms for writing from the app. They validate as you type with the same rules and
messages as the command line (`store.validate`), and hand parsed values back to the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Select

from store import validate
from store.errors import BadInput
from widgets.literal import literal, literal_text


class Rule(Validator):
    """A `store.validate` function as a Textual validator; empty is fine when optional."""

    def __init__(self, parse: Callable[[str], object], optional: bool = False) -> None:
        super().__init__()
        self.parse = parse
        self.optional = optional

    def validate(self, value: str) -> ValidationResult:
        if self.optional and not value.strip():
            return self.success()
        try:
            self.parse(value)
        except BadInput as exc:
            return self.failure(str(exc))
        return self.success()


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    rule: Rule
    value: str = ""
    placeholder: str = ""


class FormScreen(ModalScreen[dict[str, Any] | None]):
    """A column of labelled inputs, an error line under each, Save and Cancel."""

    DEFAULT_CSS = """
    FormScreen { align: center middle; }
    FormScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    FormScreen .form-title { text-style: bold; width: 1fr; padding: 0 0 1 0; }
    FormScreen .field-label { color: $text-muted; }
    FormScreen .error { color: $error; height: auto; }
    FormScreen .error.-ok { display: none; }
    FormScreen Input { margin: 0; }
    FormScreen Horizontal { height: auto; align-horizontal: right; padding-top: 1; }
    FormScreen Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        # Priority: the app checks these before it routes the next key, so in a burst (keys
        # over SSH arrive in one read) the keys after Tab go to the next field. A plain Tab
        # binding runs only after the focused Input has been handed every key of the burst.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    save_button = getters.query_one("#save", Button)

    def __init__(self, title: str, fields: list[Field]) -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(literal(self.form_title), classes="form-title")
            for f in self.fields:
                yield Label(literal(f.label), classes="field-label")
                yield Input(
                    # A value from the store (an owner, the attendees) is edited as it shows:
                    # an ESC in it would reach the terminal, an RLO would reorder the line.
                    value=validate.printable(f.value),
                    placeholder=f.placeholder,
                    id=f"field-{f.key}",
                    validators=[f.rule],
                    validate_on=["changed", "submitted"],
                )
                yield Label("", classes="error -ok", id=f"error-{f.key}")
            yield from self.compose_extra()
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def compose_extra(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        for f in self.fields:
            self.query_one(f"#field-{f.key}", Input).validate(f.value)
        self._refresh_save()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("field-")
        error = self.query_one(f"#error-{key}", Label)
        result = event.validation_result
        message = "" if result is None or result.is_valid else result.failure_descriptions[0]
        error.update(literal(message))
        error.set_class(not message, "-ok")
        self._refresh_save()

    def _refresh_save(self) -> None:
        self.save_button.disabled = not self.valid

    @property
    def valid(self) -> bool:
        return all(f.rule.validate(self.value(f.key)).is_valid for f in self.fields)

    def value(self, key: str) -> str:
        return self.query_one(f"#field-{key}", Input).value

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.when_typed(self._submit)

    def _submit(self) -> None:
        if self.valid:
            self.dismiss(self.result())
        else:
            self.focus_next()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.when_typed(self._save_now)

    def _save_now(self) -> None:
        if self.valid:
            self.dismiss(self.result())

    def when_typed(self, then: Callable[[], None]) -> None:
        """Run `then` once every field has handled the keys already routed to it.

        Each Input works through its own queue: in a burst, Enter in the last field can arrive
        while an earlier field still has keys to take. A callback queued behind them on every
        field runs after them, so the form never reads a half-typed value.
        """
        inputs = list(self.query(Input))
        left = len(inputs)
        if not left:
            then()
            return

        def one() -> None:
            nonlocal left
            left -= 1
            if left == 0 and self.is_attached and self.app.screen is self:
                then()

        for field in inputs:
            field.call_later(one)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def result(self) -> dict[str, Any]:
        return {f.key: self.value(f.key) for f in self.fields}


def record_form(kpi_name: str, unit: str, today: date, plan: float | None = None) -> FormScreen:
    """Record an actual for one KPI: value, date (today), optional plan and note."""
    suffix = f" ({unit})" if unit else ""
    return FormScreen(
        f"Record {kpi_name}{suffix}",
        [
            Field("value", "Value", Rule(validate.number), placeholder="e.g. 42.5"),
            Field(
                "date",
                "Date (YYYY-MM-DD, today, yesterday, -N)",
                Rule(lambda t: validate.day(t, today)),
                value="today",
            ),
            Field(
                "plan",
                "Plan (this period's estimate; optional)",
                Rule(lambda t: validate.number(t, "plan"), optional=True),
                value="" if plan is None else f"{plan:g}",
            ),
            Field(
                "note", "Note (the story behind the number; optional)", Rule(validate.text, True)
            ),
        ],
    )


def parse_record(values: dict[str, Any], today: date) -> dict[str, Any]:
    return {
        "value": validate.number(values["value"]),
        "day": validate.day(values["date"], today),
        "plan": validate.number(values["plan"], "plan") if values["plan"].strip() else None,
        "note": validate.text(values["note"]),
    }


class ActionForm(FormScreen):
    """A countermeasure: title, owner, due date, and the KPI it serves."""

    kpi_select = getters.query_one("#field-kpi", Select)

    def __init__(
        self, title: str, fields: list[Field], kpis: list[tuple[int, str]], kpi: int | None
    ) -> None:
        super().__init__(title, fields)
        self.kpis = kpis  # (id, name): the write names the KPI by id, so a rename can't move it
        self.kpi = kpi

    def compose_extra(self) -> ComposeResult:
        yield Label("KPI it serves", classes="field-label")
        yield Select(
            [(literal_text(name), kpi_id) for kpi_id, name in self.kpis],  # a str is markup
            value=self.kpi if any(self.kpi == k for k, _ in self.kpis) else Select.NULL,
            prompt="(none: a board-level action)",
            id="field-kpi",
        )

    def result(self) -> dict[str, Any]:
        values = super().result()
        chosen = self.kpi_select.value
        values["kpi"] = chosen if isinstance(chosen, int) else None
        return values


def action_form(
    board: str, kpis: list[tuple[int, str]], kpi: int | None, owner: str, today: date
) -> ActionForm:
    """Defaults: the KPI's owner, due a week from today."""
    try:
        week = (today + timedelta(days=7)).isoformat()
    except OverflowError:  # a week past 9999-12-31: no default rather than a crash
        week = ""
    return ActionForm(
        f"New action on {board}",
        [
            Field("title", "What will we do?", Rule(validate.title), placeholder="countermeasure"),
            Field("owner", "Owner (login)", Rule(validate.owner, optional=True), value=owner),
            Field(
                "due",
                "Due (YYYY-MM-DD or +N days)",
                Rule(lambda t: due_date(t, today)),
                value=week,
            ),
        ],
        kpis,
        kpi,
    )


def due_date(text: str, today: date) -> date | None:
    """A due date may be in the future; `+N` is N days from today; empty means none.

    `validate.day` does the arithmetic, so `+9999999` is one line about the year 9999 rather
    than an OverflowError that closes the app.
    """
    t = text.strip()
    if not t:
        return None
    return validate.day(t, today, "due date", future_ok=True)


def parse_action(values: dict[str, Any], today: date) -> dict[str, Any]:
    return {
        "title": validate.title(values["title"]),
        "owner": validate.owner(values["owner"]),
        "due": due_date(values["due"], today),
        "kpi": values.get("kpi"),
    }
