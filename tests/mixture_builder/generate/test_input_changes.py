"""`lm-mixup build` rerun after a source file was edited (same size, old mtime): refused in one line naming the
file; ``fresh=True`` rebuilds with the new text, the teacher cache answering every unchanged passage."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.pipeline import build_mixture
from mixture_builder.teacher.testing import FakeOpenAIServer
from tests.mixture_builder.generate._fixtures_build import scripted_teacher
from tests.mixture_builder.generate.test_build_wikipedia import GOOD_ARTICLES, build_yaml, load_records

OLD, NEW = "philosopher", "PHILOSOPHER"


def _articles(raw_dir: Path, path: Path, n: int = 3) -> None:
    """The first ``n`` articles of a real WikiExtractor file (the first one is about Ayn Rand)."""
    text = (raw_dir / GOOD_ARTICLES / "AA" / "wiki_00").read_text()
    path.parent.mkdir(parents=True)
    path.write_text("</doc>\n".join(text.split("</doc>\n")[:n]) + "</doc>\n")


def _texts(output: Path) -> str:
    return json.dumps(load_records(output), ensure_ascii=False)


def _bodies(requests: list[dict]) -> list[str]:
    return [json.dumps(r.get("messages"), sort_keys=True) for r in requests]


def test_edited_source_is_refused_naming_it_and_fresh_rebuilds_from_the_cache(raw_dir: Path, tmp_path: Path):
    source = tmp_path / "passages" / "wiki_00"
    _articles(raw_dir, source)
    with FakeOpenAIServer(scripted_teacher) as server:
        data = build_yaml(raw_dir, tmp_path / "out", server.base_url, tmp_path / "cache.sqlite", tasks=1, limit=3)
        data["sources"][0]["path"] = str(source)
        data["segments_per_document"] = 1
        config = BuildConfig.from_dict(data)
        build_mixture(config)
        sent_first = _bodies(server.requests)
        before = _texts(config.output_dir)
        assert OLD in before and NEW not in before

        stat = source.stat()
        source.write_text(source.read_text().replace(OLD, NEW, 1))
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert source.stat().st_size == stat.st_size
        with pytest.raises(ConfigError) as refused:
            build_mixture(config)
        assert len(server.requests) == len(sent_first)
        result = build_mixture(config, fresh=True)
        resent = _bodies(server.requests[len(sent_first):])

    message = str(refused.value)
    assert "\n" not in message and f"sources[0].path {source}: content changed" in message
    assert "--fresh" in message
    assert NEW in _texts(result.output)
    # only the edited passage's requests went to the endpoint; the other passages' came from the cache
    assert resent and not set(resent) & set(sent_first)
    assert all(NEW in body for body in resent)
    assert len(resent) < len(sent_first) / 2
