"""The local Hub speaks the protocol huggingface_hub 2.x uses: repos, preupload, LFS, commits, resolve, trees."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from hub.server import HubServer
from hub.testing import DUMMY_TOKEN, hub_environment, local_hub
from tests.hub.conftest import SECRET_TOKEN

REPO = "org/repo"
AUTH = {"Authorization": f"Bearer {SECRET_TOKEN}"}


def test_create_whoami_conflict_delete(hub) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = HfApi()
    assert api.whoami()["name"] == "local-user"
    url = api.create_repo(REPO, repo_type="dataset")
    assert url.endswith("/datasets/org/repo") and url.repo_type == "dataset"
    conflict = httpx.post(f"{hub.url}/api/repos/create", headers=AUTH,
                          json={"name": "repo", "organization": "org", "type": "dataset"})
    assert conflict.status_code == 409 and conflict.json()["url"] == f"{hub.url}/datasets/org/repo"
    assert api.create_repo(REPO, repo_type="dataset", exist_ok=True) == url
    info = api.dataset_info(REPO)
    assert [s.rfilename for s in info.siblings] == [".gitattributes"] and len(info.sha) == 40
    api.delete_repo(REPO, repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(REPO)
    assert httpx.post(f"{hub.url}/api/repos/create", json={"name": "x"}).status_code == 401


def test_preupload_modes_and_remote_oids(hub) -> None:
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=b"hello", path_in_repo="notes.txt", repo_id=REPO)
    files = [
        {"path": "notes.txt", "size": 5, "sample": "aGVsbG8="},
        {"path": "data/train.parquet", "size": 10, "sample": ""},
        {"path": "model.safetensors", "size": 10, "sample": ""},
        {"path": "blob.dat", "size": 4, "sample": "AAECAw=="},  # NUL bytes: binary
        {"path": "big.txt", "size": 50 * 2**20, "sample": ""},
        {"path": "logs/x.txt", "size": 3, "sample": ""},
    ]
    reply = httpx.post(f"{hub.url}/api/models/{REPO}/preupload/main", headers=AUTH,
                       json={"files": files, "gitIgnore": "logs/\n"}).json()["files"]
    modes = {f["path"]: f["uploadMode"] for f in reply}
    assert modes == {"notes.txt": "regular", "data/train.parquet": "lfs", "model.safetensors": "lfs",
                     "blob.dat": "lfs", "big.txt": "lfs", "logs/x.txt": "regular"}
    oids = {f["path"]: f["oid"] for f in reply}
    assert oids["notes.txt"] == hashlib.sha1(b"blob 5\0hello").hexdigest() and oids["big.txt"] is None
    assert [f["path"] for f in reply if f["shouldIgnore"]] == ["logs/x.txt"]


def test_resolve_headers_ranges_and_snapshots(hub) -> None:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download

    api = HfApi()
    api.create_repo(REPO)
    payload = bytes(range(256)) * 40
    first = api.create_commit(REPO, commit_message="add", operations=[
        CommitOperationAdd("weights.bin", payload), CommitOperationAdd("docs/a.txt", b"alpha"),
        CommitOperationAdd("docs/sub/b.txt", b"beta")]).oid
    head = httpx.head(f"{hub.url}/{REPO}/resolve/main/weights.bin")
    sha256 = hashlib.sha256(payload).hexdigest()
    assert head.headers["X-Repo-Commit"] == first
    assert head.headers["X-Linked-Etag"] == f'"{sha256}"' and head.headers["X-Linked-Size"] == str(len(payload))
    assert head.headers["Content-Length"] == str(len(payload))
    regular = httpx.head(f"{hub.url}/{REPO}/resolve/main/docs/a.txt")
    alpha_oid = hashlib.sha1(b"blob 5\0alpha").hexdigest()
    assert regular.headers["ETag"] == f'"{alpha_oid}"'
    part = httpx.get(f"{hub.url}/{REPO}/resolve/main/weights.bin", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == payload[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(payload)}"
    assert httpx.get(f"{hub.url}/{REPO}/resolve/main/weights.bin",
                     headers={"Range": f"bytes={len(payload)}-"}).status_code == 416
    missing = httpx.get(f"{hub.url}/{REPO}/resolve/main/nope.txt")
    assert missing.status_code == 404 and missing.headers["X-Error-Code"] == "EntryNotFound"

    second = api.create_commit(REPO, commit_message="rm", operations=[
        CommitOperationDelete("docs/", is_folder=True), CommitOperationAdd("weights.bin", b"new")]).oid
    assert [f.path for f in api.list_repo_tree(REPO, recursive=True)] == [".gitattributes", "weights.bin"]
    old = [f.path for f in api.list_repo_tree(REPO, recursive=True, revision=first)]
    assert old == ["docs", "docs/sub", ".gitattributes", "docs/a.txt", "docs/sub/b.txt", "weights.bin"]
    assert Path(hf_hub_download(REPO, "weights.bin", revision=first)).read_bytes() == payload
    assert Path(hf_hub_download(REPO, "weights.bin", revision=second[:8])).read_bytes() == b"new"
    infos = api.get_paths_info(REPO, ["docs", "docs/a.txt", "missing"], revision=first)
    assert [(type(i).__name__, i.path) for i in infos] == [("RepoFolder", "docs"), ("RepoFile", "docs/a.txt")]
    assert [c.commit_id for c in api.list_repo_commits(REPO)][:2] == [second, first]


def test_tree_pagination_follows_link_header(hub, monkeypatch) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi

    from hub.server import api as server_api

    api = HfApi()
    api.create_repo(REPO, repo_type="dataset")
    api.create_commit(REPO, repo_type="dataset", commit_message="many", operations=[
        CommitOperationAdd(f"d/f{i:02d}.txt", f"{i}".encode()) for i in range(25)])
    monkeypatch.setattr(server_api, "TREE_PAGE", 7)
    page = httpx.get(f"{hub.url}/api/datasets/{REPO}/tree/main/d")
    assert len(page.json()) == 7 and 'rel="next"' in page.headers["Link"]
    listed = [f.path for f in api.list_repo_tree(REPO, "d", repo_type="dataset")]
    assert listed == [f"d/f{i:02d}.txt" for i in range(25)]


def test_branches_and_parent_commit(hub) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError

    api = HfApi()
    api.create_repo(REPO)
    main_sha = api.repo_info(REPO).sha
    api.create_branch(REPO, branch="dev")
    api.create_branch(REPO, branch="dev", exist_ok=True)
    dev_sha = api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO, revision="dev").oid
    assert api.repo_info(REPO).sha == main_sha and api.repo_info(REPO, revision="dev").sha == dev_sha
    assert {b.name: b.target_commit for b in api.list_repo_refs(REPO).branches} == {"main": main_sha,
                                                                                   "dev": dev_sha}
    with pytest.raises(RevisionNotFoundError):
        api.repo_info(REPO, revision="nope")
    with pytest.raises(HfHubHTTPError) as stale:
        api.create_commit(REPO, commit_message="late", parent_commit="0" * 40, revision="dev",
                          operations=[CommitOperationAdd("y.txt", b"y")])
    assert stale.value.response.status_code == 412


def test_invalid_card_yaml_is_rejected(hub) -> None:
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(REPO, repo_type="dataset")
    with pytest.raises(ValueError, match="Invalid metadata"):
        api.upload_file(path_or_fileobj=b"---\nconfigs: [\n---\n", path_in_repo="README.md", repo_id=REPO,
                        repo_type="dataset")
    api.upload_file(path_or_fileobj=b"---\nlicense: mit\n---\n# card\n", path_in_repo="README.md", repo_id=REPO,
                    repo_type="dataset")
    assert api.dataset_info(REPO).card_data.license == "mit"


def test_private_repos_and_server_token(tmp_path: Path) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    with HubServer(tmp_path / "root", token=SECRET_TOKEN) as server:
        with hub_environment(server.url, token=SECRET_TOKEN):
            HfApi().create_repo(REPO, private=True)
            assert HfApi().model_info(REPO).private is True
        with hub_environment(server.url, token=None), pytest.raises(RepositoryNotFoundError):
            HfApi(token=False).model_info(REPO)
        with hub_environment(server.url, token=DUMMY_TOKEN):
            with pytest.raises(HfHubHTTPError) as denied:
                HfApi().create_repo("org/other")
            assert denied.value.response.status_code == 401


def test_state_persists_across_restarts(tmp_path: Path) -> None:
    from huggingface_hub import HfApi

    with local_hub(tmp_path / "root"):
        HfApi().create_repo(REPO)
        sha = HfApi().upload_file(path_or_fileobj=b"kept", path_in_repo="k.txt", repo_id=REPO).oid
    with local_hub(tmp_path / "root"):
        assert HfApi().model_info(REPO).sha == sha
        assert Path(HfApi().hf_hub_download(REPO, "k.txt")).read_bytes() == b"kept"


def test_local_hub_endpoint_fixture(local_hub_endpoint: str) -> None:
    from huggingface_hub import HfApi, constants

    assert constants.ENDPOINT == local_hub_endpoint and constants.HF_HUB_DISABLE_XET
    assert HfApi().whoami()["name"] == "local-user"


CARD_YAML = """---
license: apache-2.0
task_categories:
- text-generation
size_categories:
- n<1K
configs:
- config_name: sft
  data_files:
  - split: train
    path: data_sft/train-*.parquet
