"""Where the Node side of the scan engine lives: the Lighthouse worker, axe-core, the CLI.

``layers/node`` holds package.json and package-lock.json (Lighthouse and axe-core pinned)
and the worker script; ``npm ci --prefix layers/node`` installs node_modules next to them.
The scan worker image keeps the same layout, so the default needs no configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scout.settings import Settings

# layers/scout/scout/audit/node_layer.py -> layers/node
_DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "node"


@dataclass(frozen=True)
class NodeLayer:
    root: Path

    @classmethod
    def from_settings(cls, settings: Settings) -> NodeLayer:
        return cls(Path(settings.node_dir) if settings.node_dir else _DEFAULT_ROOT)

    @classmethod
    def default(cls) -> NodeLayer:
        return cls(_DEFAULT_ROOT)

    @property
    def lighthouse_worker_script(self) -> Path:
        return self.root / "lighthouse-worker.mjs"

    @property
    def axe_script(self) -> Path:
        return self.root / "node_modules" / "axe-core" / "axe.min.js"

    @property
    def lighthouse_cli(self) -> Path:
        """Lighthouse's own command line, kept for benchmarks that compare against it."""
        return self.root / "node_modules" / ".bin" / "lighthouse"

    def require_installed(self) -> None:
        """Raise a RuntimeError that says how to install the Node side when it is missing."""
        missing = [path for path in (self.lighthouse_worker_script, self.axe_script) if not path.is_file()]
        if missing:
            raise RuntimeError(
                f"the scan engine's Node side is not installed ({', '.join(map(str, missing))} missing); "
                f"run `npm ci --prefix {self.root}`"
            )
