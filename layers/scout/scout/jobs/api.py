"""The jobs function's HTTP API: every route it serves, each calling one domain function."""

from __future__ import annotations

from scout.api_docs import openapi_router
from scout.http_api import ScoutHttpApi, health_router
from scout.settings import get_settings

app = ScoutHttpApi(get_settings(), title="scout jobs API")
app.include_router(health_router)
app.include_router(openapi_router)
