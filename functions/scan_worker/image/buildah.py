"""The few buildah calls the image tooling and its tests share (buildah runs as root here)."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def image_exists(image: str) -> bool:
    return (
        subprocess.run(["buildah", "inspect", "--type", "image", image], capture_output=True).returncode == 0
    )


def inspect_image(image: str) -> dict[str, Any]:
    out = subprocess.run(
        ["buildah", "inspect", "--type", "image", image], check=True, capture_output=True, text=True
    )
    found: dict[str, Any] = json.loads(out.stdout)
    return found


@contextmanager
def mounted_image(image: str) -> Iterator[Path]:
    """The image's root file system, mounted from a fresh working container (removed after)."""
    name = f"scout-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["buildah", "from", "--pull=never", "--name", name, image], check=True, capture_output=True
    )
    try:
        mount = subprocess.run(["buildah", "mount", name], check=True, capture_output=True, text=True)
        yield Path(mount.stdout.strip())
    finally:
        subprocess.run(["buildah", "umount", name], capture_output=True)
        subprocess.run(["buildah", "rm", name], capture_output=True)
