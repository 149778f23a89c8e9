import pytest

from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.sample_templates import SampleTemplate, template_versions
from mixture_builder.generate.samples import SampleParseError, clean_variant, parse_sample
from mixture_builder.mixture_format import TASKS, matches_task_pattern
from mixture_builder.teacher.templates import OutputParseError

REPLIES = {
    "qa": "QUESTION: What powers a steam engine?\nANSWER: Steam pushes a piston.\nREASONING: The passage says so.",
    "mcq": "**Question:** Who improved the engine?\nA) Watt\nB) Newton\nC) Darwin\nD) Curie\nCorrect: A) Watt\n"
    "Reasoning: Watt added a separate condenser.",
    "tfq": "STATEMENT: Newcomen built an engine in 1712.\nANSWER: true.\nREASONING: The passage gives the year.",
    "cs": "CATEGORY: Technology\nSTATEMENT: The watt is named after James Watt.\nREASONING: Stated at the end.",
    "para": "PARAGRAPH: A steam engine turns heat into motion.\nIt drove the Industrial Revolution.\n"
    "REASONING: Two key facts.",
}
RENDERED = {
    "qa": "Q: What powers a steam engine?\nA: Steam pushes a piston.",
    "mcq": "Q: Who improved the engine?\nA) Watt\nB) Newton\nC) Darwin\nD) Curie\nAnswer: A",
    "tfq": "Newcomen built an engine in 1712.\nAnswer: True",
    "cs": "C: Technology\nS: The watt is named after James Watt.",
    "para": "A steam engine turns heat into motion.\nIt drove the Industrial Revolution.",
}


@pytest.mark.parametrize("task", TASKS)
def test_parse_renders_each_task_in_its_pattern(task):
    sample, cot = parse_sample(REPLIES[task], task)
    assert sample == RENDERED[task]
    assert matches_task_pattern(task, sample)
    assert cot


def test_aliases_and_missing_reasoning():
    assert parse_sample("Q: What is it?\nA: A river.", "qa") == ("Q: What is it?\nA: A river.", "")
    assert parse_sample("CATEGORY: Art\nREASONING: r\nSTATEMENT: Monet painted outdoors.", "cs")[0] == (
        "C: Art\nS: Monet painted outdoors."
    )
    bare = "The Amazon carries more water than any other river, about a fifth of all fresh water that flows " \
        "into the oceans, and its basin holds the largest tropical rainforest."
    assert parse_sample(bare, "para") == (bare, "")


@pytest.mark.parametrize(
    ("task", "reply", "problem"),
    [
        ("qa", "QUESTION: What?\nREASONING: x", "ANSWER"),
        ("mcq", "QUESTION: Q?\nA) a\nB) b\nC) c\nD) d\nCORRECT: E\nREASONING: r", "one of A, B, C, D"),
        ("tfq", "STATEMENT: s\nANSWER: maybe\nREASONING: r", "True or False"),
        ("cs", "CATEGORY: Art\nCATEGORY: Music", "STATEMENT"),
    ],
)
def test_bad_replies_name_the_problem(task, reply, problem):
    with pytest.raises(SampleParseError, match=problem):
        parse_sample(reply, task)


def test_sample_template_parses_into_sample_and_cot():
    template = SampleTemplate.for_task("tfq")
    messages = template.render(title="Steam", passage="A steam engine turns heat into motion.", with_reasoning=True)
    assert "REASONING" not in template.render(title="S", passage="P", with_reasoning=False)[-1]["content"]
    assert messages[0]["role"] == "system" and "A steam engine" in messages[-1]["content"]
    assert template.parse(REPLIES["tfq"]) == {"sample": RENDERED["tfq"], "cot": "The passage gives the year."}
    with pytest.raises(OutputParseError):
        template.parse("no labels here")
    versions = template_versions(BuildConfig())
    assert set(versions) == {f"write_{t}" for t in TASKS} | {"write_reasoning", "degrade", "rate_quality"}


def test_clean_variant():
    assert clean_variant("VARIANT: Q: what? A: dunno", "Q: What? A: X.") == "Q: what? A: dunno"
    with pytest.raises(SampleParseError):
        clean_variant("  Q: What?   A: X. ", "Q: What? A: X.")
    with pytest.raises(SampleParseError):
        clean_variant("   ", "Q: What? A: X.")
