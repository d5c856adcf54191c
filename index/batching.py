"""Batches for the encoder: texts tokenized once, sorted by token length, packed by a token budget.

Sorting makes each batch's texts about as long as each other, so little of a batch is padding;
a budget of padded tokens (rather than a count of texts) gives long texts smaller batches and
short ones larger. Texts are tokenized a window at a time, so a background thread can tokenize
and pad the next batches while the model computes on this one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

Tokenize = Callable[[list[str]], dict[str, list[list[int]]]]

WINDOW = 4096  # texts tokenized and sorted together


@dataclass(frozen=True)
class Batch:
    rows: np.ndarray  # each text's place in the input
    features: dict[str, np.ndarray]  # padded int64 arrays, one row per text

    @property
    def padded_tokens(self) -> int:
        return int(np.prod(self.features["input_ids"].shape))


def token_batches(
    texts: list[str],
    tokenize: Tokenize,
    pad_values: dict[str, int],
    budget: int,
    pad_left: bool = False,
    window: int = WINDOW,
) -> Iterator[Batch]:
    """Every text once, longest first within each window, at most `budget` padded tokens a
    batch (a text longer than the budget alone)."""
    for start in range(0, len(texts), window):
        encoded = tokenize(texts[start : start + window])
        lengths = np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        for picked in pack(lengths[order], budget):
            rows = order[picked]
            features = {
                name: pad([sequences[i] for i in rows], lengths[rows], _pad_value(pad_values, name),
                          pad_left)
                for name, sequences in encoded.items()
            }  # fmt: skip
            yield Batch(rows + start, features)


def pack(descending_lengths: np.ndarray, budget: int) -> Iterator[slice]:
    """Consecutive slices whose count x first (longest) length stays within the budget."""
    start, n = 0, len(descending_lengths)
    while start < n:
        per_batch = max(1, budget // max(1, int(descending_lengths[start])))
        yield slice(start, min(n, start + per_batch))
        start += per_batch


def pad(sequences: list[list[int]], lengths: np.ndarray, value: int, left: bool) -> np.ndarray:
    """Sequences of the given lengths as one (n, longest) array, filled with `value`."""
    width = int(lengths.max()) if len(lengths) else 0
    out = np.full((len(sequences), width), value, dtype=np.int64)
    for row, (sequence, length) in enumerate(zip(sequences, lengths, strict=True)):
        if left:
            out[row, width - length :] = sequence
        else:
            out[row, :length] = sequence
    return out


def _pad_value(pad_values: dict[str, int], name: str) -> int:
    if name not in pad_values:
        raise ValueError(f"the tokenizer returned {name!r}, which the encoder does not know")
    return pad_values[name]


def prefetched(batches: Iterator, depth: int = 4) -> Iterator:
    """The same items, produced by a background thread up to `depth` ahead of the consumer.
    An error in the producer is raised in the consumer; a consumer that stops early stops it."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in batches:
                if not _put(items, item, stop):
                    return
            _put(items, done, stop)
        except BaseException as exc:  # handed to the consumer, which raises it
            _put(items, _Failure(exc), stop)

    thread = threading.Thread(target=produce, name="encoder-batches", daemon=True)
    thread.start()
    try:
        while (item := items.get()) is not done:
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


@dataclass(frozen=True)
class _Failure:
    error: BaseException


def _put(items: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            items.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
