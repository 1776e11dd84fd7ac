"""The egress policy resolves once, checks every address, and honours SCOUT_EGRESS_ALLOW."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from ipaddress import ip_address

import pytest

from scout.egress.policy import EgressPolicy, check_target_url
from scout.errors import BlockedTarget, DnsFailed, InvalidUrl
from scout.settings import Settings, load_settings

pytestmark = pytest.mark.asyncio(loop_scope="session")


def answers(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    """A resolver hook with fixed answers; unknown names fail like NXDOMAIN."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(table[host])

    return resolve


async def never_called(host: str, port: int) -> list[str]:
    raise AssertionError(f"the resolver was asked for {host}")


async def test_public_name_resolves_to_its_checked_addresses() -> None:
    # Given a name with two public addresses (one of them listed twice)
    policy = EgressPolicy(
        resolver=answers({"example.com": ["93.184.216.34", "2606:2800::1", "93.184.216.34"]})
    )

    # When it is resolved
    addresses = await policy.resolve("example.com", 443)

    # Then every address is returned once, in order
    assert addresses == ["93.184.216.34", "2606:2800::1"]


async def test_one_private_record_blocks_the_whole_host() -> None:
    # Given a name with a public and a private A record
    policy = EgressPolicy(resolver=answers({"mixed.example": ["93.184.216.34", "10.0.0.5"]}))

    # When / Then the host is refused, without naming the private address
    with pytest.raises(BlockedTarget) as refusal:
        await policy.resolve("mixed.example", 80)
    assert "private" in refusal.value.message
    assert "10.0.0.5" not in refusal.value.message
    assert refusal.value.code == "blocked_target"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f.1", "0177.0.0.1", "::ffff:127.0.0.1", "[::1]", "169.254.169.254."],
)
async def test_address_literal_is_checked_without_dns(host: str) -> None:
    # Given a host that is an address in any spelling a browser accepts
    policy = EgressPolicy(resolver=never_called)

    # When / Then it is refused without asking DNS
    with pytest.raises(BlockedTarget, match="not publicly reachable"):
        await policy.resolve(host, 80)


async def test_name_resolving_to_loopback_is_refused() -> None:
    policy = EgressPolicy(resolver=answers({"localhost": ["127.0.0.1", "::1"]}))

    with pytest.raises(BlockedTarget, match="loopback"):
        await policy.resolve("localhost", 80)


async def test_allow_listed_address_and_cidr_let_private_addresses_through() -> None:
    # Given an allow-list with one address and one CIDR
    policy = EgressPolicy(allow=["127.0.0.2", "10.1.0.0/16"], resolver=never_called)

    # When / Then exactly those pass, in any spelling
    assert await policy.resolve("127.0.0.2", 80) == ["127.0.0.2"]
    assert await policy.resolve("::ffff:127.0.0.2", 80) == ["127.0.0.2"]
    assert await policy.resolve("10.1.200.3", 80) == ["10.1.200.3"]
    assert policy.is_allowed(ip_address("10.1.0.1"))
    assert not policy.is_allowed(ip_address("10.2.0.1"))
    with pytest.raises(BlockedTarget):
        await policy.resolve("127.0.0.1", 80)


async def test_allow_listed_name_passes_with_any_address_but_only_that_name() -> None:
    # Given an allow-listed host name that resolves to a private address, and another name
    # that resolves to the same address
    table = {"intranet.test": ["10.9.8.7"], "other.test": ["10.9.8.7"]}
    policy = EgressPolicy(allow=["Intranet.Test."], resolver=answers(table))

    # When / Then the allow-listed name passes and the other name does not
    assert await policy.resolve("intranet.test", 443) == ["10.9.8.7"]
    assert await policy.resolve("INTRANET.test", 443) == ["10.9.8.7"]
    with pytest.raises(BlockedTarget):
        await policy.resolve("other.test", 443)


async def test_public_addresses_pass_whatever_the_allow_list() -> None:
    policy = EgressPolicy(allow=["127.0.0.2"], resolver=never_called)

    assert await policy.resolve("8.8.8.8", 53) == ["8.8.8.8"]
    assert policy.is_allowed(ip_address("2606:4700:4700::1111"))


