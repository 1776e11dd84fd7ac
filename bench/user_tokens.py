"""What verifying Supabase user tokens costs: ES256 and RS256 against the project's JWKS
(cached) next to the legacy HS256 path, and what an attacker's random ``kid``s cost.

Everything runs in this process on loopback: a JWKS endpoint on 127.0.0.1, the HTTP API
resolver with one user route, tokens minted beforehand. Each variant resolves ``--requests``
requests, ``--rounds`` times; the result is the median of the per-round medians, and ratios
against HS256 measured in the same run. Written to ``bench/results/user_tokens.json``.

    python -m bench.user_tokens [--requests 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import jwt

from bench.support.recording import record
from scout.auth import Strategy
from scout.http_api import ScoutHttpApi
from scout.settings import Settings
from scout.signing_keys import SigningKeys
from tests.support.http_events import http_event
from tests.support.http_server import LoopbackServer, run_in_thread
from tests.support.supabase_keys import (
    JWKS_PATH,
    JwksEndpoint,
    access_claims,
    access_token,
    es256_key,
    random_kid,
    rs256_key,
)

LEGACY_SECRET = "l" * 40
COMMAND = "flock /tmp/scout-bench.lock .venv/bin/python -m bench.user_tokens"


def _app(jwks_url: str) -> ScoutHttpApi:
    settings = Settings(  # type: ignore[call-arg]
        ALLOWED_HOSTS="localhost",
        SUPABASE_URL="https://project.supabase.test",
        SUPABASE_JWKS_URL=jwks_url,
        SUPABASE_JWT_SECRET=LEGACY_SECRET,
    )
    keys = SigningKeys(jwks_url)
    app = ScoutHttpApi(settings, title="bench", signing_keys=keys)

    @app.get("/me", middlewares=[app.requires(Strategy.USER)])
    def me() -> dict[str, str]:
        return {"sub": app.principal().subject}

    return app


def _median_ms(app: ScoutHttpApi, tokens: Callable[[int], str], requests: int, expect: int) -> float:
    events = [http_event("GET", "/me", token=tokens(index)) for index in range(requests)]
    timings = []
    for event in events:
        began = time.perf_counter()
        status = app.resolve(event, {})["statusCode"]
        timings.append((time.perf_counter() - began) * 1000)
        if status != expect:
            raise RuntimeError(f"expected {expect}, got {status}")
    return statistics.median(timings)


def measure(requests: int, rounds: int) -> dict[str, Any]:
    ec, rsa = es256_key(), rs256_key()
    endpoint = JwksEndpoint([ec, rsa])
    with run_in_thread(LoopbackServer(endpoint)) as server:
        url = f"{server.url}{JWKS_PATH}"
        app, cold_app = _app(url), _app(url)
        began = time.perf_counter()
        cold_app.resolve(http_event("GET", "/me", token=access_token(ec)), {})
        cold_ms = (time.perf_counter() - began) * 1000
        hs256 = jwt.encode(access_claims(), LEGACY_SECRET, algorithm="HS256")
        es256, rs256 = access_token(ec), access_token(rsa)
        variants: dict[str, tuple[Callable[[int], str], int]] = {
            "hs256_legacy": (lambda _: hs256, 200),
            "es256_jwks_cached": (lambda _: es256, 200),
            "rs256_jwks_cached": (lambda _: rs256, 200),
            "random_kid_refused": (lambda _: access_token(ec.with_kid(random_kid())), 401),
        }
        _median_ms(app, lambda _: es256, 50, 200)  # warm the cache and the code paths
        medians: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, (tokens, expect) in variants.items():
                medians[name].append(_median_ms(app, tokens, requests, expect))
        fetches = len(server.stats.requests)
    result: dict[str, Any] = {
        name: round(statistics.median(values), 4)
        for name, values in ((f"{n}_ms", v) for n, v in medians.items())
    }
    baseline = result["hs256_legacy_ms"]
    for name in list(variants)[1:]:
        result[f"{name}_vs_hs256"] = round(result[f"{name}_ms"] / baseline, 2)
    result.update(
        cold_first_request_with_jwks_fetch_ms=round(cold_ms, 2),
        jwks_fetches_for_all_requests=fetches,
        requests_per_variant_per_round=requests,
        rounds=rounds,
        command=COMMAND,
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}",
        python=sys.version.split()[0],
        recorded_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.requests, args.rounds)
    record("user_tokens", result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
