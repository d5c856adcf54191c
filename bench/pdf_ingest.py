"""PDF ingest speed in pages per second: text extraction alone, and the whole build end to end.

A PDF of N pages is made with fpdf2 from the real corpus's paragraphs (seeded), a ruled table on
every T-th page (0: none), a running header and a page-number footer. One run:

1. reading it (`index.formats.read_file`: PDFium's text layer, pdfplumber on pages with drawn
   rules, running lines dropped), best of three;
2. `build_index` on a corpus of that one PDF, end to end (read, clean, split, figures, embed
   chunks and sentences, write, publish), the model loaded beforehand.

Prints pages/s for each and the share of the build that reading takes. Reports; never asserts.

    .venv/bin/python bench/pdf_ingest.py [--pages 40] [--table-every 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent)]

from index.builder import build_index  # noqa: E402
from index.embedder import Embedder  # noqa: E402
from index.formats import read_file  # noqa: E402
from index.loader import load_corpus  # noqa: E402
from index.settings import Settings  # noqa: E402


def paragraphs() -> list[str]:
    texts = [d.text for d in load_corpus(BENCH.parent / "docs_corpus")]
    found = [p for t in texts for p in t.split("\n\n") if len(p) > 200 and p.isascii()]
    random.Random(7).shuffle(found)
    return found


def make_pdf(pages: int, table_every: int = 5) -> bytes:
    from fpdf import FPDF

    class Report(FPDF):
        def header(self):
            self.cell(0, 8, "Steering Committee Report", new_x="LMARGIN", new_y="NEXT")

        def footer(self):
            self.set_y(-15)
            self.cell(0, 8, f"Page {self.page_no()} of {pages}", align="C")

    pdf = Report()
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=10)
    texts = iter(paragraphs() * 10)
    for n in range(pages):
        pdf.add_page()
        if table_every and n % table_every == table_every - 1:
            with pdf.table() as table:
                for row in [["Ward", "Appointments", "Online"]] + [
                    [f"Ward {i}", f"{1000 + 37 * i:,}", f"{40 + i}%"] for i in range(8)
                ]:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
        while pdf.get_y() < 240:
            pdf.multi_cell(0, 5, next(texts), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    return bytes(pdf.output())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--table-every", type=int, default=5, help="0: no tables")
    args = parser.parse_args()
    raw = make_pdf(args.pages, args.table_every)
    reads = []
    for _ in range(3):
        started = time.perf_counter()
        read_file(raw, ".pdf", "report.pdf", max_pages=args.pages)
        reads.append(time.perf_counter() - started)
    read = min(reads)
    embedder = Embedder()
    embedder.encode(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / "report.pdf").write_bytes(raw)
        settings = Settings.from_env(environ={}, corpus_dir=corpus, data_dir=Path(tmp) / "data",
                                     max_pdf_pages=args.pages)  # fmt: skip
        started = time.perf_counter()
        build_index(settings, embedder=embedder)
        build = time.perf_counter() - started
    tables = f"a ruled table every {args.table_every} pages" if args.table_every else "no tables"
    print(f"# PDF ingest, {args.pages} pages, {tables} ({len(raw) / 1024:.0f} KiB)\n")
    print("| step | seconds | pages/s |\n|---|---|---|")
    print(f"| text extraction (read_file, best of 3) | {read:.2f} | {args.pages / read:.1f} |")
    print(f"| end to end (build_index) | {build:.2f} | {args.pages / build:.2f} |")
    print(f"\nextraction is {100 * read / build:.1f}% of the end-to-end time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
