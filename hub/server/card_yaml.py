"""The local Hub's check of a card's YAML metadata: the rules of the real ``/api/validate-yaml`` that can be
checked offline (license ids, task/size category shapes, the ``configs`` list), one message per problem."""

from __future__ import annotations

from typing import Any

import yaml

from dataset_cards.licenses import HUB_LICENSE_IDS

SIZE_CATEGORIES = frozenset({
    "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B", "1B<n<10B",
    "10B<n<100B", "100B<n<1T", "n>1T", "other",
})
"""Values the Hub accepts in a dataset card's ``size_categories``."""


def split_front_matter(content: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The YAML mapping at the top of a card (``None`` without front matter) and the syntax problems found."""
    if not content.startswith("---"):
        return None, []
    header, sep, _ = content.partition("\n")[2].partition("\n---")
    if not sep:
        return None, ["The YAML front matter is not closed by a '---' line"]
    try:
        data = yaml.safe_load(header)
    except yaml.YAMLError as error:
        return None, [f"Invalid YAML: {' '.join(str(error).split())}"]
    if data is not None and not isinstance(data, dict):
        return None, ["The YAML front matter must be a mapping"]
    return data, []


def _string_list(data: dict[str, Any], key: str) -> tuple[list[str], list[str]]:
    """The values of ``key`` (a string or a list of strings) and a problem when it has another shape."""
    value = data.get(key)
    if value is None:
        return [], []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        return [], [f'"{key}" must be a string or a list of non-empty strings, got {value!r}']
    return values, []


def _data_files_problem(name: str, data_files: Any) -> str | None:
    if isinstance(data_files, str) and data_files:
        return None
    if isinstance(data_files, list) and data_files:
        for item in data_files:
            if isinstance(item, str) and item:
                continue
            if (isinstance(item, dict) and isinstance(item.get("split"), str)
                    and (isinstance(item.get("path"), str)
                         or (isinstance(item.get("path"), list) and all(isinstance(p, str) for p in item["path"])))):
                continue
            return (f'"configs" {name!r}: each "data_files" entry must be a path or a mapping with "split" and '
                    f'"path", got {item!r}')
        return None
    return f'"configs" {name!r}: "data_files" must be a path, a list of paths or of {{split, path}} mappings'


def _configs_problems(configs: Any) -> list[str]:
    if not isinstance(configs, list):
        return [f'"configs" must be a list of mappings, got {type(configs).__name__}']
    problems, names = [], set()
    for index, entry in enumerate(configs):
        if not isinstance(entry, dict):
            problems.append(f'"configs"[{index}] must be a mapping, got {entry!r}')
            continue
        name = entry.get("config_name")
        if not isinstance(name, str) or not name:
            problems.append(f'"configs"[{index}] needs a non-empty "config_name"')
            continue
        if name in names:
            problems.append(f'"configs": config_name {name!r} appears twice')
        names.add(name)
        if "data_files" not in entry and "data_dir" not in entry:
            problems.append(f'"configs" {name!r} needs "data_files" (or "data_dir")')
        elif "data_files" in entry and (problem := _data_files_problem(name, entry["data_files"])):
            problems.append(problem)
    return problems


def metadata_problems(data: dict[str, Any]) -> list[str]:
    """What the Hub rejects in card metadata ``data``; empty when it is accepted."""

    licenses, problems = _string_list(data, "license")
    problems += [f'"license" {lic!r} is not a Hub license id (use one of the Hub\'s ids, or "other" with '
                 '"license_name")' for lic in licenses if lic not in HUB_LICENSE_IDS]
    problems += _string_list(data, "task_categories")[1]
    sizes, size_problems = _string_list(data, "size_categories")
    problems += size_problems
    problems += [f'"size_categories" {size!r} is not one of {", ".join(sorted(SIZE_CATEGORIES))}'
                 for size in sizes if size not in SIZE_CATEGORIES]
    if "configs" in data:
        problems += _configs_problems(data["configs"])
    return problems


def card_problems(content: str) -> list[str]:
    """Syntax and metadata problems of a whole card (README.md text)."""
    data, problems = split_front_matter(content)
    return problems + (metadata_problems(data) if data else [])
