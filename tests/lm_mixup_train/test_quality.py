"""The k-NN Bayesian quality scorer, its library, and the quality rewards (k-NN and LLM rater)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from lm_mixup_train.rewards import LLMQualityReward, QualityReward
from lm_mixup_train.rewards.knn_scorer import (
    KNNQualityScorer,
    estimate_transition_matrix,
    posterior,
    reward_for,
)
from lm_mixup_train.rewards.quality_library import QualityLibrary, build_quality_library
from mixture_builder.errors import InputError


def synthetic_library(noise: float = 0.2, per_class: int = 60, seed: int = 0):
    """Six well-separated clusters (true scores 0–5), each rating flipped to a random other score with
    probability ``noise``."""
    rng = np.random.default_rng(seed)
    centres = np.eye(6, 16, dtype=np.float32) * 4
    vectors, true, observed = [], [], []
    for score in range(6):
        points = centres[score] + rng.normal(0, 0.3, (per_class, 16)).astype(np.float32)
        vectors.append(points)
        true += [score] * per_class
        for _ in range(per_class):
            flip = rng.random() < noise
            observed.append(int(rng.choice([s for s in range(6) if s != score])) if flip else score)
    vectors = np.concatenate(vectors)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors, np.array(true), np.array(observed), centres


def test_transition_matrix_recovers_the_rating_noise() -> None:
    vectors, true, observed, _ = synthetic_library(noise=0.2)
    transition, prior = estimate_transition_matrix(vectors, observed, k=16, smoothing=1e-9)
    assert transition.shape == (6, 6)
    np.testing.assert_allclose(transition.sum(axis=1), 1.0)
    empirical = np.zeros((6, 6))
    np.add.at(empirical, (true, observed), 1)
    empirical /= empirical.sum(axis=1, keepdims=True)  # the flips actually drawn (about 20% per row)
    np.testing.assert_allclose(transition, empirical, atol=0.02)
    np.testing.assert_allclose(prior, 1 / 6, atol=0.02)  # the consensus recovers the balanced true labels


def test_clean_library_gives_a_near_identity_matrix() -> None:
    vectors, _, true, _ = synthetic_library(noise=0.0)
    transition, _ = estimate_transition_matrix(vectors, true, k=16, smoothing=1.0)
    np.testing.assert_allclose(np.diag(transition), (60 + 1) / (60 + 6))  # all agree; Laplace smoothing 1


def test_posterior_corrects_noisy_neighbours() -> None:
    transition = np.full((6, 6), 0.04) + np.eye(6) * 0.76  # 80% correct ratings
    neighbours = np.array([[4] * 10 + [0, 1, 2, 5, 5, 3]])  # mostly 4, some noise
    post = posterior(neighbours, transition, np.full(6, 1 / 6))
    assert post.shape == (1, 6) and post[0].argmax() == 4 and post[0, 4] > 0.99


@pytest.mark.parametrize("expected,reward", [(5.0, 1.0), (4.0, 1.0), (3.96, 1.0), (3.94, 0.3), (3.0, 0.3), (2.94, 0.0), (0, 0.0)])
def test_reward_thresholds(expected: float, reward: float) -> None:
    assert reward_for(expected) == reward


def test_scorer_maps_clusters_to_rewards() -> None:
    vectors, _, observed, centres = synthetic_library(noise=0.2)
    scorer = KNNQualityScorer(vectors, observed, k=16)
    queries = centres[[5, 4, 3, 2, 0]] / 4
    expected = scorer.expected_scores(queries)
    assert expected[0] > 4.5 and 3.5 < expected[1] < 4.5 and 2.5 < expected[2] < 3.5 and expected[4] < 0.5
    assert scorer.rewards(queries) == [1.0, 1.0, 0.3, 0.0, 0.0]


def test_scorer_rejects_bad_scores() -> None:
    with pytest.raises(ValueError, match="0–5"):
        KNNQualityScorer(np.eye(3, dtype=np.float32), np.array([0, 6, 1]))


def test_library_from_mixture_folder_roundtrips(quality_library_path, mixture_dir) -> None:
    library = QualityLibrary.load(quality_library_path)
    meta = json.loads(quality_library_path.with_suffix(".json").read_text())
    assert meta["count"] == len(library.texts) == len(library.scores) == library.embeddings.shape[0]
    counts = Counter(library.scores.tolist())
    assert set(counts) == {1, 4, 5}  # cluster items with the explicit fixed label 1, targets their rated 4/5
    assert meta["inputs"]["fixed_inputs"] >= counts[1]  # items equal to a target keep the target's score
    assert np.allclose(np.linalg.norm(library.embeddings, axis=1), 1.0, atol=1e-4)
    assert meta["score_counts"]["1"] == counts[1]


def test_library_from_rated_jsonl(tmp_path) -> None:
    rows = [{"text": f"sample {i} about rivers", "score": i % 6} for i in range(12)]
    rows += [{"text": "bad score", "score": 9}, {"text": "fraction", "score": 2.5}]
    source = tmp_path / "rated.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(InputError, match=r"record 12, field 'score'.*out of range"):
        build_quality_library(str(source), tmp_path / "lib")
    library = build_quality_library(str(source), tmp_path / "lib", on_error="skip")
    assert len(library.texts) == 12 and library.meta["skipped"] == {"dropped_score": 2}
    assert QualityLibrary.load(tmp_path / "lib.npz").texts == library.texts


def test_library_source_errors(tmp_path) -> None:
    source = tmp_path / "rated.jsonl"
    source.write_text(json.dumps({"content": "x", "score": 1}) + "\n")
    with pytest.raises(InputError, match="field 'text'.*--text-field"):
        build_quality_library(str(source), tmp_path / "lib")
    with pytest.raises(InputError, match="build-quality-library"):
        QualityLibrary.load(tmp_path / "missing.npz")


ASTRONOMY = ["stars", "planets", "comets", "galaxies", "the Moon", "nebulae", "black holes", "asteroids", "Mars",
             "Jupiter", "the Sun", "meteors", "telescopes", "eclipses", "orbits", "moons of Saturn", "quasars",
             "supernovae", "the Milky Way", "exoplanets"]
COOKING = ["bread", "pasta", "soup", "rice", "omelettes", "pancakes", "salads", "stews", "curries", "roasts",
           "dumplings", "pies", "sauces", "noodles", "risotto", "biscuits", "casseroles", "tacos", "stir-fries",
           "porridge"]


@pytest.fixture(scope="module")
def topical_library(tmp_path_factory) -> str:
    """High-rated astronomy facts (5), middling cooking tips (3), low-rated keyboard noise (0)."""
    rows = [{"text": f"Q: What do astronomers study about {t}? A: They measure the light and motion of {t}.",
             "score": 5} for t in ASTRONOMY]
    rows += [{"text": f"Q: How do I cook {t}? A: Cook the {t} slowly and season to taste.", "score": 3}
             for t in COOKING]
    rows += [{"text": f"asdf qwer {i} zxcv lorem {i * 7} ipsum uiop", "score": 0} for i in range(20)]
    folder = tmp_path_factory.mktemp("topical")
    (folder / "rated.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    build_quality_library(str(folder / "rated.jsonl"), folder / "lib")
    return str(folder / "lib.npz")


def test_quality_reward_on_completions(topical_library) -> None:
    answers = [
        "Q: What do astronomers learn from pulsars? A: They time the light of pulsars.",
        "Q: How should I cook lentils? A: Simmer the lentils slowly and salt to taste.",
        "qwer asdf 99 zxcv ipsum 3 lorem",
    ]
    completions = [f"<think>merge</think>\n\n<answer>{a}</answer>" for a in answers]
    reward = QualityReward(topical_library)
    broken = [answers[0], "<think>x</think><answer></answer>"]  # broken format, empty answer
    assert reward(None, completions + broken) == [1.0, 0.3, 0.0, 0.0, 0.0]
    expected = reward.expected_scores(answers)
    assert expected[0] > 4.5 and 2.5 < expected[1] < 3.5 and expected[2] < 0.5
    assert reward.__name__ == "quality_reward"
    import pickle

    assert pickle.loads(pickle.dumps(reward))(None, completions[:1]) == [1.0]


def test_mixture_library_scores_its_own_targets_and_items(quality_library_path) -> None:
    """On the toy MIXTURE every target sits among its near-duplicate degraded items: the library's k-NN
    consensus rates such targets low — the scorer reads quality from neighbourhoods, not from single texts."""
    library = QualityLibrary.load(quality_library_path)
    reward = QualityReward(quality_library_path)
    items = [t for t, s in zip(library.texts, library.scores) if s == 1][:8]
    assert all(score < 3 for score in reward.expected_scores(items))


def test_quality_reward_refuses_another_embedding_model(quality_library_path) -> None:
    reward = QualityReward(quality_library_path, model_name="some/other-model")
    with pytest.raises(ValueError, match="embedding_model"):
        reward(None, ["<think>x</think><answer>y</answer>"])


def test_llm_quality_reward_against_fake_server(tmp_path) -> None:
    from mixture_builder.teacher.testing import FakeOpenAIServer, last_user_message

    def responder(request: dict) -> str:
        overall = 9 if "Paris" in last_user_message(request) else 6 if "Lyon" in last_user_message(request) else 2
        return json.dumps({"rarity": 5, "complexity": 5, "informativeness": 5, "overall": overall})

    with FakeOpenAIServer(responder) as server:
        teacher = {"backend": "openai", "base_url": server.base_url, "model": "fake-model", "use_cache": False,
                   "cache_path": str(tmp_path / "cache.sqlite"), "progress": False, "max_retries": 0}
        reward = LLMQualityReward(teacher)
        completions = [f"<think>x</think><answer>{a}</answer>" for a in ("Paris is big.", "Lyon is big.", "meh")]
        values = reward(None, completions + ["no tags"], task_type=["para_mixup"] * 4)
    assert values == [1.0, 0.0, 0.0, 0.0]  # overall 9 → 5 → 1.0; 6 → 2 → 0; 2 → 0 → 0; unparsable → 0
    assert len(server.requests) == 3
