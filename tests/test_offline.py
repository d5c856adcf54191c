"""Nothing downloads at run time, and importing the packages loads nothing heavy."""

import subprocess
import sys

from index.tokens import seed_tiktoken_cache
from tests.conftest import ROOT

NO_NETWORK = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
              "HF_HUB_OFFLINE": "1"}  # fmt: skip


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env}, timeout=120,
    )  # fmt: skip


def test_tiktoken_encodings_load_from_the_seeded_cache_without_network(tmp_path):
    written = seed_tiktoken_cache(tmp_path)
    assert len(written) == 2
    assert seed_tiktoken_cache(tmp_path) == []  # already there: nothing rewritten
    code = (
        "import tiktoken\n"
        "print(tiktoken.get_encoding('cl100k_base').encode('hello world'))\n"
        "print(len(tiktoken.get_encoding('o200k_base').encode('hello world')))"
    )
    result = _python(code, TIKTOKEN_CACHE_DIR=str(tmp_path), **NO_NETWORK)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[15339,", "1917]", "2"]


def test_the_model_loads_offline_from_the_package():
    code = (
        "from index.embedder import Embedder\n"
        "e = Embedder()\n"
        "print(e.encode(['identity cards']).shape, e.name)"
    )
    result = _python(code, **NO_NETWORK)
    assert result.returncode == 0, result.stderr
    assert "(1, 384) sentence-transformers/all-MiniLM-L6-v2" in result.stdout


def test_importing_the_packages_loads_no_torch_faiss_or_model():
    code = (
        "import sys, index, index.builder, index.reader, assistant, assistant.api, "
        "assistant.cli, assistant.retriever\n"
        "print(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'bm25s') "
        "if m in sys.modules))"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
