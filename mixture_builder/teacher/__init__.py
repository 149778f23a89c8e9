"""The teacher-LLM layer: backends, cache, retries, prompt templates, rater."""
