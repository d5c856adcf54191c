"""Every hand-set constant of the answering stages, in one place.

The decision between candidates and whether to answer is fitted (assistant/decision_model.json,
`python -m eval.fit_decision`). What remains here is set by hand: the sentence support the fitted
model reads as a feature, the hand-ranked order it reads as another (`hand_rank`), and how many
passages, conflicts and characters each stage looks at. Changing a weight below changes feature
values, so refit the model after it.
"""

from __future__ import annotations

# How many passages are read for sentences and figures, at least (the answer cites top_k).
CANDIDATE_PASSAGES = 8

# A sentence's support: meaning, words, and how much of the question the passages cover.
W_DENSE, W_WORDS, W_COVERAGE = 0.5, 0.3, 0.2

# The hand-ranked order of figure candidates (ranking.py): support plus these fits.
TIME_FIT_WEIGHT = 0.15  # per step of time fit (1 in the asked time .. -2 nowhere near it)
COUNTED_NOUN_FIT = 0.2  # the figure counts the noun asked about ('how many cards' / 'cards')
OTHER_NOUN_FIT = -0.05  # it counts some other noun
PERCENT_FIT, NOT_PERCENT_FIT = 0.15, -0.3  # a share asked: a percentage or ratio, or not
PERCENT_FOR_COUNT_FIT = -0.3  # a count asked and a percentage given
MONEY_FIT, NOT_MONEY_FIT = 0.15, -0.05  # money asked: an amount of money, or not
CHANGE_FIT, UNASKED_CHANGE_FIT = 0.1, -0.1  # a change asked and given; given, not asked
SUBJECT_WORDS_FIT = 0.25  # share of the figure's subject words in the question
NEAR_WORDS_FIT = 0.3  # share of the question's words in the figure's clause
CONTEXT_WORDS_FIT = 0.1  # ... in the wider sentence around it
FOCUS_WORDS_FIT = 0.2  # a follow-up's own words ('and district clinics?') near the figure
VALUE_IN_QUESTION_FIT = -0.3  # the number is the question's own ('in the first 10 months')
NEAR_WORDS, CONTEXT_WORDS = 4, 8  # content words on each side read as 'near' and 'context'
REVIEW_DAYS = 183  # a document up to half a year after a year's end reviews that year

# Deciding and composing.
SAME_QUANTITY_OVERLAP = 0.5  # subject-word overlap for two figures to measure the same thing
MAX_CONFLICTS = 3
CONFLICT_SHARE = 0.1  # another document's figure at this share of the best one's chance is shown:
# the conditional logit splits probability between documents that agree (dev conflict recall
# 0.274 at 0.4, 0.331 at 0.1, every other figure unchanged)
PLACE_REACH = 300  # characters before the answering sentence that may name its place
OFF_TIME_PENALTY, NO_TIME_PENALTY = 0.15, 1.0  # evidence lowered: other time / nothing of it
CALIBRATION_SCALE = 0.05  # support units per logit of a quoted sentence's evidence
PASSAGE_SCORE_WEIGHT = 0.05  # a quoted sentence's ranking: support plus this times its passage's
SECOND_QUOTE_MARGIN = 0.03  # a second sentence is quoted when this close to the best one
NO_FIGURE_CAP = 0.49  # a quoted sentence's evidence when a number was asked and none is given

# Features (features.py).
LEAD_CHARS = 60  # of the clause before a figure, read for 'from' / 'to'
CORROBORATION_GAP = 0.1  # another document's value within this share of a figure's agrees with it
