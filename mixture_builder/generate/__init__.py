"""`lm-mixup build`: regenerate MIXTURE from raw passages."""
