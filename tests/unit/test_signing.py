"""Standard Webhooks signatures: the published test vector, round trips, tampering, tolerance."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from agent_jobs.integrations.signing import sign_headers, signature, verify

# The Standard Webhooks reference test vector (standard-webhooks/standard-webhooks, libraries/*/tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_published_vector() -> None:
    headers = sign_headers(VECTOR_SECRET, VECTOR_BODY, msg_id=VECTOR_ID, timestamp=VECTOR_TS)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    assert verify(VECTOR_SECRET, headers, VECTOR_BODY, now=VECTOR_TS)


def test_raw_secret_is_used_as_utf8_bytes() -> None:
    expected = hmac.new("pässword".encode(), b"m.1.{}", hashlib.sha256).digest()
    assert signature("pässword", b"{}", msg_id="m", timestamp=1) == "v1," + base64.b64encode(expected).decode()
    # without the prefix, the vector's base64 text is itself the key: a different signature
    unprefixed = VECTOR_SECRET.removeprefix("whsec_")
    assert signature(unprefixed, VECTOR_BODY, msg_id=VECTOR_ID, timestamp=VECTOR_TS) != VECTOR_SIGNATURE


def test_round_trip_with_case_insensitive_headers() -> None:
    body = b'{"jobId": "j1", "input": {"text": "hello"}}'
    headers = sign_headers("s3cret", body, msg_id="job-j1-1", timestamp=1_700_000_000)
    upper = {k.upper(): v for k, v in headers.items()}
    assert verify("s3cret", upper, body, now=1_700_000_010)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda h, b: (h, b + b" "),
        lambda h, b: ({**h, "webhook-id": "other"}, b),
        lambda h, b: ({**h, "webhook-timestamp": str(int(h["webhook-timestamp"]) + 1)}, b),
        lambda h, b: ({**h, "webhook-signature": h["webhook-signature"][:-4] + "AAA="}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
        lambda h, b: ({**h, "webhook-timestamp": "soon"}, b),
    ],
)
def test_tampering_fails(tamper) -> None:
    body = b'{"a": 1}'
    headers = sign_headers("s3cret", body, msg_id="m1", timestamp=1_700_000_000)
    bad_headers, bad_body = tamper(headers, body)
    assert not verify("s3cret", bad_headers, bad_body, now=1_700_000_000)


def test_wrong_secret_fails() -> None:
    headers = sign_headers("s3cret", b"{}", msg_id="m1", timestamp=1_700_000_000)
    assert not verify("other", headers, b"{}", now=1_700_000_000)


def test_tolerance_both_ways() -> None:
    ts = 1_700_000_000
    headers = sign_headers("s3cret", b"{}", msg_id="m1", timestamp=ts)
    assert verify("s3cret", headers, b"{}", now=ts + 300)
    assert not verify("s3cret", headers, b"{}", now=ts + 301)
    assert not verify("s3cret", headers, b"{}", now=ts - 301)
    assert verify("s3cret", headers, b"{}", now=ts + 3600, tolerance_seconds=3600)


def test_any_of_several_signatures_may_match() -> None:
    headers = sign_headers("new", b"{}", msg_id="m1", timestamp=1_700_000_000)
    old = signature("old", b"{}", msg_id="m1", timestamp=1_700_000_000)
    rotated = {**headers, "webhook-signature": f"v1,bm9wZQ== {old} {headers['webhook-signature']}"}
    assert verify("new", rotated, b"{}", now=1_700_000_000)
    assert verify("old", rotated, b"{}", now=1_700_000_000)


def test_malformed_whsec_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="base64"):
        signature("whsec_!!!", b"{}", msg_id="m", timestamp=1)
