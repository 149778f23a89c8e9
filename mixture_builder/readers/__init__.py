"""Readers that bring raw sources into the pipeline as canonical datatrove Documents."""
