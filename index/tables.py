"""Tables in cleaned document text: each body row with its table's header row.

Cleaning writes a Markdown table one row per paragraph, cells joined by ' | ' (outer pipes and
the '---' rule dropped). A row alone ('Jeju | 39,600 | 6.9% | up 71%') does not say what its
numbers measure; its header does. Figures read from a row take their column's header and the
row's label as their subject, their date from the caption or the header when the row gives none
('Table 3. Results by ward, 2023'), and a row's sentence vector is encoded with the header
before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAGRAPHS = re.compile(r"\n\s*\n")
_NUMERIC = re.compile(r"^[\d\s.,%+\-−–]*$")  # a cell that is only a number (or empty)
_RANK_HEADER = re.compile(r"\b(rank(ing)?|position|place)\b", re.IGNORECASE)
_PERCENT_HEADER = re.compile(r"%|\bper\s?cent\b", re.IGNORECASE)
_CAPTION_CHARS = 120  # a longer paragraph before a table is text about it, not its caption


@dataclass(frozen=True)
class TableRow:
    header: tuple[str, ...]
    cells: tuple[str, ...]
    caption: str = ""  # the paragraph just before the header row ('Table 3. Results, 2023')

    @property
    def header_line(self) -> str:
        return " | ".join(self.header)

    def column_of(self, offset: int, row: str) -> int:
        """The cell (0-based) that character `offset` of the row's text falls in."""
        return row[:offset].count("|")

    @property
    def label_column(self) -> int:
        """The cell that names the row: the first that is not a number ('| 11 | Austria |')."""
        return next((i for i, cell in enumerate(self.cells) if not _NUMERIC.match(cell)), 0)

    @property
    def label(self) -> str:
        return self.cells[self.label_column]

    def header_of(self, column: int) -> str | None:
        """The header of a cell's column; None for the label's column or one without a header."""
        if column == self.label_column or not 0 <= column < len(self.header):
            return None
        return self.header[column] or None

    def unit_of(self, column: int) -> str | None:
        """A unit the column's header gives its bare numbers: 'rank' under 'Rank 2022 (of 24)',
        '%' under 'Share online (%)'."""
        header = self.header_of(column) or ""
        if _RANK_HEADER.search(header):
            return "rank"
        if _PERCENT_HEADER.search(header):
            return "%"
        return None

    def subject_at(self, column: int) -> str | None:
        """'Share spent, Digital identity and signing': the column's header and the row's label."""
        header = self.header_of(column)
        if header is None:
            return None
        return f"{header}, {self.label}" if self.label else header


def table_rows(text: str) -> dict[str, TableRow]:
    """Every body row of the text's tables, by its text (stripped), with its header."""
    rows: dict[str, TableRow] = {}
    header: tuple[str, ...] | None = None
    caption = before = ""
    for paragraph in _PARAGRAPHS.split(text):
        line = paragraph.strip()
        cells = _cells(line)
        if cells is None:
            header, before = None, line if len(line) <= _CAPTION_CHARS else ""
        elif header is not None and len(cells) == len(header):
            rows[line] = TableRow(header, cells, caption)
        else:
            header, caption = cells, before  # a new table starts with its header row
            before = ""
    return rows


def missing_header(passage: str, rows: dict[str, TableRow]) -> str | None:
    """The caption and header row of each table whose body rows the passage holds without its
    header (a chunk that starts mid-table), one paragraph each; None when it lacks none."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(passage)]
    held = set(paragraphs)
    found: list[str] = []
    for row in (rows[p] for p in paragraphs if p in rows):
        if row.header_line not in held:
            for part in (row.caption, row.header_line):
                if part and part not in found and part not in held:
                    found.append(part)
    return "\n\n".join(found) or None


def embedding_text(sentence: str, rows: dict[str, TableRow]) -> str:
    """What a sentence is encoded as: a table row with its header line before it."""
    row = rows.get(sentence.strip())
    return f"{row.header_line}\n{sentence}" if row else sentence


def _cells(line: str) -> tuple[str, ...] | None:
    if "\n" in line or line.count("|") < 1:
        return None
    cells = tuple(cell.strip() for cell in line.split("|"))
    return cells if len(cells) >= 2 else None
