"""The store contract: the same specification, run against both adapters on real Postgres.

``store`` is the Postgres adapter in one run and the Supabase adapter (over the PostgREST
transport) in the other; every test passes on both.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import psycopg
import pytest

from scout.errors import BadRequest, Conflict, NotFound, ScoutError, UpstreamFailed
from scout.store import Store
from tests.integration.store.conftest import MeteredStore


async def test_a_function_returning_a_json_object_answers_it_as_a_dict(store: Store) -> None:
    # Given the foundation's health function
    # When it is called
    health = await store.call("scout_ping")
    # Then its jsonb object arrives decoded
    assert health["ok"] is True
    assert datetime.fromisoformat(health["database_time"]).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "value",
    [7, -2.5, 2**53 + 1, True, False, [1, "two", None], {"a": {"b": [None, 1.5]}, "c": "ünï"}, {}, []],
    ids=["int", "float", "big-int", "true", "false", "array", "object", "empty-object", "empty-array"],
)
async def test_a_json_result_of_any_kind_comes_back_as_the_python_value(store: Store, value: Any) -> None:
    # Given a function that returns its jsonb argument
    # When it is called with a value
    result = await store.call("scout_test_return", value=value)
    # Then the same value comes back
    assert result == value


async def test_a_json_string_result_comes_back_as_a_str(store: Store) -> None:
    title = "Staff \"Platform\" Engineer — 'Zürich' \\ remote"
    assert await store.call("scout_test_title", title=title) == title


async def test_a_null_result_is_none(store: Store) -> None:
    assert await store.call("scout_test_return", value=None) is None


async def test_named_arguments_of_every_supported_type_reach_their_typed_parameters(store: Store) -> None:
    # Given a function with parameters of each supported SQL type
    moment = datetime(2026, 11, 25, 18, 30, 5, 123000, tzinfo=timezone(timedelta(hours=2)))
    ident = UUID("3f1c1e1e-1111-4111-8111-111111111111")
    # When every argument is passed as the Python value of its kind
    echoed = await store.call(
        "scout_test_echo",
        doc={"nested": [1, {"x": None}], "at": moment, "id": ident},
        label="Senior Engineer, Zürich",
        amount=42,
        big=2**40,
        ratio=0.25,
        price=19.99,
        flag=False,
        at=moment,
        day=date(2026, 12, 31),
        ident=ident,
    )
    # Then each arrives converted to its parameter's type
    assert echoed == {
        "doc": {"nested": [1, {"x": None}], "at": "2026-11-25T18:30:05.123000+02:00", "id": str(ident)},
        "label": "Senior Engineer, Zürich",
        "amount": 42,
        "big": 2**40,
        "ratio": 0.25,
        "price": 19.99,
        "flag": False,
        "at": "2026-11-25T16:30:05.123+00:00",
        "day": "2026-12-31",
        "ident": str(ident),
        "fallback": "the default",
    }


async def test_strings_reach_non_text_parameters_through_their_input_functions(store: Store) -> None:
    echoed = await store.call(
        "scout_test_echo", amount="12", flag="true", at="2026-01-02T03:04:05Z", ident=str(UUID(int=1))
    )
    assert (echoed["amount"], echoed["flag"], echoed["at"], echoed["ident"]) == (
        12,
        True,
        "2026-01-02T03:04:05+00:00",
        "00000000-0000-0000-0000-000000000001",
    )


async def test_a_none_argument_is_sql_null_and_an_omitted_one_takes_its_default(store: Store) -> None:
    echoed = await store.call("scout_test_echo", label=None)
    assert echoed["label"] is None
    assert echoed["fallback"] == "the default"


@pytest.mark.parametrize(
    ("sqlstate", "error"),
    [
        ("P0002", NotFound),
        ("23505", Conflict),
        ("22023", BadRequest),
        ("22P02", BadRequest),
        ("23514", BadRequest),
    ],
)
async def test_a_domain_error_raised_by_a_function_keeps_its_message(
    store: Store, sqlstate: str, error: type[ScoutError]
) -> None:
    # Given a function that raises with a SQLSTATE and a message
    message = f"source 'acme' says: {sqlstate} happened"
    # When it is called
    with pytest.raises(ScoutError) as raised:
        await store.call("scout_test_fail", state=sqlstate, message=message)
    # Then the mapped scout error carries the function's message
    assert type(raised.value) is error
    assert raised.value.message == message


@pytest.mark.parametrize("sqlstate", ["P0001", "42501", "XX000", "40001", "55000"])
async def test_any_other_error_is_upstream_failed_and_does_not_leak_its_message(
    store: Store, sqlstate: str
) -> None:
    with pytest.raises(UpstreamFailed) as raised:
        await store.call("scout_test_fail", state=sqlstate, message="internal detail: table secret_things")
    assert "secret_things" not in raised.value.message
    assert raised.value.message == "the store could not complete scout_test_fail"


async def test_a_database_failure_inside_a_function_is_upstream_failed_without_its_sql_details(
    store: Store,
) -> None:
    with pytest.raises(UpstreamFailed) as raised:
        await store.call("scout_test_divide", numerator=1, denominator=0)
    assert "division" not in raised.value.message


async def test_a_value_its_parameter_type_refuses_is_a_bad_request(store: Store) -> None:
    with pytest.raises(BadRequest, match='invalid input syntax for type uuid: "not-a-uuid"'):
        await store.call("scout_test_echo", ident="not-a-uuid")


async def test_a_number_out_of_its_parameter_range_is_a_bad_request(store: Store) -> None:
    with pytest.raises(BadRequest, match="out of range"):
        await store.call("scout_test_echo", amount=2**40)


async def test_an_unknown_function_is_upstream_failed(store: Store) -> None:
    with pytest.raises(UpstreamFailed, match="could not complete scout_test_no_such_function"):
        await store.call("scout_test_no_such_function")


async def test_an_argument_the_function_does_not_take_is_upstream_failed(store: Store) -> None:
    with pytest.raises(UpstreamFailed):
        await store.call("scout_test_echo", colour="blue")


async def test_a_missing_required_argument_is_upstream_failed(store: Store) -> None:
    with pytest.raises(UpstreamFailed):
        await store.call("scout_test_divide", numerator=1)


@pytest.mark.parametrize(
    "function", ["ScoutPing", "scout-ping", "public.scout_ping", "scout_ping()", "", "1st", "x" * 64]
)
async def test_a_function_name_that_is_not_a_plain_identifier_is_refused_before_any_round_trip(
    store: Store, function: str
) -> None:
    with pytest.raises(ValueError, match="not a lower-case SQL identifier"):
        await store.call(function)
    assert store.round_trips == 0


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (object(), TypeError),
        (b"bytes", TypeError),
        ({1: "int key"}, TypeError),
        (float("nan"), ValueError),
        (datetime(2026, 1, 1, 12, 0), ValueError),  # naive: which zone?
    ],
    ids=["object", "bytes", "int-key", "nan", "naive-datetime"],
)
async def test_an_argument_without_a_json_form_is_refused_before_any_round_trip(
    store: Store, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await store.call("scout_test_return", value=value)
    assert store.round_trips == 0


async def test_a_call_is_one_round_trip(metered_store: MeteredStore) -> None:
    # Given a store whose round trips are counted on the wire (or at the API)
    store = metered_store.store
    # When it makes three calls, one of them failing
    await store.call("scout_ping")
    await store.call("scout_test_echo", doc={"a": 1}, label="x", at=datetime.now(UTC))
    with pytest.raises(NotFound):
        await store.call("scout_test_fail", state="P0002", message="gone")
    # Then it made three round trips, and says so
    assert metered_store.measured_round_trips() == 3
    assert store.round_trips == 3


async def test_concurrent_calls_run_at_the_same_time(store: Store) -> None:
    # Given calls that each wait until all of them are inside the database at once
    parties = 5
    # When they are made concurrently
    results = await asyncio.gather(
        *(store.call("scout_test_rendezvous", key=4242, parties=parties) for _ in range(parties))
    )
    # Then every call met the others: none waited for another to finish
    assert results == [{"met": True}] * parties


async def test_a_calls_writes_are_committed_when_it_returns(
    store: Store, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # When a call inserts rows
    await store.call("scout_test_add_items", items=[{"id": "a", "quantity": 1}, {"id": "b", "quantity": 2}])
    # Then another connection sees them at once
    rows = await (await db.execute("select id, quantity from public.scout_test_items order by id")).fetchall()
    assert rows == [{"id": "a", "quantity": 1}, {"id": "b", "quantity": 2}]


async def test_a_call_that_fails_leaves_none_of_its_writes(
    store: Store, db: psycopg.AsyncConnection[dict[str, Any]]
) -> None:
    # Given an item that exists
    await store.call("scout_test_add_items", items=[{"id": "taken", "quantity": 1}])
    # When a call inserts two new items and then the existing one
    items = [{"id": "new-1", "quantity": 1}, {"id": "new-2", "quantity": 1}, {"id": "taken", "quantity": 5}]
    with pytest.raises(Conflict, match="duplicate key value violates unique constraint"):
        await store.call("scout_test_add_items", items=items)
    # Then neither new item was kept: the function is the transaction
    rows = await (await db.execute("select id from public.scout_test_items order by id")).fetchall()
    assert rows == [{"id": "taken"}]


async def test_a_check_constraint_violation_is_a_bad_request(store: Store) -> None:
    with pytest.raises(BadRequest, match="violates check constraint"):
        await store.call("scout_test_add_items", items=[{"id": "negative", "quantity": -1}])


async def test_calls_run_in_utc(store: Store) -> None:
    session = await store.call("scout_test_session")
    assert session["timezone"] == "UTC"


async def test_a_closed_store_refuses_calls(store: Store) -> None:
    await store.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await store.call("scout_ping")


async def test_an_unreachable_database_is_upstream_failed(unreachable_store: Store) -> None:
    with pytest.raises(UpstreamFailed, match="the store is unreachable"):
        await unreachable_store.call("scout_ping")
