"""A module imported on first use instead of at import: a cold-start budget tool.

An API function imports its routes module at cold start; a route's domain module that pulls in
a large library (httpx and the ATS adapters behind the admin routes) can wait for the first
request that needs it. ``importlib.util.LazyLoader`` runs the module when one of its
attributes is first read.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def deferred_module(name: str) -> ModuleType:
    """``name``, registered now and executed when one of its attributes is first read."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
