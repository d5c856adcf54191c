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

    def subject_at(self, column: int) -> str | None:
        """'Share spent, Digital identity and signing': the column's header and the row's label."""
        if column <= 0 or column >= len(self.header) or not self.header[column]:
            return None
        label = self.cells[0]
        return f"{self.header[column]}, {label}" if label else self.header[column]


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


def embedding_text(sentence: str, rows: dict[str, TableRow]) -> str:
    """What a sentence is encoded as: a table row with its header line before it."""
    row = rows.get(sentence.strip())
    return f"{row.header_line}\n{sentence}" if row else sentence


def _cells(line: str) -> tuple[str, ...] | None:
    if "\n" in line or line.count("|") < 1:
        return None
    cells = tuple(cell.strip() for cell in line.split("|"))
    return cells if len(cells) >= 2 else None
