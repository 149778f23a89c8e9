"""Format and alignment rewards on hand-written completions, one test per branch."""

from __future__ import annotations

import pickle

import pytest

from lm_mixup_train.rewards import AlignmentReward, FormatReward

QA = "Q: What is the capital of France? A: Paris is the capital of France."


def done(answer: str, think: str = "The samples ask about France.") -> str:
    return f"<think>{think}</think>\n\n<answer>{answer}</answer>"


FORMAT_CASES = [
    ("well_formed_qa", done(QA), "qa_mixup", 1.0),
    ("well_formed_mcq", done("Q: Which? A) a B) b C) c D) d Answer: B"), "mcq_mixup", 1.0),
    ("well_formed_tfq", done("Paris is in France. Answer: True"), "tfq_mixup", 1.0),
    ("well_formed_cs", done("C: Geography S: Paris is in France."), "cs_mixup", 1.0),
    ("paragraph_any_text", done("Paris is the capital of France."), "para_mixup", 1.0),
    ("wrong_task_pattern", done("Paris is the capital of France."), "qa_mixup", 0.5),
    ("mcq_missing_options", done("Q: Which? A) a B) b Answer: B"), "mcq_mixup", 0.5),
    ("empty_answer", done(""), "para_mixup", 0.5),
    ("missing_think", f"<answer>{QA}</answer>", "qa_mixup", 0.0),
    ("missing_answer_tags", "<think>x</think>\n\n" + QA, "qa_mixup", 0.0),
    ("text_before_tags", "Sure! " + done(QA), "qa_mixup", 0.0),
    ("text_after_tags", done(QA) + " Hope this helps.", "qa_mixup", 0.0),
    ("answer_before_think", f"<answer>{QA}</answer><think>x</think>", "qa_mixup", 0.0),
    ("repeated_answer", done(QA) + f"<answer>{QA}</answer>", "qa_mixup", 0.0),
    ("truncated", done(QA)[:-12], "qa_mixup", 0.0),
    ("empty_completion", "", "qa_mixup", 0.0),
]


@pytest.mark.parametrize("name,completion,task_type,expected", FORMAT_CASES, ids=[c[0] for c in FORMAT_CASES])
def test_format_reward_branches(name: str, completion: str, task_type: str, expected: float) -> None:
    assert FormatReward()([None], [completion], task_type=[task_type]) == [expected]


def test_format_reward_reads_conversational_completions_and_custom_scores() -> None:
    reward = FormatReward(structure_score=0.2, pattern_score=0.8)
    completions = [[{"role": "assistant", "content": done(QA)}], [{"role": "assistant", "content": done("x")}]]
    assert reward([None, None], completions, task_type=["qa_mixup", "qa_mixup"]) == [1.0, 0.2]
    assert reward.__name__ == "format_reward"
    assert pickle.loads(pickle.dumps(reward))([None], [done(QA)], task_type=["qa_mixup"]) == [1.0]


def test_alignment_reward_binary_and_continuous() -> None:
    completions = [
        done(QA),  # the reference itself
        done("Q: Which city is the capital of France? A: The capital of France is Paris."),  # paraphrase
        done("Q: How do volcanoes form? A: Magma rises through cracks in the crust."),  # unrelated
        done(""),  # empty answer
        QA,  # broken format
    ]
    binary = AlignmentReward()(None, completions, output=[QA] * len(completions))
    assert binary == [1.0, 1.0, 0.0, 0.0, 0.0]
    continuous = AlignmentReward(mode="continuous")(None, completions, output=[QA] * len(completions))
    assert continuous[0] == pytest.approx(1.0, abs=1e-4)
    assert 0.8 <= continuous[1] < continuous[0]
    assert continuous[2] < 0.5
    assert continuous[3:] == [0.0, 0.0]


def test_alignment_threshold_is_configurable_and_validated() -> None:
    completions = [done("Q: How do volcanoes form? A: Magma rises.")]
    assert AlignmentReward(threshold=-1.0)(None, completions, output=[QA]) == [1.0]
    with pytest.raises(ValueError, match="alignment_mode"):
        AlignmentReward(mode="fuzzy")
    with pytest.raises(ValueError, match="alignment_threshold"):
        AlignmentReward(threshold=2.0)


def test_reward_columns_must_match_completions() -> None:
    with pytest.raises(ValueError, match="task_type"):
        FormatReward()(None, [done(QA)] * 2, task_type=["qa_mixup"] * 3)
