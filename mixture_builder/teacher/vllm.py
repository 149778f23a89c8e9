"""Backend ``vllm``: a vLLM server started on this node by datatrove, queried through the lean HTTP client.

datatrove's ``VLLMServer`` (the server half of ``InferenceRunner``) finds a free port, launches ``vllm serve``
(with its torch-compile lock, multi-node Ray setup and readiness polling) and stops it on exit; we reuse it as
is. The request half of ``InferenceRunner`` is not used (it retries only connection errors and gives up on a
429/500 at once); requests go through ``http.AiohttpTransport`` inside ``client.Teacher`` with its cache,
retries and accounting. Needs the ``vllm`` extra (GPU nodes); imported only when this backend is chosen.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mixture_builder.errors import ConfigError
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.http import AiohttpTransport
from mixture_builder.teacher.types import ChatResult


class VLLMTransport:
    """Starts datatrove's ``VLLMServer`` on first use, then sends chat requests to it."""

    def __init__(self, config: TeacherConfig) -> None:
        self.config = config
        self.max_in_flight = config.max_concurrency
        self._server: Any = None
        self._http: AiohttpTransport | None = None
        self._lock = asyncio.Lock()

    async def _ensure_started(self) -> AiohttpTransport:
        async with self._lock:
            if self._http is None:
                from datatrove.pipeline.inference.run_inference import InferenceConfig
                from datatrove.pipeline.inference.servers import VLLMServer
                from datatrove.pipeline.inference.types import ServerError

                options = dict(self.config.vllm_kwargs)
                rank = int(options.pop("rank", 0))
                try:
                    inference = InferenceConfig(server_type="vllm", model_name_or_path=self.config.model,
                                                max_concurrent_generations=self.config.max_concurrency, **options)
                except TypeError as error:
                    raise ConfigError(f"bad vllm_kwargs ({error})", field="teacher.vllm_kwargs",
                                      fix="use fields of datatrove's InferenceConfig") from error
                try:
                    self._server = VLLMServer(inference, rank)
                except ImportError as error:
                    raise ConfigError(f"backend 'vllm' needs vLLM ({error})",
                                      fix="pip install 'lm-mixup[vllm]' on a GPU node") from error
                await self._server.__aenter__()
                try:
                    await self._server._server_ready
                except ServerError as error:
                    raise ConfigError(f"the vLLM server for {self.config.model!r} did not start ({error})",
                                      fix="check the model path and GPUs; set vllm_kwargs.server_log_folder "
                                      "to keep the server log") from error
                self._http = AiohttpTransport(self.config, base_url=f"{self._server.get_base_url()}/v1")
            return self._http

    async def complete(self, payload: dict[str, Any]) -> ChatResult:
        http = await self._ensure_started()
        return await http.complete(payload)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._server is not None:
            await self._server.__aexit__(None, None, None)
            self._server = None
