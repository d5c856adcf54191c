"""Ruled tables on a PDF page, read from PDFium alone: the drawn lines give the grid, the text
layer each cell's text.

The grid comes from pdfplumber's table algorithm (`TableFinder`: edges merged, their
intersections, the cells between them, cells grouped into tables), fed with the page's straight
line segments as PDFium reads them. pdfplumber's own page parse (every character through
pdfminer, ~130 ms a dense page) is never run: the same tables come out about ten times faster
(bench/pdf_ingest.py).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

_STRAIGHT = 0.5  # points: a segment this close to level (or plumb) is a horizontal (vertical) rule
_MIN_RULE = 1.0  # points: shorter segments are the ends of a thin filled bar, not rules
_MIN_ROWS = 2  # a header and at least one row


@dataclass(frozen=True)
class RuledTable:
    top: float  # points from the page's top, as pdfplumber counts
    bottom: float
    rows: list[list[str | None]]  # None for a cell a merged cell covers


class _Ruling:
    """What pdfplumber's TableFinder reads of a page: its ruling edges and its box."""

    def __init__(self, edges: list[dict], width: float, height: float):
        self.edges = edges
        self.bbox = (0.0, 0.0, width, height)


def ruled_tables(page, text) -> list[RuledTable]:
    """The page's ruled tables of two rows or more, top to bottom; `text` is its textpage."""
    from pdfplumber.table import TableFinder

    width, height = page.get_width(), page.get_height()
    found = []
    for table in TableFinder(_Ruling(_rules(page, height), width, height)).tables:
        rows = [[_cell_text(text, cell, height) for cell in row.cells] for row in table.rows]
        if len(rows) >= _MIN_ROWS:
            found.append(RuledTable(table.bbox[1], table.bbox[3], rows))
    return sorted(found, key=lambda t: t.top)


def _cell_text(text, cell: tuple[float, float, float, float] | None, height: float) -> str | None:
    if cell is None:
        return None
    x0, top, x1, bottom = cell  # PDFium counts from the page's bottom
    return " ".join(text.get_text_bounded(x0, height - bottom, x1, height - top).split())


def _rules(page, height: float) -> list[dict]:
    """Every straight horizontal or vertical segment the page's paths draw, as pdfplumber edges
    (top-down coordinates)."""
    import pypdfium2.raw as pdfium_c

    edges: list[dict] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    for obj in page.get_objects(max_depth=1):
        if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        a, b, c, d, e, f = obj.get_matrix().get()
        start = last = None
        for i in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
            segment = pdfium_c.FPDFPath_GetPathSegment(obj.raw, i)
            pdfium_c.FPDFPathSegment_GetPoint(segment, x, y)
            point = (a * x.value + c * y.value + e, b * x.value + d * y.value + f)
            kind = pdfium_c.FPDFPathSegment_GetType(segment)
            if kind == pdfium_c.FPDF_SEGMENT_LINETO and last is not None:
                edges += _edge(last, point, height)
            if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
                start = point
            last = point
            if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
                edges += _edge(last, start, height)
                last = start
    return edges


def _edge(p: tuple[float, float], q: tuple[float, float], height: float) -> list[dict]:
    (x0, y0), (x1, y1) = p, q
    if abs(y0 - y1) < _STRAIGHT and abs(x0 - x1) >= _MIN_RULE:
        left, right = sorted((x0, x1))
        top = height - y0
        return [{"x0": left, "x1": right, "top": top, "bottom": top, "width": right - left,
                 "height": 0.0, "orientation": "h", "object_type": "line"}]  # fmt: skip
    if abs(x0 - x1) < _STRAIGHT and abs(y0 - y1) >= _MIN_RULE:
        top, bottom = sorted((height - y0, height - y1))
        return [{"x0": x0, "x1": x0, "top": top, "bottom": bottom, "width": 0.0,
                 "height": bottom - top, "orientation": "v", "object_type": "line"}]  # fmt: skip
    return []
