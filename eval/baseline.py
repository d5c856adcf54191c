"""The plain LangChain tutorial recipe, for comparison: what we must beat on every metric.

1000/200-character chunks (RecursiveCharacterTextSplitter, default separators), the same MiniLM
model, a flat FAISS inner-product index, and the answer = the first number in the top passage.
It never abstains. Built in memory from the corpus folder at the start of an eval run.
"""

from __future__ import annotations

import re
import time

import numpy as np

from assistant.answering import Result
from index.embedder import Embedder
from index.loader import load_corpus
from index.settings import Settings
from index.types import Answer, Figure, Passage

_FIRST_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class LangChainBaseline:
    def __init__(self, settings: Settings, embedder: Embedder, top_k: int = 10):
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        self.embedder = embedder
        self.top_k = top_k
        self.passages: list[Passage] = []
        for doc in load_corpus(settings.corpus_dir):
            cursor = 0
            for n, text in enumerate(splitter.split_text(doc.text)):
                start = max(0, doc.text.find(text, cursor))
                cursor = start + 1
                self.passages.append(
                    Passage(
                        id=f"{doc.id}#lc{n:04d}", doc_id=doc.id, title=doc.title,
                        source=doc.source, date=doc.date, text=text, score=0.0,
                        span=(start, start + len(text)),
                    )
                )  # fmt: skip
        vectors = embedder.encode([p.text for p in self.passages])
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def ask(self, question: str) -> Result:
        started = time.perf_counter()
        vector = self.embedder.encode([question])
        scores, ids = self.index.search(vector, self.top_k)
        passages = [
            self.passages[i].model_copy(update={"score": float(np.clip(s, 0, 1))})
            for s, i in zip(scores[0], ids[0], strict=True)
            if i >= 0
        ]
        answer = _first_number(passages)
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return Result(question, answer, passages, {"total": elapsed})


def _first_number(passages: list[Passage]) -> Answer:
    top = passages[0] if passages else None
    match = _FIRST_NUMBER.search(top.text) if top else None
    if top is None or match is None:
        return Answer(text="", abstained=False, confidence=1.0)
    raw = match.group()
    value = float(raw.replace(",", "")) if re.fullmatch(r"[\d,]+(\.\d+)?", raw) else float("nan")
    figure = Figure(value=value, text=raw, doc_id=top.doc_id, chunk_id=top.id)
    return Answer(
        text=top.text, abstained=False, confidence=1.0, figures=[figure], citations=[top.id]
    )
