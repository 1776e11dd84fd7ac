"""API Gateway HTTP API (payload format 2.0) events for calling resolvers in-process."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode


def http_event(
    method: str,
    path: str,
    *,
    host: str = "localhost",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    raw_body: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    all_headers = {"host": host, "user-agent": "pytest"}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    if body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update({key.lower(): value for key, value in (headers or {}).items()})
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": all_headers,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "pytest",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:18:00:00 +0000",
            "timeEpoch": 1795629600000,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None
