"""The model's mutable state: attributes merged by time, and a write key's index of ids."""

from __future__ import annotations

from datetime import UTC, datetime

from mockpipe.people.state import Attributes, PersonState, WriteKeyState

EARLY = datetime(2026, 1, 1, tzinfo=UTC)
LATE = datetime(2026, 1, 2, tzinfo=UTC)


def test_attributes_keep_the_newest_value_of_each_key() -> None:
    traits = Attributes()
    traits.merge({"plan": "pro", "name": "Ann"}, LATE)
    traits.merge({"plan": "free", "city": "Oslo"}, EARLY, skip=("name",))
    assert traits.values == {"plan": "pro", "name": "Ann", "city": "Oslo"}  # a key never set takes any time
    other = Attributes()
    other.merge({"plan": "team"}, datetime(2026, 1, 3, tzinfo=UTC))
    traits.absorb(other)
    assert traits.values["plan"] == "team"


def test_a_write_key_finds_a_person_by_any_id_until_removed() -> None:
    state = WriteKeyState()
    person = state.add(PersonState(user_id="u1", anonymous_ids=["a1"], emails=["ann@example.com"]))
    assert state.find("u1") is state.find("a1") is state.find("ann@example.com") is person
    assert person.has_id_containing("example") and not person.email_only
    state.remove(person)
    assert state.find("u1") is None and not state.people
