"""The command line: ``agent-jobs [--api URL] [--json] COMMAND …`` (``--api`` and ``--json`` also after COMMAND)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from agent_jobs_cli import __version__

DESCRIPTION = "Create, follow and decide Agent Jobs from a terminal or a script (the API's own JSON with --json)."
EPILOG = (
    "Environment: AGENT_JOBS_API (the API's base URL), AGENT_JOBS_TOKEN (a bearer token to use as is), "
    "AGENT_JOBS_CLIENT_ID / AGENT_JOBS_CLIENT_SECRET / AGENT_JOBS_TOKEN_URL (machine login), XDG_CONFIG_HOME "
    "(where credentials.json lives). Exit codes: 0 ok / COMPLETED, 1 API error / FAILED, REJECTED, CANCELLED, "
    "2 usage error / RESUBMISSION_REQUIRED, 3 not signed in or not allowed."
)


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default: object = argparse.SUPPRESS if suppress else None
    parser.add_argument("--api", default=default, help="the API's base URL, e.g. http://127.0.0.1:3000")
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print the API's JSON answer (one document)",
    )


Command = Callable[[str, str], argparse.ArgumentParser]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-jobs", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, suppress=False)
    shared = argparse.ArgumentParser(add_help=False)
    _global_options(shared, suppress=True)  # after the command too, without resetting what came before it
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=text, description=text, parents=[shared])

    _sign_in(command)
    _create(command)
    _list(command)
    _one_job(command)
    _decisions(command)
    return parser


def _sign_in(command: Command) -> None:
    login = command("login", "sign in: a person (--username) or a machine client (--client-id)")
    login.add_argument("--username", help="a person's user name (the password is prompted for)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from stdin's first line")
    login.add_argument("--client-id", help="a machine client's id (or AGENT_JOBS_CLIENT_ID)")
    login.add_argument("--client-secret", help="its secret (or AGENT_JOBS_CLIENT_SECRET; --client-secret-stdin)")
    login.add_argument("--client-secret-stdin", action="store_true", help="read the client secret from stdin")
    login.add_argument("--scope", action="append", default=[], help="a scope to ask for (repeat; default: all)")
    login.add_argument(
        "--token-url",
        help="the OAuth token endpoint (default <api>/oauth2/token; cloud: <CognitoHostedUiUrl>/oauth2/token)",
    )
    command("logout", "forget the sign-in for the API")


def _create(command: Command) -> None:
    create = command("create", "create a job from flags, a JSON file (--file) or a template (--template)")
    create.add_argument("--file", help="a JSON file with a create body (- for stdin); flags override its fields")
    create.add_argument("--template", metavar="ID", help="create from this template")
    create.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a template variable")
    create.add_argument("--name", help="a short title")
    create.add_argument("--description", help="what the agent should do")
    create.add_argument("--criteria", help="acceptance criteria the judge checks the result against")
    create.add_argument("--type", dest="job_type", metavar="TYPE", help="job type (default simple-task)")
    create.add_argument("--input", metavar="JSON", help="the input data: a JSON object, or @file (@- for stdin)")
    create.add_argument("--priority", type=int, choices=range(1, 11), metavar="1-10", help="8 and above run first")
    create.add_argument("--agent", metavar="AGENT_ID", help="this agent (default: matched automatically)")
    create.add_argument("--tag", action="append", default=[], metavar="KEY:VALUE", help="a tag (repeat, up to 10)")
    create.add_argument("--idempotency-key", help="retrying with the same key never creates the job twice")


def _list(command: Command) -> None:
    listing = command("list", "list your jobs, newest first")
    listing.add_argument("--status", help="only jobs in this status")
    listing.add_argument("--type", dest="job_type", metavar="TYPE", help="only jobs of this type")
    listing.add_argument("--tag", metavar="KEY:VALUE", help="only jobs with this tag")
    listing.add_argument("--agent", metavar="AGENT_ID", help="only jobs assigned to this agent")
    listing.add_argument("--limit", type=int, metavar="N", help="jobs per page (the API's default otherwise)")
    listing.add_argument("--next-token", help="continue after the page that gave this token")
    listing.add_argument("--all", action="store_true", help="follow nextToken to the last page")


def _one_job(command: Command) -> None:
    get = command("get", "a job with its checkpoints and timeline")
    get.add_argument("id", metavar="JOB_ID")
    watch = command("watch", "follow a job until it is done (exit code by outcome)")
    watch.add_argument("id", metavar="JOB_ID")
    watch.add_argument("--poll", action="store_true", help="poll only (no WebSocket)")
    cancel = command("cancel", "cancel a job")
    cancel.add_argument("id", metavar="JOB_ID")
    cancel.add_argument("--reason", help="why (kept in the job's history)")


def _decisions(command: Command) -> None:
    approve = command("approve", "approve a checkpoint (admins)")
    approve.add_argument("id", metavar="CHECKPOINT_ID")
    approve.add_argument("--comment", help="a note kept with the decision")
    reject = command("reject", "reject a checkpoint: the job is REJECTED (admins)")
    reject.add_argument("id", metavar="CHECKPOINT_ID")
    reject.add_argument("--reason", required=True, help="why")
    changes = command("request-changes", "send the job back to its agent with feedback (admins)")
    changes.add_argument("id", metavar="CHECKPOINT_ID")
    changes.add_argument("--feedback", required=True, help="what the agent should change")
