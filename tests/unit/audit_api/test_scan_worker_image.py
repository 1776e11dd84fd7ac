"""The scan worker's Dockerfile stays buildable from this repository (Docker is not run here)."""

from __future__ import annotations

import ast
import json
import re
import tomllib

from tests.support.functions import ROOT

DOCKERFILE = ROOT / "functions" / "scan_worker" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def installed_extras(runs: str) -> list[str]:
    """The extras of the one `pip install ".[...]"` of the scout package."""
    [extras] = re.findall(r'"\.\[([a-z,]+)\]"', runs)
    return extras.split(",")


def test_every_copied_path_exists_in_the_build_context() -> None:
    # The build context is the repository root (template.yaml Metadata.DockerContext ".")
    for keyword, rest in instructions():
        if keyword == "COPY" and not rest.startswith("--from"):
            *sources, _destination = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_the_command_names_the_worker_handler() -> None:
    [command] = [json.loads(rest) for keyword, rest in instructions() if keyword == "CMD"]
    module, attribute = command[0].rsplit(".", 1)
    source = (ROOT / "functions" / "scan_worker" / f"{module}.py").read_text()
    defined = {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    assert attribute in defined


def test_the_image_installs_the_audit_extra_that_holds_playwright() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("playwright") for requirement in extras["audit"])
    runs = " ".join(rest for keyword, rest in instructions() if keyword == "RUN")
    assert "audit" in installed_extras(runs)
    assert "npm ci" in runs
    assert "chromium" in runs


def test_the_entrypoint_runs_the_runtime_interface_client_the_image_extra_pins() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("awslambdaric") for requirement in extras["image"])
    assert "image" in installed_extras(" ".join(rest for keyword, rest in instructions() if keyword == "RUN"))
    [entrypoint] = [json.loads(rest) for keyword, rest in instructions() if keyword == "ENTRYPOINT"]
    assert entrypoint[-2:] == ["-m", "awslambdaric"]
