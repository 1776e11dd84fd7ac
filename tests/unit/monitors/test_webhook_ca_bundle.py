"""WEBHOOK_CA_BUNDLE: the webhook sender trusts a private CA's receivers only when told to,
and always verifies the certificate. The receiver is an https server on loopback whose
certificate a throwaway CA signed (tests/support/private_ca.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scout.deps import Dependencies
from scout.egress.policy import EgressPolicy
from scout.monitors.deliveries import AttemptResult
from scout.settings import load_settings
from tests.support.http_server import LoopbackServer, Request, Response
from tests.support.private_ca import PrivateCa, make_private_ca

# The name on the receiver's certificate, allowed by name and resolved to loopback.
RECEIVER_HOST = "localhost"


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


@pytest.fixture
def private_ca(tmp_path: Path) -> PrivateCa:
    return make_private_ca(tmp_path / "ca")


@pytest.fixture
async def receiver(private_ca: PrivateCa) -> AsyncIterator[LoopbackServer]:
    def answer(request: Request) -> Response:
        return Response.json({"ok": True})

    async with LoopbackServer(answer, tls=private_ca.server_context()) as server:
        yield server


async def post_through_deps(server: LoopbackServer) -> AttemptResult:
    """One POST by the sender ``scout.deps`` builds from the current environment."""
    parts = Dependencies(
        load_settings(), egress_policy=EgressPolicy(allow=[RECEIVER_HOST], resolver=_loopback)
    )
    sender = parts.webhook_sender()
    try:
        return await sender.post(f"https://{RECEIVER_HOST}:{server.port}/hook", b"{}", {})
    finally:
        await sender.aclose()


async def test_a_receiver_behind_a_private_ca_is_refused_without_the_bundle(
    scout_env: pytest.MonkeyPatch, receiver: LoopbackServer
) -> None:
    # Given no WEBHOOK_CA_BUNDLE, when the sender POSTs to the private CA's receiver
    scout_env.delenv("WEBHOOK_CA_BUNDLE", raising=False)
    result = await post_through_deps(receiver)

    # Then the TLS handshake fails on the certificate, and no request reached the receiver
    assert result.status_code is None
    assert result.error is not None
    assert result.error.code == "connection_failed"
    assert "certificate" in result.error.message.lower()
    assert receiver.stats.requests == []


async def test_a_receiver_behind_a_private_ca_is_reached_with_the_bundle(
    scout_env: pytest.MonkeyPatch, receiver: LoopbackServer, private_ca: PrivateCa
) -> None:
    # Given WEBHOOK_CA_BUNDLE naming the private CA's certificate
    scout_env.setenv("WEBHOOK_CA_BUNDLE", str(private_ca.ca_pem))

    # When the sender POSTs to its receiver
    result = await post_through_deps(receiver)

    # Then the receiver answered, over https
    assert (result.status_code, result.error) == (200, None)
    assert [request.path for request in receiver.stats.requests] == ["/hook"]


async def test_the_bundle_trusts_its_own_ca_not_any_certificate(
    scout_env: pytest.MonkeyPatch, private_ca: PrivateCa, tmp_path: Path
) -> None:
    # Given the bundle of one private CA
    other_ca = make_private_ca(tmp_path / "other", name="Another test CA")
    scout_env.setenv("WEBHOOK_CA_BUNDLE", str(private_ca.ca_pem))

    def answer(request: Request) -> Response:
        return Response.json({"ok": True})

    # When the receiver presents a certificate from a CA not in the bundle
    async with LoopbackServer(answer, tls=other_ca.server_context()) as stranger:
        result = await post_through_deps(stranger)

    # Then it is refused: the bundle trusts its own CA, not any certificate
    assert result.status_code is None
    assert result.error is not None
    assert "certificate" in result.error.message.lower()
    assert stranger.stats.requests == []


def test_a_bundle_that_does_not_exist_stops_the_settings_naming_it(
    scout_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    scout_env.setenv("WEBHOOK_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(RuntimeError, match="WEBHOOK_CA_BUNDLE"):
        load_settings()


async def test_a_bundle_without_a_pem_certificate_stops_the_sender_naming_it(
    scout_env: pytest.MonkeyPatch, tmp_path: Path, receiver: LoopbackServer
) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate\n")
    scout_env.setenv("WEBHOOK_CA_BUNDLE", str(not_pem))
    with pytest.raises(RuntimeError, match="WEBHOOK_CA_BUNDLE"):
        await post_through_deps(receiver)
