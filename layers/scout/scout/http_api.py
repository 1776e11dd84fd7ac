"""The HTTP API conventions every API function shares.

:class:`ScoutHttpApi` is Powertools' HTTP API resolver with pydantic validation and OpenAPI,
plus what every route owes (README.md, HTTP API): the Host check, CORS from ``ALLOWED_ORIGINS``,
bearer-token strategies declared per route, and errors as ``{"error": {"code", "message"}}``.

Request bodies are decoded here, once, before any route sees them (:func:`decode_body`):
every body is read as JSON whatever its Content-Type says (the API takes nothing else, and
``curl -d`` labels JSON as a form), and one that is not UTF-8, not JSON, nested too deep, or
carries a number too long to be a value any route takes is a 400 with a sentence, as is a
NUL character anywhere in the path, the query or the body (no Postgres text can hold one).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from scout import __version__, deps
from scout.auth import Principal, Strategy, authenticate, policies
from scout.cursors import MAX_PAGE_SIZE
from scout.errors import (
    ErrorBody,
    ErrorInfo,
    NotFound,
    RateLimited,
    ScoutError,
    StoreUnavailable,
)
from scout.observability import logger
from scout.settings import Settings
from scout.signing_keys import SigningKeys

PRINCIPAL_KEY = "principal"
CALLER_LOG_KEYS = ("caller_strategy", "session_id", "aal")
BEARER_DESCRIPTION = (
    "A JWT in `Authorization: Bearer <token>`. User routes take a Supabase access token "
    "(`session.access_token`) of the project at `SUPABASE_URL`: ES256 or RS256, verified with "
    "the project's signing keys from `$SUPABASE_URL/auth/v1/.well-known/jwks.json` (or "
    "`SUPABASE_JWKS_URL`), `iss` `$SUPABASE_URL/auth/v1`, `aud` and `role` `authenticated`; "
    "HS256 with the legacy JWT secret only where `SUPABASE_JWT_SECRET` is set. Supabase API keys "
    "(`sb_publishable_...`, `sb_secret_...`) are not bearer tokens. Admin and service routes "
    "take scout's own HS256 tokens. 401 `unauthorized` for a missing or refused token; 503 "
    "`auth_unavailable` when the signing keys cannot be fetched and none are cached."
)
# Far deeper than any body a route takes; a hostile body is refused before validation walks it.
MAX_BODY_DEPTH = 32
# 38 digits hold any integer or decimal a route takes (a salary, a limit) with room to spare.
MAX_NUMBER_CHARACTERS = 40
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _security_schemes() -> dict[str, Any]:
    # Powertools' OpenAPI models take a fifth of a cold start's import; a resolver is built
    # on the first request, so they load then.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"bearer": HTTPBearer(bearerFormat="JWT", description=BEARER_DESCRIPTION)}


ERROR_SCHEMA_REF = "#/components/schemas/Error"  # ErrorBody, put there by scout.cli.openapi


def error_body(code: str, message: str) -> str:
    return ErrorBody(error=ErrorInfo(code=code, message=message)).model_dump_json()


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message),
        headers=headers,
    )


def error_answers(meanings: Mapping[int, str], *statuses: int) -> dict[int, OpenAPIResponse]:
    """The OpenAPI responses of the scout errors a route answers with, each as ``meanings`` says.

    (Every operation also documents the 400 for invalid requests: ``scout.cli.openapi``.)
    """
    responses: dict[int, OpenAPIResponse] = {}
    for status in statuses:
        response: OpenAPIResponse = {
            "description": meanings[status],
            "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
        }
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            # _scout_error sends it with every RateLimited.
            retry_after: dict[str, Any] = {"type": "integer"}
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds until the request may be repeated",
                    "schema": retry_after,
                }
            }
        responses[status] = response
    return responses


# The query of a list route: ?cursor= continues where the previous page's next_cursor says.
PageCursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def page_answers(
    page: type[BaseModel], description: str, meanings: Mapping[int, str], *statuses: int
) -> dict[int, OpenAPIResponse]:
    """A list route's OpenAPI responses: 200 with a ``page`` (``description`` says of what), and
    the scout errors it answers with."""
    return {
        200: {
            "description": f"{description}; next_cursor continues",
            "content": {"application/json": {"model": page}},
        },
        **error_answers(meanings, *statuses),
    }


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:3000
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class BodyRefused(ValueError):
    """A request body that is not a JSON document scout reads; the message says why."""


def _bounded_number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise BodyRefused(f"The request body has a number longer than {MAX_NUMBER_CHARACTERS} characters.")
    return text


def _parse_int(text: str) -> int:
    return int(_bounded_number(text))


def _parse_float(text: str) -> float:
    value = float(_bounded_number(text))
    if not math.isfinite(value):
        raise BodyRefused("The request body has a number too large to represent.")
    return value


def _no_constants(name: str) -> Any:
    raise BodyRefused(f"The request body is not valid JSON ({name} is not a JSON value).")


def _check_nesting_and_text(document: Any) -> None:
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_BODY_DEPTH:
            raise BodyRefused(f"The request body is nested deeper than {MAX_BODY_DEPTH} levels.")
        if isinstance(value, str):
            if "\x00" in value:
                raise BodyRefused("The request body has a NUL character (\\u0000), which no field may hold.")
            if _LONE_SURROGATE.search(value):
                # JSON can escape half a UTF-16 pair; no UTF-8 text (nor Postgres) can hold one.
                raise BodyRefused("The request body has a lone surrogate escape (\\ud800-\\udfff).")
        elif isinstance(value, dict):
            for key, item in value.items():
                pending.append((key, depth))
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def decode_body(event: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``event`` with its body as JSON text labelled ``application/json``, or why it cannot be.

    A refused body is taken out of the event, so a route that needs one fails validation
    (after its token check, see ``_validation_error``) and answers with the reason.
    """
    decoded = dict(event)
    body = event.get("body")
    if body is None or body == "":
        return decoded, None
    headers = {
        key: value for key, value in (event.get("headers") or {}).items() if key.lower() != "content-type"
    }
    decoded["headers"] = headers
    decoded["body"] = None
    decoded["isBase64Encoded"] = False
    try:
        raw = (
            base64.b64decode(str(body), validate=True) if event.get("isBase64Encoded") else str(body).encode()
        )
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeError):
        return decoded, "The request body is not valid UTF-8 text."
    try:
        document = json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constants
        )
        _check_nesting_and_text(document)
    except BodyRefused as refused:
        return decoded, str(refused)
    except RecursionError:
        return decoded, f"The request body is nested deeper than {MAX_BODY_DEPTH} levels."
    except ValueError:
        return decoded, "The request body is not valid JSON."
    headers["content-type"] = content_types.APPLICATION_JSON
    decoded["body"] = text
    return decoded, None


