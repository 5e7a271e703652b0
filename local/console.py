"""The local stack's own log lines: short, on stderr, apart from the handlers' Powertools output."""

from __future__ import annotations

import logging
import sys

ROOT_LOGGER = "local"


def setup(level: int = logging.INFO) -> None:
    logger = logging.getLogger(ROOT_LOGGER)
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def get(name: str) -> logging.Logger:
    """``local.<name>``: configured by ``setup`` (the stack), silent-by-default elsewhere."""
    return logging.getLogger(f"{ROOT_LOGGER}.{name}")
