"""A scripted OpenAI-compatible teacher for build tests: replies per template, derived from the prompt."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from mixture_builder.teacher.testing import last_user_message

_TITLE = re.compile(r"Passage \((?P<title>[^)]*)\):\n(?P<passage>.*?)(?:\n\n|\Z)", re.DOTALL)


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _facts(user: str) -> tuple[str, str]:
    """The title and the first sentence of the (last) passage in a prompt."""
    matches = list(_TITLE.finditer(user))
    if not matches:
        return "the topic", "It is described in the passage."
    title, passage = matches[-1].group("title"), matches[-1].group("passage")
    first = re.split(r"(?<=[.!?])\s+", passage.strip())[0]
    return title, first[:300]


def write_reply(user: str) -> str:
    """The reply to a ``write_<task>`` prompt: tagged fields about the passage."""
    title, fact = _facts(user)
    if "CORRECT:" in user:
        return (f"QUESTION: Which statement about {title} is correct?\nA: {fact}\nB: It was invented in 2020.\n"
                f"C: It is found only on the Moon.\nD: None of the other options.\nCORRECT: A\n"
                f"REASONING: The passage states that {fact[0].lower() + fact[1:]}")
    if "CATEGORY:" in user:
        return f"CATEGORY: {title}\nSTATEMENT: {fact}\nREASONING: The passage on {title} says so directly."
    if "PARAGRAPH:" in user:
        return (f"PARAGRAPH: {fact} This is a key fact about {title}. It explains why {title} matters.\n"
                f"REASONING: The paragraph restates the passage's main point about {title}.")
    if "ANSWER: True or False" in user:
        truth = "True" if _digest(title) % 2 else "False"
        statement = fact if truth == "True" else f"{title} has never been studied by anyone."
        return f"STATEMENT: {statement}\nANSWER: {truth}\nREASONING: The passage on {title} settles it."
    # qa; every fifth passage leaves out its reasoning, so the build asks for it separately
    reasoning = "" if _digest(title) % 5 == 0 else "\nREASONING: The first sentence of the passage says so."
    return f"QUESTION: What does the passage say about {title}?\nANSWER: {fact}{reasoning}"


def degrade_reply(user: str) -> str:
    """A low-quality rewrite: the sample cut short with a vague ending."""
    sample = user.split("\n\n", 2)[1] if user.count("\n\n") >= 2 else user
    words = sample.split()
    return " ".join(words[: max(3, len(words) // 2)]) + " and so on, stuff like that."


def rate_reply(user: str) -> str:
    """Rater JSON: most samples high quality; about one in six low (overall 5 → compressed 1)."""
    overall = 5 if _digest(user) % 6 == 0 else 8
    return f'{{"rarity": 6, "complexity": 5, "informativeness": 7, "overall": {overall}}}'


def scripted_teacher(request: dict[str, Any]) -> str:
    """Responder for ``FakeOpenAIServer``: dispatch on the template a request was rendered from."""
    system = request["messages"][0]["content"] if request.get("messages") else ""
    user = last_user_message(request)
    if "judge of instruction-tuning data" in system:
        return rate_reply(user)
    if "rewrite training samples into worse versions" in system:
        return degrade_reply(user)
    if "explain briefly and precisely why" in system:
        return "The passage states this fact in its first sentence, so the sample is correct."
    return write_reply(user)
