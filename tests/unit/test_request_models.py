"""API request models: both seed shapes of a job, every size and range limit, the agent registry's rules.

Bodies are given as the API receives them (camelCase); a refusal must name the field it is about.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from agent_jobs.models.agents import Agent, AgentFields, CreateAgentRequest
from agent_jobs.models.jobs import AssignRequest, CreateJobRequest, ForceCompleteRequest

KB = 1024
SECRET = "a-signing-secret-0123456789"


def sized(total_bytes: int) -> dict[str, Any]:
    """A JSON object whose compact encoding is exactly ``total_bytes`` long."""
    value = {"k": ""}
    value["k"] = "x" * (total_bytes - len(json.dumps(value, separators=(",", ":"))))
    assert len(json.dumps(value, separators=(",", ":"))) == total_bytes
    return value


def refused_fields(model: type, body: dict[str, Any]) -> list[str]:
    """The fields a body is refused for (``""`` for a whole-body rule)."""
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]


# --- jobs ----------------------------------------------------------------------------------------
def test_seed_002_shape() -> None:
    job = CreateJobRequest.model_validate(
        {"name": "Summarise", "description": "Summarise the report", "acceptanceCriteria": "Under 100 words"}
    )
    assert (job.title, job.text, job.acceptance_criteria) == ("Summarise", "Summarise the report", "Under 100 words")
    assert (job.job_type, job.priority, job.input_data, job.auto_assign) == ("simple-task", 5, {}, True)


def test_seed_004_shape() -> None:
    job = CreateJobRequest.model_validate(
        {
            "jobType": "data-processing",
            "taskDescription": "Process user data\nsecond line",
            "inputData": {"userId": "user-123"},
            "priority": 8,
        }
    )
    assert job.text == "Process user data\nsecond line"
    assert job.title == "Process user data"  # no name given: the description's first line
    assert (job.job_type, job.input_data, job.priority) == ("data-processing", {"userId": "user-123"}, 8)


def test_a_description_is_required() -> None:
    assert refused_fields(CreateJobRequest, {"name": "no text"}) == [""]
    assert refused_fields(CreateJobRequest, {"description": ""}) == ["description"]


@pytest.mark.parametrize(
    ("field", "limit"),
    [("name", 200), ("description", 10_000), ("taskDescription", 10_000), ("acceptanceCriteria", 10_000)],
)
def test_text_limits(field: str, limit: int) -> None:
    base = {"description": "d"}
    CreateJobRequest.model_validate({**base, field: "x" * limit})
    assert refused_fields(CreateJobRequest, {**base, field: "x" * (limit + 1)}) == [field]


@pytest.mark.parametrize("job_type", ["simple-task", "code-generation", "data-processing", "a", "x1", "x" * 64])
def test_job_types_accepted(job_type: str) -> None:
    assert CreateJobRequest.model_validate({"description": "d", "jobType": job_type}).job_type == job_type


@pytest.mark.parametrize(
    "job_type", ["", "Simple-Task", "-leading", "has space", "under_score", "x" * 65, "slash/es", "ünï"]
)
def test_job_types_refused(job_type: str) -> None:
    assert refused_fields(CreateJobRequest, {"description": "d", "jobType": job_type}) == ["jobType"]


@pytest.mark.parametrize("field", ["inputData", "inputs"])
def test_input_is_at_most_64_kb(field: str) -> None:
    CreateJobRequest.model_validate({"description": "d", field: sized(64 * KB)})
    with pytest.raises(ValidationError, match=f"{field} is larger than 64 KB"):
        CreateJobRequest.model_validate({"description": "d", field: sized(64 * KB + 1)})
    assert refused_fields(CreateJobRequest, {"description": "d", field: sized(64 * KB + 1)}) == [field]


@pytest.mark.parametrize("field", ["priority", "maxAttempts"])
def test_ranges_one_to_ten(field: str) -> None:
    for value in (1, 10):
        CreateJobRequest.model_validate({"description": "d", field: value})
    for value in (0, 11, -1):
        assert refused_fields(CreateJobRequest, {"description": "d", field: value}) == [field]


def test_unknown_fields_are_refused() -> None:
    assert refused_fields(CreateJobRequest, {"description": "d", "userId": "someone-else"}) == ["userId"]
    assert refused_fields(CreateJobRequest, {"description": "d", "status": "COMPLETED"}) == ["status"]


def test_assign_request() -> None:
    assert AssignRequest.model_validate({"agentId": "a1"}).inputs is None
    assert refused_fields(AssignRequest, {}) == ["agentId"]
    assert refused_fields(AssignRequest, {"agentId": ""}) == ["agentId"]
    assert refused_fields(AssignRequest, {"agentId": "a1", "inputs": sized(64 * KB + 1)}) == ["inputs"]


def test_force_complete_needs_a_reason_and_a_bounded_result() -> None:
    ForceCompleteRequest.model_validate({"reason": "done by hand", "result": sized(256 * KB)})
    assert refused_fields(ForceCompleteRequest, {}) == ["reason"]
    assert refused_fields(ForceCompleteRequest, {"reason": ""}) == ["reason"]
    assert refused_fields(ForceCompleteRequest, {"reason": "r" * 2001}) == ["reason"]
    assert refused_fields(ForceCompleteRequest, {"reason": "ok", "result": sized(256 * KB + 1)}) == ["result"]


# --- agents --------------------------------------------------------------------------------------
AGENT = {"name": "Summariser", "endpointUrl": "https://agents.example.com/run", "secret": SECRET}


def test_a_minimal_agent() -> None:
    agent = CreateAgentRequest.model_validate(AGENT)
    assert (agent.name, agent.endpoint_url, agent.timeout_seconds, agent.status) == (
        "Summariser",
        "https://agents.example.com/run",
        None,
        None,
    )


@pytest.mark.parametrize("missing", ["name", "endpointUrl", "secret"])
def test_an_agent_needs_name_endpoint_and_secret(missing: str) -> None:
    assert refused_fields(CreateAgentRequest, {k: v for k, v in AGENT.items() if k != missing}) == [missing]


def test_the_secret_is_16_to_256_characters() -> None:
    CreateAgentRequest.model_validate({**AGENT, "secret": "s" * 16})
    CreateAgentRequest.model_validate({**AGENT, "secret": "s" * 256})
    assert refused_fields(CreateAgentRequest, {**AGENT, "secret": "s" * 15}) == ["secret"]
    assert refused_fields(CreateAgentRequest, {**AGENT, "secret": "s" * 257}) == ["secret"]
    assert refused_fields(AgentFields, {"secret": "short"}) == ["secret"]


def test_the_secret_never_leaves_a_model() -> None:
    request = CreateAgentRequest.model_validate(AGENT)
    assert SECRET not in repr(request)
    agent = Agent(id="a1", created_at="t", updated_at="t", **request.model_dump(exclude_none=True))
    assert agent.secret == SECRET
    assert SECRET not in repr(agent)
    assert SECRET not in json.dumps(agent.to_api())
    assert "secret" not in agent.to_api()


def test_job_types_of_an_agent_follow_the_job_type_pattern() -> None:
    CreateAgentRequest.model_validate({**AGENT, "jobTypes": ["simple-task", "code-generation"]})
    assert refused_fields(CreateAgentRequest, {**AGENT, "jobTypes": ["simple-task", "Bad Type"]}) == ["jobTypes"]


@pytest.mark.parametrize("seconds", [0.5, 30, 120])
def test_timeout_within_bounds(seconds: float) -> None:
    assert CreateAgentRequest.model_validate({**AGENT, "timeoutSeconds": seconds}).timeout_seconds == seconds


@pytest.mark.parametrize("seconds", [0, -1, 120.5, 3600])
def test_timeout_out_of_bounds(seconds: float) -> None:
    assert refused_fields(CreateAgentRequest, {**AGENT, "timeoutSeconds": seconds}) == ["timeoutSeconds"]


@pytest.mark.parametrize("field", ["inputSchema", "outputSchema"])
def test_schemas_must_be_valid_json_schema(field: str) -> None:
    schema = {"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]}
    assert (
        getattr(
            CreateAgentRequest.model_validate({**AGENT, field: schema}),
            "input_schema" if field == "inputSchema" else "output_schema",
        )
        == schema
    )
    assert refused_fields(CreateAgentRequest, {**AGENT, field: {"type": "no-such-type"}}) == [field]
    assert refused_fields(CreateAgentRequest, {**AGENT, field: {"required": "not-a-list"}}) == [field]
    too_big = {"type": "object", "description": "x" * (32 * KB)}
    assert refused_fields(CreateAgentRequest, {**AGENT, field: too_big}) == [field]


def test_agent_fields_are_all_optional_for_a_partial_update() -> None:
    update = AgentFields.model_validate({"description": "new words"})
    assert update.model_dump(exclude_unset=True) == {"description": "new words"}
    assert refused_fields(AgentFields, {"status": "RETIRED"}) == ["status"]
    assert refused_fields(AgentFields, {"name": ""}) == ["name"]
    assert refused_fields(AgentFields, {"skills": [""]}) == ["skills"]
    assert refused_fields(AgentFields, {"id": "other"}) == ["id"]


# --- the document and the models agree (issue 12: the fuzzer's schema-violating requests were accepted) ---
@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (CreateJobRequest, {"description": "d", "priority": "5"}, "priority"),
        (CreateJobRequest, {"description": "d", "priority": True}, "priority"),
        (CreateJobRequest, {"description": "d", "priority": 5.5}, "priority"),
        (CreateJobRequest, {"description": "d", "autoAssign": "yes"}, "autoAssign"),
        (CreateJobRequest, {"description": "d", "autoResubmit": 1}, "autoResubmit"),
        (CreateJobRequest, {"description": 7}, "description"),
        (CreateJobRequest, {"description": "d", "passScore": False}, "passScore"),
        (AgentFields, {"timeoutSeconds": True}, "timeoutSeconds"),
        (AgentFields, {"timeoutSeconds": "5"}, "timeoutSeconds"),
        (AgentFields, {"skills": "summarise"}, "skills"),
    ],
)
def test_json_types_are_taken_as_documented(model: type, body: dict[str, Any], field: str) -> None:
    assert field in refused_fields(model, body)


def test_an_integral_number_is_an_integer_and_enums_come_as_strings() -> None:
    """JSON Schema counts 42.0 as an integer; a JSON body has no enum instances, only their names."""
    assert CreateJobRequest.model_validate({"description": "d", "priority": 7.0}).priority == 7
    assert CreateJobRequest.model_validate({"description": "d", "maxAttempts": 2.0}).max_attempts == 2
    assert AgentFields.model_validate({"status": "INACTIVE", "timeoutSeconds": 5}).status == "INACTIVE"


@pytest.mark.parametrize("blank", [" ", "\n", "\u2028", "\t \r\n\u3000"])
def test_whitespace_only_texts_are_refused(blank: str) -> None:
    for field in ("description", "taskDescription", "name"):
        assert refused_fields(CreateJobRequest, {"description": "d", field: blank}) == [field]


def test_a_title_from_text_python_calls_blank() -> None:
    """\\x1c is not whitespace to the pattern's regex engine but is to str.strip(): the title falls back."""
    assert CreateJobRequest.model_validate({"description": "\x1c"}).title == "job"


@pytest.mark.parametrize(
    "body",
    [
        {"description": "x"},
        {"taskDescription": "x"},
        {"templateId": "t1"},  # or a template's (DESIGN.md §16), whose body has one
        {},
        {"description": None},  # the fuzzer's find: "required" alone let a null description through
        {"description": None, "taskDescription": None, "templateId": None},
    ],
)
def test_the_schema_says_a_description_is_required(body: dict[str, Any]) -> None:
    schema = CreateJobRequest.model_json_schema()
    try:
        CreateJobRequest.model_validate(body)
        by_model = True
    except ValidationError:
        by_model = False
    assert jsonschema.Draft202012Validator(schema).is_valid(body) == by_model, body
    assert schema["properties"]["description"]["anyOf"][0]["pattern"] == r"\S"
