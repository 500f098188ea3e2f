"""Pure PyTorch modeling core: imports no Django, DRF, Celery or settings."""
