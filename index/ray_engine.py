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
    with _ray_running(ray), _quiet_data_context(ray):
        gpu = settings.device.startswith("cuda")
        actors = _actor_count(ray, gpu)
        dataset = ray.data.from_items(
            [{"row": row, "text": text} for row, text in enumerate(texts)],
            override_num_blocks=min(len(texts), actors * 4),
        )
        encoded = dataset.map_batches(
            _EncodeBatch,
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
        batches = encoded.iter_batches(batch_size=None, batch_format="numpy")
        return _in_input_order(batches, len(texts))


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
