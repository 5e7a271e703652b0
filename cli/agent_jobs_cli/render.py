"""Human output: a job list as a table, one job as labelled lines, a progress bar (pure: strings in, strings out).

Everything shown comes from the API, and a job's name or an agent's output is anyone's text: control characters
(terminal escapes among them) are shown escaped, never sent to the terminal.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

NAME_WIDTH = 48
RESULT_LINES = 40
BAR_WIDTH = 30
STAGE_PROGRESS = {"PENDING": 0.05, "ASSIGNED": 0.15, "IN_PROGRESS": 0.5}  # when the agent reports none


def safe(value: Any) -> str:
    """``value`` as one line of printable text: control and format characters escaped (``\\x1b``, ``\\u202e``)."""
    text = "" if value is None else str(value)
    out = []
    for char in text:
        if unicodedata.category(char)[0] == "C":
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[safe(cell) for cell in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def job_table(jobs: Sequence[dict[str, Any]]) -> str:
    if not jobs:
        return "no jobs"
    rows = [
        (
            job.get("id"),
            job.get("status"),
            job.get("jobType"),
            job.get("priority"),
            job.get("createdAt"),
            _clip(safe(job.get("name")), NAME_WIDTH),
        )
        for job in jobs
    ]
    return table(("ID", "STATUS", "TYPE", "PRI", "CREATED", "NAME"), rows)


def fraction(job: dict[str, Any]) -> float:
    """How far the job is: the agent's reported progress, else a step by status (1.0 once it is done)."""
    status = str(job.get("status"))
    if status not in STAGE_PROGRESS:
        return 1.0
    reported = job.get("progress")
    if status == "IN_PROGRESS" and isinstance(reported, int | float) and _is_fraction(reported):
        return float(reported)
    return STAGE_PROGRESS[status]


def _is_fraction(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def progress_bar(job: dict[str, Any], width: int = BAR_WIDTH) -> str:
    """``[#########.....]  40%  IN_PROGRESS  attempt 1/3  <message>``"""
    done = fraction(job)
    filled = round(done * width)
    parts = [f"[{'#' * filled}{'.' * (width - filled)}]", f"{round(done * 100):3d}%", safe(job.get("status"))]
    if job.get("attempt"):
        parts.append(f"attempt {job['attempt']}/{job.get('maxAttempts', '?')}")
    if job.get("waitingFor"):
        parts.append(f"waiting for {safe(job['waitingFor'])}")
    if job.get("progressMessage"):
        parts.append(_clip(safe(job["progressMessage"]), 60))
    return "  ".join(parts)


def status_line(job: dict[str, Any]) -> str:
    """One plain line per change (not a TTY): ``<id> IN_PROGRESS attempt 1/3 40% <message>``"""
    parts = [safe(job.get("id")), safe(job.get("status"))]
    if job.get("attempt"):
        parts.append(f"attempt {job['attempt']}/{job.get('maxAttempts', '?')}")
    if _is_fraction(job.get("progress")):
        parts.append(f"{round(float(job['progress']) * 100)}%")
    if job.get("progressMessage"):
        parts.append(safe(job["progressMessage"]))
    return " ".join(parts)


def _result_lines(result: Any) -> list[str]:
    if isinstance(result, str):
        lines = result.splitlines() or [""]
    else:
        lines = json.dumps(result, indent=2, ensure_ascii=False).splitlines()
    shown = [f"  {safe(line)}" for line in lines[:RESULT_LINES]]
    if len(lines) > RESULT_LINES:
        shown.append(f"  … {len(lines) - RESULT_LINES} more lines (--json for all of it)")
    return shown


def job_detail(answer: dict[str, Any]) -> str:
    job = answer.get("job") or {}
    labelled = [
        ("Job", job.get("id")),
        ("Name", job.get("name")),
        ("Status", job.get("status")),
        ("Type", job.get("jobType")),
        ("Priority", job.get("priority")),
        ("Agent", job.get("assignedAgentId") or "(not assigned)"),
        ("Attempt", f"{job.get('attempt', 0)} of {job.get('maxAttempts', '?')}"),
        ("Tags", ", ".join(safe(t) for t in job.get("tags") or []) or None),
        ("Created", job.get("createdAt")),
        ("Updated", job.get("updatedAt")),
        ("Feedback", job.get("feedback")),
    ]
    lines = [f"{label + ':':<10}{safe(value)}" for label, value in labelled if value not in (None, "")]
    if job.get("status") in STAGE_PROGRESS:
        lines.append(f"{'Progress:':<10}{progress_bar(job)}")
    if job.get("result") is not None:
        lines += ["Result:", *_result_lines(job["result"])]
    checkpoints = answer.get("checkpoints") or []
    if checkpoints:
        lines.append("Checkpoints:")
        lines += [
            f"  {safe(c.get('id'))}  {safe(c.get('status'))}  {safe(c.get('stage'))}  attempt {safe(c.get('attempt'))}"
            f"  {safe(c.get('createdAt'))}"
            for c in checkpoints
        ]
    timeline = answer.get("timeline") or []
    if timeline:
        lines.append("Timeline:")
        lines += [
            f"  {safe(t.get('at'))}  {safe(t.get('status'))}  {safe(t.get('message'))}".rstrip() for t in timeline
        ]
    return "\n".join(lines)


def outcome(answer: dict[str, Any]) -> str:
    """What ``watch`` says at the end: the final status, then the result or why there is none."""
    job = answer.get("job") or {}
    lines = [f"job {safe(job.get('id'))} {safe(job.get('status'))}"]
    if job.get("status") == "COMPLETED" and job.get("result") is not None:
        lines += ["Result:", *_result_lines(job["result"])]
    elif job.get("feedback"):
        lines.append(f"Feedback: {safe(job['feedback'])}")
    else:
        last = (answer.get("timeline") or [{}])[-1]
        if last.get("message"):
            lines.append(f"Reason: {safe(last['message'])}")
    return "\n".join(lines)
