"""Push/pull of datasets and checkpoints, and a local Hub-compatible server for offline use."""
