"""How the scan browser presents itself for each device: viewport, touch, User-Agent, client hints.

The viewports are the ones Lighthouse emulates (its ``screenEmulationMetrics``), so the
screenshot and axe see the layout that Lighthouse scores. The User-Agent is an ordinary
Chrome one built from the real browser version: headless Chromium announces itself as
"HeadlessChrome", which many sites answer with a challenge page instead of their content.
The User-Agent Client Hints (Sec-CH-UA headers and navigator.userAgentData) must tell the
same story, or the disguise is one header deep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scout.audit.result import Device

# Chrome's own GREASE brand for its current releases; any such brand is what real browsers send.
_GREASE_BRAND = {"brand": "Not-A.Brand", "version": "24"}


@dataclass(frozen=True)
class DeviceProfile:
    name: Device
    width: int
    height: int
    scale: float
    mobile: bool
    platform: str
    platform_version: str
    architecture: str
    ua_platform: str
    navigator_platform: str

    def user_agent(self, browser_version: str) -> str:
        # The reduced User-Agent of current Chrome: only the major version is real.
        major = _major(browser_version)
        mobile = " Mobile" if self.mobile else ""
        return (
            f"Mozilla/5.0 ({self.ua_platform}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{major}.0.0.0{mobile} Safari/537.36"
        )

    def user_agent_metadata(self, browser_version: str) -> dict[str, Any]:
        """The ``userAgentMetadata`` of CDP ``Emulation.setUserAgentOverride``."""
        major = _major(browser_version)
        return {
            "brands": [{"brand": "Chromium", "version": major}, _GREASE_BRAND],
            "fullVersionList": [
                {"brand": "Chromium", "version": browser_version},
                {"brand": _GREASE_BRAND["brand"], "version": f"{_GREASE_BRAND['version']}.0.0.0"},
            ],
            "fullVersion": browser_version,
            "platform": self.platform,
            "platformVersion": self.platform_version,
            "architecture": self.architecture,
            "model": "",
            "mobile": self.mobile,
        }

    def user_agent_override(self, browser_version: str) -> dict[str, Any]:
        """Parameters of CDP ``Emulation.setUserAgentOverride`` for a page of this device."""
        return {
            "userAgent": self.user_agent(browser_version),
            "acceptLanguage": "en-US",
            "platform": self.navigator_platform,
            "userAgentMetadata": self.user_agent_metadata(browser_version),
        }

    def context_options(self, browser_version: str) -> dict[str, Any]:
        """Keyword arguments for Playwright's ``browser.new_context`` for this device."""
        return {
            "viewport": {"width": self.width, "height": self.height},
            "device_scale_factor": self.scale,
            "is_mobile": self.mobile,
            "has_touch": self.mobile,
            "user_agent": self.user_agent(browser_version),
            "locale": "en-US",
        }


def _major(browser_version: str) -> str:
    return browser_version.split(".", 1)[0]


DEVICES: dict[Device, DeviceProfile] = {
    "mobile": DeviceProfile(
        name="mobile",
        width=412,
        height=823,
        scale=1.75,
        mobile=True,
        platform="Android",
        platform_version="10.0.0",
        architecture="",
        ua_platform="Linux; Android 10; K",
        navigator_platform="Linux armv81",
    ),
    "desktop": DeviceProfile(
        name="desktop",
        width=1350,
        height=940,
        scale=1.0,
        mobile=False,
        platform="Linux",
        platform_version="",
        architecture="x86",
        ua_platform="X11; Linux x86_64",
        navigator_platform="Linux x86_64",
    ),
}
