"""A fresh IdToken from the running local stack's user pool (``make token USER=alice ADMIN=1``).

    python -m local.token [username] [--admin] [--access] [--state-file PATH]

Creates the user when missing (``--admin`` also puts it in the admins group); the demo users keep their
printed passwords, any other user gets a new random one (only the token is printed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from local.cognito import UserPool, ensure_user, sign_in
from local.config import DEFAULT_STATE_FILE
from local.state import NoStack, read_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=__doc__.splitlines()[0])
    parser.add_argument("username", nargs="?", default="user", help="user name (default: user)")
    parser.add_argument("--admin", action="store_true", help="make the user an admin (the admins group)")
    parser.add_argument("--access", action="store_true", help="print the AccessToken instead of the IdToken")
    parser.add_argument("--state-file", type=Path, default=DEFAULT_STATE_FILE, help="the running stack's state file")
    args = parser.parse_args(argv)
    try:
        state = read_state(args.state_file)
        pool = UserPool.of_stack(state)
        known = (state.get("passwords") or {}).get(args.username)
        password = ensure_user(pool, args.username, known, admin=args.admin)
        result = sign_in(pool, args.username, password)
    except NoStack as exc:
        print(exc, file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError, KeyError) as exc:
        print(f"cannot get a token from the local stack ({exc}); is `make dev` running?", file=sys.stderr)
        return 1
    print(result["AccessToken"] if args.access else result["IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
