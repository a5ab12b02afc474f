"""The SQCDP calendar's store side: the KPI's category (decoded when absent, validated, written
and logged) and `store.calendar` (each category's day the worst status by the board's rules,
red days, and the Pareto of the reasons written on red days)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import pytest
from conftest import TODAY, seeded

from store import Store, calendar, codec, ops, validate
from store.demo import build
from store.errors import BadInput
from store.model import Direction, Entry, Frequency, Kpi, Status, Target

NOV = date(2026, 11, 1)


def kpi(
    kid: int,
    category: str,
    *,
    target: float = 100.0,
    amber: float | None = 90.0,
    frequency: Frequency = Frequency.DAILY,
    direction: Direction = Direction.UP,
    targets: tuple[Target, ...] = (),
) -> Kpi:
    return Kpi(
        id=kid,
        board=1,
        name=f"K{kid}",
        targets=targets or (Target(target),),
        amber=amber,
        frequency=frequency,
        direction=direction,
        category=category,
    )


class Entries:
    def __init__(self) -> None:
        self.by_kpi: dict[int, list[Entry]] = {}
        self.next = 1

    def add(self, k: Kpi, day: date, value: float, note: str = "") -> None:
        self.by_kpi.setdefault(k.id, []).append(Entry(self.next, k.id, day, value, note=note))
        self.next += 1


def statuses(cm: calendar.CategoryMonth) -> dict[int, Status | None]:
    return {d.day.day: d.status for d in cm.days}


# --- the category on a KPI ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("S", "Safety"), ("q", "Quality"), (" cost ", "Cost"), ("DELIVERY", "Delivery"),
        ("p", "People"), ("e", "E"), ("environment", "Environment"), ("", ""), ("  ", ""),
    ],
)  # fmt: skip
def test_category_takes_sqcdp_letters_words_and_a_teams_own(typed: str, stored: str) -> None:
    assert validate.category(typed) == stored


@pytest.mark.parametrize(
    "typed", ["two words", "Q1", "x" * 21, "S&Q", "\u200bQ", "Quаlity"]  # the last: Cyrillic а
)
def test_category_refuses_anything_else_in_one_line(typed: str) -> None:
    with pytest.raises(BadInput) as err:
        validate.category(typed)
    assert "\n" not in str(err.value)
    assert "category" in str(err.value)


@pytest.mark.parametrize("typed", ["2026-13", "2026-1", "26-11", "november", "0000-01", ""])
def test_month_is_yyyy_mm(typed: str) -> None:
    with pytest.raises(BadInput, match="YYYY-MM"):
        validate.month(typed)
    assert validate.month(" 2026-02 ") == date(2026, 2, 1)


def test_a_kpi_without_category_decodes_as_none_and_is_written_only_when_set() -> None:
    doc = codec.kpi_doc(board=1, name="OEE", targets=[{"value": 85}])
    assert "category" not in doc
    assert codec.decode_kpi({**doc, "id": 1}).category == ""
    set_doc = codec.kpi_doc(board=1, name="OEE", targets=[{"value": 85}], category="Quality")
    assert codec.decode_kpi({**set_doc, "id": 1}).category == "Quality"
    with pytest.raises(codec.Malformed, match="is not text") as bad:
        codec.decode_kpi({**doc, "id": 1, "category": 7})
    assert bad.value.field == "category"


def test_add_and_edit_category_are_logged_and_clearing_works(store_path: Path) -> None:
    store = seeded(store_path)
    k = ops.add_kpi(store, "Scrap", None, 2.0, direction=Direction.DOWN, category="Cost")
    assert k.category == "Cost"
    assert ops.edit_kpi(store, "Output", category="Quality").category == "Quality"
    assert ops.edit_kpi(store, "Output", category="").category == ""
    changes = [(r.field, r.old, r.new) for r in store.read().revisions if r.field == "category"]
    assert changes == [("category", None, "Quality"), ("category", "Quality", "")]
    before = store_path.read_bytes()
    with pytest.raises(BadInput, match="nothing to change"):
        ops.edit_kpi(store, "Scrap", category="Cost")  # as it is: nothing written
    assert store_path.read_bytes() == before


# --- the calendar ---------------------------------------------------------------------------------


def test_a_day_is_the_worst_of_its_categorys_kpis_and_empty_when_nothing_was_recorded() -> None:
    a, b = kpi(1, "Quality"), kpi(2, "q")  # a hand-edited "q" is Quality too
    e = Entries()
    e.add(a, date(2026, 11, 2), 100)  # green
    e.add(b, date(2026, 11, 2), 95)  # amber: the day is amber
    e.add(a, date(2026, 11, 3), 100)
    e.add(b, date(2026, 11, 3), 50)  # red wins
    e.add(a, date(2026, 11, 4), 100)  # green alone
    cal = calendar.build("Line", [a, b], e.by_kpi, NOV, TODAY)
    [q] = cal.categories
    assert q.category == "Quality" and q.letter == "Q" and q.kpis == ("K1", "K2")
    days = statuses(q)
    assert (days[2], days[3], days[4]) == (Status.AMBER, Status.RED, Status.GREEN)
    assert days[1] is None and days[5] is None
    assert q.days[2].red == ("K2",)
    assert (q.red_days, q.count(Status.AMBER), q.count(Status.GREEN)) == (1, 1, 1)


def test_the_newest_record_of_a_day_wins_and_the_target_in_force_that_day_applies() -> None:
    k = kpi(1, "Delivery", targets=(Target(100.0), Target(120.0, date(2026, 11, 10))), amber=None)
    e = Entries()
    e.add(k, date(2026, 11, 2), 50)
    e.add(k, date(2026, 11, 2), 101)  # corrected: green
    e.add(k, date(2026, 11, 9), 110)  # green against 100
    e.add(k, date(2026, 11, 10), 110)  # red against the new 120
    days = statuses(calendar.build("Line", [k], e.by_kpi, NOV, TODAY).categories[0])
    assert (days[2], days[9], days[10]) == (Status.GREEN, Status.GREEN, Status.RED)


def test_weekly_and_monthly_kpis_cover_their_period_up_to_today() -> None:
    week = kpi(1, "Delivery", frequency=Frequency.WEEKLY, amber=None)
    month = kpi(2, "Safety", frequency=Frequency.MONTHLY, amber=None)
    e = Entries()
    e.add(week, date(2026, 10, 30), 50, "late trucks")  # the week of Mon 26 Oct: red to Sun 1 Nov
    e.add(week, date(2026, 11, 20), 100)  # this week (Mon 16): green up to today, Fri 20
    e.add(month, date(2026, 11, 3), 100)
    cal = calendar.build("Ops", [week, month], e.by_kpi, NOV, TODAY)
    safety, delivery = cal.categories  # S before D
    assert safety.category == "Safety" and delivery.category == "Delivery"
    d = statuses(delivery)
    assert d[1] is Status.RED and d[2] is None
    assert [d[n] for n in range(16, 21)] == [Status.GREEN] * 5 and d[21] is None
    s = statuses(safety)
    assert all(s[n] is Status.GREEN for n in range(1, 21)) and s[21] is None
    # a red week counts its days, but its note once
    assert delivery.red_days == 1 and cal.red_entries == 1
    assert [(r.text, r.count) for r in cal.reasons] == [("late trucks", 1)]
    october = calendar.build("Ops", [week], e.by_kpi, date(2026, 10, 1), TODAY)
    assert october.categories[0].red_days == 6  # Mon 26 to Sat 31 Oct


def test_pareto_folds_case_spaces_and_a_final_stop_and_counts_each_line_once() -> None:
    k, c = kpi(1, "Quality", amber=None), kpi(2, "Cost", amber=None)
    e = Entries()
    e.add(k, date(2026, 11, 2), 1, "Torque tool drift.")
    e.add(k, date(2026, 11, 3), 1, "  torque   TOOL drift ")
    e.add(c, date(2026, 11, 3), 1, "Torque tool drift\nMaterial shortage")
    e.add(c, date(2026, 11, 4), 1, "material shortage")
    e.add(c, date(2026, 11, 5), 1, "operator absent")
    e.add(c, date(2026, 11, 6), 1)  # red, no note
    e.add(c, date(2026, 11, 9), 100, "green days give no reasons")
    cal = calendar.build("Line", [k, c], e.by_kpi, NOV, TODAY)
    got = [(r.text, r.count, round(r.cumulative), r.categories) for r in cal.reasons]
    assert got == [
        ("Torque tool drift", 3, 50, ("Q", "C")),
        ("Material shortage", 2, 83, ("C",)),
        ("operator absent", 1, 100, ("C",)),
    ]
    assert cal.red_entries == 6 and cal.unexplained == 1
    assert [cm.red_days for cm in cal.categories] == [2, 4]


def test_categories_in_sqcdp_order_then_a_teams_own_and_the_uncategorised_listed() -> None:
    kpis = [kpi(1, "Environment"), kpi(2, "People"), kpi(3, ""), kpi(4, "Safety"), kpi(5, "E")]
    cal = calendar.build("Line", kpis, {}, NOV, TODAY)
    assert [c.category for c in cal.categories] == ["Safety", "People", "E", "Environment"]
    assert cal.uncategorised == ("K3",)
    assert all(d.status is None for c in cal.categories for d in c.days)
    assert cal.reasons == () and cal.red_days == 0


def test_weeks_start_on_monday_and_pad_the_month() -> None:
    days = calendar.build("L", [kpi(1, "S")], {}, NOV, TODAY).categories[0].days
    rows = calendar.weeks(days)
    assert len(rows) == 6 and all(len(r) == 7 for r in rows)
    assert rows[0][:6] == [None] * 6 and rows[0][6] is not None and rows[0][6].day.day == 1
    assert rows[-1][0] is not None and rows[-1][0].day.day == 30 and rows[-1][1] is None


def test_json_has_every_day_and_the_pareto() -> None:
    k = kpi(1, "Q", amber=None)
    e = Entries()
    e.add(k, date(2026, 11, 2), 1, "Rework")
    data = calendar.as_json(calendar.build("Line", [k], e.by_kpi, NOV, TODAY))
    orjson.dumps(data)  # plain data
    assert data["month"] == "2026-11" and len(data["categories"][0]["days"]) == 30
    second = data["categories"][0]["days"][1]
    assert second == {"date": "2026-11-02", "status": "red", "red": ["K1"]}
    assert data["reasons"] == [
        {"reason": "Rework", "count": 1, "cumulative_pct": 100.0, "categories": ["Q"]}
    ]


def test_the_demo_has_categories_and_reasons_on_red_days(store_path: Path) -> None:
    store = Store(store_path)
    build(store, TODAY)
    snap = store.read()
    assert all(k.category for k in snap.kpis.values())
    line = snap.board_named("Line 2 Assembly")
    cal = calendar.build(line.name, snap.kpis_of(line.id), snap.entries, NOV, TODAY)
    assert [c.letter for c in cal.categories] == ["Q", "C", "D"]
    assert cal.red_days > 0 and cal.reasons and cal.reasons[0].count >= 2
    # every reason the demo wrote is on a red entry (the Pareto would not count it otherwise)
    noted = {r.text for r in cal.reasons}
    assert "Torque tool out of calibration" in noted


def test_the_calendars_first_and_last_months_do_not_overflow() -> None:
    week = kpi(1, "Delivery", frequency=Frequency.WEEKLY, amber=None)
    month = kpi(2, "Cost", frequency=Frequency.MONTHLY, amber=None)
    e = Entries()
    e.add(week, date.max, 50)  # a hand-edited store: the last week of the year 9999
    e.add(month, date.max, 150)
    e.add(week, date.min, 50)
    last = calendar.build("L", [week, month], e.by_kpi, date(9999, 12, 1), date.max)
    assert len(last.categories[1].days) == 31
    assert last.categories[1].days[-1].status is Status.RED  # Delivery, red to the 31st
    assert last.categories[0].days[0].status is Status.GREEN  # Cost's month
    first = calendar.build("L", [week], e.by_kpi, date(1, 1, 1), date(1, 1, 31))
    assert [d.status for d in first.categories[0].days[:8]] == [Status.RED] * 7 + [None]
