"""`scout token`: signs with the secret `scout dev` verifies with, or refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from scout.auth import Strategy, policies, verify
from scout.cli import main
from scout.local.dev_settings import SECRET_VARIABLES, ensure_dev_secrets, token_settings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Given a project folder (a template.yaml) as the working directory and no secrets set."""
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    monkeypatch.chdir(tmp_path)
    for name in (*SECRET_VARIABLES, "ALLOWED_HOSTS", "SUPABASE_URL", "USER_TOKEN_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_token_refuses_when_the_strategy_has_no_secret(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["token", "--strategy", "admin", "--sub", "ada"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "ADMIN_SESSION_SECRET is not set" in captured.err


def test_token_signs_with_the_dev_secret_the_stack_verifies_with(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the secrets `scout dev` generated
    ensure_dev_secrets(project)
    # When a service token is minted from a subfolder
    (project / "functions").mkdir()
    monkeypatch.chdir(project / "functions")
    assert main(["token", "--strategy", "service", "--sub", "poller", "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    # Then it verifies under the same settings, for that strategy only
    all_policies = policies(token_settings(project))
    principal = verify(token, all_policies[Strategy.SERVICE], leeway_seconds=0)
    assert principal.subject == "poller"
    assert principal.claims["exp"] - principal.claims["iat"] == 120
    with pytest.raises(Exception, match="invalid or expired"):
        verify(token, all_policies[Strategy.ADMIN], leeway_seconds=0)


def test_token_prefers_the_secret_in_the_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure_dev_secrets(project)
    monkeypatch.setenv("SUPABASE_JWT_SECRET", "x" * 40)
    assert main(["token", "--strategy", "user", "--sub", "ada", "--alg", "HS256"]) == 0
    token = capsys.readouterr().out.strip()
    principal = verify(token, policies(token_settings(project))[Strategy.USER], leeway_seconds=0)
    assert principal.claims["aud"] == "authenticated"


def test_token_rejects_a_ttl_out_of_range(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["token", "--strategy", "admin", "--sub", "ada", "--ttl", "0"])
    assert "ttl" in capsys.readouterr().err
