"""Draw the service dashboard's layout as SVG, from the dashboard body the observability stack builds.

``svg()`` runs the four programs under the mock engine (``devkit.offline.run_chain``) and parses
the resolved ``dashboard_body``. It draws every widget at its x, y, width and height on
CloudWatch's 24-column grid, with its title. Small text lists what the widget shows: the metrics
of a metric widget, the alarms of an alarm widget, the log group and query of a log widget.
``write(path)`` saves the picture. ``docs/dashboard.svg`` is the committed copy, and a test
checks that it is current.
"""

import json
import textwrap
from pathlib import Path
from typing import List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape, quoteattr

from devkit import offline

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
DEFAULT_PATH = offline.REPO_ROOT / "docs" / "dashboard.svg"

GRID_COLUMNS = 24
# Scale of the picture: pixels per grid column and per grid row.
COLUMN_PX = 40
ROW_PX = 30
MARGIN_PX = 16
HEADER_PX = 44
PADDING_PX = 8
TITLE_PX = 13
TEXT_PX = 10
LINE_PX = 13
# Width of one character of the monospace detail text, as a share of its font size.
CHARACTER_WIDTH = 0.6

FILL_BY_TYPE = {"metric": "#eef4fb", "alarm": "#fbeeee", "log": "#fbf7e9", "text": "#f2f2f2"}


def dashboard_definition(environment: str = "dev") -> Tuple[str, dict]:
    """Return the dashboard's name and parsed body in one environment, with every upstream name resolved."""
    dashboard = offline.run_chain(environment)["observability"].one(DASHBOARD)
    return dashboard.inputs["dashboardName"], json.loads(dashboard.inputs["dashboardBody"])


def metric_lines(properties: dict) -> List[str]:
    """Return one line per metric row: label, namespace, metric name, statistic and axis."""
    lines = []
    default_stat = properties.get("stat", "Average")
    for row in properties.get("metrics", []):
        options = row[-1] if isinstance(row[-1], dict) else {}
        namespace, name = row[0], row[1]
        text = f"{namespace} {name} {options.get('stat', default_stat)}"
        if options.get("label"):
            text = f"{options['label']}: {text}"
        if options.get("yAxis") == "right":
            text += " (right axis)"
        lines.append(text)
    return lines


def alarm_lines(properties: dict) -> List[str]:
    """Return the name of every alarm the widget lists, taken from the end of its ARN."""
    return [arn.rsplit(":", 1)[-1] for arn in properties.get("alarms", [])]


def log_lines(properties: dict) -> List[str]:
    """Return the log group and the query of a Logs Insights widget."""
    query = properties.get("query", "")
    source, _, rest = query.partition(" | ")
    if source.startswith("SOURCE '") and source.endswith("'"):
        return [f"log group {source[len('SOURCE ') + 1 : -1]}", rest]
    return [query]


def widget_lines(widget: dict) -> List[str]:
    properties = widget.get("properties", {})
    if widget["type"] == "metric":
        return metric_lines(properties)
    if widget["type"] == "alarm":
        return alarm_lines(properties)
    if widget["type"] == "log":
        return log_lines(properties)
    if widget["type"] == "text":
        return properties.get("markdown", "").splitlines()
    return [f"{widget['type']} widget"]


def _wrap(lines: Sequence[str], width_characters: int) -> List[str]:
    wrapped = []
    for line in lines:
        wrapped.extend(textwrap.wrap(line, width_characters, break_on_hyphens=False) or [""])
    return wrapped