---
# A card
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("license: apache-2.0", "license: apache-3.0", "'apache-3.0' is not a Hub license id"),
        ("license: apache-2.0", "license: [mit, 7]", '"license" must be a string or a list'),
        ("- n<1K", "- tiny", "'tiny' is not one of"),
        ("task_categories:\n- text-generation", "task_categories: {a: 1}", '"task_categories" must be'),
        ("- config_name: sft\n", "- name: sft\n", 'needs a non-empty "config_name"'),
        ("  data_files:\n  - split: train\n    path: data_sft/train-*.parquet\n", "", 'needs "data_files"'),
        ("    path: data_sft/train-*.parquet", "    file: x", 'mapping with "split" and "path"'),
        (CARD_YAML[CARD_YAML.index("configs:"):CARD_YAML.index("---\n#")], "configs: sft\n", "must be a list"),
    ],
)
def test_validate_yaml_rejects_what_the_hub_rejects(hub, old: str, new: str, message: str) -> None:
    from huggingface_hub import DatasetCard

    assert old in CARD_YAML
    DatasetCard(CARD_YAML).validate()  # the good card passes
    bad = CARD_YAML.replace(old, new, 1)
    with pytest.raises(ValueError) as raised:
        DatasetCard(bad).validate()
    assert message in str(raised.value) and len(str(raised.value).splitlines()) == 1
    response = httpx.post(f"{hub.url}/api/validate-yaml", json={"repoType": "dataset", "content": bad})
    assert response.status_code == 400 and message in response.json()["error"]


def test_validate_yaml_reports_unclosed_front_matter_as_json(hub) -> None:
    response = httpx.post(f"{hub.url}/api/validate-yaml",
                          json={"repoType": "dataset", "content": "---\nlicense: mit\n# no closing line\n"})
    assert response.status_code == 400 and "not closed" in response.json()["error"]
