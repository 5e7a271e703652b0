"""Which judge the local stack's handlers use: OpenAI (any OpenAI-compatible server) when ``OPENAI_API_KEY``
is set, otherwise the offline stand-in of ``local.openai_compat`` on loopback, clearly named as not an LLM."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent_jobs.settings import Settings
from local.config import HOST
from local.openai_compat import OpenAICompatServer, offline_judge_responder

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
OFFLINE_API_KEY = "offline-stand-in"


@dataclass
class JudgeSetup:
    mode: str  # "openai" or "offline"
    model: str
    base_url: str
    env: dict[str, str] = field(default_factory=dict)  # what the handlers' environment needs on top
    server: OpenAICompatServer | None = None

    @property
    def description(self) -> str:
        if self.mode == "offline":
            return (
                f"judge: OFFLINE STAND-IN (not an LLM) at {self.base_url} — "
                "set OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL) for a real judge"
            )
        return f"judge: OpenAI {self.model} at {self.base_url}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def start_judge(port: int, environ: Mapping[str, str] | None = None) -> JudgeSetup:
    env = os.environ if environ is None else environ
    model = env.get("OPENAI_MODEL") or str(Settings.model_fields["openai_model"].default)
    if env.get("OPENAI_API_KEY"):
        return JudgeSetup("openai", model, env.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE_URL)
    server = OpenAICompatServer(offline_judge_responder, host=HOST, port=port).start()
    return JudgeSetup(
        "offline",
        model,
        server.base_url,
        env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": OFFLINE_API_KEY},
        server=server,
    )
