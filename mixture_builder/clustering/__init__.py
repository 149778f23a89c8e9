"""Deduplication, embeddings, capacity-constrained clustering and long-tail scores.

Modules: ``embeddings`` (sentence-transformers, offline MiniLM default), ``capacity`` (the scalable
clustering; ``reference`` is the paper's literal algorithm), ``longtail`` (diversity score), ``dedup`` (exact
+ MinHash steps with ``duplicate_of`` links), ``steps`` (embed → cluster → annotate datatrove stages),
``pipelines`` (stages wired into chained executors), ``api`` (in-memory and whole-run entry points), ``cli``.
"""
