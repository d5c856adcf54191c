"""Figures and questions read into the same slots: what is measured, by which event, at which
level of government, when, and in what role (a target or a result, a part or a total, a change,
a rank, a score, an average, a baseline).

Hand rules over the figure's clause and the question's words (eval/reports/parser-compare.md
measured spaCy's parser against the hand figure rules: it lost on every slot it could be scored
on). The API's `explain` shows both readings side by side. As decision features, slot against
slot, they did not beat the features the model already has (out of fold on dev: top-1 0.614
with all eleven against 0.617 without, right-minus-wrong 118 against 119, no single one clearly
above noise), so the model does not use them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.features import clause_around
from assistant.question import Question
from assistant.tuning import LEAD_CHARS
from index.types import Figure

_LEVELS = (
    ("national", r"nation(al|wide)|country-?wide|across\s+the\s+country|the\s+whole\s+country"),
    ("international", r"EU27|EU\s+average|OECD|across\s+(the\s+)?\d+\s+(countries|economies)|"
                      r"global(ly)?|world-?wide"),
    ("province", r"provinc(e|es|ial)|state-?level"),
    ("district", r"district(s|-level)?|county|counties"),
    ("commune", r"communes?|wards?|village|commune-level"),
    ("municipal", r"municipal(ity|ities)?|city\s+hall|local\s+government"),
    ("ministry", r"ministr(y|ies)|ministerial|central\s+agenc(y|ies)|departments?"),
)  # fmt: skip
_LEVEL = [(name, re.compile(rf"\b({pattern})\b", re.IGNORECASE)) for name, pattern in _LEVELS]
_ROLE_WORDS = {
    "target": r"target(s|ed)?|goals?|aim(s|ed|ing)?|plan(s|ned)?|expect(s|ed)?|forecasts?|"
              r"project(ed|ion)|intend(s|ed)?|will|would",
    "average": r"average[sd]?|avg|mean|median|per\s+(capita|person|month|year|day)",
    "score": r"scor(e|es|ed|ing)|index|rating|rated|points?",
    "total": r"total(led|ling)?|in\s+all|altogether|overall|combined|whole",
    "baseline": r"from|compared\s+(with|to)|against|than|previous(ly)?|a\s+year\s+earlier",
}  # fmt: skip
_ROLE = {name: re.compile(rf"\b({p})\b", re.IGNORECASE) for name, p in _ROLE_WORDS.items()}
_ASKED_ROLE = {
    **_ROLE,
    "rank": re.compile(r"\b(rank(ed|s|ing)?|position|place[ds]?)\b", re.IGNORECASE),
    "part": re.compile(r"\b(of\s+(whom|which|them)|how\s+many\s+of)\b", re.IGNORECASE),
}
_IRREGULAR_VERBS = {
    "rose", "fell", "grew", "cut", "made", "held", "won", "spent", "paid", "got", "took", "gave",
    "saw", "hit", "stood", "sold", "built", "set", "lost", "went", "came", "put", "kept", "met",
}  # fmt: skip
_VERB = re.compile(r"\b([a-z]{3,}ed|[a-z]+ing)\b")
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_MEASURED = re.compile(
    r"\b(?:number|share|percentage|proportion|amount|total|rate|count|value|level)\s+of\s+"
    r"((?:[\w-]+\s+){0,3}[\w-]+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Slots:
    measure: frozenset[str]  # words of what is counted or measured
    event: frozenset[str]  # the verbs around it ('issued', 'rose')
    level: str | None  # national, international, province, district, commune, municipal, ministry
    year: int | None
    roles: frozenset[str]  # target, average, score, total, baseline, rank, part, change


def figure_slots(f: Figure) -> Slots:
    """A figure's slots, from its own fields and its clause."""
    lead, after = clause_around(f)
    clause = f"{lead} {after}"
    unit = (f.unit or "").lower()
    measure = set(_words(f.subject or ""))
    if unit and unit not in ("%", "points", "rank"):
        measure.add(unit)
    roles = {name for name, rule in _ROLE.items() if name != "baseline" and rule.search(clause)}
    if _ROLE["baseline"].search(lead[-LEAD_CHARS:]):
        roles.add("baseline")
    if unit == "rank":
        roles.add("rank")
    if f.of_total is not None and unit != "rank":
        roles.add("part")
    if f.change:
        roles.add("change")
    years = [int(m.group()) for m in _YEAR.finditer(clause)]
    year = years[-1] if years else (f.as_of.year if f.as_of else None)
    level = _level(clause, len(lead)) or _level(f.sentence, f.sentence.find(f.text))
    return Slots(frozenset(measure), _events(clause), level, year, frozenset(roles))


def question_slots(q: Question) -> Slots:
    measure = set(_words(q.counted or ""))
    for match in _MEASURED.finditer(q.text):
        measure |= set(_words(match.group(1)))
    roles = {name for name, rule in _ASKED_ROLE.items() if rule.search(q.text)}
    if q.wants_change:
        roles.add("change")
    year = q.time.year if q.time is not None else None
    return Slots(frozenset(measure), _events(q.text), _level(q.text), year, frozenset(roles))


def _events(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z]+", text.lower())
    verbs = [w for w in words if w in _VERBS or _VERB.fullmatch(w)]
    return frozenset(verbs)


def _words(text: str) -> list[str]:
    """Content words, lowercased: 'the electronic ID cards' -> electronic, id, cards."""
    return [w for w in re.findall(r"[a-z][\w-]*", text.lower()) if w not in _STOP and len(w) > 1]


_STOP = {"the", "a", "an", "of", "and", "or", "for", "to", "in", "on", "with", "from", "by",
         "that", "this", "its", "their", "all", "new"}  # fmt: skip


_VERBS = _IRREGULAR_VERBS | {
    "issue", "issues", "process", "register", "registers", "receive", "receives", "handle",
    "handles", "record", "records", "reach", "reaches", "cut", "abolish", "simplify", "merge",
    "spend", "spends", "save", "saves", "cost", "costs", "serve", "serves", "use", "uses",
    "submit", "employ", "employs", "train", "enrol", "complete", "provide", "provides", "sign",
}  # fmt: skip


def _level(text: str, at: int | None = None) -> str | None:
    """The level named 'at ... level', else the one named nearest `at` (the figure), else first."""
    found = [(m.start(), name) for name, rule in _LEVEL for m in rule.finditer(text)]
    if not found:
        return None
    stated = [(p, n) for p, n in found if re.match(r"[\w-]*[- ]level", text[p:])]
    if stated:
        return stated[0][1]
    if at is None:
        return min(found)[1]
    return min(found, key=lambda pn: abs(pn[0] - at))[1]
