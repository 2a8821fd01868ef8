"""How the inbox reads a webhook body. Most bodies are read by orjson (the receivers' hot path);
whatever it reads must be exactly what `json.loads` reads, and every body it cannot vouch for
gets the general reading with its diagnosis (kept as text, stored failed, with the reason)."""

from __future__ import annotations

import json

import pytest

from ticaret.core.inbox import MAX_JSON_DEPTH, decode_json


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


USABLE = {
    "a gateway event": json.dumps(
        {
            "id": "evt_1",
            "event": "message",
            "timestamp": 1764567890123,
            "payload": {"body": "Merhaba, siparişim ne zaman kargoda?", "ack": 2, "f": 0.1},
        },
        ensure_ascii=False,
    ).encode(),
    "escaped non-ASCII and a surrogate pair": b'{"t": "sipari\\u015f \\ud83d\\ude00"}',
    "the largest signed 64-bit integer": b'{"n": 9223372036854775807}',
    "one past it": b'{"n": 9223372036854775808}',
    "the smallest signed 64-bit integer": b'{"n": -9223372036854775808}',
    "one below it": b'{"n": -9223372036854775809}',
    "past 64 bits": b'{"n": 18446744073709551616, "m": 123456789012345678901234567890}',
    "a long digit string": b'{"s": "12345678901234567890123"}',
    "floats at the edges": b"[1.7976931348623157e308, 5e-324, 1e-400, -0.0, 0.30000000000000004]",
    "duplicate keys": b'{"a": 1, "a": 2}',
    "a byte-order mark": b'\xef\xbb\xbf{"a": 1}',
    "UTF-16": '{"a": "ş"}'.encode("utf-16"),
    "nesting at the limit": _nested(MAX_JSON_DEPTH - 1),
    "many brackets, shallow": json.dumps([[n] for n in range(100)]).encode(),
    "a bare scalar": b"42",
}

UNUSABLE = {
    "not JSON": (b"<xml>nope</xml>", "body is not valid JSON"),
    "invalid UTF-8": (b'{"a": "\xff"}', "body is not valid JSON"),
    "an escaped NUL": (b'{"a": "x\\u0000"}', "body contains NUL characters"),
    "an escaped lone surrogate": (b'{"a": "\\ud800"}', "body contains a lone UTF-16 surrogate"),
    "a lone surrogate as bytes": (
        b'{"a": "\xed\xa0\x80"}',
        "body contains a lone UTF-16 surrogate",
    ),
    "a lone surrogate in a key": (b'{"\\udfff": 1}', "body contains a lone UTF-16 surrogate"),
    "an infinite number": (b'{"a": 1e999}', "body contains a number out of range"),
    "NaN": (b"[NaN]", "body contains a number out of range"),
    "Infinity": (b"[-Infinity]", "body contains a number out of range"),
    "too deep": (_nested(MAX_JSON_DEPTH + 1), f"body nests deeper than {MAX_JSON_DEPTH} levels"),
    "far too deep": (_nested(100_000), "body nests too deeply to be read as JSON"),
}


@pytest.mark.parametrize("body", USABLE.values(), ids=USABLE.keys())
def test_a_usable_body_reads_exactly_as_json_loads_reads_it(body: bytes) -> None:
    decoded = decode_json(body)
    assert decoded.usable and decoded.text is None
    # Dumped again, an integer read as a float (or a key order changed) would show.
    assert json.dumps(decoded.payload) == json.dumps(json.loads(body))


@pytest.mark.parametrize("case", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_an_unusable_body_is_kept_as_text_with_its_reason(case: tuple[bytes, str]) -> None:
    body, reason = case
    decoded = decode_json(body)
    assert not decoded.usable
    assert decoded.problem == reason
    assert decoded.payload is None and decoded.text is not None and "\x00" not in decoded.text
