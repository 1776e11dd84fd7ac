"""The monitors' routes through the audit function's handler, over the test database."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from scout.auth import Strategy
from tests.integration.audit_api.calls import call, get, token
from tests.integration.audit_api.conftest import LocalAws
from tests.support.http_events import http_event, json_body

SHOP = {"name": "shop", "urls": ["https://example.com/", "https://example.com/cart"]}


def post_monitor(
    function: ModuleType, body: dict[str, Any], *, as_token: str | None = None
) -> dict[str, Any]:
    return call(function, http_event("POST", "/monitors", body=body, token=as_token or token()))


def test_a_posted_monitor_answers_201_with_its_secret_once(audit_function: ModuleType) -> None:
    # When a user posts a scheduled monitor with a webhook
    response = post_monitor(
        audit_function, {**SHOP, "schedule": "rate(1 day)", "webhook_url": "https://example.com/hooks"}
    )
    # Then it is created with a signing secret and a first due time
    assert response["statusCode"] == 201, response
    created = json_body(response)
    assert len(created["webhook_secret"]) >= 32
    assert created["next_run_at"] is not None
    assert response["headers"]["Location"] == f"/monitors/{created['id']}"
    # And reading it back shows everything but the secret
    read = get(audit_function, f"/monitors/{created['id']}", as_token=token())
    assert read["statusCode"] == 200
    assert "webhook_secret" not in json_body(read)
    assert json_body(read)["urls"] == SHOP["urls"]


def test_an_invalid_monitor_is_a_400_naming_the_field(audit_function: ModuleType) -> None:
    # When the budget holds an unknown key, or the schedule is not EventBridge's
    for body, named in (
        ({**SHOP, "budget": {"scores": {"speed": 0.5}}}, "speed"),
        ({**SHOP, "schedule": "rate(1 days)"}, "schedule"),
        ({"name": "shop"}, "urls"),
    ):
        response = post_monitor(audit_function, body)
        # Then it is refused, naming what is wrong
        assert response["statusCode"] == 400, response
        error = json_body(response)["error"]
        assert named in error["message"], error


def test_a_webhook_to_a_private_address_is_refused_and_nothing_is_stored(audit_function: ModuleType) -> None:
    # When the webhook points into a private network
    response = post_monitor(audit_function, {**SHOP, "webhook_url": "https://10.0.0.5/hook"})
    # Then it is refused as a blocked target, and no monitor was made
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "blocked_target"
    listed = get(audit_function, "/monitors", as_token=token())
    assert json_body(listed)["items"] == []


def test_another_owners_monitor_is_404_to_read_and_to_delete(audit_function: ModuleType) -> None:
    # Given a monitor of user-1
    created = json_body(post_monitor(audit_function, SHOP))
    path = f"/monitors/{created['id']}"
    # When user-2 or a service reads or deletes it, Then it is not found
    for stranger in (token(subject="user-2"), token(Strategy.SERVICE, "user-1")):
        assert get(audit_function, path, as_token=stranger)["statusCode"] == 404
        deleted = call(audit_function, http_event("DELETE", path, token=stranger))
        assert deleted["statusCode"] == 404
    # And its owner deletes it, after which it is gone
    assert call(audit_function, http_event("DELETE", path, token=token()))["statusCode"] == 204
    assert get(audit_function, path, as_token=token())["statusCode"] == 404


def test_monitors_are_listed_per_owner_newest_first_with_a_cursor(audit_function: ModuleType) -> None:
    # Given three monitors of user-1 and one of a service
    for n in range(3):
        post_monitor(audit_function, {**SHOP, "name": f"m{n}"})
    post_monitor(audit_function, {**SHOP, "name": "service's"}, as_token=token(Strategy.SERVICE, "svc"))
    # When user-1 lists two at a time
    first = json_body(get(audit_function, "/monitors", as_token=token(), query={"limit": "2"}))
    second = json_body(
        get(
            audit_function,
            "/monitors",
            as_token=token(),
            query={"limit": "2", "cursor": first["next_cursor"]},
        )
    )
    # Then only theirs appear, newest first
    assert [m["name"] for m in first["items"] + second["items"]] == ["m2", "m1", "m0"]
    assert second["next_cursor"] is None


def test_a_monitor_id_that_is_no_uuid_is_404(audit_function: ModuleType) -> None:
    assert get(audit_function, "/monitors/not-a-monitor", as_token=token())["statusCode"] == 404


def test_an_admin_token_cannot_use_monitors(audit_function: ModuleType) -> None:
    # Given a valid token of the admin strategy, When it lists monitors, Then it is refused
    response = get(audit_function, "/monitors", as_token=token(Strategy.ADMIN, "root"))
    assert response["statusCode"] == 403
    assert json_body(response)["error"]["code"] == "forbidden"


def test_running_a_monitor_queues_one_scan_per_page_grouped_by_host(
    audit_function: ModuleType, local_aws: LocalAws
) -> None:
    # Given a monitor of two pages of one host
    created = json_body(post_monitor(audit_function, SHOP))
    # When its owner runs it
    response = call(audit_function, http_event("POST", f"/monitors/{created['id']}/run", token=token()))
    # Then the run is accepted as running with both pages planned
    assert response["statusCode"] == 202, response
    run = json_body(response)
    assert (run["status"], run["pages_planned"], run["pages"]) == ("running", 2, SHOP["urls"])
    # And two scan messages wait on the FIFO queue, both in the host's group
    messages = local_aws.messages()
    assert len(messages) == 2
    assert {message["Attributes"]["MessageGroupId"] for message in messages} == {"example.com"}
    # And the run is listed, newest first
    runs = json_body(get(audit_function, f"/monitors/{created['id']}/runs", as_token=token()))
    assert [item["id"] for item in runs["items"]] == [run["id"]]


def test_a_sitemap_at_a_private_address_fails_the_run_and_queues_nothing(
    audit_function: ModuleType, local_aws: LocalAws
) -> None:
    # Given a monitor whose sitemap points into a private network
    created = json_body(
        post_monitor(audit_function, {"name": "inside", "sitemap": "https://10.0.0.5/sitemap.xml"})
    )
    # When it runs
    run = json_body(call(audit_function, http_event("POST", f"/monitors/{created['id']}/run", token=token())))
    # Then the run failed with the planner's error, and no scan was queued
    assert run["status"] == "failed"
    assert run["error"]["code"] == "blocked_target"
    assert local_aws.messages() == []


def test_another_owner_cannot_run_or_list_runs(audit_function: ModuleType) -> None:
    created = json_body(post_monitor(audit_function, SHOP))
    stranger = token(subject="user-2")
    assert (
        call(audit_function, http_event("POST", f"/monitors/{created['id']}/run", token=stranger))[
            "statusCode"
        ]
        == 404
    )
    assert get(audit_function, f"/monitors/{created['id']}/runs", as_token=stranger)["statusCode"] == 404


def test_a_patch_changes_only_the_fields_it_names(audit_function: ModuleType) -> None:
    # Given a monitor of listed pages, with no schedule
    created = json_body(post_monitor(audit_function, SHOP))
    path = f"/monitors/{created['id']}"
    # When its owner switches it to a sitemap on a daily schedule
    patch = {"sitemap": "https://example.com/sitemap.xml", "schedule": "rate(1 day)"}
    response = call(audit_function, http_event("PATCH", path, body=patch, token=token()))
    # Then the sitemap replaces the urls, it becomes due, and the rest is kept
    assert response["statusCode"] == 200, response
    changed = json_body(response)
    assert (changed["urls"], changed["sitemap"]) == (None, "https://example.com/sitemap.xml")
    assert changed["next_run_at"] is not None
    assert (changed["name"], changed["max_pages"]) == ("shop", 50)
    # When the schedule is cleared, Then it is never due
    cleared = json_body(
        call(audit_function, http_event("PATCH", path, body={"schedule": None}, token=token()))
    )
    assert (cleared["schedule"], cleared["next_run_at"]) == (None, None)
    # And another owner's patch is a 404, a bad one a 400
    assert (
        call(audit_function, http_event("PATCH", path, body={"name": "x"}, token=token(subject="u2")))[
            "statusCode"
        ]
        == 404
    )
    assert (
        call(audit_function, http_event("PATCH", path, body={"runs": 9}, token=token()))["statusCode"] == 400
    )
