"""`build-quality-library` rates MIXTURE's low-quality inputs (the teacher's rater, cached) by default, takes
existing scores from a rated file, and labels them with a fixed score only when asked."""

from __future__ import annotations

import json
from collections import Counter

from typer.testing import CliRunner

from lm_mixup_train.rewards.quality_library import build_quality_library
from mixture_builder.cli import app
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.testing import FakeOpenAIServer, last_user_message


def scripted_rater(request: dict) -> str:
    """Overall 1–10 by the flaw a toy cluster item shows: typos 5 (→ 1), a repeated last word 7 (→ 3), a bare
    fragment 2 (→ 0), anything else 8 (→ 4)."""
    response = last_user_message(request).split("### Response\n", 1)[1].split("\n\nAnswer with only", 1)[0]
    words = response.split()
    overall = 8
    if "teh " in response:
        overall = 5
    elif len(words) > 1 and words[-1] == words[-2]:
        overall = 7
    elif len(words) < 5:
        overall = 2
    return json.dumps({"rarity": 5, "complexity": 5, "informativeness": 5, "overall": overall})


def rater(server: FakeOpenAIServer, tmp_path) -> TeacherConfig:
    return TeacherConfig(backend="openai", base_url=server.base_url, model="fake-rater", progress=False,
                         max_retries=0, cache_path=str(tmp_path / "cache.sqlite"))


def test_library_rates_inputs_by_default(tmp_path, mixture_dir) -> None:
    with FakeOpenAIServer(scripted_rater) as server:
        library = build_quality_library(str(mixture_dir), tmp_path / "lib", rater=rater(server, tmp_path))
        items = library.meta["inputs"]["rated_inputs"]
        assert len(server.requests) == items > 0  # one request per distinct cluster item
        scores = Counter(library.scores.tolist())
        assert len(scores) > 3, scores  # rated items 0/1/3/4 beside the targets' 4/5
        assert set(scores) == {0, 1, 3, 4, 5}
        assert library.meta["input_rater"] == "fake-rater"
        # the ratings are cached: a rebuild sends nothing
        again = build_quality_library(str(mixture_dir), tmp_path / "lib2", rater=rater(server, tmp_path))
        assert len(server.requests) == items and again.scores.tolist() == library.scores.tolist()


def test_existing_scores_are_used_and_the_rest_rated(tmp_path, mixture_dir) -> None:
    from lm_mixup_train.data import load_mixture

    item = load_mixture(str(mixture_dir), "sft", "train")[0]["inputs"][0]
    scores_file = tmp_path / "scores.jsonl"
    scores_file.write_text(json.dumps({"text": item, "score": 2}) + "\n")
    with FakeOpenAIServer(scripted_rater) as server:
        library = build_quality_library(str(mixture_dir), tmp_path / "lib", rater=rater(server, tmp_path),
                                        scores_file=scores_file)
        assert library.meta["inputs"]["known_inputs"] == 1
        assert all(item not in last_user_message(r) for r in server.requests)
    assert library.scores[library.texts.index(item)] == 2


def test_fixed_label_is_explicit_and_failed_ratings_are_counted(tmp_path, mixture_dir) -> None:
    fixed = build_quality_library(str(mixture_dir), tmp_path / "fixed", input_score=1)
    assert set(fixed.scores.tolist()) == {1, 4, 5} and "input_rater" not in fixed.meta
    with FakeOpenAIServer(lambda request: "not json at all") as server:
        library = build_quality_library(str(mixture_dir), tmp_path / "lib", rater=rater(server, tmp_path))
    assert library.meta["inputs"] == {"unrated_inputs": fixed.meta["inputs"]["fixed_inputs"]}
    assert set(library.scores.tolist()) == {4, 5}  # only the targets are left


def test_cli_rater_config(tmp_path, mixture_dir) -> None:
    with FakeOpenAIServer(scripted_rater) as server:
        config = tmp_path / "rater.yaml"
        config.write_text(json.dumps({"teacher": rater(server, tmp_path).to_dict()}))
        result = CliRunner().invoke(app, ["train", "build-quality-library", str(mixture_dir), "-o",
                                          str(tmp_path / "lib"), "--rater-config", str(config)])
    assert result.exit_code == 0, result.output
    meta = json.loads(result.output.strip().splitlines()[-1])
    assert meta["inputs"]["rated_inputs"] > 0 and sum(1 for n in meta["score_counts"].values() if n) > 3