async def test_unknown_name_fails_as_dns_failure() -> None:
    policy = EgressPolicy(resolver=answers({}))

    with pytest.raises(DnsFailed) as failure:
        await policy.resolve("nowhere.invalid", 80)
    assert failure.value.code == "dns_failed"


async def test_empty_or_garbage_resolver_answer_fails_as_dns_failure() -> None:
    policy = EgressPolicy(resolver=answers({"empty.test": [], "garbage.test": ["not-an-ip"]}))

    with pytest.raises(DnsFailed, match="no addresses"):
        await policy.resolve("empty.test", 80)
    with pytest.raises(DnsFailed, match="not an address"):
        await policy.resolve("garbage.test", 80)


async def test_slow_resolver_fails_as_dns_failure() -> None:
    # Given a resolver that never answers within the policy's DNS deadline
    async def hangs(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return []

    policy = EgressPolicy(resolver=hangs, dns_timeout=0.05)

    # When / Then the lookup fails cleanly
    with pytest.raises(DnsFailed, match="timed out"):
        await policy.resolve("slow.test", 80)


async def test_malformed_host_is_refused_before_dns() -> None:
    policy = EgressPolicy(resolver=never_called)

    with pytest.raises(InvalidUrl):
        await policy.resolve("exa mple.com", 80)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host", "300.1.2.3/8", ""])
async def test_malformed_allow_entry_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ValueError, match="SCOUT_EGRESS_ALLOW"):
        EgressPolicy(allow=[entry])


async def test_policy_from_settings_uses_scout_egress_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given SCOUT_EGRESS_ALLOW in the environment
    monkeypatch.setenv("ALLOWED_HOSTS", "api.example.com")
    monkeypatch.setenv("SCOUT_EGRESS_ALLOW", "127.0.0.2, 192.168.0.0/24,dev.test")

    # When the policy is built from the settings
    policy = EgressPolicy.from_settings(Settings(), resolver=answers({"dev.test": ["10.0.0.1"]}))  # type: ignore[call-arg]

    # Then its entries are the allow-list
    assert await policy.resolve("192.168.0.77", 80) == ["192.168.0.77"]
    assert await policy.resolve("dev.test", 80) == ["10.0.0.1"]
    with pytest.raises(BlockedTarget):
        await policy.resolve("192.168.1.1", 80)


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "http://x/"])
async def test_malformed_scout_egress_allow_fails_the_cold_start(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    # Given a malformed SCOUT_EGRESS_ALLOW entry
    monkeypatch.setenv("ALLOWED_HOSTS", "api.example.com")
    monkeypatch.setenv("SCOUT_EGRESS_ALLOW", f"127.0.0.2,{entry}")

    # When / Then parsing the settings fails, naming the setting
    with pytest.raises(RuntimeError, match="SCOUT_EGRESS_ALLOW entry"):
        load_settings()


async def test_policy_without_allow_list_refuses_every_private_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", "api.example.com")
    monkeypatch.delenv("SCOUT_EGRESS_ALLOW", raising=False)

    policy = EgressPolicy.from_settings(Settings())  # type: ignore[call-arg]

    assert policy.allowed_networks == ()
    assert policy.allowed_hosts == frozenset()
    with pytest.raises(BlockedTarget):
        await policy.resolve("127.0.0.2", 80)


async def test_check_target_url_parses_and_checks_without_connecting() -> None:
    # Given a policy that allows one loopback address
    policy = EgressPolicy(allow=["127.0.0.2"], resolver=never_called)

    # When / Then an allowed target is returned canonical, and hostile spellings are refused
    target = await check_target_url("HTTP://127.0.0.2:8080/a/../b", policy)
    assert target.url == "http://127.0.0.2:8080/b"
    for hostile in ("http://0x7f.1/", "http://[::ffff:7f00:1]/", "http://2130706433/"):
        with pytest.raises(BlockedTarget):
            await check_target_url(hostile, policy)
    with pytest.raises(InvalidUrl):
        await check_target_url("file:///etc/passwd", policy)
