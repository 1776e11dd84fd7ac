"""Real Chromium, real Lighthouse and axe from layers/node, pages on 127.0.0.1."""

from __future__ import annotations

import os
import shutil

import pytest

from scout.audit.axe import AxeScript
from scout.audit.node_layer import NodeLayer

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
NODE = NodeLayer.default()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Fail loudly rather than skip: these tests are the only proof the engine works.
    here = os.path.dirname(__file__)
    if not any(str(item.fspath).startswith(here) for item in items):
        return
    if shutil.which(CHROMIUM) is None:
        raise pytest.UsageError(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    NODE.require_installed()


@pytest.fixture(scope="session")
def axe_script() -> AxeScript:
    return AxeScript(NODE.axe_script)
