"""Generated parts of the README, rebuilt from the code they describe so they cannot go stale.

``invoke docs`` rewrites each block between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``
markers; a test fails when the README differs from what this module renders.
"""

import re
from pathlib import Path

from shared import ownership, settings

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"


def _default(value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[]" if not value else ", ".join(value)
    return str(value)


def _cell(text: str) -> str:
    # Markdown would read "<region>" as an HTML tag and hide it.
    return text.replace("<", "&lt;").replace("|", "\\|")


def settings_table() -> str:
    """Render every stack setting as a markdown table: key, layer, default, allowed, meaning."""
    rows = ["| setting | layer | default | allowed | meaning |", "|---|---|---|---|---|"]
    for setting in settings.SETTINGS:
        default = _default(setting.default)
        if setting.key == "deletionProtection":
            default = "true for prod, else false"
        rows.append(f"| `{settings.NAMESPACE}:{setting.key}` | {setting.layer} | {default} | "
                    f"{_cell(setting.allowed)} | {_cell(setting.description)} |")
    for secret in settings.SECRET_SETTINGS:
        rows.append(f"| `{settings.NAMESPACE}:{secret.key}` (secret) | {secret.layer} | generated | "
                    f"{_cell(secret.allowed)} | {_cell(secret.description)} |")
    return "\n".join(rows)


def owners_table() -> str:
    """Render who owns what, from the same source as .github/CODEOWNERS."""
    rows = ["| part | team | paths |", "|---|---|---|"]
    for unit, (team, paths) in ownership.OWNERS.items():
        rows.append(f"| {unit} | `{ownership.team_handle(team)}` | {', '.join(f'`{p}`' for p in paths)} |")
    rows.append(f"| everything else | `{ownership.team_handle(ownership.DEFAULT_TEAM)}` | `*` |")
    return "\n".join(rows)


BLOCKS = {"settings": settings_table, "owners": owners_table}


def render(text: str) -> str:
    """Return ``text`` with every generated block replaced by its current rendering."""
    for name, build in BLOCKS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"README has no <!-- {name}:start --> ... <!-- {name}:end --> block")
        block = build() + "\n"
        text = pattern.sub(lambda m, block=block: m.group(1) + block + m.group(2), text)
    return text


def update_readme(path: Path = README) -> bool:
    """Rewrite the generated blocks of the README; return whether anything changed."""
    current = path.read_text(encoding="utf-8")
    updated = render(current)
    if updated != current:
        path.write_text(updated, encoding="utf-8")
    return updated != current
