"""Runnable examples of the Agent Jobs platform."""

import sys
from pathlib import Path

# `python -m examples.agents.server` from the repository root works without PYTHONPATH (agent_jobs lives in
# the layer folder; appended, so an explicit PYTHONPATH wins).
_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "common")
if _LAYER not in sys.path:
    sys.path.append(_LAYER)
