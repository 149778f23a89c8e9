"""Dataset and model cards (Jinja templates shipped as package data)."""
