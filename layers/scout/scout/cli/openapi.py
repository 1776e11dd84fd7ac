"""``python -m scout.cli.openapi [--write]`` (``make openapi``): the OpenAPI document of the whole
HTTP API, merged from every API function's resolver.

Each API function owns its routes, but clients want one document. Powertools' ``OpenAPIMerge``
merges the functions' documents (a path and method declared twice is an error); this module
adds what scout's conventions change in them, and the committed copy is what the API serves
(``scout.api_docs``). A test fails when the committed copy drifts from the code.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from pydantic import BaseModel

from scout import __version__, deps
from scout.api_docs import committed_path
from scout.errors import ErrorBody
from scout.http_api import ScoutHttpApi, ScoutRoutes, error_answers

# The module holding each API function's resolver (`app`), in template order.
API_MODULES = ("scout.jobs.api", "scout.audit.api")
COMPONENT_SCHEMAS = "#/components/schemas/{model}"

_INVALID_REQUEST = error_answers({400: 'Invalid request: {"error": {"code", "message"}}'}, 400)[400]
# Answered by every route that needs a token, and by every route but these when the store is down.
_WRONG_TOKEN_KIND = error_answers({403: "A valid token of a kind this route does not take"}, 403)[403]
_STORE_UNAVAILABLE = {
    **error_answers({503: "The store is unavailable (store_unavailable); try again after Retry-After"}, 503)[
        503
    ],
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}
_STORELESS_PATHS = frozenset({"/health"})
# Powertools documents validation failures as FastAPI-style 422s; scout answers 400 with its
# own error body, so the document says what clients really get.
_POWERTOOLS_ONLY_SCHEMAS = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def build_document() -> dict[str, Any]:
    """Merge the OpenAPI documents of every API function's resolver."""
    merge = OpenAPIMerge(title="scout", version=__version__, openapi_version="3.1.0", on_conflict="error")
    documents = []
    for module_name in API_MODULES:
        routes: ScoutRoutes = importlib.import_module(module_name).app
        app = routes.resolver(deps.settings())
        document = json.loads(app.get_openapi_json_schema())
        documents.append((module_name, _with_scout_conventions(document, app)))
    check_components_agree(documents)
    for _, document in documents:
        merge.add_schema(document)
    return merge.get_openapi_schema()


def _with_scout_conventions(document: dict[str, Any], app: ScoutHttpApi) -> dict[str, Any]:
    models = app.query_models()
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for query_model in models.values():
        # Documented parameter by parameter below, never as a body.
        schemas.pop(query_model.__name__, None)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if responses.pop("422", None) is not None:
                responses["400"] = _INVALID_REQUEST
            if operation.get("security"):
                responses.setdefault("403", _WRONG_TOKEN_KIND)
            if path not in _STORELESS_PATHS:
                responses.setdefault("503", _STORE_UNAVAILABLE)
            model = models.get((path, method))
            if model is not None:
                _with_model_schemas(operation.get("parameters", []), model)
    for name in _POWERTOOLS_ONLY_SCHEMAS:
        schemas.pop(name, None)
    error = ErrorBody.model_json_schema(ref_template=COMPONENT_SCHEMAS)
    schemas.update(error.pop("$defs", {}))
    schemas[ErrorBody.model_config.get("title") or ErrorBody.__name__] = error
    return document


def _with_model_schemas(parameters: list[dict[str, Any]], model: type[BaseModel]) -> None:
    """Each parameter expanded from ``model`` gets its field's whole schema.

    Powertools documents such a parameter with its basic type only ("string"), losing enums,
    bounds and defaults that the route does enforce.
    """
    properties = model.model_json_schema(ref_template=COMPONENT_SCHEMAS)["properties"]
    for parameter in parameters:
        schema = properties.get(parameter["name"])
        if parameter.get("in") == "query" and schema is not None:
            parameter["schema"] = schema


def check_components_agree(documents: list[tuple[str, dict[str, Any]]]) -> None:
    # OpenAPIMerge lets the last function's component win; two different schemas under one
    # name would document one function wrongly, so they are an error here.
    seen: dict[tuple[str, str], tuple[str, Any]] = {}
    for source, document in documents:
        for section, components in document.get("components", {}).items():
            for name, schema in components.items():
                first = seen.setdefault((section, name), (source, schema))
                if first[1] != schema:
                    raise ValueError(f"components.{section}.{name} differs between {first[0]} and {source}")


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


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
