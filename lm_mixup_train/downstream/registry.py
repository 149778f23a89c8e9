"""The local benchmarks as lm-eval tasks: render the packaged task YAML into a run folder, pointed at the data.

The templates (``tasks/_*.yaml``) and their ``!function`` module (``tasks/utils.py``) ship with the package.
:func:`render_task` writes them into ``{run}/tasks/`` plus one small YAML per (sub)task that ``include``\\ s a
template and sets ``dataset_kwargs.data_files`` to the benchmark files in the data folder (MMLU, BBH and TyDiQA
get one subtask per subject/task/language and a group). lm-eval then loads them with its ``json``/``csv``
dataset builders; nothing is copied and nothing is fetched from the Hub.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError

PREFIX = "lmm_"
"""Prefix of the rendered task names, so they never collide with lm-eval's own tasks."""
TYDIQA_PROMPTS = {  # open-instruct's GoldP prompts: instruction, passage, question and answer labels
    "english": ("Answer the following question based on the information in the given passage.", "Passage:",
                "Question:", "Answer:"),
    "arabic": ("أجب على السؤال التالي بناءً على المعلومات في المقطع المعطى.", "المقطع:", "السؤال:", "الإجابة:"),
    "bengali": ("প্রদত্ত অধ্যায়ের তথ্যের উপর ভিত্তি করে নিম্নলিখিত প্রশ্নের উত্তর দিন।", "অধ্যায়:", "প্রশ্ন:",
                "উত্তর:"),
    "finnish": ("Vastaa seuraavaan kysymykseen annetun kappaleen tiedon perusteella.", "Kappale:", "Kysymys:",
                "Vastaus:"),
    "indonesian": ("Jawab pertanyaan berikut berdasarkan informasi di bagian yang diberikan.", "Bagian:",
                   "Pertanyaan:", "Jawaban:"),
    "korean": ("주어진 문단의 정보에 기반하여 다음 질문에 답하십시오.", "문단:", "질문:", "답변:"),
    "russian": ("Ответьте на следующий вопрос на основе информации в данном отрывке.", "Отрывок:", "Вопрос:",
                "Ответ:"),
    "swahili": ("Jibu swali lifuatalo kulingana na habari kwenye kifungu kilichotolewa.", "Kifungu:", "Swali:",
                "Jibu:"),
    "telugu": ("ఇచ్చిన పేరాలోని సమాచారం ఆధారంగా కింది ప్రశ్నకు సమాధానం ఇవ్వండి.", "పేరా:", "ప్రశ్న:", "సమాధానం:"),
}


@dataclass
class RenderedTask:
    """A local benchmark rendered for lm-eval: what to run and how to read its per-example scores."""

    name: str
    lm_eval_name: str
    metric: str
    subtasks: list[str]
    macro: bool = False
    files: list[Path] = field(default_factory=list)


def template_dir() -> Path:
    """The packaged task templates."""
    return Path(str(resources.files("lm_mixup_train.downstream") / "tasks"))


def data_files(name: str, eval_dir: Path, gsm8k_file: Path) -> list[Path]:
    """The benchmark files a local task reads (an error naming the folder when they are missing)."""
    globs = {"mmlu": (eval_dir / "mmlu" / "test", "*_test.csv"), "bbh": (eval_dir / "bbh" / "tasks", "*.json"),
             "tydiqa": (eval_dir / "tydiqa" / "dev", "*_tydiqa_dev.json")}
    if name == "gsm8k":
        files = [gsm8k_file] if gsm8k_file.is_file() else []
    elif name.startswith("truthfulqa"):
        files = [p for p in [eval_dir / "truthfulqa" / "TruthfulQA.csv"] if p.is_file()]
    else:
        folder, pattern = globs[name]
        files = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if not files:
        where = gsm8k_file if name == "gsm8k" else eval_dir
        raise ConfigError(f"benchmark files for {name} not found", path=str(where),
                          fix="set eval_data_dir / gsm8k_file to the shared data (see each SOURCE.md)")
    return files