def nul_in_path_or_query(event: Mapping[str, Any]) -> str | None:
    """The name of the query parameter (or "path") holding a NUL character, if any."""
    if "\x00" in unquote(str(event.get("rawPath") or "")):
        return "path"
    for name, value in (event.get("queryStringParameters") or {}).items():
        if "\x00" in str(name) or "\x00" in str(value):
            return f"query parameter {str(name).replace(chr(0), '')!r}"
    if "\x00" in unquote(str(event.get("rawQueryString") or "")):
        return "query"
    return None


def _describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        location = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        field = ".".join(location) or "body"
        if err.get("type") == "json_invalid":
            return "The request body is not valid JSON."
        problems.append(f"{field}: {err.get('msg', 'is invalid')}")
    return "; ".join(problems) or "The request is invalid."


class ScoutHttpApi(APIGatewayHttpResolver):
    """One resolver per API function, configured from the validated settings."""

    def __init__(self, settings: Settings, *, title: str, signing_keys: SigningKeys | None = None) -> None:
        cors = (
            CORSConfig(
                allow_origin=settings.allowed_origins[0],
                extra_origins=list(settings.allowed_origins[1:]),
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                # Not CORS-safelisted: a browser client reads them only when exposed.
                expose_headers=["Location", "Retry-After", "Idempotent-Replayed"],
                max_age=600,
            )
            if settings.allowed_origins
            else None
        )
        super().__init__(cors=cors, enable_validation=True)
        self.settings = settings
        self._allowed_hosts = frozenset(settings.allowed_hosts)
        self._body_problem: str | None = None  # why this request's body was refused
        self._policies = policies(settings, signing_keys=signing_keys)
        self.configure_openapi(
            title=title,
            version=__version__,
            security_schemes=_security_schemes(),
        )
        self.exception_handler(ScoutError)(self._scout_error)
        self.exception_handler(RequestValidationError)(self._validation_error)
        self.exception_handler(NotFoundError)(self._not_found)
        self.exception_handler(Exception)(self._unexpected)

    # Host check runs before routing, so unknown routes on a foreign Host are refused too.
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
        host = headers.get("host") or (event.get("requestContext") or {}).get("domainName") or ""
        if _host_name(host) not in self._allowed_hosts:
            logger.warning("refused request for a host not in ALLOWED_HOSTS", extra={"host": host[:200]})
            return self._refusal(HTTPStatus.BAD_REQUEST.value, "bad_host", "This host is not served here.")
        at = nul_in_path_or_query(event)
        if at is not None:
            return self._refusal(
                400, "invalid_request", f"The {at} has a NUL character, which no value may hold."
            )
        decoded, self._body_problem = decode_body(event)
        return super().resolve(decoded, context)

    def _refusal(self, status: int, code: str, message: str) -> dict[str, Any]:
        return {
            "statusCode": status,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": error_body(code, message),
            "isBase64Encoded": False,
        }

    def query_models(self) -> dict[tuple[str, str], type[BaseModel]]:
        """(OpenAPI path, method) -> the model a route expands into its query parameters."""
        found: dict[tuple[str, str], type[BaseModel]] = {}
        # The resolver's own route lists: Powertools has no public accessor for them. The
        # OpenAPI tests fail if they change, before a document could go out wrong.
        for route in self._static_routes + self._dynamic_routes:
            for parameter in route.dependant.query_params:
                annotation = parameter.field_info.annotation
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    found[(route.openapi_path, route.method.lower())] = annotation
        return found

    def requires(self, *strategies: Strategy) -> TokenCheck:
        """A route middleware admitting only tokens of ``strategies``."""
        return requires(*strategies)

    def _authenticate(self, strategies: tuple[Strategy, ...]) -> Principal:
        # Cleared first, so a warm environment never logs the previous caller's session.
        logger.remove_keys(list(CALLER_LOG_KEYS))
        principal = authenticate(
            self.current_event.headers.get("authorization"),
            strategies,
            self._policies,
            leeway_seconds=self.settings.jwt_leeway_seconds,
        )
        logger.append_keys(
            caller_strategy=principal.strategy.value,
            session_id=principal.session_id,
            aal=principal.assurance_level,
        )
        return principal

    def principal(self) -> Principal:
        return _principal_in(self.context)

    def _scout_error(self, exc: ScoutError) -> Response:
        headers = None
        if isinstance(exc, RateLimited | StoreUnavailable):
            headers = {"Retry-After": str(exc.retry_after_seconds)}
        if isinstance(exc, StoreUnavailable):
            # Already logged once by the store (or the circuit); a traceback per request
            # during an outage would drown the log.
            logger.warning("request failed: store unavailable")
        elif exc.status >= 500:
            logger.exception("request failed", extra={"code": exc.code})
        return error_response(exc.status, exc.code, exc.message, headers)

    def _validation_error(self, exc: RequestValidationError) -> Response:
        # Powertools validates before route middlewares run. An anonymous caller must learn
        # that it needs a token (401), not what shape the protected route's body has (400).
        route = self.context.get("_route")
        for middleware in getattr(route, "middlewares", None) or ():
            strategies = getattr(middleware, "scout_strategies", None)
            if strategies:
                try:
                    self._authenticate(strategies)
                except ScoutError as refused:  # 401, 403, or 503 when the signing keys are out of reach
                    return self._scout_error(refused)
        return error_response(400, "invalid_request", self._body_problem or _describe_validation(exc))

    def _not_found(self, exc: NotFoundError) -> Response:
        return error_response(404, NotFound.code, "No such route.")

    def _unexpected(self, exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")


TokenCheck = Callable[[APIGatewayHttpResolver, NextMiddleware], Response]


def requires(*strategies: Strategy) -> TokenCheck:
    """A route middleware admitting only tokens of ``strategies``.

    Powertools calls a route middleware with the resolver serving the request, whose settings
    hold the token keys.
    """

    def check_token(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        if not isinstance(app, ScoutHttpApi):
            raise TypeError("scout routes are served by ScoutHttpApi")
        app.append_context(**{PRINCIPAL_KEY: app._authenticate(strategies)})
        return next_middleware(app)

    check_token.scout_strategies = strategies  # type: ignore[attr-defined]  # read by _validation_error
    return check_token


def _principal_in(context: Mapping[str, Any]) -> Principal:
    principal = context.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise RuntimeError("principal() called on a route without requires()")
    return principal


class ScoutRouter(APIGatewayHttpRouter):
    """Routes of one area (such as monitors) that an API function includes in its
    :class:`ScoutRoutes`; they authenticate and read the principal as the function's own do."""

    def requires(self, *strategies: Strategy) -> TokenCheck:
        return requires(*strategies)

    def principal(self) -> Principal:
        return _principal_in(self.context)


class ScoutRoutes(APIGatewayHttpRouter):
    """An API function's routes, declared at import, served by a :class:`ScoutHttpApi`.

    The resolver is built from the settings of the process's dependencies (:mod:`scout.deps`)
    on the first request, and again only when those settings change (a test serving with
    other settings), so the routes module is imported once and never re-imported.
    """

    def __init__(self, *, title: str) -> None:
        super().__init__()
        self.title = title
        self._routers: list[APIGatewayHttpRouter] = [self]
        self._served: tuple[Settings, ScoutHttpApi] | None = None

    def include_router(self, router: APIGatewayHttpRouter) -> None:
        self._routers.append(router)

    def requires(self, *strategies: Strategy) -> TokenCheck:
        return requires(*strategies)

    def principal(self) -> Principal:
        return _principal_in(self.context)

    def resolver(self, settings: Settings) -> ScoutHttpApi:
        served = self._served
        if served is None or served[0] is not settings:
            api = ScoutHttpApi(settings, title=self.title)
            for router in self._routers:
                api.include_router(router)
            served = self._served = (settings, api)
        return served[1]

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        api = self.resolver(deps.settings())
        # Routers read the request (context, event) through the resolver serving it.
        for router in self._routers:
            router.api_resolver = api
        return api.resolve(event, context)

    def get_openapi_json_schema(self) -> str:
        return self.resolver(deps.settings()).get_openapi_json_schema()


health_router = APIGatewayHttpRouter()


@health_router.get("/health", summary="Liveness check", tags=["meta"])
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
