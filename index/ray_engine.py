"""Encode texts with Ray Data: the vectors `Embedder.encode` gives, computed by a pool of actors.

`reformqa index build --engine ray` sends chunk and sentence texts here. Each actor loads its own
`Embedder` (on one GPU each when the device is CUDA, else on CPU); rows carry their position, so
the result is in input order whatever order Ray finishes the batches in. Ray is imported only
here, and only when this engine is chosen: it is an optional extra (`pip install -e '.[ray]'`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from index.embedder import Embedder
from index.errors import ReformQAError

if TYPE_CHECKING:
    from index.settings import Settings

# Ray's variables for a Ray started here: no usage report; the node on loopback (Ray's switch
# for that is named after Windows and macOS, where it is the default; on Linux a local node
# otherwise finds its LAN address through a route lookup towards 8.8.8.8 and listens there);
# token auth, Ray's default for a new local cluster, set so that Ray does not warn about it.
_LOCAL_RAY_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_AUTH_MODE": "token",
}


class RayNotInstalled(ReformQAError):
    """The ray engine was chosen but Ray Data is not installed."""


class RayUnavailable(ReformQAError):
    """Ray could not start here, or the cluster at RAY_ADDRESS could not be joined."""


def encode_with_ray(texts: list[str], settings: Settings, rows_per_batch: int = 256) -> np.ndarray:
    """(len(texts), dim) float32 L2-normalized vectors, row i for texts[i]."""
    ray = _import_ray()
    if not texts:
        return Embedder.from_settings(settings).encode([])
    items = [{"row": row, "text": text} for row, text in enumerate(texts)]
    with _ray_running(ray), _quiet_data_context(ray):
        batches = _mapped(ray, items, _EncodeBatch, settings, rows_per_batch)
        return _in_input_order(batches, len(texts))


def pool_with_ray(
    texts: list[str], spans: list[tuple[int, int, int]], settings: Settings,
    rows_per_batch: int = 256,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """`Embedder.encode_with_spans` computed by the actors, each text sent with its spans; a
    span an actor could not pool (no token states there) has zeros and False."""
    ray = _import_ray()
    of_text: list[list[int]] = [[] for _ in texts]
    for j, (text, _, _) in enumerate(spans):
        of_text[text].append(j)
    items = [
        {"row": row, "text": text, "spans": [n for j in of_text[row] for n in spans[j][1:]]}
        for row, text in enumerate(texts)
    ]
    with _ray_running(ray), _quiet_data_context(ray):
        batches = list(_mapped(ray, items, _PoolBatch, settings, rows_per_batch))
    vectors = _in_input_order(batches, len(texts))
    pooled = np.zeros((len(spans), vectors.shape[1]), dtype=np.float32)
    found = np.zeros(len(spans), dtype=bool)
    for batch in batches:
        for row, flat, ok in zip(batch["row"], batch["pooled"], batch["found"], strict=True):
            pooled[of_text[row]] = np.asarray(flat, dtype=np.float32).reshape(-1, vectors.shape[1])
            found[of_text[row]] = np.asarray(ok, dtype=bool)
    return vectors, pooled, found


class RayEncoder:
    """What `embed_chunks_and_sentences` asks of an embedder, for pooled sentences: the chunks'
    pass, pooling their sentences, on the actors; the few sentences left, here."""

    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings, self.embedder = settings, embedder

    def encode_with_spans(
        self, texts: list[str], spans: list[tuple[int, int, int]], progress=None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        found = pool_with_ray(texts, spans, self.settings)
        if progress is not None:
            progress(len(texts))
        return found

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        return self.embedder.encode(texts, progress)


def _mapped(ray, items: list[dict], actor: type, settings: Settings, rows_per_batch: int):
    """The items' batches as the actors return them, in any order."""
    gpu = settings.device.startswith("cuda")
    actors = _actor_count(ray, gpu)
    dataset = ray.data.from_items(items, override_num_blocks=min(len(items), actors * 4))
    encoded = dataset.map_batches(
        actor,
        # Inside an actor its one GPU is "cuda" (Ray sets CUDA_VISIBLE_DEVICES for it).
        # On CPU one actor per core, each with one thread: they do not fight over cores.
        fn_constructor_args=(settings.with_overrides(
            device="cuda" if gpu else "cpu", embed_threads=0 if gpu else 1
        ),),
        batch_size=rows_per_batch,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_gpus=1 if gpu else 0,
        num_cpus=1,
    )  # fmt: skip
    return encoded.iter_batches(batch_size=None, batch_format="numpy")


