"""The command-line flags every Chromium of the scan engine runs with.

The scan browser and Lighthouse's own Chrome share them, so both see the same web: no
background traffic of their own, no first-run or sync machinery, and shared memory in /tmp
because Lambda's /dev/shm is tiny. ``--single-process`` and ``--disable-web-security`` are
deliberately absent: both remove the isolation between a hostile page and the browser.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

BASE_FLAGS: tuple[str, ...] = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-breakpad",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    # Sites read navigator.webdriver to refuse automated visitors; a scan should see the
    # page a person sees.
    "--disable-blink-features=AutomationControlled",
)


def chromium_flags(*, headless_flag: bool, extra: Sequence[str] = ()) -> list[str]:
    """Flags for one launch; ``headless_flag`` for launchers that do not add it themselves.

    Chromium's sandbox needs user namespaces, which a root process (CI) does not get, nor
    does Lambda's execution environment (an unprivileged user in a chroot-like root: Chrome
    exits at once there, as `make image-test` showed). Both run without it, recognised by
    root or by Lambda's Runtime API; the sandbox stays on everywhere else, `scout dev` included.
    """
    flags = list(BASE_FLAGS)
    if headless_flag:
        flags.insert(0, "--headless")
    if os.geteuid() == 0 or os.environ.get("AWS_LAMBDA_RUNTIME_API"):
        flags.append("--no-sandbox")
    flags.extend(extra)
    return flags
