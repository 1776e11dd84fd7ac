"""Development signing keys: `scout token --strategy user` signs ES256 with a kid that the JWKS
`scout dev` serves holds; `--rotate` adds a current key and keeps the earlier ones."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest

from scout.auth import Strategy, policies
from scout.cli import main
from scout.local.dev_settings import SECRET_VARIABLES, ensure_dev_secrets, token_settings
from scout.local.dev_signing_keys import public_jwks, served_jwks_default, signing_keys_path

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Given a project folder as the working directory and no settings in the environment."""
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    monkeypatch.chdir(tmp_path)
    for name in (
        *SECRET_VARIABLES,
        "ALLOWED_HOSTS",
        "SUPABASE_URL",
        "USER_TOKEN_ISSUER",
        "SUPABASE_JWKS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def mint_user(capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    assert main(["token", "--strategy", "user", "--sub", "ada", *extra]) == 0
    return capsys.readouterr().out.strip()


def verify_against_jwks(token: str, project: Path) -> dict[str, object]:
    header = jwt.get_unverified_header(token)
    published = {key["kid"]: key for key in public_jwks(project)["keys"]}
    key = jwt.PyJWK(published[header["kid"]])
    user = policies(token_settings(project))[Strategy.USER]
    claims: dict[str, object] = jwt.decode(
        token, key.key, algorithms=["ES256"], audience=user.audience, issuer=user.issuer
    )
    return claims


def test_a_user_token_is_es256_with_a_kid_the_jwks_publishes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = mint_user(capsys)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    claims = verify_against_jwks(token, project)
    # And it carries the claims Supabase Auth puts in an access token
    assert claims["sub"] == "ada"
    assert claims["role"] == "authenticated"
    assert claims["aal"] == "aal1"
    assert claims["is_anonymous"] is False
    assert isinstance(claims["session_id"], str)


def test_the_signing_key_is_made_once_and_kept_private(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = jwt.get_unverified_header(mint_user(capsys))["kid"]
    second = jwt.get_unverified_header(mint_user(capsys))["kid"]
    assert first == second
    assert stat.S_IMODE(signing_keys_path(project).stat().st_mode) == 0o600


def test_rotate_makes_a_new_current_key_and_keeps_the_old_one(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_token = mint_user(capsys)
    new_token = mint_user(capsys, "--rotate")
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    new_kid = jwt.get_unverified_header(new_token)["kid"]
    assert new_kid != old_kid
    # Then the set lists the new key first and both tokens verify against it
    assert [key["kid"] for key in public_jwks(project)["keys"]] == [new_kid, old_kid]
    for token in (old_token, new_token):
        verify_against_jwks(token, project)
    # And the next token is signed with the new key
    assert jwt.get_unverified_header(mint_user(capsys))["kid"] == new_kid


def test_the_published_set_holds_no_private_key_material(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mint_user(capsys)
    mint_user(capsys, "--rotate")
    for key in public_jwks(project)["keys"]:
        assert not PRIVATE_MEMBERS & set(key)
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")


def test_alg_hs256_mints_a_legacy_token_with_the_dev_secret(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_dev_secrets(project)
    token = mint_user(capsys, "--alg", "HS256")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    user = policies(token_settings(project))[Strategy.USER]
    assert user.secret is not None
    claims = jwt.decode(
        token, user.secret, algorithms=["HS256"], audience="authenticated", issuer=user.issuer
    )
    assert claims["role"] == "authenticated"


@pytest.mark.parametrize("extra", [["--rotate"], ["--alg", "ES256"]])
def test_rotate_and_es256_are_refused_for_scouts_own_strategies(
    project: Path, capsys: pytest.CaptureFixture[str], extra: list[str]
) -> None:
    ensure_dev_secrets(project)
    assert main(["token", "--strategy", "admin", "--sub", "ada", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "user tokens" in captured.err


def test_a_damaged_key_file_is_named(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signing_keys_path(project).parent.mkdir(parents=True)
    signing_keys_path(project).write_text("{not json")
    assert main(["token", "--strategy", "user", "--sub", "ada"]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "dev-signing-keys.json is not valid JSON" in captured.err


def test_the_local_stack_points_functions_at_the_jwks_it_serves() -> None:
    default = served_jwks_default("http://127.0.0.1:3000", {"PATH": "/bin"}, {"ALLOWED_HOSTS": "localhost"})
    assert default == {"SUPABASE_JWKS_URL": "http://127.0.0.1:3000/auth/v1/.well-known/jwks.json"}


def test_a_real_project_in_the_shell_or_env_json_keeps_its_own_keys() -> None:
    project = {"SUPABASE_URL": "https://abcd.supabase.co"}
    assert served_jwks_default("http://127.0.0.1:3000", project, {}) == {}
    assert served_jwks_default("http://127.0.0.1:3000", {}, project) == {}
