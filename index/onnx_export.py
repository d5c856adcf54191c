"""The model's transformer exported to ONNX once, from the local weights, and run by onnxruntime.

sentence-transformers' own `backend="onnx"` goes through optimum-onnx, whose only release (0.1.0)
requires transformers<4.58 and fails to import beside transformers 5 (checked with 5.23), so the
export is done here with torch.onnx (its TorchScript exporter: no extra package, a few seconds),
and int8 weights with onnxruntime's dynamic quantization. Only the transformer runs in the graph;
the model's own pooling and normalization modules run after it, as with torch.

    <cache>/<model>-onnx/model.onnx        the same weights, fp32
    <cache>/<model>-onnx-int8/model.onnx   int8 weights (activations quantized as it runs)
    each beside export.json, which records the fingerprint of the weights it was made from:
    a folder whose fingerprint differs from the loaded model's is made again, never trusted;
    export.json also records the digest of the weights file, by which index/graph_encoder.py
    finds the graph without loading torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

GRAPH = "model.onnx"
RECORD = "export.json"
OUTPUT = "token_embeddings"
OPSET = 17
# Dynamic int8 quantization: int8 weights, per output channel, for the matrix products and the
# embedding tables. reduce_range keeps 7-bit weights, which avoids the u8 x s8 saturation that
# AVX2 machines without VNNI (like this project's) suffer with full-range int8.
INT8 = {"per_channel": True, "reduce_range": True, "op_types_to_quantize": ["MatMul", "Gather"]}


def export_folder(cache_dir: Path, name: str, variant: str) -> Path:
    return Path(cache_dir) / f"{_slug(name)}-{variant}"


def cached_graph(
    transformer: Any, name: str, variant: str, cache_dir: Path, weights_digest: str | None = None
) -> Path:
    """The ONNX file for this transformer module and variant ("onnx" or "onnx-int8"), exported
    (or quantized) into `cache_dir` only when no folder there matches these weights.
    `weights_digest` (of the weights file the module was loaded from) is recorded beside it, for
    the torch-free encoder (index/graph_encoder.py) to know the graph without loading torch."""
    fingerprint = weights_fingerprint(transformer)
    folder = export_folder(cache_dir, name, variant)
    if _matches(folder, fingerprint):
        _record_digest(folder, weights_digest)
        return folder / GRAPH
    if variant == "onnx":
        make = lambda target: _export(transformer, target)  # noqa: E731
    elif variant == "onnx-int8":
        fp32 = cached_graph(transformer, name, "onnx", cache_dir, weights_digest)
        make = lambda target: _quantize(fp32, target)  # noqa: E731
    else:
        raise ValueError(f"unknown ONNX variant {variant!r}")
    _publish(folder, fingerprint, variant, make, weights_digest)
    return folder / GRAPH


def open_session(graph: Path, threads: int = 0) -> Any:
    """An onnxruntime session on the CPU with `threads` intra-op threads (0: every core this
    process may use), one inter-op thread, and no spinning: a spinning pool steals the cores
    the rest of a request runs on."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


def weights_fingerprint(transformer: Any) -> str:
    """A digest of the module's parameter names, shapes, types and values."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    for key, tensor in sorted(transformer.state_dict().items()):
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{key}:{value.dtype}:{tuple(value.shape)}".encode())
        digest.update(value.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _matches(folder: Path, fingerprint: str) -> bool:
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("fingerprint") == fingerprint and (folder / GRAPH).is_file()


def _record_digest(folder: Path, weights_digest: str | None) -> None:
    """Add the weights file's digest to a graph's record made before it was recorded (written
    beside it and renamed over it: a reader sees the old record or the new one)."""
    record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    if weights_digest is None or record.get("weights_digest") == weights_digest:
        return
    record["weights_digest"] = weights_digest
    staged = folder / f".{RECORD}-{os.getpid()}"
    staged.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    staged.replace(folder / RECORD)


def _publish(
    folder: Path, fingerprint: str, variant: str, make, weights_digest: str | None = None
) -> None:
    """Make the graph in a temporary folder beside `folder`, then swap it in (a process killed
    halfway leaves no half-written graph; two processes exporting at once both end with one)."""
    import onnxruntime
    import torch

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    work.chmod(0o755)  # mkdtemp's 0700 would keep the cache from other users of the checkout
    try:
        make(work / GRAPH)
        record = {
            "fingerprint": fingerprint, "weights_digest": weights_digest, "variant": variant,
            "opset": OPSET,
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
            "quantization": INT8 if variant == "onnx-int8" else None,
        }  # fmt: skip
        (work / RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        old = folder.with_name(f".{folder.name}-old-{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            folder.rename(old)
        try:
            work.rename(folder)
        except OSError:  # another process published first: keep theirs if it is good
            if not _matches(folder, fingerprint):
                raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _export(transformer: Any, target: Path) -> None:
    import torch

    model = transformer.auto_model
    sample = transformer.tokenizer(
        ["an example", "a longer example sentence"], padding=True, return_tensors="pt"
    )
    names = list(sample.keys())

    class TokenEmbeddings(torch.nn.Module):  # positional inputs, the last hidden state out
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs, strict=True)), return_dict=False)[0]

    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, OUTPUT]}
    with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which needs
        # onnxscript and took ~9x longer here (18 s); this one is kept while it exports
        # correctly (tests/test_encoder_backends.py compares the vectors with torch's).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenEmbeddings().eval(), tuple(sample[n].cpu() for n in names), str(target),
            input_names=names, output_names=[OUTPUT], dynamic_axes=axes, opset_version=OPSET,
            dynamo=False,
        )  # fmt: skip


def _quantize(fp32: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It advises "pre-processing" (meant for static quantization) through logging.warning, which
    # would also configure the root logger for the whole process: give root a handler that
    # drops records, and a level that drops the warning, while it runs.
    root, quiet = logging.getLogger(), logging.NullHandler()
    level = root.level
    root.addHandler(quiet)
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(fp32, target, weight_type=QuantType.QInt8, **INT8)
    finally:
        root.setLevel(level)
        root.removeHandler(quiet)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def main() -> int:
    """`python -m index.onnx_export`: make the configured backend's graph now (`make install`
    runs it), so that neither `reformqa index build` nor a server's start pays for it."""
    from index.embedder import Embedder
    from index.settings import Settings

    settings = Settings.from_env()
    if settings.embed_backend == "torch":
        print("REFORMQA_EMBED_BACKEND=torch: no ONNX graph to make")
        return 0
    embedder = Embedder.from_settings(settings)
    embedder.warm_up()
    folder = export_folder(settings.onnx_cache_dir, embedder.model_name, settings.embed_backend)
    print(f"{settings.embed_backend} graph of {embedder.model_name}: {folder / GRAPH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