def _columns(lines: List[str], width_px: int, max_lines: int) -> List[List[str]]:
    """Split a long list into as many side-by-side columns as the widget's width holds."""
    longest = max((len(line) for line in lines), default=1)
    column_px = longest * TEXT_PX * CHARACTER_WIDTH + 2 * PADDING_PX
    count = max(1, min(int(width_px // column_px), -(-len(lines) // max_lines)))
    per_column = -(-len(lines) // count)
    return [lines[index : index + per_column] for index in range(0, len(lines), per_column)]


def _text(x: float, y: float, content: str, css_class: str) -> str:
    return f'<text x="{x:g}" y="{y:g}" class="{css_class}">{escape(content)}</text>'


def _detail(widget: dict, x: float, y: float, width: float, height: float) -> List[str]:
    """Draw the widget's detail lines below its title, in columns for a list of alarms."""
    top = y + PADDING_PX + TITLE_PX + LINE_PX + 2
    max_lines = max(1, int((y + height - PADDING_PX - top) // LINE_PX) + 1)
    characters = int((width - 2 * PADDING_PX) / (TEXT_PX * CHARACTER_WIDTH))
    lines = widget_lines(widget)
    columns = _columns(lines, width, max_lines) if widget["type"] == "alarm" else [_wrap(lines, characters)]
    column_width = width / len(columns)

    parts = []
    for column_index, column in enumerate(columns):
        visible_lines = column
        if len(column) > max_lines:
            visible_lines = column[: max_lines - 1] + [f"... {len(column) - max_lines + 1} more lines"]
        left = x + PADDING_PX + column_index * column_width
        for line_index, line in enumerate(visible_lines):
            parts.append(_text(left, top + line_index * LINE_PX, line, "detail"))
    return parts


def _widget(index: int, widget: dict) -> str:
    """Draw one widget: its box at its grid place, its title, its grid place and its detail lines."""
    x = MARGIN_PX + widget["x"] * COLUMN_PX
    y = HEADER_PX + widget["y"] * ROW_PX
    width = widget["width"] * COLUMN_PX
    height = widget["height"] * ROW_PX
    title = widget.get("properties", {}).get("title", f"{widget['type']} widget")
    place = f"x {widget['x']}, y {widget['y']}, {widget['width']} x {widget['height']}"

    attributes = " ".join(
        [
            f'id="widget-{index}"',
            f"data-type={quoteattr(widget['type'])}",
            f'data-x="{widget["x"]}"',
            f'data-y="{widget["y"]}"',
            f'data-width="{widget["width"]}"',
            f'data-height="{widget["height"]}"',
        ]
    )
    parts = [
        f"<g {attributes}>",
        f"<title>{escape(title)}</title>",
        f'<rect x="{x + 2}" y="{y + 2}" width="{width - 4}" height="{height - 4}" rx="3" '
        f'fill="{FILL_BY_TYPE.get(widget["type"], "#ffffff")}" class="widget"/>',
        _text(x + PADDING_PX, y + PADDING_PX + TITLE_PX, title, "title"),
        f'<text x="{x + width - PADDING_PX}" y="{y + PADDING_PX + TITLE_PX}" class="place" '
        f'text-anchor="end">{escape(place)}</text>',
    ]
    parts.extend(_detail(widget, x, y, width, height))
    parts.append("</g>")
    return "\n".join(parts)


def render(body: dict, name: Optional[str] = None) -> str:
    """Return the SVG picture of a parsed dashboard body."""
    widgets = body.get("widgets", [])
    rows = max((widget["y"] + widget["height"] for widget in widgets), default=1)
    width = 2 * MARGIN_PX + GRID_COLUMNS * COLUMN_PX
    height = HEADER_PX + rows * ROW_PX + MARGIN_PX
    heading = f"Dashboard {name}" if name else "Dashboard"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(heading)}</title>",
        "<style>"
        ".widget{stroke:#8d99a8;stroke-width:1}"
        f".title{{font:bold {TITLE_PX}px sans-serif;fill:#16191f}}"
        f".detail{{font:{TEXT_PX}px monospace;fill:#414750}}"
        f".place{{font:{TEXT_PX}px sans-serif;fill:#687078}}"
        ".heading{font:bold 15px sans-serif;fill:#16191f}"
        ".ruler{font:10px sans-serif;fill:#687078}"
        "</style>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        _text(MARGIN_PX, 20, f"{heading} (CloudWatch grid of {GRID_COLUMNS} columns)", "heading"),
    ]
    for column in range(0, GRID_COLUMNS + 1, 6):
        parts.append(_text(MARGIN_PX + column * COLUMN_PX, HEADER_PX - 6, f"x {column}", "ruler"))
    parts.extend(_widget(index, widget) for index, widget in enumerate(widgets))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg(environment: str = "dev") -> str:
    """Return the SVG picture of one environment's dashboard, built from the stack definition."""
    name, body = dashboard_definition(environment)
    return render(body, name)


def write(path: Path = DEFAULT_PATH, environment: str = "dev") -> Path:
    """Write the dashboard picture to ``path`` and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg(environment), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
