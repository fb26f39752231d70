"""The access rules on their own (app/service/access.py): the same object the guard, the
routes and the service ask, so what is checked here is what every way in enforces."""

from __future__ import annotations

import pytest

from app.errors import ServiceError
from app.service.access import EVERYONE, Access

READER = Access(1, "read")
ADMIN = Access(2, "admin")
HR_ADMIN = Access(3, "admin", ("hr",))
HR_READER = Access(4, "read", ("hr", "legal"))


@pytest.mark.parametrize(
    ("caller", "needed", "allowed"),
    [
        (READER, "read", True),
        (READER, "admin", False),
        (READER, "operator", False),
        (ADMIN, "operator", True),
        (HR_ADMIN, "admin", True),
        (HR_ADMIN, "operator", False),  # a limited admin may not pick everyone's model
        (EVERYONE, "operator", True),
    ],
)
def test_scopes(caller: Access, needed: str, allowed: bool) -> None:
    assert caller.allows(needed) is allowed
    if allowed:
        caller.require(needed)
    else:
        with pytest.raises(ServiceError) as refused:
            caller.require(needed)
        assert refused.value.status == 403 and refused.value.detail == caller.refusal(needed)


def test_refusals_say_why() -> None:
    assert "limited to collections" in HR_ADMIN.refusal("operator")
    assert READER.refusal("admin") == "this key has scope 'read'; 'admin' needed"


def test_searches_are_narrowed_and_foreign_collections_refused_not_emptied() -> None:
    assert HR_READER.search_filter().collections == ("hr", "legal")
    assert HR_READER.search_filter(["legal", "legal"]).collections == ("legal",)
    assert READER.search_filter().collections is None  # every collection
    with pytest.raises(ServiceError) as refused:
        HR_READER.search_filter(["hr", "payroll", "board"])
    assert refused.value.status == 403 and "board, payroll" in refused.value.detail
    flt = ADMIN.search_filter(document_ids=[7], source_prefix="/srv")
    assert flt.document_ids == (7,) and flt.source_prefix == "/srv"


def test_writes_need_admin_and_the_collection() -> None:
    HR_ADMIN.check_write("hr")
    for caller, collection in ((HR_ADMIN, "default"), (HR_READER, "hr")):
        with pytest.raises(ServiceError) as refused:
            caller.check_write(collection)
        assert refused.value.status == 403


def test_a_source_held_by_another_collection_cannot_be_taken_over() -> None:
    HR_ADMIN.check_takeover(None)  # a new source
    HR_ADMIN.check_takeover("hr")
    ADMIN.check_takeover("hr")
    with pytest.raises(ServiceError) as refused:
        HR_ADMIN.check_takeover("payroll")
    assert "payroll" not in refused.value.detail  # whose it is stays unsaid
