"""`scout dev` as a current Supabase project: `scout token --strategy user` mints ES256 tokens
whose key the stack publishes at /auth/v1/.well-known/jwks.json, and POST /scans takes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.support import local_stack
from tests.support.supabase_keys import JWKS_PATH, access_token, es256_key

pytestmark = pytest.mark.slow

# Allowed by SCOUT_EGRESS_ALLOW, with nothing listening: the scan is queued, then fails fast.
TARGET = "http://127.0.0.2:9/"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copied: Path = local_stack.copy_real_project(tmp_path_factory.mktemp("user-tokens"))
    return copied


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCOUT_EGRESS_ALLOW", "127.0.0.2")
        with local_stack.running_dev(project, ready_timeout=120) as running:
            yield running


def mint(project: Path, *args: str) -> str:
    result = local_stack.scout("token", "--strategy", "user", "--sub", "e2e-user", *args, cwd=project)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def post_scan(dev: Any, token: str) -> httpx.Response:
    return httpx.post(
        f"{dev.url}/scans", json={"url": TARGET}, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_es256_user_tokens_of_the_current_and_a_rotated_out_key_are_accepted(dev: Any, project: Path) -> None:
    # Given a token of the current key, then a rotation that makes a new current key
    before = mint(project)
    after = mint(project, "--rotate")
    assert jwt.get_unverified_header(before)["alg"] == "ES256"
    kids = {jwt.get_unverified_header(token)["kid"] for token in (before, after)}
    assert len(kids) == 2
    # Then the stack publishes both public keys
    published = httpx.get(f"{dev.url}{JWKS_PATH}", timeout=30).json()
    assert {key["kid"] for key in published["keys"]} >= kids
    assert all("d" not in key for key in published["keys"])
    # And POST /scans accepts a token of each
    for token in (before, after):
        response = post_scan(dev, token)
        assert response.status_code == 202, (response.text, dev.output[-3000:])
        assert response.json()["status"] == "queued"


def test_a_legacy_hs256_user_token_is_accepted_too(dev: Any, project: Path) -> None:
    response = post_scan(dev, mint(project, "--alg", "HS256"))
    assert response.status_code == 202, response.text


def test_a_token_signed_by_a_key_the_stack_does_not_publish_is_401(dev: Any, project: Path) -> None:
    kid = jwt.get_unverified_header(mint(project))["kid"]
    forged = access_token(es256_key(kid), iss="scout-user")
    response = post_scan(dev, forged)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_an_api_key_as_bearer_token_is_401_saying_so(dev: Any) -> None:
    response = post_scan(dev, "sb_publishable_abcdef0123456789")
    assert response.status_code == 401
    assert "API key" in response.json()["error"]["message"]
