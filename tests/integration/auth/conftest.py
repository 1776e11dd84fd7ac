"""Fixtures for the signing-key tests: project keys made once, a manual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scout import signing_keys
from tests.support.supabase_keys import ProjectKey, es256_key, rs256_key


class ManualClock:
    """A monotonic clock the test moves, so cache ages are exact and no test sleeps."""

    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# Key generation (RSA especially) is slow enough to make once per module.
@pytest.fixture(scope="module")
def ec_key() -> ProjectKey:
    return es256_key("ec-current")


@pytest.fixture(scope="module")
def ec_standby() -> ProjectKey:
    return es256_key("ec-standby")


@pytest.fixture(scope="module")
def rsa_key() -> ProjectKey:
    return rs256_key("rsa-current")


@pytest.fixture(scope="module")
def other_project_key() -> ProjectKey:
    return es256_key("other-project")


@pytest.fixture(autouse=True)
def no_shared_caches() -> Iterator[None]:
    # A test's JWKS cache must not serve the next test's URL (ports are reused).
    signing_keys._shared.clear()
    yield
    signing_keys._shared.clear()
