"""Deduplication, embeddings, capacity-constrained clustering and long-tail scores."""
