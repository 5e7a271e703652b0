"""The local stack: the whole platform on one machine, no AWS account."""

import sys
from pathlib import Path

# `python -m local.stack` / `python -m local.token` from the repository root work without PYTHONPATH
# (the Makefile sets it; appended, so an explicit PYTHONPATH wins).
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "common")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