class _EncodeBatch:
    """One Ray actor: loads the model once, then encodes the batches it is given."""

    def __init__(self, settings: Settings):
        if settings.embed_backend == "torch" and settings.device == "cpu":
            import torch

            torch.set_num_threads(max(1, settings.embed_threads))
        self.embedder = Embedder.from_settings(settings)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.encode([str(text) for text in batch["text"]])
        return {"row": batch["row"], "vector": vectors}


class _PoolBatch(_EncodeBatch):
    """One Ray actor: texts' vectors, and their spans' (flat, as they came) pooled from them."""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        pairs = [np.asarray(flat, dtype=np.int64).reshape(-1, 2) for flat in batch["spans"]]
        spans = [(row, int(s), int(e)) for row, pair in enumerate(pairs) for s, e in pair]
        found = self.embedder.encode_with_spans(texts, spans)
        if found is None:  # no token states here: the texts' vectors only
            dimension = self.embedder.dimension
            found = (self.embedder.encode(texts), np.zeros((len(spans), dimension), np.float32),
                     np.zeros(len(spans), dtype=bool))  # fmt: skip
        vectors, pooled, ok = found
        cuts = np.cumsum([len(pair) for pair in pairs])[:-1]
        return {
            "row": batch["row"],
            "vector": vectors,
            "pooled": _ragged([part.ravel() for part in np.split(pooled, cuts)]),
            "found": _ragged(np.split(np.asarray(ok), cuts)),
        }


def _ragged(arrays: list[np.ndarray]) -> np.ndarray:
    """One row per array, of any lengths: an object array (Ray keeps it as a ragged column)."""
    column = np.empty(len(arrays), dtype=object)
    column[:] = arrays
    return column


def _in_input_order(batches, n: int) -> np.ndarray:
    """Batches of (row, vector) in any order -> the (n, dim) array with vector i in row i."""
    rows: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    for batch in batches:
        rows.append(np.asarray(batch["row"], dtype=np.int64))
        vectors.append(np.asarray(batch["vector"], dtype=np.float32))
    order = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    if len(order) != n or not np.array_equal(np.sort(order), np.arange(n)):
        raise RuntimeError(f"Ray returned {len(order)} rows for {n} texts, not each one once")
    result = np.empty((n, vectors[0].shape[1]), dtype=np.float32)
    result[order] = np.vstack(vectors)
    return result


def _import_ray():
    if "ray" not in sys.modules and not os.environ.get("RAY_ADDRESS"):
        # Read when Ray is imported, so set first; a variable the user set wins.
        for name, value in _LOCAL_RAY_ENV.items():
            os.environ.setdefault(name, value)
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayNotInstalled(
            "the ray engine needs Ray Data, which is not installed: pip install -e '.[ray]'"
        ) from exc
    return ray


def _actor_count(ray, gpu: bool) -> int:
    resources = ray.cluster_resources()
    if gpu:
        count = int(resources.get("GPU", 0))
        if count < 1:
            raise ReformQAError("REFORMQA_DEVICE asks for CUDA but the Ray cluster has no GPU")
        return count
    return max(1, int(resources.get("CPU", 1)))


@contextlib.contextmanager
def _ray_running(ray) -> Iterator[None]:
    """Use the Ray already running in this process, else start one, and stop only ours.

    RAY_ADDRESS (Ray's own variable, read by `ray.init`) joins an existing cluster; without it
    Ray starts on this machine, on loopback, with no dashboard and no usage report.
    """
    if ray.is_initialized():
        yield
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # the processes Ray starts inherit it
    options = {"log_to_driver": False, "logging_level": "warning", "include_dashboard": False}
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        options["num_cpus"] = os.cpu_count() or 1
    try:
        ray.init(**options)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, its own errors...
        where = f"the Ray cluster at RAY_ADDRESS={address}" if address else "a local Ray"
        raise RayUnavailable(f"could not start or join {where}: {exc}") from exc
    try:
        yield
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _quiet_data_context(ray) -> Iterator[None]:
    """No progress bars on the terminal while encoding; the caller's settings come back after."""
    context = ray.data.DataContext.get_current()
    saved = context.enable_progress_bars
    context.enable_progress_bars = False
    try:
        yield
    finally:
        context.enable_progress_bars = saved
