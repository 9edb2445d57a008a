"""The pure complaint domain: references, routing, lifecycle and duplicate detection."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import get_args

import pytest

from complaints.duplicates import find_similar, similarity
from complaints.lifecycle import (
    OPEN,
    Action,
    Status,
    Timeline,
    ack_due,
    due_actions,
    next_status,
)
from complaints.reference import ALPHABET, new_reference, normalize_reference
from complaints.routing import Coverage, Place, route, specificity

# --- references -------------------------------------------------------------------------------

REFERENCE = re.compile(f"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def test_alphabet_has_no_look_alikes() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert set(ALPHABET).isdisjoint("01OIL")
    assert ALPHABET.upper() == ALPHABET


def test_new_references_are_well_formed_and_all_different() -> None:
    rng = random.Random(20261128)
    codes = [new_reference(rng) for _ in range(1000)]
    assert all(REFERENCE.match(code) for code in codes)
    assert len(set(codes)) == 1000
    # Every code reads back as itself.
    assert all(normalize_reference(code) == code for code in codes)


def test_new_references_use_the_whole_alphabet_and_are_not_sequential() -> None:
    rng = random.Random(7)
    codes = [new_reference(rng) for _ in range(1000)]
    # Every position varies over the whole alphabet: no fixed or counter-like part.
    for position in range(8):
        used = {code.replace("-", "")[position] for code in codes}
        assert used == set(ALPHABET), position
    # A counter would keep the leading characters; random codes scatter them.
    assert len({code[:4] for code in codes}) > 900
    assert codes != sorted(codes)


def test_new_reference_depends_only_on_the_rng_given() -> None:
    assert new_reference(random.Random(1)) == new_reference(random.Random(1))
    assert new_reference(random.Random(1)) != new_reference(random.Random(2))


def test_new_reference_accepts_system_random() -> None:
    assert REFERENCE.match(new_reference(random.SystemRandom()))


@pytest.mark.parametrize(
    "typed",
    [
        "k7m4 qxp9",
        "K7M4-QXP9",
        "k7m4qxp9",
        "  K7M4.QXP9  ",
        "k7m4 - qxp9",
        "K 7 M 4 Q X P 9",
        "k7m4\u2013qxp9",  # an en dash, as phone keyboards autocorrect "-"
        "k7m4\u00a0qxp9",  # a non-breaking space
        "K7M4-QXP9\n",
    ],
)
def test_normalize_reference_accepts_what_people_type(typed: str) -> None:
    assert normalize_reference(typed) == "K7M4-QXP9"


@pytest.mark.parametrize(
    "typed",
    [
        "K7M4-QXPO",  # letter O
        "K7M4-QXP0",  # digit zero
        "K7M4-QXPI",  # letter I
        "K7M4-QXP1",  # digit one
        "K7M4-QXPL",  # letter L
        "k7m4-qxpl",  # lower-case l
        "K7M4-QXP",  # 7 characters
        "K7M4-QXP99",  # 9 characters
        "",
        " - . ",
        "K7M4_QXP9",  # underscore is not a separator
        "K7M4-QXPÉ",  # accented letter
        "K7M4/QXP9",
    ],
)
def test_normalize_reference_rejects_ambiguous_and_malformed_input(typed: str) -> None:
    assert normalize_reference(typed) is None


# --- routing ----------------------------------------------------------------------------------

PLACE = Place(commune="ML010101", cercle="ML0101", region="ML01")

COMMUNE = Coverage("commune", communes=frozenset({"ML010101"}))
CERCLE = Coverage("cercle", cercles=frozenset({"ML0101"}))
REGION = Coverage("region", regions=frozenset({"ML01"}))
NATIONAL = Coverage("national")
DESK = Coverage("desk", desk=True)
ELSEWHERE = Coverage(
    "elsewhere",
    regions=frozenset({"ML02"}),
    cercles=frozenset({"ML0102"}),
    communes=frozenset({"ML010102"}),
)


def test_specificity_levels() -> None:
    assert specificity(COMMUNE, PLACE) == 3
    assert specificity(CERCLE, PLACE) == 2
    assert specificity(REGION, PLACE) == 1
    assert specificity(NATIONAL, PLACE) == 0
    assert specificity(DESK, PLACE) is None
    assert specificity(ELSEWHERE, PLACE) is None


def test_specificity_takes_the_most_local_area_listed() -> None:
    everything = Coverage(
        "p",
        regions=frozenset({"ML01"}),
        cercles=frozenset({"ML0101"}),
        communes=frozenset({"ML010101"}),
    )
    assert specificity(everything, PLACE) == 3
    # An area elsewhere does not make a coverage national.
    assert specificity(Coverage("p", communes=frozenset({"ML010102"})), PLACE) is None


@pytest.mark.parametrize(
    ("coverages", "expected"),
    [
        ([NATIONAL, REGION, CERCLE, COMMUNE, DESK], ["commune"]),
        ([NATIONAL, REGION, CERCLE, DESK], ["cercle"]),
        ([NATIONAL, REGION, DESK], ["region"]),
        ([NATIONAL, DESK], ["national"]),
        ([DESK, COMMUNE, NATIONAL], ["commune"]),
    ],
)
def test_the_most_local_partner_wins(coverages: list[Coverage], expected: list[str]) -> None:
    assert route(PLACE, "water", coverages) == expected


def test_category_filter_skips_partners_that_do_not_take_the_category() -> None:
    water_only = Coverage(
        "water-commune", communes=frozenset({"ML010101"}), categories=frozenset({"water"})
    )
    justice = Coverage(
        "justice-region", regions=frozenset({"ML01"}), categories=frozenset({"justice"})
    )
    coverages = [water_only, justice, NATIONAL, DESK]
    assert route(PLACE, "water", coverages) == ["water-commune"]
    assert route(PLACE, "justice", coverages) == ["justice-region"]
    assert route(PLACE, "health", coverages) == ["national"]


def test_empty_categories_take_every_category() -> None:
    assert route(PLACE, "anything-at-all", [CERCLE, DESK]) == ["cercle"]


def test_ties_return_every_partner_in_input_order() -> None:
    other_cercle = Coverage("cercle-b", cercles=frozenset({"ML0101"}))
    coverages = [other_cercle, REGION, CERCLE, DESK]
    assert route(PLACE, "water", coverages) == ["cercle-b", "cercle"]


def test_a_partner_listed_twice_is_notified_once() -> None:
    water = Coverage("ngo", communes=frozenset({"ML010101"}), categories=frozenset({"water"}))
    general = Coverage("ngo", communes=frozenset({"ML010101"}))
    assert route(PLACE, "water", [water, general, COMMUNE]) == ["ngo", "commune"]


def test_no_partner_goes_to_the_desk() -> None:
    assert route(PLACE, "water", [ELSEWHERE, DESK]) == ["desk"]


def test_no_partner_for_the_category_goes_to_the_desk() -> None:
    water_only = Coverage(
        "water", communes=frozenset({"ML010101"}), categories=frozenset({"water"})
    )
    assert route(PLACE, "land", [water_only, DESK]) == ["desk"]


def test_several_desks_all_receive_it_in_input_order() -> None:
    desk_b = Coverage("desk-b", desk=True)
    assert route(PLACE, "water", [desk_b, ELSEWHERE, DESK]) == ["desk-b", "desk"]


def test_no_partner_and_no_desk_gives_nobody() -> None:
    assert route(PLACE, "water", [ELSEWHERE]) == []
    assert route(PLACE, "water", []) == []


def test_a_partner_covering_another_region_does_not_get_it() -> None:
    kayes = Coverage("kayes", regions=frozenset({"ML01"}))
    koulikoro = Coverage("koulikoro", regions=frozenset({"ML02"}))
    assert route(PLACE, "water", [koulikoro, kayes, DESK]) == ["kayes"]
    timbuktu = Place(commune="ML060101", cercle="ML0601", region="ML06")
    assert route(timbuktu, "water", [koulikoro, kayes, DESK]) == ["desk"]


def test_a_desk_with_an_area_is_still_only_a_fallback() -> None:
    local_desk = Coverage("local-desk", communes=frozenset({"ML010101"}), desk=True)
    assert route(PLACE, "water", [local_desk, REGION]) == ["region"]
    assert route(PLACE, "water", [local_desk, ELSEWHERE]) == ["local-desk"]


def test_a_neighbouring_commune_partner_does_not_get_it() -> None:
    neighbour = Coverage("neighbour", communes=frozenset({"ML010102"}))
    assert route(PLACE, "water", [neighbour, CERCLE]) == ["cercle"]


# --- lifecycle --------------------------------------------------------------------------------

ALLOWED: dict[tuple[Status, Action], Status] = {
    ("submitted", "ack"): "acknowledged",
    ("reopened", "ack"): "acknowledged",
    ("submitted", "progress"): "in_progress",
    ("acknowledged", "progress"): "in_progress",
    ("reopened", "progress"): "in_progress",
    ("submitted", "resolved"): "resolved",
    ("acknowledged", "resolved"): "resolved",
    ("in_progress", "resolved"): "resolved",
    ("reopened", "resolved"): "resolved",
    ("submitted", "not_ours"): "not_ours",
    ("acknowledged", "not_ours"): "not_ours",
    ("in_progress", "not_ours"): "not_ours",
    ("reopened", "not_ours"): "not_ours",
    # A CSO's "not for us" sends it back to the desk, whose acknowledgement is awaited again.
    ("submitted", "reroute"): "submitted",
    ("acknowledged", "reroute"): "submitted",
    ("in_progress", "reroute"): "submitted",
    ("reopened", "reroute"): "submitted",
    ("resolved", "reopen"): "reopened",
}
REFUSED = [
    (status, action)
    for status in get_args(Status)
    for action in get_args(Action)
    if (status, action) not in ALLOWED
]


@pytest.mark.parametrize(("current", "action"), list(ALLOWED))
def test_allowed_transitions(current: Status, action: Action) -> None:
    assert next_status(current, action) == ALLOWED[(current, action)]


@pytest.mark.parametrize(("current", "action"), REFUSED)
def test_every_other_transition_is_refused(current: Status, action: Action) -> None:
    assert next_status(current, action) is None


def test_some_refusals_that_matter() -> None:
    # Spelled out so that the exhaustive list above cannot silently go empty.
    assert len(REFUSED) == 6 * 6 - 18
    assert next_status("not_ours", "reopen") is None
    assert next_status("in_progress", "ack") is None
    assert next_status("resolved", "resolved") is None
    assert next_status("acknowledged", "ack") is None
    assert next_status("submitted", "reopen") is None


def test_open_statuses() -> None:
    assert frozenset({"submitted", "acknowledged", "in_progress", "reopened"}) == OPEN
    assert "resolved" not in OPEN
    assert "not_ours" not in OPEN


T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=3)
SECOND = timedelta(seconds=1)


def test_ack_due_adds_days() -> None:
    assert ack_due(T0, 3) == DUE
    assert ack_due(T0, 0) == T0


def waiting(
    status: Status = "submitted", reminded: bool = False, escalated: bool = False
) -> Timeline:
    return Timeline(
        status=status, created_at=T0, ack_due_at=DUE, reminded=reminded, escalated=escalated
    )


def test_no_reminder_before_the_ack_deadline() -> None:
    assert due_actions(waiting(), DUE - SECOND) == []


@pytest.mark.parametrize("status", ["submitted", "reopened"])
def test_reminder_exactly_at_the_ack_deadline(status: Status) -> None:
    assert due_actions(waiting(status), DUE) == ["remind"]
    assert due_actions(waiting(status), DUE + timedelta(hours=5)) == ["remind"]


def test_reminder_is_sent_once() -> None:
    assert due_actions(waiting(reminded=True), DUE + SECOND) == []


def test_escalation_only_after_a_reminder_and_the_grace_period() -> None:
    reminded = waiting(reminded=True)
    assert due_actions(reminded, DUE + timedelta(days=2) - SECOND) == []
    assert due_actions(reminded, DUE + timedelta(days=2)) == ["escalate"]
    # Without a reminder first, even a long delay only produces the reminder.
    assert due_actions(waiting(), DUE + timedelta(days=30)) == ["remind"]


def test_escalation_is_sent_once() -> None:
    done = waiting(reminded=True, escalated=True)
    assert due_actions(done, DUE + timedelta(days=30)) == []


def test_escalate_after_is_honoured() -> None:
    reminded = waiting(reminded=True)
    assert due_actions(reminded, DUE + timedelta(hours=6), escalate_after=timedelta(hours=6)) == [
        "escalate"
    ]
    assert due_actions(reminded, DUE + timedelta(days=2), escalate_after=timedelta(days=5)) == []


@pytest.mark.parametrize("status", ["acknowledged", "in_progress", "not_ours"])
def test_no_reminder_once_someone_has_answered(status: Status) -> None:
    assert due_actions(waiting(status), DUE + timedelta(days=30)) == []


def resolved(resolved_at: datetime | None, followup_asked: bool = False) -> Timeline:
    return Timeline(
        status="resolved",
        created_at=T0,
        ack_due_at=DUE,
        resolved_at=resolved_at,
        followup_asked=followup_asked,
    )


def test_followup_a_week_after_resolution() -> None:
    done_at = T0 + timedelta(days=1)
    assert due_actions(resolved(done_at), done_at + timedelta(days=7) - SECOND) == []
    assert due_actions(resolved(done_at), done_at + timedelta(days=7)) == ["followup"]
    one_day = timedelta(days=1)
    assert due_actions(resolved(done_at), done_at + one_day, followup_after=one_day) == ["followup"]
    assert due_actions(resolved(done_at, followup_asked=True), done_at + timedelta(days=60)) == []


def test_no_followup_without_a_resolution_time_or_when_not_resolved() -> None:
    assert due_actions(resolved(None), T0 + timedelta(days=60)) == []
    reopened = Timeline(
        status="reopened",
        created_at=T0,
        ack_due_at=DUE,
        reminded=True,
        escalated=True,
        resolved_at=T0,
    )
    assert due_actions(reopened, T0 + timedelta(days=60)) == []


# --- duplicates -------------------------------------------------------------------------------

PUMP = "La pompe à eau du quartier est en panne"
PUMP_AGAIN = "Pompe en panne au quartier, plus d'eau"
FORAGE = "Le forage ne marche plus, la pompe est cassée depuis 7 jours"
PUMP_LONG = "La pompe du forage est en panne depuis une semaine"
BIRTH = "Le maire demande de l'argent pour un acte de naissance"
ROAD = "La route vers le marché est coupée par les pluies"


def test_similarity_folds_case_accents_and_punctuation() -> None:
    assert similarity("Pompe CASSÉE !", "pompe cassee") == 1.0
    assert similarity("Bamakɔ", "bamako") == 1.0


def test_similarity_of_empty_texts_is_zero() -> None:
    assert similarity("", "pompe") == 0.0
    assert similarity("pompe", "?!  ...") == 0.0
    assert similarity("", "") == 0.0


def test_similarity_range() -> None:
    score = similarity(PUMP, BIRTH)
    assert 0.0 <= score < 0.7
    assert 0.7 <= similarity(PUMP, PUMP_AGAIN) <= 1.0


def test_descriptions_of_the_same_broken_pump_match() -> None:
    candidates = [("birth", BIRTH), ("pump", PUMP_AGAIN), ("road", ROAD), ("forage", FORAGE)]
    assert find_similar(PUMP, candidates) == ["pump"]
    assert find_similar(PUMP_LONG, candidates) == ["forage"]


def test_unrelated_descriptions_do_not_match() -> None:
    assert find_similar(BIRTH, [("pump", PUMP), ("road", ROAD), ("forage", FORAGE)]) == []


def test_best_first_and_limited() -> None:
    candidates = [
        ("loose", "pompe en panne au quartier depuis des mois, les femmes marchent loin"),
        ("exact", PUMP),
        ("close", PUMP_AGAIN),
        ("birth", BIRTH),
    ]
    found = find_similar(PUMP, candidates)
    assert found[0] == "exact"
    assert set(found) <= {"loose", "exact", "close"}
    assert "birth" not in found
    assert find_similar(PUMP, candidates, limit=1) == ["exact"]
    assert find_similar(PUMP, candidates, limit=0) == []
    many = [(str(i), PUMP) for i in range(10)]
    assert find_similar(PUMP, many) == ["0", "1", "2"]


def test_threshold_is_honoured() -> None:
    candidates = [("pump", PUMP_AGAIN)]
    score = similarity(PUMP, PUMP_AGAIN)
    assert find_similar(PUMP, candidates, threshold=score) == ["pump"]
    assert find_similar(PUMP, candidates, threshold=min(score + 0.01, 1.0)) == []


def test_one_word_does_not_match_everything() -> None:
    candidates = [("pump", PUMP), ("forage", FORAGE), ("pump-long", PUMP_LONG)]
    assert find_similar("panne", candidates) == []
    assert find_similar("Panne !", [*candidates, ("same", "panne")]) == ["same"]
    # The rule holds both ways: a vague existing complaint does not swallow new ones.
    assert find_similar(PUMP, [("vague", "panne"), ("vague2", "pompe panne")]) == []


def test_short_descriptions_need_a_near_exact_match() -> None:
    assert find_similar("pompe cassée", [("a", "Pompe cassee"), ("b", "cassée pompe")]) == [
        "a",
        "b",
    ]
    assert find_similar("pompe cassée", [("c", "porte cassée")]) == []
    assert find_similar("panne", [("d", "pannes")]) == ["d"]


def test_empty_description_matches_nothing() -> None:
    assert find_similar("", [("pump", PUMP), ("empty", "")]) == []
    assert find_similar("...", [("empty", "!!")]) == []
