"""The snapshots readers get: their dict forms, and the person device record's old name."""

from __future__ import annotations

import pytest

import mockpipe.people
from mockpipe.people import Event, GroupObject, Person, PersonDevice, Relationship


def test_a_person_lists_every_id_and_counts_in_its_summary() -> None:
    device = PersonDevice("tok", "ios", {"model": "iPhone14,5"}, "2026-01-01T00:00:00.000Z")
    relationship = Relationship("1", "acme", {"role": "admin"})
    person = Person(
        write_key="wk",
        user_id="u1",
        anonymous_ids=("a1",),
        previous_ids=("old",),
        emails=("ann@example.com",),
        traits={"name": "Ann"},
        events=(Event("track", "Signed Up", "2026-01-01T00:00:00.000Z", {}, "m1"),),
        devices={"tok": device},
        objects={("1", "acme"): relationship},
        suppressed=False,
        first_seen="2026-01-01T00:00:00.000Z",
        last_seen="2026-01-01T00:00:00.000Z",
    )
    assert person.ids == ("u1", "a1", "old", "ann@example.com")
    assert person.relationship("acme") == relationship
    summary = person.summary()
    assert (summary["id"], summary["eventCount"], summary["deviceCount"], summary["objectCount"]) == ("u1", 1, 1, 1)
    full = person.to_dict()
    assert full["devices"] == [
        {"token": "tok", "type": "ios", "attributes": {"model": "iPhone14,5"}, "updatedAt": device.updated_at}
    ]
    assert full["events"][0]["messageId"] == "m1"


def test_a_group_object_lists_its_people() -> None:
    found = GroupObject("wk", "1", "acme", {"name": "Acme"}, {"u1": {"role": "admin"}}, "t1", "t2")
    assert found.to_dict()["people"] == [{"id": "u1", "relationshipAttributes": {"role": "admin"}}]


def test_the_old_device_name_still_works_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="PersonDevice"):
        old = mockpipe.people.Device
    assert old is PersonDevice
    with pytest.raises(AttributeError):
        _ = mockpipe.people.NoSuchRecord
