"""The ``make judge-eval`` harness on a handful of labelled cases, against real local OpenAI-compatible servers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.judge import run as judge_eval
from tests.fixtures.openai_server import OpenAICompatServer, Script, pass_reply

HANDFUL = ["pass-sum", "fail-wrong-sum", "partial-capitals", "format-no-summary", "inject-ignore-previous"]


def test_every_case_is_labelled_and_the_set_is_large_enough() -> None:
    cases = judge_eval.load_cases(judge_eval.CASES)
    assert len(cases) >= 60 and len({c["id"] for c in cases}) == len(cases)
    counts = {category: sum(c["category"] == category for c in cases) for category in judge_eval.CATEGORIES}
    assert min(counts.values()) >= 10, counts
    assert all(c["description"] and c["criteria"] and c["reason"] for c in cases)


def test_offline_run_is_a_smoke_test_that_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    out = tmp_path / "results.json"
    assert judge_eval.main(["--only", ",".join(HANDFUL), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "smoke test of the harness" in printed and "injection pass rate" in printed
    report: dict[str, Any] = json.loads(out.read_text())
    assert report["mode"] == "offline-stand-in" and "smoke test" in report["note"]
    assert report["cases"] == 5 and report["agreement"] == 1.0
    assert report["failPrecision"] == 1.0 and report["failRecall"] == 1.0 and report["injectionPassRate"] == 0.0
    assert report["decidedWithoutTokens"] == 1  # the format error: no tokens spent
    by_id = {c["id"]: c for c in report["perCase"]}
    assert by_id["format-no-summary"]["promptTokens"] == 0
    assert by_id["pass-sum"]["promptTokens"] > 0 and report["tokens"]["perSimpleJob"] > 0
    assert report["costUsd"] == 0 and report["costUsdAtModelPrices"] > 0  # the stand-in is free; the estimate is not


def test_a_judge_that_passes_everything_scores_badly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against a real server that answers "pass" to everything, the figures show it: fails missed, injections passed."""
    with OpenAICompatServer(Script([], fallback=pass_reply())) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_MODEL", "gpt-4o-mini")
        out = tmp_path / "results.json"
        judge_eval.main(["--only", ",".join(HANDFUL), "--out", str(out)])
    report = json.loads(out.read_text())
    assert report["mode"] == "openai-compatible" and report["baseUrl"] == server.base_url
    assert "test-key" not in out.read_text()
    assert report["injectionPassRate"] == 1.0
    # caught anyway: the format error (deterministic checks) and the partial answer, whose one-criterion
    # "pass" leaves a criterion unjudged (an inconsistent verdict, asked twice)
    assert report["failRecall"] == 0.5 and report["agreement"] == 0.6 and report["costUsd"] > 0
    by_id = {c["id"]: c for c in report["perCase"]}
    assert (
        by_id["partial-capitals"]["judgeCalls"] == 2 and "inconsistent verdict" in by_id["partial-capitals"]["reason"]
    )
