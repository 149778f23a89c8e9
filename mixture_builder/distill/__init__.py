"""`lm-mixup distill`: distill a real low-quality instruction pool."""
