"""A local Hugging Face Hub-compatible server: repos, git-lfs uploads, NDJSON commits, revisions, downloads.

Files persist under a root folder (content-addressed blobs + one manifest per commit), so every revision
stays loadable. ``HubServer`` runs it in a background thread (tests); ``serve`` runs it in the foreground
(``lm-mixup hub serve``). The real ``huggingface_hub`` and ``datasets`` clients talk to it via ``HF_ENDPOINT``.
"""

from hub.server.app import HubServer, build_app, serve
from hub.server.context import FaultRule, HubContext
from hub.server.repos import HubError, HubState

__all__ = ["FaultRule", "HubContext", "HubError", "HubServer", "HubState", "build_app", "serve"]
