"""Build the scout layer for ``sam build`` (``Metadata: BuildMethod: makefile``, see Makefile).

The layer holds what production functions run: the ``scout`` package without its development
parts, and the runtime dependencies of ``requirements.txt``. The local stack, the CLI, the
embedded Postgres and the migration runner stay in the installed package (``make run``,
``scout ...``) and out of every function.

    python3 build_layer.py TARGET [--no-dependencies]

TARGET is the layer's ``python/`` folder (``$(ARTIFACTS_DIR)/python`` under ``sam build``).
Standard library only: ``sam build`` runs it with whichever Python 3 the machine has.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "scout"

# Paths inside the package (folders or modules) that no deployed function imports.
DEV_ONLY = (
    "local",
    "cli",
    "__main__.py",
    "store/embedded.py",
    "store/migrations.py",
)


def is_dev_only(relative: Path) -> bool:
    parts = relative.as_posix()
    return any(parts == entry or parts.startswith(f"{entry}/") for entry in DEV_ONLY)


def copy_production_package(target: Path) -> Path:
    """Copy the production modules of ``scout`` (and its data files) into ``target/scout``."""
    destination = target / "scout"
    for source in sorted(PACKAGE.rglob("*")):
        relative = source.relative_to(PACKAGE)
        if source.is_dir() or "__pycache__" in relative.parts or is_dev_only(relative):
            continue
        copied = destination / relative
        copied.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copied)
    return destination


def install_dependencies(target: Path) -> None:
    """``requirements.txt`` for Lambda's python3.11 on x86_64, whatever machine builds."""
    subprocess.run(  # noqa: S603 - this interpreter's pip, our own requirements file
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--requirement",
            str(HERE / "requirements.txt"),
            "--target",
            str(target),
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            "3.11",
            "--only-binary=:all:",
            "--upgrade",
        ],
        check=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--no-dependencies", dest="dependencies", action="store_false")
    args = parser.parse_args(argv)
    args.target.mkdir(parents=True, exist_ok=True)
    copy_production_package(args.target)
    if args.dependencies:
        install_dependencies(args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
