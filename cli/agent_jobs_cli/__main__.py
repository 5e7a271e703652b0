"""``agent-jobs`` (the console script) and ``python -m agent_jobs_cli``."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

import httpx

from agent_jobs_cli import jsonio
from agent_jobs_cli.api import new_http_client
from agent_jobs_cli.commands import COMMANDS, Context
from agent_jobs_cli.credentials import CredentialStore
from agent_jobs_cli.outcomes import INTERRUPTED, ApiError, CliError
from agent_jobs_cli.parser import build_parser
from agent_jobs_cli.render import safe


def run(
    argv: Sequence[str] | None,
    *,
    env: Mapping[str, str],
    http: httpx.Client,
    out: TextIO,
    err: TextIO,
    stdin: TextIO,
    store: CredentialStore | None = None,
) -> int:
    """One command line → its exit code (``main`` with the process's streams; tests hand in their own)."""
    args = build_parser().parse_args(argv)  # a usage error exits 2 here, with argparse's message
    context = Context(args, env, store or CredentialStore.of(env), http, out, err, stdin)
    try:
        return COMMANDS[args.command](context)
    except CliError as exc:
        if args.json and isinstance(exc, ApiError) and exc.body:
            out.write(jsonio.dump(exc.body) + "\n")  # scripts get the API's error envelope too
        err.write(f"agent-jobs: {safe(exc.message)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("\n")
        return INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    with new_http_client() as http:
        return run(argv, env=os.environ, http=http, out=sys.stdout, err=sys.stderr, stdin=sys.stdin)


if __name__ == "__main__":
    sys.exit(main())
