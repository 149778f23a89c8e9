"""Steps declare the document metadata they read and write; a pipeline that reads what nothing writes fails
when it is built, and the rater never silently rates something other than the sample."""

from __future__ import annotations

import pytest
from datatrove.data import Document

from mixture_builder.distill.config import DistillConfig
from mixture_builder.distill.pipeline import build_executors
from mixture_builder.distill.steps import RequireScore
from mixture_builder.errors import ConfigError, InputError
from mixture_builder.metadata_flow import check_metadata_flow
from mixture_builder.readers.steps import RawReader
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.rater import QualityFilter, QualityRater

TEACHER = TeacherConfig(backend="openai", base_url="http://127.0.0.1:9/v1", model="m")


def test_a_step_reading_what_no_earlier_step_writes_is_one_clear_error(tmp_path) -> None:
    passages = RawReader(str(tmp_path), format="wikitext")
    with pytest.raises(ConfigError) as info:
        check_metadata_flow([[passages, QualityRater(TEACHER)]])
    assert "step 'quality rater' reads document metadata 'instruction', 'output'" in str(info.value)
    with pytest.raises(ConfigError, match="'quality'"):
        check_metadata_flow([[RawReader(str(tmp_path), format="alpaca")], [QualityFilter()]])
    check_metadata_flow([[passages, QualityRater(TEACHER, text_only=True), QualityFilter()]])
    check_metadata_flow([[RawReader(str(tmp_path), format="alpaca"), QualityRater(TEACHER)], [RequireScore()]])


def test_the_distill_stages_pass_the_check(tmp_path) -> None:
    executors = build_executors(DistillConfig(output=str(tmp_path / "out")))
    assert list(executors)[-1] == "assemble"


def test_the_rater_needs_the_fields_unless_told_to_rate_text() -> None:
    passage = Document(text="Paris is the capital of France.", id="wiki/1", metadata={"kind": "passage"})
    with pytest.raises(InputError, match=r"record 'wiki/1' has no instruction and no output to rate.*--plain-text"):
        QualityRater(TEACHER).format_input(passage)
    request = QualityRater(TEACHER, text_only=True).format_input(passage)
    assert "Paris is the capital of France." in request.messages[-1]["content"]
