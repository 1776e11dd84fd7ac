"""The scan worker image's base without a registry: Debian bookworm (minbase) from the
Debian mirror this machine's apt already uses, imported as a local image.

    python3 functions/scan_worker/image/debian_base.py localhost/scout-bookworm-base

Skipped when the image is present (`make image` calls it every time). The mirror is read
from /etc/apt/sources.list*, so the repository names no host, and the base's apt sources
are the same Debian suites (bookworm, -updates, -security) the machine itself installs from:
Chromium in particular is only current in bookworm-security.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from buildah import image_exists

SUITES = ("bookworm", "bookworm-updates", "bookworm-security")
APT_SOURCES = Path("/etc/apt")


@dataclass(frozen=True)
class AptSource:
    uri: str
    suite: str
    components: str
    signed_by: str | None


def deb822_sources(text: str) -> list[AptSource]:
    found = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                found.append(AptSource(uri, suite, fields.get("components", "main"), fields.get("signed-by")))
    return found


def one_line_sources(text: str) -> list[AptSource]:
    found = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = [word for word in words[1:] if not word.startswith("[")]
        if len(words) >= 3:
            found.append(AptSource(words[0], words[1], " ".join(words[2:]), None))
    return found


def debian_sources(root: Path = APT_SOURCES) -> list[AptSource]:
    """The machine's sources for the bookworm suites, in SUITES order (others ignored)."""
    files = [root / "sources.list", *sorted((root / "sources.list.d").glob("*"))]
    found: list[AptSource] = []
    for path in files:
        if path.is_file() and path.suffix == ".sources":
            found += deb822_sources(path.read_text())
        elif path.is_file() and path.name.endswith(".list"):
            found += one_line_sources(path.read_text())
    ours = [source for source in found if source.suite in SUITES]
    if not any(source.suite == "bookworm" for source in ours):
        raise SystemExit(f"no Debian bookworm source in {root}/sources.list*: cannot debootstrap")
    return sorted(ours, key=lambda source: SUITES.index(source.suite))


def sources_file(sources: list[AptSource]) -> str:
    # Inside the image the keys are debian-archive-keyring's, whatever the host names them.
    stanzas = [
        f"Types: deb\nURIs: {s.uri}\nSuites: {s.suite}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        for s in sources
    ]
    return "\n".join(stanzas)


def build(name: str) -> None:
    sources = debian_sources()
    mirror = next(source for source in sources if source.suite == "bookworm")
    keyring = ["--keyring", mirror.signed_by] if mirror.signed_by and Path(mirror.signed_by).is_file() else []
    with tempfile.TemporaryDirectory(prefix="scout-base-", dir="/var/tmp") as work:
        rootfs = Path(work) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", *keyring, "bookworm", str(rootfs), mirror.uri], check=True
        )
        (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
        (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(sources_file(sources))
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / cache, ignore_errors=True)
            (rootfs / cache / "partial").mkdir(parents=True)
        archive = Path(work) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(archive), "."], check=True)
        subprocess.run(
            ["podman", "import", "--change", 'CMD ["bash"]', str(archive), name],
            check=True,
            stdout=subprocess.DEVNULL,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="local image name, such as localhost/scout-bookworm-base")
    args = parser.parse_args()
    if image_exists(args.name):
        print(f"{args.name}: present, not rebuilt", file=sys.stderr)
        return
    build(args.name)
    print(f"{args.name}: built from {debian_sources()[0].uri}", file=sys.stderr)


if __name__ == "__main__":
    main()
