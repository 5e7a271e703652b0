"""The console's static routes (/app, a job's deep link /app/jobs/<id>, and /admin, the admins' way in): the right
files, content types, security headers and config."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from agent_jobs.api import admin_page

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "functions" / "checkpoints" / "admin_page"


def http_event(path: str, method: str = "GET", route_key: str | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "example.test"},
        "requestContext": {
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "req-1",
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> APIGatewayHttpResolver:
    for name in ("ADMIN_PAGE_DIR", "ADMIN_COGNITO_ENDPOINT", "ADMIN_API_BASE", "LAMBDA_TASK_ROOT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADMIN_CLIENT_ID", "client-123")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    resolver = APIGatewayHttpResolver()
    resolver.include_router(admin_page.router)
    return resolver


def get(app: APIGatewayHttpResolver, path: str) -> dict[str, Any]:
    return app.resolve(http_event(path), {})


def header(response: dict[str, Any], name: str) -> str:
    headers = {key.lower(): value for key, value in (response.get("headers") or {}).items()}
    return str(headers.get(name.lower(), ""))


def test_page_dir_defaults_to_the_repository_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADMIN_PAGE_DIR", raising=False)
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    assert admin_page.page_dir().resolve() == PAGE.resolve()


def test_index_is_html_with_the_script_and_security_headers(app: APIGatewayHttpResolver) -> None:
    response = get(app, "/admin")
    assert response["statusCode"] == 200
    assert header(response, "content-type").startswith("text/html")
    assert '<script src="/app/app.js" type="module">' in response["body"]  # absolute: works from any depth
    assert "<script>" not in response["body"]  # nothing inline: the CSP forbids it
    csp = header(response, "content-security-policy")
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com" in csp
    assert header(response, "x-content-type-options") == "nosniff"
    assert header(response, "referrer-policy") == "no-referrer"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript"), ("style.css", "text/css"), ("config.json", "application/json")],
)
def test_known_files_have_their_content_type(app: APIGatewayHttpResolver, name: str, content_type: str) -> None:
    response = get(app, f"/admin/{name}")
    assert response["statusCode"] == 200
    assert header(response, "content-type").startswith(content_type)
    assert "default-src 'self'" in header(response, "content-security-policy")


def test_app_js_is_the_file_on_disk(app: APIGatewayHttpResolver) -> None:
    assert get(app, "/admin/app.js")["body"] == (PAGE / "app.js").read_text(encoding="utf-8")


def test_seed_path_opens_the_page(app: APIGatewayHttpResolver) -> None:
    response = get(app, "/admin/agent-checkpoints")
    assert response["statusCode"] == 200
    assert header(response, "content-type").startswith("text/html")


@pytest.mark.parametrize(
    "path", ["/admin/../secret", "/admin/secret", "/admin/%2e%2e%2fapp.js", "/admin/.env", "/admin/app.js.bak"]
)
def test_unknown_files_are_404(app: APIGatewayHttpResolver, path: str) -> None:
    assert get(app, path)["statusCode"] == 404


def test_config_comes_from_the_environment(app: APIGatewayHttpResolver) -> None:
    response = get(app, "/admin/config.json")
    assert json.loads(response["body"]) == {
        "apiBase": "",
        "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
        "clientId": "client-123",
        "realtimeUrl": "",
        "tokenUrl": "",
    }
    assert header(response, "cache-control") == "no-store"


def test_the_cloud_token_endpoint_is_published_for_machine_clients(
    app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's client-credentials login finds the hosted UI domain's token endpoint here (issue 18)."""
    monkeypatch.setenv("ADMIN_COGNITO_DOMAIN", "https://jobs-123.auth.eu-west-1.amazoncognito.com")
    config = json.loads(get(app, "/admin/config.json")["body"])
    assert config["tokenUrl"] == "https://jobs-123.auth.eu-west-1.amazoncognito.com/oauth2/token"


