"""The README's generated tables and its commands stay in step with the code."""

import re
import subprocess
import sys
from pathlib import Path

from devkit import docs

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_generated_tables_current():
    assert docs.render(README) == README, "run `invoke docs` to regenerate the README tables"


def test_readme_settings_table_lists_every_setting():
    from shared import settings

    for setting in settings.SETTINGS + settings.SECRET_SETTINGS:
        assert f"`tracking:{setting.key}`" in README, setting.key


def test_readme_invoke_commands_exist():
    listed = subprocess.run(
        [sys.executable, "-m", "invoke", "--list"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    tasks = {line.split()[0] for line in listed.splitlines()[1:] if line.strip()}
    used = set(re.findall(r"(?:^|`|&& |/)invoke ([a-z][a-z-]+)", README, re.M))

    assert used <= tasks, f"README names tasks that do not exist: {sorted(used - tasks)}"


def test_ci_runs_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")

    assert "invoke test" in README
    assert re.search(r"^\.venv/bin/invoke test$", ci, re.M), ".ci/run must call the README's test command"
