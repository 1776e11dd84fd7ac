"""Development settings, so ``scout dev`` starts with no configuration at all.

Settings come from the environment first; the local stack fills in only what is unset:
``ALLOWED_HOSTS`` for loopback, and the three JWT secrets, generated once and kept in
``.scout/dev-secrets.json`` (mode 0600, git-ignored). ``scout token`` reads the same file, so
it signs with exactly the secret that ``scout dev``'s functions verify with.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scout.settings import MIN_SECRET_BYTES, Settings

STATE_DIR = ".scout"
SECRETS_FILE = "dev-secrets.json"
DEV_ALLOWED_HOSTS = "localhost,127.0.0.1"
SECRET_VARIABLES = ("SUPABASE_JWT_SECRET", "ADMIN_SESSION_SECRET", "SERVICE_TOKEN_SECRET")


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def secrets_path(root: Path) -> Path:
    return state_dir(root) / SECRETS_FILE


def read_dev_secrets(root: Path) -> dict[str, str]:
    """The kept development secrets, or {} when none were generated yet."""
    path = secrets_path(root)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError:
        raise RuntimeError(
            f"{path} is not valid JSON; delete it to generate new development secrets"
        ) from None
    if not isinstance(document, dict):
        raise RuntimeError(f"{path} must be a JSON object; delete it to generate new development secrets")
    return {
        name: value
        for name, value in document.items()
        if name in SECRET_VARIABLES and isinstance(value, str) and len(value.encode()) >= MIN_SECRET_BYTES
    }


def ensure_dev_secrets(root: Path) -> dict[str, str]:
    """The kept secrets, generating (once) whichever is missing; the file is private to its owner."""
    current = read_dev_secrets(root)
    if all(name in current for name in SECRET_VARIABLES):
        _make_private(secrets_path(root))
        return current
    generated = {name: current.get(name) or secrets.token_urlsafe(48) for name in SECRET_VARIABLES}
    path = secrets_path(root)
    # Completing a file that lacks a secret replaces it; two first runs at once must agree on
    # one set, so the first to create the file wins and the other reads it.
    if not write_private_json(path, generated, replace=path.exists()):
        return read_dev_secrets(root)
    return generated


def write_private_json(path: Path, document: object, *, replace: bool) -> bool:
    """Write ``document`` to ``path`` (mode 0600) whole; False when ``replace`` is off and the
    file already exists (another process created it first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
        if replace:
            os.replace(temporary, path)  # readers see the old file or the new one, never half
        else:
            os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return True


def _make_private(path: Path) -> None:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)


def dev_defaults(root: Path) -> dict[str, str]:
    """What the local stack fills in when the environment leaves it unset."""
    return {"ALLOWED_HOSTS": DEV_ALLOWED_HOSTS, **ensure_dev_secrets(root)}


def token_settings(root: Path) -> Settings:
    """Settings for ``scout token``: the environment first, then the kept secrets (never new ones)."""
    fills: dict[str, Any] = {}
    if not os.environ.get("ALLOWED_HOSTS"):
        fills["ALLOWED_HOSTS"] = DEV_ALLOWED_HOSTS
    kept = read_dev_secrets(root)
    fills.update({name: value for name, value in kept.items() if not os.environ.get(name)})
    try:
        return Settings(**fills)  # keyword values win over the environment; only unset names are given
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in exc.errors())
        raise RuntimeError(f"invalid scout configuration: {problems}") from None


def find_project_root(start: Path) -> Path:
    """The nearest folder holding template.yaml, from ``start`` upwards; else ``start``."""
    for folder in (start, *start.parents):
        if (folder / "template.yaml").is_file():
            return folder
    return start
