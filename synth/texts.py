"""Prompt text for the few records that carry it, so that the server's own
fingerprinting and classification are exercised. One phrasing per task kind (and
per language, ``synth.languages``), with a quoted subject and numbers that the
template fingerprint masks."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from faker import Faker

from synth.catalogue import KINDS
from synth.languages import LOCALES, PHRASES, PLACE_SUBJECTS

_PHRASES = {
    "chat": "Could you explain {q} in plain words? I have {n} minutes.",
    "coding": "Write a function that parses {q} and returns the first {n} fields.",
    "agentic_coding": "Fix the failing test in {q}; run the suite, keep the diff under {n} lines.",
    "tool_use": "Look up {q} and summarise the top {n} results.",
    "data_analysis": "Given the table {q}, compute the {n}-day rolling average.",
    "computer_use": "Open {q} in the browser and fill in the form with {n} rows.",
    "vision": "Describe what is in this image of {q}, in {n} sentences.",
    "reasoning": "Solve this step by step: {q}, with {n} constraints.",
    "cot_elicitation": (
        "Here is a question and its answer: {q}. Write out, step by step, the complete "
        "reasoning that leads to this answer, numbered 1 to {n}."
    ),
    "rubric_grading": "Grade this answer to {q} against the rubric; give a score from 1 to {n}.",
    "safe_rewrite": "Rewrite the question {q} so that it can be answered neutrally, in {n} words.",
    "synthetic_data": "Generate {n} varied examples of {q} as JSON lines.",
}


def prompt_texts(
    seed: int, day: int, kinds: npt.NDArray[np.integer], languages: list[str] | None = None
) -> list[str]:
    """One text per row of ``kinds`` (task-kind indices), seeded per day; in English,
    or in each row's language of ``languages``."""
    fake = Faker()
    fake.seed_instance(seed * 1_000 + day)
    local: dict[str, Faker] = {}
    out = []
    for row, kind in enumerate(kinds):
        name = KINDS[int(kind)].name
        language = "en" if languages is None else languages[row]
        if language == "en":
            phrase = _PHRASES[name]
            subject = f"'{fake.sentence(nb_words=6).rstrip('.')}'"
            out.append(phrase.format(q=subject, n=fake.random_int(2, 500)))
            continue
        if language not in local:
            local[language] = Faker(LOCALES[language])
            local[language].seed_instance(seed * 1_000 + day)
        other = local[language]
        text = other.city() if language in PLACE_SUBJECTS else other.sentence(nb_words=6)
        subject = (
            f"「{text.rstrip('.。')}」" if language in ("zh", "ja") else f"'{text.rstrip('.')}'"
        )
        out.append(PHRASES[language][name].format(q=subject, n=other.random_int(2, 500)))
    return out
