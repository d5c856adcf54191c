"""Is the question in a language the assistant can read? The documents, the embedding model and
the question reading are English; a question in Vietnamese (the officials' own language) or in
another script would get unrelated passages with a confident score, so it is declined by name.

A few Vietnamese place names in an English question ("How many ID cards in Hà Nội?") are English.
"""

from __future__ import annotations

import re
import unicodedata

_VIETNAMESE = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")
_SCRIPT_NAMES = {"CJK": "CJK (Chinese or Japanese)", "HANGUL": "Hangul (Korean)"}
FOREIGN_SHARE = 0.4  # of the words: above it, the question is not in English


def unreadable_language(text: str) -> str | None:
    """The language or script the question is written in when it is not English; else None."""
    words = _WORD.findall(text)
    if not words:
        return None
    vietnamese = sum(bool(_VIETNAMESE.search(w)) for w in words)
    if vietnamese / len(words) >= FOREIGN_SHARE:
        return "Vietnamese"
    scripts = [_script(w) for w in words]
    foreign = [s for s in scripts if s != "LATIN"]
    if len(foreign) / len(words) >= FOREIGN_SHARE:
        script = max(set(foreign), key=foreign.count)
        return f"{_SCRIPT_NAMES.get(script, script.title())} script"
    return None


def _script(word: str) -> str:
    name = unicodedata.name(word[0], "")
    return name.split(" ")[0] if name else "UNKNOWN"
