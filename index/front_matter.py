"""YAML front matter: read field by field, so a bad value is named by its file and its field.

'date: 2024-02-30' or 'title: !!int "abc"' make PyYAML raise plain ValueErrors from deep inside
its constructors; here every such failure becomes a BadDocument that says where it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from index.errors import BadDocument

FENCE = "---"
# Caps shared with the upload form: a title is a line, not a document
FIELD_MAX_CHARS = {"title": 500, "source": 500, "url": 2000, "language": 20}


def split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    """YAML between two '---' lines at the very top, as Jekyll and Hugo write it."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() == FENCE:
            break
    else:
        raise BadDocument(f"{name}: front matter starts with '---' but never closes")
    return read_fields("\n".join(lines[1:end]), name), "\n".join(lines[end + 1 :])


def read_fields(yaml_text: str, name: str) -> dict[str, Any]:
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise BadDocument(f"{name}: front matter is not valid YAML ({_first_line(exc)})") from exc
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        raise BadDocument(f"{name}: front matter must be a mapping of fields")
    constructor = yaml.SafeLoader("")
    fields: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(_construct(constructor, key_node, name, "a field name"))
        fields[key] = _construct(constructor, value_node, name, f"field {key!r}")
    return fields


def _construct(constructor: yaml.SafeLoader, node: yaml.Node, name: str, what: str) -> Any:
    try:
        return constructor.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError) as exc:
        written = getattr(node, "value", "")
        shown = f" {written!r}" if isinstance(written, str) else ""
        reason = _reason(node, exc)
        raise BadDocument(f"{name}: front matter {what}{shown} cannot be read ({reason})") from exc


def text_field(meta: dict[str, Any], key: str, name: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise BadDocument(f"{name}: front matter field {key!r} must be text")
    text = str(value).strip()
    limit = FIELD_MAX_CHARS.get(key)
    if limit is not None and len(text) > limit:
        raise BadDocument(
            f"{name}: front matter field {key!r} is {len(text):,} characters; the limit is {limit}"
        )
    return text or None


def date_field(meta: dict[str, Any], name: str) -> dt.date | None:
    value = meta.get("date")
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise BadDocument(
            f"{name}: front matter field 'date' {value!r} is not an ISO date (YYYY-MM-DD: {exc})"
        ) from exc


def _reason(node: yaml.Node, exc: Exception) -> str:
    """PyYAML's own words where it has some; for '!!timestamp "garbage"' it only trips over None."""
    if isinstance(exc, (AttributeError, TypeError)):
        return f"not a valid {node.tag.rsplit(':', 1)[-1]}"
    return _first_line(exc)


def _first_line(exc: Exception) -> str:
    return next((line.strip() for line in str(exc).split("\n") if line.strip()), type(exc).__name__)
