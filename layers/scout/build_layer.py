"""Build the scout layer for ``sam build`` (``Metadata: BuildMethod: makefile``, see Makefile).

The layer holds what production functions run: the ``scout`` package without its development
parts, and the runtime dependencies of ``requirements.txt``. The local stack, the CLI, the
embedded Postgres and the migration runner stay in the installed package (``make run``,
``scout ...``) and out of every function.

    python3 build_layer.py TARGET [--no-dependencies]
    python3 build_layer.py --prune-installed

TARGET is the layer's ``python/`` folder (``$(ARTIFACTS_DIR)/python`` under ``sam build``);
``--prune-installed`` takes the same modules out of a pip-installed package (the scan worker's
container image).
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


def prune_development_modules(package: Path) -> list[Path]:
    """Delete the development parts from an installed ``scout`` package (the scan worker's
    image installs the package with pip, then prunes it); returns what was removed."""
    removed = []
    for entry in DEV_ONLY:
        path = package / entry
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()
        else:
            continue
        removed.append(path)
    return removed


def installed_package() -> Path:
    """The folder of the ``scout`` package this interpreter imports, never this source tree's."""
    import importlib.machinery

    # sys.path[0] is this script's folder, which holds the source package: look past it.
    search = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
    spec = importlib.machinery.PathFinder.find_spec("scout", search)
    if spec is None or spec.origin is None:
        raise SystemExit("scout is not installed in this interpreter")
    return Path(spec.origin).parent


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
            # Lambda cannot write next to the layer's modules; byte code compiled here is only
            # weight (the python3.11 build method does not ship it either), as are console scripts.
            "--no-compile",
        ],
        check=True,
    )
    shutil.rmtree(target / "bin", ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, nargs="?")
    parser.add_argument("--no-dependencies", dest="dependencies", action="store_false")
    parser.add_argument(
        "--prune-installed",
        action="store_true",
        help="instead: delete the development modules from the installed scout package",
    )
    args = parser.parse_args(argv)
    if args.prune_installed:
        prune_development_modules(installed_package())
        return 0
    if args.target is None:
        parser.error("TARGET is required")
    args.target.mkdir(parents=True, exist_ok=True)
    copy_production_package(args.target)
    if args.dependencies:
        install_dependencies(args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
