"""Train LM-Mixup on MIXTURE: SFT cold start, then GRPO with quality, alignment and format rewards."""
