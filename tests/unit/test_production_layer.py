"""The production layer holds what deployed functions run, and they run from it alone.

The layer is built the way ``sam build`` builds it (layers/scout/build_layer.py, without
installing the third-party dependencies, which come from this environment here). Each zip
function's handler is then imported in a fresh interpreter with the layer first on its path:
every ``scout`` module it loads must come from the layer, so a function that needed a
module the layer leaves out would fail here instead of in AWS.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.support.production_layer import build_production_layer, layer_builder
from scout.local.cfn_yaml import load_cfn_yaml
from tests.support.functions import ROOT, json_from_fresh_interpreter

DEV_ONLY_MODULES = (
    "scout.local",
    "scout.cli",
    "scout.__main__",
    "scout.store.embedded",
    "scout.store.migrations",
)

# Reading a deferred module's __file__ loads it (and what it imports), so the modules a route
# loads on its first request are checked too: a few passes, until nothing new appears.
REPORT_LOADED = """
import json, sys
import app
loaded = {}
while True:
    scout_modules = [(name, module) for name, module in list(sys.modules.items())
                     if name == "scout" or name.startswith("scout.")]
    if len(scout_modules) == len(loaded):
        break
    loaded = {name: getattr(module, "__file__", None) for name, module in scout_modules}
print(json.dumps(loaded))
"""


def layered_functions() -> list[str]:
    """The function folders whose functions use the scout layer (zip functions)."""
    template = load_cfn_yaml((ROOT / "template.yaml").read_text())
    folders = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function" and properties.get("Layers"):
            folders.append(Path(properties["CodeUri"]).name)
    return sorted(folders)


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_production_layer(tmp_path_factory.mktemp("layer") / "python")


def module_name(layer: Path, path: Path) -> str:
    relative = path.relative_to(layer).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def test_the_layer_holds_no_development_module(layer: Path) -> None:
    # Given the layer as sam build makes it
    modules = {module_name(layer, path) for path in layer.rglob("*.py")}
    # Then none of the local stack, the CLI, the embedded Postgres or the migrations runner is in it
    assert modules, "the layer is empty"
    shipped = sorted(name for name in modules if name.startswith(DEV_ONLY_MODULES))
    assert shipped == []
    # And the package's data (the served OpenAPI document) is
    assert (layer / "scout" / "openapi.json").is_file()


def test_no_module_in_the_layer_imports_a_development_module(layer: Path) -> None:
    # Given every import statement in the layer's modules, even those inside functions
    imported: dict[str, set[str]] = {}
    for path in layer.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            for name in names:
                imported.setdefault(name, set()).add(module_name(layer, path))
    # Then none of them names a module the layer leaves out
    offending = {name: sorted(users) for name, users in imported.items() if name.startswith(DEV_ONLY_MODULES)}
    assert offending == {}


def test_the_dev_only_list_names_what_exists() -> None:
    # Given the build's list of development paths, Then each still exists in the package
    package = ROOT / "layers" / "scout" / "scout"
    assert all((package / entry).exists() for entry in layer_builder().DEV_ONLY)


@pytest.mark.parametrize("function", layered_functions())
def test_each_function_imports_only_from_the_layer(layer: Path, function: str) -> None:
    # Given a fresh interpreter set up like the function's execution environment
    env = {
        **os.environ,
        "PYTHONPATH": str(layer),
        "ALLOWED_HOSTS": "api.scout.test",
        "SCOUT_STORE": "supabase",
        "SUPABASE_URL": "https://project.supabase.test",
        "SUPABASE_SERVICE_ROLE_KEY": "sb_secret_" + "k" * 40,
        "SCAN_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/scans.fifo",
        "REPORTS_BUCKET": "reports",
        "POLL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/poll",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    # When the handler module is imported
    loaded: dict[str, str | None] = json_from_fresh_interpreter(function, REPORT_LOADED, env)
    # Then it imported, and every scout module it loaded came from the layer
    assert "scout.deps" in loaded
    outside = {name: file for name, file in loaded.items() if file and not Path(file).is_relative_to(layer)}
    assert outside == {}
    assert sorted(name for name in loaded if name.startswith(DEV_ONLY_MODULES)) == []


def test_pruning_an_installed_package_leaves_what_the_layer_holds(tmp_path: Path, layer: Path) -> None:
    # Given the whole package installed in a site folder (as pip installs it in the worker image)
    site = tmp_path / "site-packages"
    shutil.copytree(
        ROOT / "layers" / "scout" / "scout", site / "scout", ignore=shutil.ignore_patterns("__pycache__")
    )
    # When the build script prunes the installed package
    subprocess.run(
        [sys.executable, str(ROOT / "layers" / "scout" / "build_layer.py"), "--prune-installed"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        check=True,
        timeout=60,
    )

    # Then the installed package holds exactly the layer's modules, and the source tree is untouched
    def modules(root: Path) -> set[str]:
        return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}

    assert modules(site / "scout") == modules(layer / "scout")
    assert (ROOT / "layers" / "scout" / "scout" / "local").is_dir()
