"""The scout part of the production layer, built as ``sam build`` builds it (its Python
dependencies are this environment's, the versions requirements.txt pins)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "layers" / "scout" / "build_layer.py"


def layer_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scout_build_layer", BUILD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_production_layer(target: Path) -> Path:
    """``target`` (the layer's python/ folder) holding the production ``scout`` package."""
    target.mkdir(parents=True, exist_ok=True)
    layer_builder().copy_production_package(target)
    return target
