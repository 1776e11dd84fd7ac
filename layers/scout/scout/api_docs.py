"""One OpenAPI document for the whole HTTP API, merged from every API function's resolver.

Each API function owns its routes, but clients want one document. ``python -m scout.api_docs
--write`` regenerates the committed copy (shipped in this package, linked from
``docs/openapi.json``); a test fails when the committed copy drifts from the code, and the
jobs function serves it at ``/openapi.json`` without importing the other functions' code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from scout import __version__

# The module holding each API function's resolver (`app`), in template order.
API_MODULES = ("scout.jobs.api", "scout.audit.api")
DOCUMENT_NAME = "openapi.json"


def build_document() -> dict[str, Any]:
    """Merge the OpenAPI documents of every API function's resolver."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "scout", "version": __version__},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    for module_name in API_MODULES:
        # Imported here, not at the top: the jobs function serves the committed document and
        # must not pay for importing the other functions' code at cold start.
        module = importlib.import_module(module_name)
        document = json.loads(module.app.get_openapi_json_schema())
        _merge_into(merged, _with_scout_errors(document), module_name)
    merged["paths"] = dict(sorted(merged["paths"].items()))
    for section in ("schemas", "securitySchemes"):
        merged["components"][section] = dict(sorted(merged["components"][section].items()))
    return merged


ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERROR_RESPONSE = _error_response('Invalid request: {"error": {"code", "message"}}')
# Answered by every route that needs a token, and by every route when the store is down.
_WRONG_TOKEN_KIND = _error_response("A valid token of a kind this route does not take")
_STORE_UNAVAILABLE = {
    **_error_response("The store is unavailable (store_unavailable); try again after Retry-After"),
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}
# Powertools documents validation failures as FastAPI-style 422s; scout answers 400 with its
# own error body, so the document says what clients really get.
_POWERTOOLS_ONLY_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


# Routes that never touch the store.
_STORELESS_OPERATIONS = frozenset({"health_health_get"})


def _with_scout_errors(document: dict[str, Any]) -> dict[str, Any]:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses["400"] = _ERROR_RESPONSE
            if operation.get("security"):
                responses.setdefault("403", _WRONG_TOKEN_KIND)
            if operation.get("operationId") not in _STORELESS_OPERATIONS:
                responses.setdefault("503", _STORE_UNAVAILABLE)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_ONLY_SCHEMAS:
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    return document


def _merge_into(merged: dict[str, Any], document: dict[str, Any], source: str) -> None:
    for path, operations in document.get("paths", {}).items():
        target = merged["paths"].setdefault(path, {})
        for method, operation in operations.items():
            if method in target:
                raise ValueError(f"{method.upper()} {path} is declared twice (again by {source})")
            target[method] = operation
    for section in ("schemas", "securitySchemes"):
        for name, schema in document.get("components", {}).get(section, {}).items():
            existing = merged["components"][section].setdefault(name, schema)
            if existing != schema:
                raise ValueError(f"components.{section}.{name} differs between API functions ({source})")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def committed_path() -> Path:
    return Path(__file__).with_name(DOCUMENT_NAME)


@lru_cache(maxsize=1)
def committed_document() -> dict[str, Any]:
    text = resources.files("scout").joinpath(DOCUMENT_NAME).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


openapi_router = APIGatewayHttpRouter()


@openapi_router.get("/openapi.json", include_in_schema=False)
def openapi_json() -> dict[str, Any]:
    return committed_document()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the committed document")
    args = parser.parse_args(argv)
    # Generating the document only reads route declarations; it needs no real configuration.
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    text = render(build_document())
    if args.write:
        committed_path().write_text(text, encoding="utf-8")
        print(f"wrote {committed_path()}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
