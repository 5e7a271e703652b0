"""The CLI's pure parts: flags, the create body, bounded JSON input, credential storage and which URLs may carry
credentials."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from agent_jobs_cli import jsonio
from agent_jobs_cli.bodies import CreateOptions, create_body, parse_tag, parse_variable
from agent_jobs_cli.credentials import USER, Credentials, CredentialStore, normalise_api
from agent_jobs_cli.outcomes import UsageError
from agent_jobs_cli.parser import build_parser
from agent_jobs_cli.urls import realtime_url, require_secure


def parse(*argv: str) -> dict[str, object]:
    return vars(build_parser().parse_args(argv))


def test_global_options_go_before_or_after_the_command() -> None:
    assert parse("--api", "http://a", "--json", "get", "j1") == {
        "api": "http://a",
        "json": True,
        "command": "get",
        "id": "j1",
    }
    assert parse("get", "j1", "--api", "http://b", "--json")["api"] == "http://b"
    assert parse("--api", "http://a", "get", "j1")["api"] == "http://a"  # not reset by the command's own copy
    assert parse("get", "j1")["json"] is False


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--priority", "11"],
        ["reject", "cp-1"],  # --reason is required
        ["request-changes", "cp-1"],  # --feedback is required
        ["watch"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_flags_override_the_file_and_tags_merge_in_order() -> None:
    body = create_body(
        CreateOptions(
            base={"description": "from file", "priority": 3, "tags": ["team:a"], "autoAssign": False},
            description="from flag",
            criteria="must be right",
            job_type="code-generation",
            input_data={"x": 1},
            agent="agent-1",
            tags=["team:a", " env : prod "],
        )
    )
    assert body == {
        "description": "from flag",
        "priority": 3,
        "tags": ["team:a", "env:prod"],
        "autoAssign": False,  # a file field the flags do not know passes through
        "acceptanceCriteria": "must be right",
        "jobType": "code-generation",
        "inputData": {"x": 1},
        "agentId": "agent-1",
    }


def test_a_template_needs_no_description_and_takes_variables() -> None:
    body = create_body(CreateOptions(template="tpl-1", variables=["repo=search", "query=a=b"]))
    assert body == {"templateId": "tpl-1", "variables": {"repo": "search", "query": "a=b"}}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (CreateOptions(), "needs --description"),
        (CreateOptions(description="d", variables=["a=b"]), "give --template"),
        (CreateOptions(description="d", input_data=[1]), "--input must be a JSON object"),
        (CreateOptions(description="d", tags=[f"k{i}:v" for i in range(11)]), "at most 10 tags"),
        (CreateOptions(base={"description": "d", "tags": "a:b"}), "list of key:value"),
    ],
)
def test_bad_create_flags_are_usage_errors(options: CreateOptions, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        create_body(options)


@pytest.mark.parametrize("text", ["nokey", ":v", "k:", "  :  "])
def test_a_tag_is_key_colon_value(text: str) -> None:
    with pytest.raises(UsageError):
        parse_tag(text)


def test_a_variable_is_name_equals_value() -> None:
    assert parse_variable("a=") == ("a", "")
    with pytest.raises(UsageError):
        parse_variable("=x")


def test_json_input_is_bounded_in_size_and_depth(tmp_path: Path) -> None:
    assert jsonio.value_or_file('{"a": [1]}', "--input") == {"a": [1]}
    deep = "[" * 40 + "]" * 40
    with pytest.raises(UsageError, match="deeper than 32"):
        jsonio.value_or_file(deep, "--input")
    with pytest.raises(UsageError, match="not valid JSON"):
        jsonio.value_or_file("[" * 100_000, "--input")  # no RecursionError, no traceback
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": "y" * (300 * 1024)}))
    with pytest.raises(UsageError, match="over 256 KB"):
        jsonio.value_or_file(f"@{big}", "--input")
    with pytest.raises(UsageError, match="cannot read"):
        jsonio.value_or_file(f"@{tmp_path / 'missing.json'}", "--input")
    assert jsonio.depth([]) == 1 and jsonio.depth(3) == 0 and jsonio.depth({"a": {"b": []}}) == 3


def test_credentials_are_kept_per_api_readable_by_the_owner_only(tmp_path: Path) -> None:
    store = CredentialStore(tmp_path / "agent-jobs" / "credentials.json")
    assert store.current_api() is None and store.get("http://127.0.0.1:3000") is None
    first = Credentials("http://127.0.0.1:3000", USER, "tok-1", 1e12, "client", username="user", refresh_token="r")
    second = Credentials("https://api.example.com", USER, "tok-2", 1e12, "client", username="alice")
    store.put(first)
    store.put(second)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.current_api() == "https://api.example.com"
    loaded = store.get("http://127.0.0.1:3000")
    assert loaded is not None and loaded.token == "tok-1" and loaded.refresh_token == "r"
    assert "tok-1" not in repr(loaded)
    assert store.remove("https://api.example.com") and store.current_api() == "http://127.0.0.1:3000"
    assert not store.remove("https://api.example.com")


def test_an_unreadable_credentials_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{not json")
    with pytest.raises(UsageError, match="remove it"):
        CredentialStore(path).current_api()


def test_expiry_has_a_margin() -> None:
    credentials = Credentials("http://a", USER, "t", expires_at=1000.0, client_id="c")
    assert not credentials.expiring(now=900.0)
    assert credentials.expiring(now=950.0)


def test_the_api_url_is_normalised() -> None:
    assert normalise_api("http://127.0.0.1:3000/api/") == "http://127.0.0.1:3000"
    with pytest.raises(UsageError):
        normalise_api("127.0.0.1:3000")


@pytest.mark.parametrize(
    "url", ["https://api.example.com", "http://127.0.0.1:3000", "http://localhost:5050/", "http://[::1]:3000"]
)
def test_credentials_may_go_over_https_or_to_this_machine(url: str) -> None:
    assert require_secure(url, "--api") == url


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5:3000", "ftp://127.0.0.1", "https://"])
def test_credentials_never_go_in_clear_text_across_a_network(url: str) -> None:
    with pytest.raises(UsageError, match="https://"):
        require_secure(url, "--api")


def test_the_realtime_url_is_the_configured_one_or_derived() -> None:
    assert realtime_url("http://127.0.0.1:3000", None) == "ws://127.0.0.1:3000/api/realtime"
    assert realtime_url("https://x.example.com", None) == "wss://x.example.com/api/realtime"
    assert realtime_url("https://x.example.com", "wss://ws.example.com/prod/") == "wss://ws.example.com/prod"
