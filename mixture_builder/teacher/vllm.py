"""Backend ``vllm``: a vLLM server started on this node by datatrove, queried through the lean HTTP client.

datatrove's ``VLLMServer`` (the server half of ``InferenceRunner``) finds a free port, launches ``vllm serve``
(with its torch-compile lock, multi-node Ray setup and readiness polling) and stops it on exit; we reuse it as
is. The request half of ``InferenceRunner`` is not used (it retries only connection errors and gives up on a
429/500 at once); requests go through ``http.AiohttpTransport`` inside ``client.Teacher`` with its cache,
retries and accounting. Format-guided requests (``teacher.guided``, ``layout.guided_params``) reach the server
as ``structured_outputs: {"regex": …}`` in the request body. Needs the ``vllm`` extra (GPU nodes); imported only
when this backend is chosen.
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
        self._start_error: ConfigError | None = None
        self._lock = asyncio.Lock()

    async def _ensure_started(self) -> AiohttpTransport:
        async with self._lock:
            if self._start_error is not None:  # one launch per transport: later callers get the same error
                raise self._start_error
            if self._http is None:
                try:
                    self._http = await self._start()
                except ConfigError as error:
                    self._start_error = error
                    raise
            return self._http

    async def _start(self) -> AiohttpTransport:
        """Launch the server and wait until it answers; on failure stop it again and raise a ``ConfigError``."""
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
            server = VLLMServer(inference, rank)
        except ImportError as error:
            raise ConfigError(f"backend 'vllm' needs vLLM ({error})",
                              fix="pip install 'lm-mixup[vllm]' on a GPU node") from error
        self._server = server
        try:
            await server.__aenter__()
            await server._server_ready
        except BaseException as error:
            await self._stop_server()
            if isinstance(error, ServerError):
                raise ConfigError(f"the vLLM server for {self.config.model!r} did not start ({error})",
                                  fix="check the model path and GPUs; set vllm_kwargs.server_log_folder "
                                  "to keep the server log") from error
            raise
        return AiohttpTransport(self.config, base_url=f"{server.get_base_url()}/v1")

    async def _stop_server(self) -> None:
        """Stop the server process and release its torch-compile lock (held until the server is ready)."""
        server, self._server = self._server, None
        if server is None:
            return
        try:
            await server.__aexit__(None, None, None)
        finally:
            lock = getattr(server, "_compile_lock", None)
            if lock is not None:
                lock.release()

    async def complete(self, payload: dict[str, Any]) -> ChatResult:
        http = await self._ensure_started()
        return await http.complete(payload)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self._stop_server()