def render_task(name: str, eval_dir: Path, gsm8k_file: Path, out_dir: Path) -> RenderedTask:
    """Write ``name``'s task YAML (+ templates and utils) into ``out_dir``; return what to run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for source in template_dir().iterdir():
        if source.suffix in (".yaml", ".py") and source.name != "__init__.py":
            shutil.copyfile(source, out_dir / source.name)
    files = data_files(name, eval_dir.resolve(), gsm8k_file.resolve())
    renderer = {"gsm8k": _gsm8k, "mmlu": _mmlu, "bbh": _bbh, "tydiqa": _tydiqa,
                "truthfulqa_mc1": _truthfulqa, "truthfulqa_mc2": _truthfulqa}[name]
    task = renderer(name, files, out_dir)
    task.files = files
    return task


def _write(out_dir: Path, name: str, body: dict[str, Any]) -> None:
    import yaml

    (out_dir / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _group(out_dir: Path, group: str, subtasks: list[str], metric: str, weight_by_size: bool) -> None:
    _write(out_dir, group, {"group": group, "task": subtasks, "aggregate_metric_list": [
        {"metric": metric, "aggregation": "mean", "weight_by_size": weight_by_size}], "metadata": {"version": 1.0}})


def _gsm8k(name: str, files: list[Path], out_dir: Path) -> RenderedTask:
    task = PREFIX + name
    _write(out_dir, task, {"include": "_gsm8k.yaml", "task": task,
                           "dataset_kwargs": {"data_files": {"test": str(files[0])}}})
    return RenderedTask(name, task, "exact_match", [task])


def _truthfulqa(name: str, files: list[Path], out_dir: Path) -> RenderedTask:
    task = PREFIX + name
    _write(out_dir, task, {"include": f"_{name}.yaml", "task": task,
                           "dataset_kwargs": {"data_files": {"test": str(files[0])}, "encoding": "utf-8-sig"}})
    return RenderedTask(name, task, "acc", [task])


def _mmlu(name: str, files: list[Path], out_dir: Path) -> RenderedTask:
    subtasks = []
    for test_file in files:
        subject = test_file.name.removesuffix("_test.csv")
        task = f"{PREFIX}mmlu_{subject}"
        splits = {"test": str(test_file)}
        dev = test_file.parent.parent / "dev" / f"{subject}_dev.csv"
        if dev.is_file():
            splits["dev"] = str(dev)
        title = subject.replace("_", " ")
        _write(out_dir, task, {"include": "_mmlu.yaml", "task": task,
                               "description": f"The following are multiple choice questions (with answers) "
                                              f"about {title}.\n\n",
                               "dataset_kwargs": {"data_files": splits, "keep_default_na": False}})
        subtasks.append(task)
    _group(out_dir, PREFIX + name, subtasks, "acc", weight_by_size=True)
    return RenderedTask(name, PREFIX + name, "acc", subtasks)


def _bbh(name: str, files: list[Path], out_dir: Path) -> RenderedTask:
    subtasks = []
    for task_file in files:
        prompt_file = task_file.parent.parent / "cot-prompts" / f"{task_file.stem}.txt"
        if not prompt_file.is_file():
            raise ConfigError("BBH chain-of-thought prompt not found", path=str(prompt_file),
                              fix="point eval_data_dir at a folder with bbh/tasks and bbh/cot-prompts")
        lines = prompt_file.read_text(encoding="utf-8").splitlines(keepends=True)
        prompt = "".join(lines[2:]).strip()
        task = f"{PREFIX}bbh_{task_file.stem}"
        _write(out_dir, task, {"include": "_bbh.yaml", "task": task,
                               "description": "{% raw %}" + prompt + "\n\n{% endraw %}",
                               "dataset_kwargs": {"data_files": {"test": str(task_file)}, "field": "examples"}})
        subtasks.append(task)
    _group(out_dir, PREFIX + name, subtasks, "exact_match", weight_by_size=False)
    return RenderedTask(name, PREFIX + name, "exact_match", subtasks, macro=True)


def _tydiqa(name: str, files: list[Path], out_dir: Path) -> RenderedTask:
    subtasks = []
    for dev_file in files:
        language = dev_file.name.split("_")[0]
        instruction, passage, question, answer = TYDIQA_PROMPTS.get(language, TYDIQA_PROMPTS["english"])
        train = dev_file.parent.parent / "train_partial" / f"{language}_tydiqa_train.json"
        splits = {"test": str(dev_file)}
        if train.is_file():  # exemplars from train where it is here; else another dev question (never itself)
            splits["train"] = str(train)
        task = f"{PREFIX}tydiqa_{language}"
        _write(out_dir, task, {
            "include": "_tydiqa.yaml", "task": task, "description": f"{instruction}\n\n",
            "doc_to_text": f"{passage} {{{{context}}}}\n{question} {{{{question}}}}\n{answer}",
            "fewshot_split": "train" if train.is_file() else "test",
            "dataset_kwargs": {"data_files": splits, "field": "data"}})
        subtasks.append(task)
    _group(out_dir, PREFIX + name, subtasks, "f1", weight_by_size=False)
    return RenderedTask(name, PREFIX + name, "f1", subtasks, macro=True)


def benchmark_pairs(name: str, files: list[Path]) -> Iterator[tuple[str, str]]:
    """``(question, gold answer)`` of every test example of a local task (for decontamination)."""
    for path in files:
        if name == "gsm8k":
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    yield row["question"], row["answer"]
        elif name == "mmlu":
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    yield row["question"], row.get(f"choice{row['answer']}", "")
        elif name.startswith("truthfulqa"):
            with path.open(encoding="utf-8-sig", newline="") as handle:
                for row in csv.DictReader(handle):
                    yield row["Question"], row["Best Answer"]
        elif name == "bbh":
            for row in json.loads(path.read_text(encoding="utf-8"))["examples"]:
                yield row["input"], row["target"]
        elif name == "tydiqa":
            for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
                for paragraph in article["paragraphs"]:
                    for qa in paragraph["qas"]:
                        yield qa["question"], qa["answers"][0]["text"]
