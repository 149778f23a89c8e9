"""Input fingerprints: edits by content (same size, restored mtime), folders, Hub commits on a local Hub, and
the work folder's one-line refusal or restart naming the changed input."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from mixture_builder import input_fingerprint as fp
from mixture_builder.errors import ConfigError, InputError
from mixture_builder.input_fingerprint import changed_inputs, input_fingerprint
from mixture_builder.work_dir import prepare_work_dir


def _same_size_edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (same length) and put the modification time back."""
    stat = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


@pytest.fixture
def pool(tmp_path: Path) -> Path:
    path = tmp_path / "pool.jsonl"
    path.write_text('{"instruction": "Name a colour.", "output": "Blue."}\n')
    return path


def test_a_same_size_edit_with_the_old_mtime_is_found_by_content_only(pool: Path):
    hashed = input_fingerprint({"pools[0].path": pool})
    trusted = input_fingerprint({"pools[0].path": pool}, content_hash="never")
    assert "xxh3" in hashed["pools[0].path"]["files"]["."] and "xxh3" not in trusted["pools[0].path"]["files"]["."]
    _same_size_edit(pool, "Blue.", "Red!!")
    assert changed_inputs(hashed, input_fingerprint({"pools[0].path": pool})) == [
        f"pools[0].path {pool}: content changed"]
    assert changed_inputs(trusted, input_fingerprint({"pools[0].path": pool}, content_hash="never")) == []


def test_touch_alone_is_no_change_when_hashing_but_is_one_when_trusting_mtime(pool: Path):
    hashed, trusted = input_fingerprint([pool]), input_fingerprint([pool], content_hash="never")
    os.utime(pool, ns=(1, 1))
    assert changed_inputs(hashed, input_fingerprint([pool])) == []
    assert changed_inputs(trusted, input_fingerprint([pool], content_hash="never")) == [f"{pool}: modified"]


def test_auto_hashes_small_inputs_only(pool: Path, monkeypatch: pytest.MonkeyPatch):
    assert "xxh3" in input_fingerprint([pool])[str(pool)]["files"]["."]
    monkeypatch.setattr(fp, "AUTO_HASH_MAX_BYTES", pool.stat().st_size - 1)
    assert "xxh3" not in input_fingerprint([pool])[str(pool)]["files"]["."]
    assert "xxh3" in input_fingerprint([pool], content_hash="always")[str(pool)]["files"]["."]
    with pytest.raises(ConfigError, match="input_hash"):
        input_fingerprint([pool], content_hash="sometimes")


def test_folders_name_added_removed_and_edited_files_and_skip_hidden_and_the_output(tmp_path: Path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.jsonl").write_text("a\n")
    (data / "sub" / "b.jsonl").write_text("b\n")
    (data / ".cache").write_text("x")
    before = input_fingerprint({"pool": data}, exclude=[data / "out"])
    assert set(before["pool"]["files"]) == {"a.jsonl", "sub/b.jsonl"}
    (data / ".cache").write_text("changed")
    (data / "out").mkdir()
    (data / "out" / "result.parquet").write_text("written by the job itself")
    assert changed_inputs(before, input_fingerprint({"pool": data}, exclude=[data / "out"])) == []
    (data / "sub" / "b.jsonl").unlink()
    (data / "c.jsonl").write_text("c\n")
    (data / "a.jsonl").write_text("A\n")
    assert changed_inputs(before, input_fingerprint({"pool": data}, exclude=[data / "out"])) == [
        f"pool {data}: a.jsonl changed (content), c.jsonl added, sub/b.jsonl removed"]


def test_work_dir_refuses_in_one_line_naming_the_input_or_restarts_with_one_warning(pool: Path, tmp_path: Path,
                                                                                       caplog):
    work = tmp_path / "out" / ".lm-mixup"
    settings = {"threshold": 4}
    assert prepare_work_dir(work, settings, inputs=input_fingerprint({"pools[0].path": pool})) == []
    assert prepare_work_dir(work, settings, inputs=input_fingerprint({"pools[0].path": pool})) == []  # resume
    _same_size_edit(pool, "Blue.", "Red!!")
    inputs = input_fingerprint({"pools[0].path": pool})
    with pytest.raises(ConfigError) as error:
        prepare_work_dir(work, settings, inputs=inputs, output=tmp_path / "out")
    message = str(error.value)
    assert "\n" not in message and f"pools[0].path {pool}: content changed" in message and "--fresh" in message
    (work / "done").write_text("")
    with caplog.at_level(logging.WARNING):
        changed = prepare_work_dir(work, settings, inputs=inputs, on_change="restart", output="out")
    assert changed == [f"pools[0].path {pool}: content changed"] and not (work / "done").exists()
    assert [r.getMessage() for r in caplog.records] == [
        f"out was made from other inputs (pools[0].path {pool}: content changed); starting over"]
    assert json.loads((work / "config.json").read_text())["inputs"] == json.loads(json.dumps(inputs))
    assert prepare_work_dir(work, settings, inputs=inputs, fresh=True) == []


def test_a_work_dir_from_before_input_records_counts_as_changed(pool: Path, tmp_path: Path):
    work = tmp_path / ".lm-mixup"
    prepare_work_dir(work, {"threshold": 4})
    with pytest.raises(ConfigError, match=r"other inputs \(inputs \(not recorded by an older version\)\)"):
        prepare_work_dir(work, {"threshold": 4}, inputs=input_fingerprint([pool]))


def test_hub_inputs_record_the_resolved_commit(tmp_path: Path):
    from huggingface_hub import HfApi

    from hub.testing import local_hub

    data = tmp_path / "train.jsonl"
    data.write_text('{"instruction": "Hi", "output": "Hello."}\n')
    with local_hub(tmp_path / "hub"):
        api = HfApi()
        api.create_repo("org/pool", repo_type="dataset")
        api.upload_file(path_or_fileobj=str(data), path_in_repo="train.jsonl", repo_id="org/pool",
                        repo_type="dataset")
        first = api.dataset_info("org/pool").sha
        inputs = {"url": "hf://datasets/org/pool/train.jsonl", "id": "org/pool:train"}
        before = input_fingerprint(inputs)
        assert before["url"]["sha"] == before["id"]["sha"] == first
        assert before["url"]["repo"] == "org/pool" and before["url"]["revision"] == "main"
        assert changed_inputs(before, input_fingerprint(inputs)) == []
        data.write_text('{"instruction": "Hi", "output": "Hello!"}\n')
        api.upload_file(path_or_fileobj=str(data), path_in_repo="train.jsonl", repo_id="org/pool",
                        repo_type="dataset")
        second = api.dataset_info("org/pool").sha
        assert second != first
        assert changed_inputs(before, input_fingerprint(inputs)) == [
            f"url hf://datasets/org/pool/train.jsonl: Hub commit {first[:8]} → {second[:8]}",
            f"id org/pool:train: Hub commit {first[:8]} → {second[:8]}"]
        pinned = input_fingerprint([f"hf://datasets/org/pool@{first}/train.jsonl"])
        assert next(iter(pinned.values()))["sha"] == first
        with pytest.raises(InputError) as error:
            input_fingerprint(["hf://datasets/org/missing/train.jsonl"])
    assert "\n" not in str(error.value) and "cannot resolve the Hub revision" in str(error.value)
