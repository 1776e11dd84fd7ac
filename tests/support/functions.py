"""Load a function's handler module from functions/<name>/app.py the way Lambda does."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_function(name: str) -> ModuleType:
    path = ROOT / "functions" / name / "app.py"
    module_name = f"functions_{name}_app"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
