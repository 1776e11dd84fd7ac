"""The README stays true: every setting is documented, and the quick start is two commands."""

from __future__ import annotations

import re

from scout.settings import Settings
from tests.support.functions import ROOT

README = (ROOT / "README.md").read_text()


def test_every_environment_variable_is_in_the_configuration_table() -> None:
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)`", README, flags=re.MULTILINE))
    expected = {str(field.validation_alias) for field in Settings.model_fields.values()}
    assert expected - documented == set()


def test_quick_start_is_make_run_and_make_test() -> None:
    quick_start = README.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quick_start.splitlines()[1:] if line.strip()]
    assert commands == ["make run", "make test"]
