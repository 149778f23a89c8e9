"""Downstream A/B (``lm-mixup evaluate downstream``): LoRA fine-tuning per candidate dataset, lm-eval benchmarks
over local task configs, held-out NLL, bootstrap intervals, and an Evaluation section in each candidate's card.

``run.run_downstream(config)`` runs it; ``config.DownstreamConfig`` describes it. The package itself imports
nothing heavy, so the CLI can register the command without loading torch or TRL.
"""
