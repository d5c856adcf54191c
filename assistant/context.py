"""Pack the best passages into a token budget, for clients that feed their own language model.

Tokens are counted with tiktoken (its encodings load from the seeded offline cache, see
index/tokens.py). Passages go in rank order, each under a citation label; one that does not fit
whole is left out and the next, shorter one is tried, so no passage is ever cut mid-way, unless
not even the best one fits, which is then cut at a token boundary and marked `truncated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from index.tokens import ENCODINGS as SEEDED
from index.types import Passage

ENCODINGS = tuple(SEEDED)  # the encodings seeded into the offline cache, and no others
SEPARATOR = "\n\n"


@dataclass
class Packed:
    label: str  # "[1]": how the client's model should cite it
    passage: Passage
    tokens: int  # of this block (label line + text), separator excluded
    truncated: bool = False


@dataclass
class Context:
    text: str
    packed: list[Packed]
    tokens: int  # exact count of `text` in `encoding`
    encoding: str


@lru_cache(maxsize=len(ENCODINGS))
def encoding(name: str):
    import tiktoken

    if name not in ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; choose one of {', '.join(ENCODINGS)}")
    return tiktoken.get_encoding(name)


def block_of(label: str, passage: Passage) -> str:
    when = f", {passage.date.isoformat()}" if passage.date else ""
    return f"{label} {passage.title}{when}\n{passage.text}"


def pack(passages: list[Passage], max_tokens: int, encoding_name: str = "cl100k_base") -> Context:
    enc = encoding(encoding_name)
    separator = len(enc.encode(SEPARATOR))
    packed: list[Packed] = []
    used = 0
    for passage in passages:
        label = f"[{len(packed) + 1}]"
        cost = len(enc.encode(block_of(label, passage)))
        extra = separator if packed else 0
        if used + extra + cost <= max_tokens:
            packed.append(Packed(label, passage, cost))
            used += extra + cost
    if not packed and passages:
        packed.append(_cut_to_fit(passages[0], max_tokens, enc))
    text = SEPARATOR.join(block_of(p.label, p.passage) for p in packed)
    return Context(text, packed, len(enc.encode(text)), encoding_name)


def _cut_to_fit(passage: Passage, max_tokens: int, enc) -> Packed:
    """The best passage alone is over budget: keep its head, cut at a token boundary."""

    def cost(text: str) -> int:
        return len(enc.encode(block_of("[1]", passage.model_copy(update={"text": text}))))

    keep = enc.encode(passage.text)[: max(0, max_tokens - cost(""))]
    text = enc.decode(keep)
    while text and cost(text) > max_tokens:  # re-encoding a cut can merge tokens differently
        keep = keep[:-1]
        text = enc.decode(keep)
    return Packed("[1]", passage.model_copy(update={"text": text}), cost(text), truncated=True)
