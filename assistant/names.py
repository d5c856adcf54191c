"""The forms a proper name of a question may take in a document: 'Korean' is about Korea,
'Finnish' about Finland. Used to tell whether any document mentions what a question names."""

from __future__ import annotations

# demonyms whose country is not a suffix away (general knowledge, not read from any corpus)
IRREGULAR = {
    "finnish": "finland", "french": "france", "danish": "denmark", "dutch": "netherlands",
    "swedish": "sweden", "swiss": "switzerland", "british": "britain", "welsh": "wales",
    "irish": "ireland", "scottish": "scotland", "english": "england", "spanish": "spain",
    "polish": "poland", "norwegian": "norway", "greek": "greece", "thai": "thailand",
    "filipino": "philippines", "philippine": "philippines", "vietnamese": "vietnam",
    "chinese": "china", "japanese": "japan", "portuguese": "portugal", "turkish": "turkey",
    "czech": "czechia", "icelandic": "iceland", "lao": "laos", "burmese": "myanmar",
    "emirati": "emirates", "saudi": "saudi", "kiwi": "zealand", "kiwis": "zealand",
    "peruvian": "peru", "belgian": "belgium", "ukrainian": "ukraine", "israeli": "israel",
    "pakistani": "pakistan", "bangladeshi": "bangladesh", "nepali": "nepal", "omani": "oman",
    "qatari": "qatar", "kuwaiti": "kuwait", "iraqi": "iraq", "yemeni": "yemen",
}  # fmt: skip
_SUFFIXES = (
    ("ians", "ia"), ("ian", "ia"), ("ian", ""), ("ian", "y"), ("ans", ""), ("ans", "a"),
    ("an", "a"), ("an", ""), ("an", "o"), ("an", "y"), ("ns", ""), ("n", ""), ("s", ""),
    ("ese", ""), ("ese", "a"), ("", "y"),
    # and the other way: 'Colombia' is written 'Colombian' in a document, 'Italy' 'Italian'
    ("a", "an"), ("y", "ian"), ("", "n"), ("", "ian"), ("", "ese"),
)  # fmt: skip


def name_forms(name: str) -> tuple[str, ...]:
    """The name, then the country or place a demonym points at ('korean' -> 'korea')."""
    low = name.lower()
    forms = [low]
    if low in IRREGULAR:
        forms.append(IRREGULAR[low])
    for suffix, replacement in _SUFFIXES:
        stem = low[: len(low) - len(suffix)]
        if low.endswith(suffix) and len(stem) >= 4:
            forms.append(stem + replacement)
    return tuple(dict.fromkeys(forms))
