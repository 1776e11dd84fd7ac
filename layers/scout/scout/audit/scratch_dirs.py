"""Temporary folders of browsers, removed even while a dying browser still writes into them.

When a browser is killed, its helper processes (renderers, the GPU and network services)
notice a moment later and may create files in the folder while it is being removed. A
removal therefore retries briefly; a folder that still will not go is kept on a list and
retried at the next opportunity, so /tmp never accumulates dead browsers' files.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

_ATTEMPTS = 5
_PAUSE_SECONDS = 0.2


def make_scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


class ScratchDirs:
    """The scratch folders one owner (a pool, a worker) made, and the ones still to remove."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._leftovers: list[Path] = []

    def make(self) -> Path:
        return make_scratch_dir(self._prefix)

    async def remove(self, path: Path) -> None:
        self._leftovers.append(path)
        await self.sweep()

    async def sweep(self) -> None:
        """Remove every folder waiting for removal; those that resist stay on the list."""
        remaining = []
        for path in self._leftovers:
            if not await _remove(path):
                remaining.append(path)
        self._leftovers = remaining


async def _remove(path: Path) -> bool:
    for attempt in range(_ATTEMPTS):
        if await _remove_off_loop(path):
            return True
        if attempt + 1 < _ATTEMPTS:
            await asyncio.sleep(_PAUSE_SECONDS)
    return False


async def _remove_off_loop(path: Path) -> bool:
    try:
        return await asyncio.to_thread(_remove_now, path)
    except RuntimeError:
        # Pooled browsers are closed from atexit, when no new thread may start any more;
        # the loop is about to end anyway, so the removal runs on it.
        return _remove_now(path)


def _remove_now(path: Path) -> bool:
    shutil.rmtree(path, ignore_errors=True)
    return not path.exists()
