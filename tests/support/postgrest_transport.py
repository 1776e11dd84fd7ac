"""PostgREST's ``POST /rest/v1/rpc/{function}`` served from a real Postgres, in process.

PostgREST itself cannot run here, so the Supabase adapter is tested against this httpx
transport instead. It keeps the parts of the contract the adapter depends on, as PostgREST
documents them (docs.postgrest.org: "Functions as RPC", "Errors"):

- the gateway's ``apikey`` header, then the ``Authorization: Bearer`` JWT, whose ``role``
  claim becomes the transaction's role (``set local role``), with the claims in
  ``request.jwt.claims``; a secret API key (``sb_secret_...``, Supabase docs "API keys") in
  ``apikey`` runs as ``service_role`` when ``Authorization`` is absent or carries the same key,
  and is refused when ``Authorization`` carries any other non-JWT value;
- the function is found by name and by the JSON body's keys (every key a parameter, every
  parameter without a default present), else ``PGRST202``/404; overloads that both match
  are ``PGRST203``/300;
- arguments are converted with ``json_to_record`` and the function's declared types, the
  call runs in one transaction, and a scalar result is answered as its JSON;
- a database error is answered with ``{code, message, details, hint}`` and the HTTP status
  PostgREST maps its SQLSTATE to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

RPC_PREFIX = "/rest/v1/rpc/"
TEST_JWT_SECRET = "scout-tests-postgrest-jwt-secret-0123456789"
# Never contacted: the transport answers in process. Loopback all the same.
TEST_SUPABASE_URL = "http://127.0.0.1:54321"
EXTRA_SEARCH_PATH = "public, extensions"  # Supabase's PGRST_DB_EXTRA_SEARCH_PATH

# PostgREST's SQLSTATE -> HTTP status table, most specific first; anything else is 400.
_STATUS_BY_SQLSTATE: tuple[tuple[str, int], ...] = (
    ("23503", 409),
    ("23505", 409),
    ("25006", 405),
    ("53400", 500),
    ("P0001", 400),
    ("42883", 404),
    ("42P01", 404),
    ("42P17", 500),
    ("08", 503),
    ("09", 500),
    ("0L", 403),
    ("0P", 403),
    ("25", 500),
    ("28", 403),
    ("2D", 500),
    ("38", 500),
    ("39", 500),
    ("3B", 500),
    ("40", 500),
    ("53", 503),
    ("54", 500),
    ("55", 500),
    ("57", 500),
    ("58", 500),
    ("F0", 500),
    ("HV", 500),
    ("P0", 500),
    ("XX", 500),
)


def postgrest_status(sqlstate: str, *, authenticated: bool) -> int:
    if sqlstate == "42501":
        return 403 if authenticated else 401
    for prefix, status in _STATUS_BY_SQLSTATE:
        if sqlstate.startswith(prefix):
            return status
    return 400


@dataclass(frozen=True)
class _Function:
    signature: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    required: int
    returns_set: bool


_FIND_FUNCTIONS = """
select p.oid::regprocedure::text as signature,
       p.proretset as returns_set,
       p.pronargs - p.pronargdefaults as required,
       coalesce(
           case when p.proargmodes is null then p.proargnames[1:p.pronargs]
                else array(select arg.name
                           from unnest(p.proargnames, p.proargmodes) with ordinality as arg(name, mode, n)
                           where arg.mode in ('i', 'b', 'v') order by arg.n)
           end,
           '{}') as names,
       array(select format_type(arg.type, null)
             from unnest(p.proargtypes::oid[]) with ordinality as arg(type, n) order by arg.n) as types
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = %(schema)s and p.proname = %(name)s and p.prokind = 'f'
"""


class PostgrestTransport(httpx.AsyncBaseTransport):
    """An httpx transport answering PostgREST rpc calls from the database at ``dsn``."""

    def __init__(
        self,
        dsn: str,
        *,
        jwt_secret: str,
        api_keys: tuple[str, ...],
        secret_keys: tuple[str, ...] = (),
        schema: str = "public",
        max_connections: int = 10,
    ) -> None:
        self.dsn = dsn
        self.requests = 0
        self.last_error_code: str | None = None
        self._jwt_secret = jwt_secret
        self._api_keys = api_keys
        self._secret_keys = secret_keys
        self._schema = schema
        self._pool = AsyncConnectionPool(
            dsn, min_size=1, max_size=max_connections, kwargs={"autocommit": True}, open=False, timeout=10
        )
        self._opened = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        response = await self._answer(request)
        if response.is_error:
            self.last_error_code = json.loads(response.content).get("code")
        return response

    async def _answer(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        refusal = self._refuse_request(request)
        if refusal is not None:
            return refusal
        claims, refusal = self._claims(request)
        if refusal is not None:
            return refusal
        function = request.url.path[len(RPC_PREFIX) :]
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _error(400, "PGRST102", "Empty or invalid json")
        return await self._call(function, payload, body, claims)

    async def aclose(self) -> None:
        if self._opened:
            self._opened = False
            await self._pool.close()

    def _refuse_request(self, request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.startswith(RPC_PREFIX):
            return _error(404, "PGRST205", f"Could not find the table {request.url.path} in the schema cache")
        if request.method != "POST":
            return _error(405, "PGRST101", "Only GET and POST verbs are allowed for functions")
        profile = request.headers.get("content-profile", self._schema)
        if profile != self._schema:
            return _error(406, "PGRST106", f"The schema must be one of the following: {self._schema}")
        # Supabase's API gateway answers before PostgREST sees the request.
        api_key = request.headers.get("apikey")
        if api_key is None:
            return _gateway_error("No API key found in request")
        if api_key not in self._api_keys and api_key not in self._secret_keys:
            return _gateway_error("Invalid API key")
        return None

    def _claims(self, request: httpx.Request) -> tuple[dict[str, Any], httpx.Response | None]:
        authorization = request.headers.get("authorization")
        api_key = request.headers.get("apikey", "")
        if api_key in self._secret_keys and authorization in (None, f"Bearer {api_key}"):
            return {"role": "service_role"}, None
        if authorization is None:
            return {"role": "anon"}, None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return {}, _error(401, "PGRST301", "Expected a Bearer token")
        if token.startswith("sb_"):
            return {}, _gateway_error("Authorization carries an API key that is not the apikey header's")
        try:
            claims = jwt.decode(
                token,
                self._jwt_secret,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["exp"]},
            )
        except jwt.PyJWTError as exc:
            return {}, _error(401, "PGRST301", str(exc))
        if not isinstance(claims.get("role"), str):
            return {}, _error(401, "PGRST301", "JWT has no role claim")
        return claims, None

    async def _call(
        self, function: str, payload: dict[str, Any], body: bytes, claims: dict[str, Any]
    ) -> httpx.Response:
        if not self._opened:
            await self._pool.open()
            self._opened = True
        try:
            async with self._pool.connection() as conn:
                target = await self._find(conn, function, set(payload))
                if isinstance(target, httpx.Response):
                    return target
                async with conn.transaction():
                    await conn.execute(
                        "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
                        " set_config('search_path', %s, true)",
                        [claims["role"], json.dumps(claims), EXTRA_SEARCH_PATH],
                    )
                    query, params = _call_query(self._schema, function, target, payload, body)
                    cursor = await conn.execute(query, params)
                    row = await cursor.fetchone()
        except psycopg.Error as exc:
            if exc.sqlstate is None:
                return _error(503, "PGRST000", "Database client error. Retrying the connection.")
            diag = exc.diag
            return _error(
                postgrest_status(exc.sqlstate, authenticated=claims.get("role") != "anon"),
                exc.sqlstate,
                diag.message_primary or "",
                details=diag.message_detail,
                hint=diag.message_hint,
            )
        assert row is not None
        return httpx.Response(
            200, headers={"content-type": "application/json; charset=utf-8"}, content=row[0].encode()
        )

    async def _find(
        self, conn: psycopg.AsyncConnection[Any], function: str, keys: set[str]
    ) -> _Function | httpx.Response:
        cursor = conn.cursor(row_factory=dict_row)
        await cursor.execute(_FIND_FUNCTIONS, {"schema": self._schema, "name": function})
        candidates = [
            _Function(
                row["signature"],
                tuple(row["names"]),
                tuple(row["types"]),
                row["required"],
                row["returns_set"],
            )
            for row in await cursor.fetchall()
        ]
        matching = [fn for fn in candidates if keys <= set(fn.names) and set(fn.names[: fn.required]) <= keys]
        if not matching:
            wanted = ", ".join(sorted(keys))
            return _error(
                404,
                "PGRST202",
                f"Could not find the {self._schema}.{function}({wanted}) function in the schema cache",
                hint="Perhaps you meant to call the function "
                + (candidates[0].signature if candidates else "that exists"),
            )
        if len(matching) > 1:
            return _error(
                300,
                "PGRST203",
                f"Could not choose the best candidate function between: "
                f"{', '.join(fn.signature for fn in matching)}",
            )
        return matching[0]


def _call_query(
    schema: str, function: str, target: _Function, payload: dict[str, Any], body: bytes
) -> tuple[sql.Composed, list[str]]:
    passed = [
        (name, type_) for name, type_ in zip(target.names, target.types, strict=True) if name in payload
    ]
    result = (
        sql.SQL("coalesce(json_agg(pgrst_call.pgrst_scalar), '[]')")
        if target.returns_set
        else sql.SQL("coalesce(json_agg(pgrst_call.pgrst_scalar)->0, 'null')")
    )
    fn = sql.Identifier(schema, function)
    if not passed:
        query = sql.SQL("select {}::text from (select {}() as pgrst_scalar) pgrst_call")
        return query.format(result, fn), []
    named = sql.SQL(", ").join(
        sql.SQL("{} := pgrst_args.{}").format(sql.Identifier(name), sql.Identifier(name))
        for name, _ in passed
    )
    columns = sql.SQL(", ").join(
        # The type text comes from the catalog (format_type), not from the request.
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(type_))
        for name, type_ in passed
    )
    query = sql.SQL(
        "select {}::text from (select {}({}) as pgrst_scalar"
        " from json_to_record(%s::json) as pgrst_args({})) pgrst_call"
    )
    return query.format(result, fn, named, columns), [body.decode()]


def _error(
    status: int, code: str, message: str, *, details: str | None = None, hint: str | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        headers={"content-type": "application/json; charset=utf-8"},
        content=json.dumps({"code": code, "message": message, "details": details, "hint": hint}).encode(),
    )


def _gateway_error(message: str) -> httpx.Response:
    return httpx.Response(401, json={"message": message, "hint": "Check the apikey request header."})
