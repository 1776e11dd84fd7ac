"""GET /monitors/{monitor_id}/deliveries: every attempt at delivering a monitor's webhook
events, newest first (user or service tokens; each owner sees only its own monitors).

Included in the audit function's routes (``scout.audit.api``); one call of
:func:`scout.monitors.deliveries.list_deliveries` per request.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from scout import deps, runtime
from scout.audit.scans import owner_of
from scout.auth import Strategy
from scout.http_api import BEARER, ScoutRouter, error_answers
from scout.monitors import deliveries
from scout.monitors.webhook_store import DeliveryPage

router = ScoutRouter()
monitor_owners = router.requires(Strategy.USER, Strategy.SERVICE)

_ERRORS = {
    400: "Invalid cursor or limit (the message names it)",
    401: "Missing, invalid or expired token",
    404: "No such monitor (or not yours)",
    502: "The database is unavailable; try again",
}


@router.get(
    "/monitors/<monitor_id>/deliveries",
    summary="Every attempt at delivering a monitor's webhook events, newest first",
    tags=["monitors"],
    security=BEARER,
    middlewares=[monitor_owners],
    responses={
        200: {
            "description": "A page of delivery attempts, newest first; next_cursor continues",
            "content": {"application/json": {"model": DeliveryPage}},
        },
        **error_answers(_ERRORS, 400, 401, 404, 502),
    },
)
def list_deliveries(
    monitor_id: str,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=deliveries.MAX_PAGE_SIZE)] = deliveries.DEFAULT_PAGE_SIZE,
) -> DeliveryPage:
    return runtime.run(
        deliveries.list_deliveries(
            monitor_id, owner_of(router.principal()), store=deps.current().store(), cursor=cursor, limit=limit
        )
    )
