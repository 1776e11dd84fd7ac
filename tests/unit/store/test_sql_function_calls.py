"""Domain code reaches SQL only through the typed stores, and a typed call cannot miss its
declared signature."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import scout
from scout.store.functions import INTEGER, TEXT, sql_function
from tests.support.audit_fakes import ScriptedStore

PACKAGE = Path(scout.__file__).parent
# store.call("name", ...) with the function's name written out: the untyped way in.
UNTYPED_CALL = re.compile(r"\.call\(\s*[\"']")
TYPED_STORES = {
    PACKAGE / "jobs" / "store.py",
    PACKAGE / "audit" / "store.py",
    PACKAGE / "monitors" / "webhook_store.py",
}


def test_no_module_outside_the_store_names_a_sql_function_by_string() -> None:
    # Given every module of the package, When searched for store.call("...")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path not in TYPED_STORES
        and PACKAGE / "store" not in path.parents
        and UNTYPED_CALL.search(path.read_text(encoding="utf-8"))
    ]
    # Then none is found: they go through the typed stores
    assert offenders == []


async def test_a_call_passing_every_declared_argument_reaches_the_store() -> None:
    # Given a declared function and a store that answers it
    function = sql_function("list_companies", p_after_company=TEXT, p_limit=INTEGER)
    store = ScriptedStore({"list_companies": {"items": [], "next": None}})
    # When it is called with every argument
    answer = await function.call(store, p_after_company=None, p_limit=5)
    # Then the store got exactly those arguments, once
    assert answer == {"items": [], "next": None}
    assert store.calls == [("list_companies", {"p_after_company": None, "p_limit": 5})]


@pytest.mark.parametrize(
    "arguments",
    [{"p_limit": 5}, {"p_after_company": None, "p_limit": 5, "p_offset": 0}, {"p_after": None, "p_limit": 5}],
    ids=["missing", "extra", "misnamed"],
)
async def test_a_call_that_misses_the_signature_fails_before_any_round_trip(
    arguments: dict[str, object],
) -> None:
    # Given a declared function
    function = sql_function("list_companies", p_after_company=TEXT, p_limit=INTEGER)
    store = ScriptedStore({"list_companies": {"items": [], "next": None}})
    # When it is called with arguments that differ from its declaration, Then TypeError, no call
    with pytest.raises(TypeError, match="list_companies takes p_after_company, p_limit"):
        await function.call(store, **arguments)
    assert store.round_trips == 0
