"""Load a function's handler module from functions/<name>/app.py the way Lambda does."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

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


def json_from_fresh_interpreter(function: str, code: str, env: dict[str, str]) -> Any:
    """Run ``code`` in a fresh interpreter whose working folder is functions/<function>/ (the
    task root, so ``import app`` imports the handler) and decode its last line of output."""
    finished = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "functions" / function,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])
