"""Push/pull of datasets and checkpoints, and a local Hub-compatible server for offline use.

- ``hub.push``: ``push_folder(folder, repo_id, ...)`` and ``pull(repo_id, folder, ...)`` on ``huggingface_hub``;
- ``hub.server``: the local Hub (``HubServer`` in a thread, ``serve`` for ``lm-mixup hub serve``);
- ``hub.testing``: ``local_hub(root)`` / ``hub_environment(endpoint)`` and the ``local_hub_endpoint`` fixture.
"""
