"""The project's own modules import each other at the top (no cycles hidden in functions), and the CLI stays
light: heavy third-party libraries load only inside the commands that need them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mixture_builder", "lm_mixup_train", "dataset_cards", "hub")
HEAVY = ("torch", "transformers", "trl", "peft", "faiss", "sentence_transformers", "datasets", "lm_eval", "vllm",
         "ray", "matplotlib")


def _in_function_project_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom):
                names = [inner.module or ""] if inner.level == 0 else ["." * inner.level]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            else:
                continue
            if any(name.startswith(".") or name.split(".")[0] in PACKAGES for name in names):
                found.append(f"{path.relative_to(ROOT)}:{inner.lineno} (in {node.name})")
    return found


def test_project_modules_are_imported_at_module_level() -> None:
    """Only CLI modules (which register subcommands lazily to keep --help fast) import project modules inside
    functions; anywhere else such an import hides a cycle."""
    offenders = [hit for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
                 if path.name != "cli.py" for hit in _in_function_project_imports(path)]
    assert offenders == []


def test_every_project_module_imports_on_its_own() -> None:
    modules = [".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
               for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))]
    # Each module first, with the project's modules forgotten before each one: a cycle fails in some order.
    script = ("import importlib, sys\nfor name in sys.argv[1:]:\n"
              f"    for loaded in [m for m in sys.modules if m.split('.')[0] in {PACKAGES!r}]:\n"
              "        del sys.modules[loaded]\n"
              "    importlib.import_module(name)\n")
    result = subprocess.run([sys.executable, "-c", script, *modules], capture_output=True, text=True, cwd=ROOT,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_cli_loads_no_heavy_library() -> None:
    script = f"import sys, mixture_builder.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            check=True)
    assert result.stdout.strip() == "[]"
