"""The judge of the running event loop, made on first use (the OpenAI client and key are fetched lazily)."""

from __future__ import annotations

from agent_jobs.integrations.judge import Judge
from agent_jobs.integrations.per_loop import PerLoop
from agent_jobs.settings import get_settings

judge: PerLoop[Judge] = PerLoop(lambda: Judge.from_settings(get_settings()))
