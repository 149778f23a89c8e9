"""push_folder / pull through the real huggingface_hub, datasets and transformers clients on a local Hub."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.push import HubTransferError, pull, push_folder
from tests.hub.conftest import write_mixture_folder, write_tiny_checkpoint

REPO = "lm-mixup/mixture-test"


def _rows(dataset) -> list[dict]:
    return [dict(row) for row in dataset]


def _assert_loads(tables: dict, revision: str | None = None, streaming: bool = False) -> None:
    import datasets

    for config in ("sft", "grpo"):
        loaded = datasets.load_dataset(REPO, config, revision=revision, streaming=streaming)
        assert set(loaded) == {"train", "test"}
        for split in ("train", "test"):
            got = sorted(_rows(loaded[split]), key=lambda r: r["id"])
            want = sorted(tables[config][split], key=lambda r: r["id"])
            assert got == want, (config, split)


def test_dataset_roundtrip_and_noop_second_push(hub, dataset_folder) -> None:
    from huggingface_hub import HfApi

    folder, tables = dataset_folder
    commit = push_folder(folder, REPO)
    files = {f.path for f in HfApi().list_repo_tree(REPO, repo_type="dataset", recursive=True)
             if hasattr(f, "blob_id")}
    shards = sorted(p.relative_to(folder).as_posix() for p in folder.glob("data_*/*.parquet"))
    assert len(shards) > 4  # several shards per split
    assert files == {".gitattributes", "README.md", "stats.json", *shards}  # .lm-mixup/ not pushed
    assert hub.ctx.counts["lfs_uploaded"] == len(shards)  # Parquet goes through LFS
    _assert_loads(tables)
    full_downloads = hub.ctx.counts["downloads"]
    _assert_loads(tables, streaming=True)
    assert hub.ctx.counts["range_downloads"] > 0  # streaming reads Parquet through HTTP Range requests
    assert hub.ctx.counts["downloads"] - full_downloads < len(shards)

    before = dict(hub.ctx.counts)
    assert push_folder(folder, REPO) == commit  # nothing changed: no upload, no commit
    assert hub.ctx.counts["lfs_uploaded"] == before["lfs_uploaded"]
    assert hub.ctx.counts["commit"] == before["commit"]


def test_pinned_revision_loads_old_data_after_new_push(hub, tmp_path: Path) -> None:
    folder = tmp_path / "mixture"
    old_tables = write_mixture_folder(folder, tag="v1", n=40)
    old = push_folder(folder, REPO)
    new_tables = write_mixture_folder(folder, tag="v2", n=12)  # fewer shards: old ones must disappear
    new = push_folder(folder, REPO, message="rebuild")
    assert new != old
    _assert_loads(new_tables)
    _assert_loads(old_tables, revision=old)
    assert pull(REPO, tmp_path / "old_copy", revision=old).joinpath("stats.json").read_text() == \
        '{"written": 90}\n'


def test_interrupted_push_resumes_with_only_missing_uploads(hub, dataset_folder) -> None:
    folder, tables = dataset_folder
    n_shards = len(list(folder.glob("data_*/*.parquet")))
    hub.ctx.add_fault("lfs_upload", 403, skip=3, times=-1)  # the 4th LFS upload on fails for good
    with pytest.raises(HubTransferError, match="rerun the same command to resume"):
        push_folder(folder, REPO, max_retries=0)
    first = list(hub.ctx.uploaded_oids)
    assert 3 <= len(first) < n_shards
    hub.ctx.faults.clear()
    push_folder(folder, REPO)
    second = hub.ctx.uploaded_oids[len(first):]
    assert not set(first) & set(second)  # nothing uploaded twice
    assert len(first) + len(second) == n_shards
    _assert_loads(tables)


def test_batched_push_interrupted_between_commits_resumes(hub, dataset_folder) -> None:
    from huggingface_hub import HfApi

    folder, tables = dataset_folder
    hub.ctx.add_fault("commit", 403, skip=1, times=-1)  # the first batch commits, the second fails
    with pytest.raises(HubTransferError):
        push_folder(folder, REPO, batch_max_files=3, max_retries=0)
    committed = [c.title for c in HfApi().list_repo_commits(REPO, repo_type="dataset")]
    assert committed[0].endswith("(part 1 of 4)")
    uploads_before = hub.ctx.counts["lfs_uploaded"]
    hub.ctx.faults.clear()
    push_folder(folder, REPO, batch_max_files=3)
    shards = len(list(folder.glob("data_*/*.parquet")))
    assert hub.ctx.counts["lfs_uploaded"] == shards  # each shard sent once over both runs
    assert hub.ctx.counts["lfs_uploaded"] > uploads_before
    _assert_loads(tables)


def test_transient_errors_are_retried(hub, dataset_folder) -> None:
    folder, tables = dataset_folder
    hub.ctx.add_fault("commit", 503, times=1)
    hub.ctx.add_fault("create_repo", 429, times=1)
    push_folder(folder, REPO)
    assert hub.ctx.counts["commit"] == 2 and hub.ctx.counts["create_repo"] == 2
    _assert_loads(tables)


def test_branch_push_leaves_main_alone(hub, tmp_path: Path) -> None:
    folder = tmp_path / "mixture"
    main_tables = write_mixture_folder(folder, tag="main", n=10)
    push_folder(folder, REPO)
    dev_tables = write_mixture_folder(folder, tag="dev", n=10)
    push_folder(folder, REPO, revision="dev", message="dev build")
    _assert_loads(main_tables)
    _assert_loads(dev_tables, revision="dev")


def test_checkpoint_roundtrip_and_pull(hub, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    folder = tmp_path / "ckpt"
    state = write_tiny_checkpoint(folder)
    (folder / ".lm-mixup").mkdir()
    (folder / ".lm-mixup" / "trainer_state.json").write_text("{}")
    push_folder(folder, "lm-mixup/tiny-model", repo_type="model", private=True)
    model = AutoModelForCausalLM.from_pretrained("lm-mixup/tiny-model")
    loaded = model.state_dict()
    assert set(loaded) == set(state)
    for name, tensor in state.items():
        assert torch.equal(loaded[name], tensor), name
    copy = pull("lm-mixup/tiny-model", tmp_path / "copy", repo_type="model")
    for local in folder.glob("*"):
        if local.is_file():
            assert (copy / local.name).read_bytes() == local.read_bytes()
    assert not (copy / ".lm-mixup").exists()


def test_bad_arguments_are_one_line_errors(hub, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        push_folder(tmp_path / "missing", REPO)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="repo id"):
        push_folder(tmp_path / "empty", "no-namespace")
    with pytest.raises(ValueError, match="unknown repo type"):
        push_folder(tmp_path / "empty", REPO, repo_type="bucket")
    with pytest.raises(HubTransferError, match="not found|404"):
        pull("lm-mixup/does-not-exist", tmp_path / "x")


def test_pull_retries_a_hub_outage(hub, dataset_folder, tmp_path: Path) -> None:
    folder, _ = dataset_folder
    push_folder(folder, REPO)
    hub.ctx.add_fault("repo_info", 503, times=1)  # snapshot_download wraps it in LocalEntryNotFoundError
    copy = pull(REPO, tmp_path / "copy")
    assert (copy / "stats.json").read_bytes() == (folder / "stats.json").read_bytes()
    assert hub.ctx.counts["repo_info"] >= 2


def test_pushed_card_keeps_configs_and_figures(hub, dataset_folder) -> None:
    from huggingface_hub import DatasetCard, HfApi

    from dataset_cards.dataset_card import DatasetCardInfo, write_dataset_card

    folder, tables = dataset_folder
    write_dataset_card(folder, DatasetCardInfo(pretty_name="MIXTURE hub test", repo_id=REPO))
    figures = sorted(p.relative_to(folder).as_posix() for p in folder.glob("figures/*.png"))
    assert figures
    push_folder(folder, REPO)  # the client validates README.md's YAML on the server before committing
    info = HfApi().dataset_info(REPO, files_metadata=True)
    lfs = {s.rfilename for s in info.siblings if s.lfs is not None}
    assert set(figures) <= lfs
    card = DatasetCard.load(REPO, repo_type="dataset")
    assert {c["config_name"] for c in card.data.configs} == {"sft", "grpo"}
    assert all(figure in card.text for figure in figures)
    _assert_loads(tables)


def test_offline_and_bad_scheme_errors_are_not_retried() -> None:
    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    from hub.push import _is_transient, with_retries

    def wrapped(cause: BaseException) -> LocalEntryNotFoundError:
        try:
            raise LocalEntryNotFoundError("cannot find the requested files") from cause
        except LocalEntryNotFoundError as error:
            return error

    assert not _is_transient(OfflineModeIsEnabled("offline"))
    assert not _is_transient(wrapped(OfflineModeIsEnabled("offline")))
    assert not _is_transient(LocalEntryNotFoundError("not cached"))
    assert not _is_transient(httpx2.UnsupportedProtocol("ftp://"))
    assert _is_transient(wrapped(httpx2.ConnectError("refused")))
    assert _is_transient(ConnectionResetError("reset"))

    calls = []

    def offline() -> None:
        calls.append(1)
        raise wrapped(OfflineModeIsEnabled("offline"))

    with pytest.raises(LocalEntryNotFoundError):
        with_retries(offline, what="download", base_delay=10.0)
    assert calls == [1]
