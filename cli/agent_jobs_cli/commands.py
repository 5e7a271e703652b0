"""One function per command: read the flags, call the API through ``ApiClient``, show the answer, return the exit
code. Output goes to ``Context.out`` (the API's JSON with ``--json``, else text for people); messages to ``err``."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx

from agent_jobs_cli import jsonio, render
from agent_jobs_cli.api import ApiClient, TokenSource, new_idempotency_key
from agent_jobs_cli.auth import TOKEN_PATH, StaticToken, StoredSession, client_credentials, sign_in_user
from agent_jobs_cli.bodies import CreateOptions, create_body, parse_tag
from agent_jobs_cli.credentials import CredentialStore, normalise_api
from agent_jobs_cli.outcomes import OK, AuthError, CliError, UsageError, outcome_of
from agent_jobs_cli.urls import realtime_url, require_secure
from agent_jobs_cli.watch import Display, Feed, SocketFeed, follow

MAX_PAGES = 1000  # --all: a server that kept answering the same nextToken must not keep us here forever


@dataclass
class Context:
    args: argparse.Namespace
    env: Mapping[str, str]
    store: CredentialStore
    http: httpx.Client
    out: TextIO
    err: TextIO
    stdin: TextIO

    def api(self) -> str:
        url = self.args.api or self.env.get("AGENT_JOBS_API") or self.store.current_api()
        if not url:
            raise AuthError("no API to talk to: agent-jobs login --api URL --username NAME (or set AGENT_JOBS_API)")
        return require_secure(normalise_api(url), "--api")

    def tokens(self, api: str) -> TokenSource:
        if self.env.get("AGENT_JOBS_TOKEN"):
            return StaticToken(self.env["AGENT_JOBS_TOKEN"])
        credentials = self.store.get(api)
        if credentials is None:
            raise AuthError(f"not signed in to {api}: run agent-jobs login --api {api} --username NAME")
        return StoredSession(self.http, self.store, credentials)

    def client(self) -> ApiClient:
        api = self.api()
        return ApiClient(api, self.http, self.tokens(api))

    def emit(self, answer: Any, human: str) -> None:
        self.out.write((jsonio.dump(answer) if self.args.json else human) + "\n")
        self.out.flush()


def _read_secret(ctx: Context, prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        secret = ctx.stdin.readline().rstrip("\r\n")
    elif ctx.stdin.isatty():
        secret = getpass.getpass(prompt)
    else:
        raise UsageError("no terminal to ask on: pipe it in with --password-stdin / --client-secret-stdin")
    if not secret:
        raise UsageError("an empty password or secret")
    return secret


def _token_url(ctx: Context, api: str) -> str:
    """The token endpoint the API publishes (``tokenUrl`` in its config, when it does), else ``<api>/oauth2/token``
    (the local stack's stand-in)."""
    try:
        configured = ApiClient(api, ctx.http, None).call("pageConfig", path={"file": "config.json"})
    except CliError:
        configured = {}
    return str(configured.get("tokenUrl") or f"{api}{TOKEN_PATH}")


def login(ctx: Context) -> int:
    args, api = ctx.args, ctx.api()
    client_id = args.client_id or (None if args.username else ctx.env.get("AGENT_JOBS_CLIENT_ID"))
    if args.username and args.client_id:
        raise UsageError("login is either --username (a person) or --client-id (a machine client), not both")
    if args.username:
        password = _read_secret(ctx, f"Password for {args.username}: ", args.password_stdin)
        config = ApiClient(api, ctx.http, None).call("pageConfig", path={"file": "config.json"})
        require_secure(str(config.get("cognitoEndpoint") or ""), "the API's sign-in endpoint")
        credentials = sign_in_user(ctx.http, api, config, args.username, password)
    elif client_id:
        secret = args.client_secret or ctx.env.get("AGENT_JOBS_CLIENT_SECRET")
        if not secret or args.client_secret_stdin:
            secret = _read_secret(ctx, "Client secret: ", args.client_secret_stdin)
        token_url = require_secure(
            args.token_url or ctx.env.get("AGENT_JOBS_TOKEN_URL") or _token_url(ctx, api), "--token-url"
        )
        scopes = [scope for part in args.scope for scope in part.split()] or None
        credentials = client_credentials(ctx.http, api, token_url, client_id, secret, scopes)
    else:
        raise UsageError("login needs --username NAME (a person) or --client-id ID (a machine client)")
    ctx.store.put(credentials)
    expires = datetime.fromtimestamp(credentials.expires_at, UTC).isoformat(timespec="seconds")
    summary = {"success": True, "api": api, "kind": credentials.kind, "who": credentials.who, "expiresAt": expires}
    ctx.emit(summary, f"signed in to {api} as {render.safe(credentials.who)} (saved in {ctx.store.path})")
    return OK


def logout(ctx: Context) -> int:
    api = ctx.api()
    removed = ctx.store.remove(api)
    ctx.emit(
        {"success": True, "api": api, "signedOut": removed},
        f"{'signed out of' if removed else 'not signed in to'} {api}",
    )
    return OK


def create(ctx: Context) -> int:
    args = ctx.args
    base = None
    if args.file:
        base = jsonio.parse(jsonio.read_text(args.file, "--file"), f"--file {args.file}")
        if not isinstance(base, dict):
            raise UsageError(f"--file {args.file} must hold a JSON object (a create body)")
    options = CreateOptions(
        base=base,
        name=args.name,
        description=args.description,
        criteria=args.criteria,
        job_type=args.job_type,
        input_data=jsonio.value_or_file(args.input, "--input") if args.input else None,
        priority=args.priority,
        agent=args.agent,
        tags=args.tag,
        template=args.template,
        variables=args.var,
    )
    body = create_body(options)
    client = ctx.client()
    answer = client.call("createJob", body=body, idempotency_key=args.idempotency_key or new_idempotency_key())
    job = answer.get("job") or {}
    ctx.emit(
        answer,
        f"created job {render.safe(job.get('id'))} ({render.safe(job.get('status'))}): {render.safe(job.get('name'))}",
    )
    return OK


def list_jobs(ctx: Context) -> int:
    args = ctx.args
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be 1 or more")
    filters = {
        "status": args.status,
        "jobType": args.job_type,
        "tag": parse_tag(args.tag) if args.tag else None,
        "agentId": args.agent,
        "limit": args.limit,
        "nextToken": args.next_token,
    }
    query = {key: value for key, value in filters.items() if value is not None}
    client = ctx.client()
    answer = client.call("listJobs", query=query)
    jobs = list(answer.get("jobs") or [])
    if args.all:
        seen: set[str] = set()
        token = answer.get("nextToken")
        while token and token not in seen and len(seen) < MAX_PAGES:
            seen.add(token)
            page = client.call("listJobs", query={**query, "nextToken": token})
            jobs += page.get("jobs") or []
            token = page.get("nextToken")
        answer = {**answer, "jobs": jobs, "nextToken": None}
    ctx.emit(answer, render.job_table(jobs))
    if answer.get("nextToken") and not args.json:
        ctx.err.write(f"more jobs: --next-token {answer['nextToken']} (or --all)\n")
    return OK


def get(ctx: Context) -> int:
    answer = ctx.client().call("getJob", path={"id": ctx.args.id})
    ctx.emit(answer, render.job_detail(answer))
    return OK


def _feed(ctx: Context, client: ApiClient, tokens: TokenSource, job_id: str) -> Feed | None:
    if ctx.args.poll:
        return None
    try:
        configured = ApiClient(client.api, ctx.http, None).call("pageConfig", path={"file": "config.json"})
    except CliError:
        configured = {}
    url = realtime_url(client.api, str(configured.get("realtimeUrl") or "") or None)
    try:
        require_secure(url, "the real-time endpoint", secure="wss", plain="ws")
    except UsageError:
        return None  # never a token over a clear-text socket across a network: poll over https instead
    return SocketFeed.open(url, tokens.bearer(), job_id)


def watch(ctx: Context) -> int:
    api = ctx.api()
    tokens = ctx.tokens(api)
    client = ApiClient(api, ctx.http, tokens)
    job_id = ctx.args.id
    feed = _feed(ctx, client, tokens, job_id)
    ctx.err.write(f"watching {render.safe(job_id)} ({'live over the WebSocket' if feed else 'polling'})\n")
    display = Display(ctx.out)
    show: Callable[[dict[str, Any]], None] = (lambda _job: None) if ctx.args.json else display.show
    try:
        final = follow(lambda: client.call("getJob", path={"id": job_id}), show, feed)
    finally:
        if feed is not None:
            feed.close()
        if not ctx.args.json:
            display.end()
    ctx.emit(final, render.outcome(final))
    code = outcome_of(str((final.get("job") or {}).get("status")))
    return OK if code is None else code


def cancel(ctx: Context) -> int:
    body = {"reason": ctx.args.reason} if ctx.args.reason else None
    answer = ctx.client().call("cancelJob", path={"id": ctx.args.id}, body=body, idempotency_key=new_idempotency_key())
    job = answer.get("job") or {}
    ctx.emit(answer, f"job {render.safe(job.get('id'))} is {render.safe(job.get('status'))}")
    return OK


def _decide(ctx: Context, operation: str, body: dict[str, str] | None) -> int:
    answer = ctx.client().call(operation, path={"id": ctx.args.id}, body=body, idempotency_key=new_idempotency_key())
    checkpoint = answer.get("checkpoint") or {}
    text = f"checkpoint {render.safe(checkpoint.get('id'))} is {render.safe(checkpoint.get('status'))}"
    if answer.get("message"):
        text += f": {render.safe(answer['message'])}"
    ctx.emit(answer, text)
    return OK


def approve(ctx: Context) -> int:
    return _decide(ctx, "approveCheckpoint", {"comment": ctx.args.comment} if ctx.args.comment else None)


def reject(ctx: Context) -> int:
    return _decide(ctx, "rejectCheckpoint", {"reason": ctx.args.reason})


def request_changes(ctx: Context) -> int:
    return _decide(ctx, "requestChanges", {"feedback": ctx.args.feedback})


COMMANDS: dict[str, Callable[[Context], int]] = {
    "login": login,
    "logout": logout,
    "create": create,
    "list": list_jobs,
    "get": get,
    "watch": watch,
    "cancel": cancel,
    "approve": approve,
    "reject": reject,
    "request-changes": request_changes,
}
