"""When the scan engine's Chromium runs without its sandbox, and when it keeps it."""

from __future__ import annotations

import pytest

from scout.audit.chromium_flags import chromium_flags


def flags_for(monkeypatch: pytest.MonkeyPatch, *, uid: int, runtime_api: str | None) -> list[str]:
    monkeypatch.setattr("scout.audit.chromium_flags.os.geteuid", lambda: uid)
    if runtime_api is None:
        monkeypatch.delenv("AWS_LAMBDA_RUNTIME_API", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", runtime_api)
    return chromium_flags(headless_flag=True)


def test_an_unprivileged_process_outside_lambda_keeps_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "--no-sandbox" not in flags_for(monkeypatch, uid=1000, runtime_api=None)


def test_root_runs_without_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "--no-sandbox" in flags_for(monkeypatch, uid=0, runtime_api=None)


def test_lambdas_unprivileged_user_runs_without_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lambda's execution environment: user 993, no user namespaces, the Runtime API's address set
    assert "--no-sandbox" in flags_for(monkeypatch, uid=993, runtime_api="127.0.0.1:9001")
