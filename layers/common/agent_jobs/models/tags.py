"""Job tags (DESIGN.md §16): ``key:value`` strings set at creation and filtered on with ``?tag=``.

One rule for both places, so what a job stores is exactly what a filter can name: the key is
``[a-z0-9][a-z0-9_.-]{0,63}``; the value, with the spaces after the colon dropped (``"env: prod"`` is
``"env:prod"``, DESIGN.md's spelling), is 1-128 characters that begin and end visibly — no control or format
(zero-width, bidi) characters, which would make two tags look alike. A repeated tag is the same tag: the
list keeps its first occurrence and drops the rest (order kept), rather than refusing the request.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

MAX_TAGS = 10
MAX_TAG_VALUE = 128
# One pattern is the whole rule: the OpenAPI document publishes it and parse_tag applies it, so a client (or a
# fuzzer) that follows the document is never refused. The value's first and last characters are visible ones (no
# control, space, zero-width, bidi or other format character); inside, plain spaces are allowed too; spaces right
# after the colon are dropped ("env: prod" is "env:prod").
_HIDDEN = r"\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
_EDGE = rf"[^\s{_HIDDEN}]"
_INNER = rf"[^{_HIDDEN}\u00a0\u1680\u2000-\u200a\u205f\u3000]"  # of the spaces, only " "
TAG_PATTERN = rf"^([a-z0-9][a-z0-9_.-]{{0,63}}): *({_EDGE}(?:{_INNER}{{0,{MAX_TAG_VALUE - 2}}}{_EDGE})?)$"
TAG_SCHEMA_MAX_LENGTH = 256
TAG_RULE = f"a tag is key:value — key [a-z0-9][a-z0-9_.-]{{0,63}}, value 1-{MAX_TAG_VALUE} visible characters"
_TAG = re.compile(TAG_PATTERN)

# The pattern is published, not applied here: parse_tag applies it (the models' validators call it) and says the
# rule in words rather than echoing the pattern back.
TagText = Annotated[
    str,
    Field(
        min_length=3, max_length=TAG_SCHEMA_MAX_LENGTH, description=TAG_RULE, json_schema_extra={"pattern": TAG_PATTERN}
    ),
]


def parse_tag(text: str) -> str:
    """The canonical ``key:value`` of ``text``; ValueError (saying the rule) when it is not a tag."""
    match = _TAG.fullmatch(text)
    if match is None:
        raise ValueError(f"{text[:80]!r} is not a valid tag: {TAG_RULE}")
    return f"{match[1]}:{match[2]}"


def checked_tags(texts: list[str]) -> list[str]:
    """Canonical tags in the order given, each once; ValueError for the first that is not a tag."""
    if len(texts) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return list(dict.fromkeys(parse_tag(text) for text in texts))