def test_a_configured_realtime_url_widens_connect_src_to_its_origin_only(
    app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_REALTIME_URL", "wss://ws.example.com/prod")
    response = get(app, "/admin/config.json")
    assert json.loads(response["body"])["realtimeUrl"] == "wss://ws.example.com/prod"
    policy = header(response, "content-security-policy")
    assert " wss://ws.example.com;" in policy and "/prod" not in policy, policy


def test_local_endpoints_are_allowed_by_the_csp(app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_COGNITO_ENDPOINT", "http://127.0.0.1:5001/")
    monkeypatch.setenv("ADMIN_API_BASE", "http://127.0.0.1:8080/")
    response = get(app, "/admin/config.json")
    config = json.loads(response["body"])
    assert config["cognitoEndpoint"] == "http://127.0.0.1:5001/"
    assert config["apiBase"] == "http://127.0.0.1:8080"
    assert "connect-src 'self' http://127.0.0.1:5001 http://127.0.0.1:8080;" in header(
        response, "content-security-policy"
    )


def test_a_hostile_endpoint_cannot_widen_the_csp(app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_COGNITO_ENDPOINT", "https://x; script-src *")
    csp = header(get(app, "/admin"), "content-security-policy")
    assert "script-src *" not in csp
    assert "connect-src 'self';" in csp


def test_admin_page_dir_overrides(app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "admin_page"
    shutil.copytree(PAGE, copy)
    (copy / "index.html").write_text("<html>copy</html>", encoding="utf-8")
    monkeypatch.setenv("ADMIN_PAGE_DIR", str(copy))
    assert get(app, "/admin")["body"] == "<html>copy</html>"


def test_lambda_task_root_is_used_when_it_holds_the_page(
    app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copytree(PAGE, tmp_path / "admin_page")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    assert admin_page.page_dir() == tmp_path / "admin_page"


def test_missing_files_are_404_not_500(
    app: APIGatewayHttpResolver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ADMIN_PAGE_DIR", str(tmp_path / "nowhere"))
    assert get(app, "/admin/app.js")["statusCode"] == 404


def test_routes_are_public_behind_the_shared_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the project's auth middleware the page answers without a token (route table: PUBLIC)."""
    from agent_jobs.api.app import build_resolver

    monkeypatch.setenv("ADMIN_CLIENT_ID", "client-123")
    app = build_resolver(admin_page.router)
    index = app.resolve(http_event("/admin"), {})
    script = app.resolve(http_event("/admin/app.js", route_key="GET /admin/{file}"), {})
    assert index["statusCode"] == 200
    assert script["statusCode"] == 200
    assert header(script, "content-type").startswith("text/javascript")


UNSAFE_DOM = re.compile(r"\.(?:inner|outer)HTML\s*=|insertAdjacentHTML\(|document\.write|\beval\(|new Function\(")
STRICT_CSP = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)


@pytest.mark.parametrize(
    "path", ["/app", "/app/jobs", "/app/new", "/app/all-jobs", "/app/stats", "/app/jobs/job-123_A"]
)
def test_every_console_path_opens_the_page_under_the_strict_csp(app: APIGatewayHttpResolver, path: str) -> None:
    response = get(app, path)
    assert response["statusCode"] == 200, path
    assert header(response, "content-type").startswith("text/html")
    assert response["body"] == (PAGE / "index.html").read_text(encoding="utf-8")
    csp = header(response, "content-security-policy")
    assert all(rule in csp for rule in STRICT_CSP), csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert header(response, "x-content-type-options") == "nosniff"


def test_the_page_names_its_files_by_absolute_app_paths_only() -> None:
    """A deep link (/app/jobs/<id>) resolves a relative "style.css" to /app/jobs/style.css: every file the page
    loads is named from the root, and the page has no inline script or style for the CSP to refuse."""
    index = (PAGE / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'(?:src|href)="(/app/[^"]+\.(?:js|css))"', index) == ["/app/style.css", "/app/app.js"]
    assert "<style" not in index and " style=" not in index and "<script>" not in index
    modules = sorted(PAGE.glob("*.js"))
    for module in modules:
        text = module.read_text(encoding="utf-8")
        assert not UNSAFE_DOM.search(text), (module.name, UNSAFE_DOM.search(text))
        for imported in re.findall(r'from "\./([\w.-]+)"', text):
            assert imported in admin_page.PAGE_MODULES, f"{module.name} imports {imported}, which is not served"
    assert {m.name for m in modules} <= set(admin_page.PAGE_MODULES)


@pytest.mark.parametrize("name", ["app.js", "router.js", "job.js", "new-job.js", "style.css", "config.json"])
def test_console_files_are_served_under_app_and_admin_alike(app: APIGatewayHttpResolver, name: str) -> None:
    under_app, under_admin = get(app, f"/app/{name}"), get(app, f"/admin/{name}")
    assert under_app["statusCode"] == under_admin["statusCode"] == 200
    assert under_app["body"] == under_admin["body"]
    assert header(under_app, "content-type") == header(under_admin, "content-type")


@pytest.mark.parametrize(
    "path", ["/app/jobs/a.b", "/app/jobs/%2e%2e", "/app/jobs/" + "x" * 129, "/app/secret", "/app/app.js.bak"]
)
def test_a_malformed_deep_link_or_unknown_file_is_404(app: APIGatewayHttpResolver, path: str) -> None:
    assert get(app, path)["statusCode"] == 404


def test_console_routes_are_public_behind_the_shared_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The route table declares the console's paths PUBLIC: a deep link opens without a token (the page signs in)."""
    from agent_jobs.api.app import build_resolver
    from agent_jobs.catalog import match_route

    monkeypatch.setenv("ADMIN_CLIENT_ID", "client-123")
    resolver = build_resolver(admin_page.router)
    for path, key in [
        ("/app", "GET /app"),
        ("/app/app.js", "GET /app/{file}"),
        ("/app/jobs/j-1", "GET /app/jobs/{id}"),
    ]:
        found = match_route("GET", path)
        assert found is not None and f"GET {found[0].path}" == key, (path, found)
        answer = resolver.resolve(http_event(path, route_key=key), {})
        assert answer["statusCode"] == 200, (path, answer)
