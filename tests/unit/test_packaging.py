"""The layer's requirements.txt and pyproject's runtime dependencies say the same thing."""

from __future__ import annotations

import tomllib

from tests.support.functions import ROOT


def test_layer_requirements_match_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = (ROOT / "layers" / "scout" / "requirements.txt").read_text().splitlines()
    layer = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(layer) == sorted(project)
