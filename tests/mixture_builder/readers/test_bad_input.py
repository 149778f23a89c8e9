"""Bad input: by default one clear InputError naming file, line/record, field and fix; with on_error="skip"
the bad record is skipped and counted per reason (dropped_<reason>) while the good ones are read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.readers import RawReader, read_records

GOOD = {"instruction": "Name a colour.", "input": "", "output": "Blue."}


def jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def read_all(path: Path, **kwargs):
    result = read_records(str(path), **kwargs)
    return list(result), result


def raises(path: Path, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        read_all(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(path) in message and " — " in message, message
    return info.value


# (case id, file writer, expected reason, fragments of the message, good records left with skip)
CASES = {
    "malformed_json_line": (
        lambda p: jsonl(p / "a.jsonl", [GOOD, '{"instruction": "x", "output": ', GOOD]),
        "malformed_json",
        ["line 2", "record 1", "malformed JSON"],
        2,
    ),
    "latin1_bytes": (
        lambda p: _bytes(
            p / "a.jsonl",
            json.dumps(GOOD).encode()
            + b"\n"
            + '{"instruction": "Café?", "output": "Oui."}\n'.encode("latin-1"),
        ),
        "bad_encoding",
        ["line 2", "not valid utf-8", "iconv"],
        1,
    ),
    "missing_field": (
        lambda p: jsonl(
            p / "a.jsonl",
            [
                GOOD,
                {"instruction": "No answer here.", "input": "", "output": "x"},
                {"instruction": "Lost", "input": ""},
            ],
        ),
        "missing_field",
        ["line 3", "record 2", "field 'output'", "missing"],
        2,
    ),
    "empty_required_field": (
        lambda p: jsonl(p / "a.jsonl", [{"instruction": "  ", "output": "Blue."}, GOOD]),
        "empty_field",
        ["line 1", "record 0", "field 'instruction'", "empty"],
        1,
    ),
    "list_instead_of_object": (
        lambda p: jsonl(p / "a.jsonl", [GOOD, ["Name a colour.", "Blue."]]),
        "wrong_shape",
        ["line 2", "record 1", "is a list, expected a JSON object"],
        1,
    ),
    "field_of_wrong_type": (
        lambda p: jsonl(p / "a.jsonl", [GOOD, {"instruction": ["a", "b"], "output": "Blue."}]),
        "wrong_type",
        ["line 2", "field 'instruction'", "is a list, expected text"],
        1,
    ),
    "huge_record": (
        lambda p: jsonl(p / "a.jsonl", [GOOD, {**GOOD, "output": "word " * 100}]),
        "too_long",
        ["line 2", "field 'text'", "max_chars=200", "raise max_chars"],
        1,
    ),
    "csv_row_with_extra_fields": (
        lambda p: _bytes(
            p / "a.csv",
            b'src,pos,neg\n"Instruction: Hi",Response: Hello,Response: Yo\n"Instruction: A",B,C,D\n',
        ),
        "wrong_shape",
        ["line 3", "record 1", "quote fields"],
        1,
    ),
    "unclosed_doc": (
        lambda p: _bytes(
            p / "wiki_00",
            b'<doc id="1" url="u" title="T">\nT\n\nBody one.\n</doc>\n<doc id="2" url="u" title="U">\nU\n\nBody two.\n',
        ),
        "malformed_doc",
        ["line 6", "never closed", "add </doc>"],
        1,
    ),
}


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_raises_one_clear_line(tmp_path: Path, case: str):
    write, reason, fragments, _ = CASES[case]
    path = write(tmp_path)
    error = raises(path, max_chars=200)
    assert error.reason == reason
    for fragment in fragments:
        assert fragment in str(error), (fragment, str(error))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_is_skipped_and_counted(tmp_path: Path, case: str):
    write, reason, _, good = CASES[case]
    path = write(tmp_path)
    documents, result = read_all(path, on_error="skip", max_chars=200)
    assert len(documents) == good
    assert result.dropped == {reason: 1}


def test_wrong_encoding_can_be_fixed_with_encoding_option(tmp_path: Path):
    path = _bytes(tmp_path / "a.jsonl", '{"instruction": "Café?", "output": "Oui."}\n'.encode("latin-1"))
    documents, _ = read_all(path, encoding="latin-1")
    assert documents[0].metadata["instruction"] == "Café?"


def test_latin1_in_json_array_names_the_line(tmp_path: Path):
    path = _bytes(
        tmp_path / "a.json",
        b'[\n{"instruction": "a", "output": "b"},\n{"instruction": "caf\xe9", "output": "b"}\n]',
    )
    error = raises(path)
    assert (error.reason, error.line) == ("bad_encoding", 3)
    assert read_all(path, on_error="skip")[1].dropped == {"bad_encoding": 1}


@pytest.mark.parametrize("content", [b"", b"  \n", b"[]"])
def test_empty_file(tmp_path: Path, content: bytes):
    path = _bytes(tmp_path / "empty.json", content)
    assert raises(path).reason == "empty_file"
    documents, result = read_all(path, on_error="skip")
    assert documents == [] and result.dropped == {"empty_file": 1}


def test_empty_file_in_a_folder_is_skipped_and_the_rest_read(tmp_path: Path):
    jsonl(tmp_path / "good.jsonl", [GOOD, GOOD])
    _bytes(tmp_path / "bad.jsonl", b"")
    with pytest.raises(InputError, match="bad.jsonl: file is empty"):
        read_all(tmp_path)
    documents, result = read_all(tmp_path, on_error="skip")
    assert len(documents) == 2 and result.dropped == {"empty_file": 1}


def test_json_object_instead_of_array(tmp_path: Path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"data": [GOOD]}, indent=2))
    error = raises(path)
    assert error.reason == "wrong_shape" and "expected a JSON array" in str(error)


def test_malformed_json_array_names_line(tmp_path: Path):
    path = tmp_path / "a.json"
    path.write_text('[\n{"instruction": "a", "output": "b"},\n{"instruction": "c" "output": "d"}\n]')
    error = raises(path)
    assert (error.reason, error.line) == ("malformed_json", 3)


def test_undetectable_format(tmp_path: Path):
    path = jsonl(tmp_path / "a.jsonl", [{"foo": 1, "bar": 2}])
    error = raises(path)
    assert (
        error.reason == "unknown_format" and "pass format=" in str(error) and "['bar', 'foo']" in str(error)
    )
    assert read_all(path, on_error="skip")[1].dropped == {"unknown_format": 1}


def test_empty_output_is_kept_and_counted_unless_required(tmp_path: Path):
    path = jsonl(tmp_path / "a.jsonl", [GOOD, {"instruction": "Say nothing.", "input": "", "output": ""}])
    documents, result = read_all(path)
    assert len(documents) == 2 and result.stats["empty_output"] == 1
    error = raises(path, require_output=True)
    assert error.reason == "empty_field" and error.field == "output"


def test_oasst_orphans_are_counted_not_lost(tmp_path: Path):
    rows = [
        {"message_id": "p", "parent_id": None, "role": "prompter", "text": "Hi?"},
        {"message_id": "a", "parent_id": "p", "role": "assistant", "text": "Hello.", "rank": 0},
        {"message_id": "b", "parent_id": "missing", "role": "assistant", "text": "Orphan."},
    ]
    documents, result = read_all(jsonl(tmp_path / "m.jsonl", rows))
    assert [d.metadata["source_id"] for d in documents] == ["a"]
    assert result.stats["skipped_orphan_reply"] == 1


def test_invalid_options_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="unknown format 'yaml'"):
        RawReader(str(tmp_path), format="yaml")
    with pytest.raises(ConfigError, match="on_error"):
        RawReader(str(tmp_path), on_error="ignore")


def test_missing_path_and_empty_folder_are_input_errors(tmp_path: Path):
    with pytest.raises(InputError, match="no such file or folder"):
        list(RawReader(str(tmp_path / "nope")).run())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="has no files to read"):
        list(RawReader(str(tmp_path / "empty")).run())
