"""The /v1 contract as checked into the repo: docs/openapi.json.

    python -m assistant.api.openapi            # rewrite docs/openapi.json from the code
    python -m assistant.api.openapi --check    # exit 1 when the code's schema differs from it

A test runs the check, so the contract cannot change without the file (and its review) changing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def live_schema() -> dict:
    from assistant.api.app import RetrieverSlot, create_app
    from index.settings import Settings

    return create_app(Settings(), slot=RetrieverSlot()).openapi()


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    current = render(live_schema())
    if "--check" in argv:
        if not SNAPSHOT.is_file() or SNAPSHOT.read_text(encoding="utf-8") != current:
            print(f"{SNAPSHOT} is out of date: run `python -m assistant.api.openapi`")
            return 1
        return 0
    SNAPSHOT.write_text(current, encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
