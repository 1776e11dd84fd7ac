"""How the scan browser presents itself per device."""

from __future__ import annotations

import pytest

from scout.audit.devices import DEVICES


@pytest.mark.parametrize("device", ["mobile", "desktop"])
def test_user_agent_is_ordinary_chrome_of_the_real_major_version(device: str) -> None:
    # Given the browser's real version
    profile = DEVICES[device]  # type: ignore[index]

    # When the User-Agent and client hints are built
    override = profile.user_agent_override("156.0.8078.108")

    # Then they name Chrome 156 the way a normal Chrome does, and never a headless one
    assert "Headless" not in str(override)
    assert "Chrome/156.0.0.0" in override["userAgent"]
    assert override["userAgentMetadata"]["brands"][0] == {"brand": "Chromium", "version": "156"}
    assert override["userAgentMetadata"]["fullVersion"] == "156.0.8078.108"
    assert override["userAgentMetadata"]["mobile"] is (device == "mobile")


def test_mobile_and_desktop_match_lighthouse_screen_emulation() -> None:
    mobile, desktop = DEVICES["mobile"], DEVICES["desktop"]
    assert (mobile.width, mobile.height, mobile.scale, mobile.mobile) == (412, 823, 1.75, True)
    assert (desktop.width, desktop.height, desktop.scale, desktop.mobile) == (1350, 940, 1.0, False)
    assert "Mobile Safari" in mobile.user_agent("156.0.1.2")
    assert "Android" in mobile.user_agent("156.0.1.2")
    assert "Mobile" not in desktop.user_agent("156.0.1.2")


def test_context_options_carry_viewport_touch_and_user_agent() -> None:
    options = DEVICES["mobile"].context_options("156.0.1.2")
    assert options["viewport"] == {"width": 412, "height": 823}
    assert options["is_mobile"] is True
    assert options["has_touch"] is True
    assert options["user_agent"] == DEVICES["mobile"].user_agent("156.0.1.2")
