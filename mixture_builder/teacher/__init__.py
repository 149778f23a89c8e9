"""The teacher-LLM layer: backends, cache, retries, prompt templates, rater.

``TeacherConfig`` (config.py) → ``Teacher.from_config(cfg).generate([ChatRequest(...)])`` (client.py);
``load_template("package:name")`` (templates.py); ``TeacherStep`` (steps.py) for datatrove steps;
``QualityRater`` / ``QualityFilter`` / ``compress_score`` (rater.py); ``FakeOpenAIServer`` (testing.py) for tests;
``embedded_model_dir`` (embedded.py); ``estimate`` (estimate.py) for dry runs; reply layouts for format-guided
generation (layout.py: ``think_answer_layout``, ``guided_params``; decoded locally by guided_layout.py, guided
JSON by guided.py).
"""

from __future__ import annotations

from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.templates import OutputParseError, PromptTemplate, load_template
from mixture_builder.teacher.types import ChatRequest, ChatResult

__all__ = ["ChatRequest", "ChatResult", "OutputParseError", "PromptTemplate", "Teacher", "TeacherConfig",
           "load_template"]
