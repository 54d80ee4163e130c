"""Hypothesis against a running server over raw sockets: arbitrary bytes, methods, paths, header sets and
bodies at the tracking paths, at `/mockpipe/...` (odd ids and parameters) and anywhere else.

Whatever is sent: no 5xx, the server still answers `/mockpipe/health`, and a valid call acknowledged
with 200 on a tracking path is listed by `/mockpipe/calls`. Derandomized and without an example
database, so that CI runs the same examples every time, in a few seconds.
"""

from __future__ import annotations

import gzip
import itertools
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mockpipe import MockPipeServer
from mockpipe.factories import strategies as calls
from mockpipe.spec.decoding import ENDPOINT_TYPES
from tests.security.conftest import address_of
from tests.security.raw_http import Answer, basic, exchange, request_bytes

if TYPE_CHECKING:
    from collections.abc import Iterator

FUZZ = settings(
    max_examples=150,
    deadline=None,  # a request may take a while on a loaded CI machine; the socket timeout bounds it
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TIMEOUT = 5.0
MESSAGE_IDS = itertools.count()


@dataclass(frozen=True)
class Target:
    server: MockPipeServer
    http: httpx.Client  # one for all examples: a new client costs about 30 ms


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Target]:
    with MockPipeServer() as running, httpx.Client(base_url=running.url, timeout=TIMEOUT) as http:
        yield Target(running, http)


@dataclass(frozen=True)
class Fuzzed:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    listed_as: str | None = None  # the messageId of a valid call: listed once acknowledged
    extra: dict[str, str] = field(default_factory=dict)


# -- pieces ------------------------------------------------------------------------------------

TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
tokens = st.text(TOKEN, min_size=1, max_size=12)
# Header values: visible ASCII, spaces and obs-text, never CR or LF (those would make other headers).
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80)
odd_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "0", "-1", "1.5", "nan", "inf", "1e999", "9" * 5000, "0" * 5000 + "1", "%", "..", "\x00"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
# Ids in paths: numbers past every limit (Python's int(str), SQLite's integers) as often as odd text.
path_ids = st.one_of(st.sampled_from(["9" * 5000, "0" * 5000 + "1", str(2**63), str(2**63 - 1), "1", "01"]), odd_texts)
methods = st.one_of(st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]), tokens)


def _segment(text: str) -> str:
    return quote(text, safe="") or "%20"


@st.composite
def queries(draw: st.DrawFn) -> str:
    names = st.one_of(
        st.sampled_from(["writeKey", "userId", "type", "after", "limit", "count", "messageId", "q", "typeId"]),
        st.sampled_from(["valid", "accepted", "duplicates", "status", "event", "anonymousId"]),
        st.text(max_size=8),
    )
    pairs = draw(st.lists(st.tuples(names, odd_texts), max_size=4))
    if not pairs:
        return ""
    return "?" + urlencode(pairs)


@st.composite
def tracking_paths(draw: st.DrawFn) -> str:
    endpoint = draw(st.one_of(st.sampled_from(sorted(ENDPOINT_TYPES)), odd_texts.map(_segment)))
    tail = draw(st.sampled_from(["", "", "/", "/x", "?writeKey=k"]))
    return f"/v1/{endpoint}{tail}"


# The routes under /mockpipe/ with the method each answers; `{}` takes an id.
ROUTES = [
    ("GET", "health"),
    ("GET", "calls"),
    ("DELETE", "calls"),
    ("GET", "calls/wait"),
    ("GET", "calls/{}"),
    ("GET", "requests"),
    ("GET", "requests/{}"),
    ("GET", "people"),
    ("GET", "people/{}"),
    ("GET", "objects"),
    ("GET", "objects/{}"),
    ("GET", "objects/{}/{}"),
    ("GET", "faults"),
    ("POST", "faults"),
    ("DELETE", "faults"),
    ("DELETE", "faults/{}"),
    ("GET", "sources/{}"),
    ("GET", "rules"),
    ("GET", "ui/{}"),
    ("GET", "{}"),
]


@st.composite
def mockpipe_requests(draw: st.DrawFn) -> tuple[str, str]:
    """A method and a path under /mockpipe/: mostly a route with the method it answers, odd ids and parameters."""
    method, route = draw(st.sampled_from(ROUTES))
    path = "/mockpipe/" + route.format(*(draw(path_ids.map(_segment)) for _ in range(route.count("{}"))))
    query = draw(queries())
    if route == "calls/wait":  # a wait holds the request: keep it short (the parameter's parsing: test_inputs)
        query = (query + "&" if query else "?") + "timeout=0"
    if draw(st.integers(0, 3)) == 0:
        method = draw(methods)
    return method, path + query


random_paths = st.one_of(
    st.text(max_size=40).map(lambda text: "/" + quote(text, safe="/%?&=.")),
    st.lists(st.sampled_from(["..", ".", "", "%2e", "%2f", "%00", "v1", "mockpipe", "%ff"]), max_size=6).map(
        lambda parts: "/" + "/".join(parts)
    ),
)
json_values = st.recursive(  # integers orjson writes (64 bits); huge ones: test_protocol.py
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=1500),
    json_values.map(orjson.dumps),
    calls.payloads().map(orjson.dumps),
)
# Random headers, but not the ones that frame the request (those are drawn apart, consistent with the
# body: a body shorter than its Content-Length is the incomplete-body case, see test_inputs.py).
header_sets = st.dictionaries(
    tokens.filter(lambda name: name.lower() not in ("content-length", "transfer-encoding", "connection", "host")),
    header_values,
    max_size=5,
)
usual_headers = st.fixed_dictionaries(
    {},
    optional={
        "Authorization": st.one_of(st.sampled_from(["k1", "", "a:b", "é"]).map(basic), header_values),
        "Content-Type": st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "x/y"]
        ),
        "Content-Encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "x"]),
        "Origin": st.sampled_from(["null", "http://127.evil.example", "http://localhost:1", "https://a.example"]),
        "X-Strict-Mode": st.sampled_from(["1", "0", "true", "x"]),
        "Sec-Fetch-Site": st.sampled_from(["cross-site", "same-origin", "none"]),
    },
)


@st.composite
def requests(draw: st.DrawFn, paths: st.SearchStrategy[tuple[str, str]]) -> Fuzzed:
    method, path = draw(paths)
    headers = {**draw(usual_headers), **draw(header_sets)}
    body = draw(bodies)
    framing = draw(st.sampled_from(["length", "shorter length", "chunked", "odd coding"]))
    if framing == "shorter length" and body:  # the rest reads as a next request, which Connection: close ends
        headers["Content-Length"] = str(draw(st.integers(min_value=0, max_value=len(body) - 1)))
    elif framing == "chunked":
        headers["Transfer-Encoding"] = "chunked"
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    elif framing == "odd coding":  # one h11 does not implement: answered 400, never 501
        headers["Transfer-Encoding"] = draw(
            st.sampled_from(["gzip", "chunked, gzip", "deflate", "x", "chunked, chunked"])
        )
    host = draw(st.sampled_from(["127.0.0.1", "localhost", "evil.example", "127.0.0.1.nip.io", "[::1]"]))
    return Fuzzed(method, path, headers, body, extra={"Host": host})


@st.composite
def acknowledged_calls(draw: st.DrawFn) -> Fuzzed:
    """A valid call with a key, among odd headers that leave its body readable."""
    message_id = f"fuzz-{next(MESSAGE_IDS)}"
    payload = draw(calls.payloads()) | {"messageId": message_id}
    key = draw(st.sampled_from(["k1", "k2", "k3"]))  # people and objects under several keys
    batch = draw(st.booleans())
    path = "/v1/batch" if batch else f"/v1/{payload['type']}"
    body = orjson.dumps({"batch": [payload]} if batch else payload)
    headers = {**draw(header_sets), "Authorization": basic(key), "Content-Type": "application/json"}
    headers = {name: value for name, value in headers.items() if name.lower() != "content-encoding"}
    if draw(st.booleans()):
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    return Fuzzed("POST", path, headers, body, listed_as=message_id)


# -- checks ------------------------------------------------------------------------------------


def _send(target: Target, sent: Fuzzed) -> Answer:
    data = request_bytes(sent.method, sent.path, sent.body, sent.headers, host=sent.extra.get("Host", "127.0.0.1"))
    return exchange(address_of(target.server), data, timeout=TIMEOUT)


def _check(target: Target, sent: Fuzzed, answer: Answer) -> None:
    assert answer.status is None or answer.status < 500, answer.raw[:300]  # every 5xx, 501 included
    http = target.http
    assert http.get("/mockpipe/health").status_code == 200
    if "/mockpipe/faults" in sent.path:  # a fault set by chance would change later answers
        http.delete("/mockpipe/faults")
    if sent.listed_as is not None and answer.status == 200:
        listed = http.get("/mockpipe/calls", params={"messageId": sent.listed_as}).json()["calls"]
        assert [call["payload"]["messageId"] for call in listed] == [sent.listed_as], answer.raw[:300]
        for listing in ("/mockpipe/people", "/mockpipe/objects"):  # what the call made of its key's people
            assert http.get(listing).status_code == 200, listing


tracking_requests = st.tuples(st.one_of(st.just("POST"), methods), tracking_paths())
anywhere = st.tuples(methods, random_paths)


@FUZZ
@given(sent=requests(st.one_of(tracking_requests, anywhere)))
def test_fuzzed_requests_get_no_5xx(fuzzed: Target, sent: Fuzzed) -> None:
    _check(fuzzed, sent, _send(fuzzed, sent))


@settings(FUZZ, max_examples=200)
@given(sent=requests(mockpipe_requests()))
def test_fuzzed_inspection_requests_get_no_5xx(fuzzed: Target, sent: Fuzzed) -> None:
    _check(fuzzed, sent, _send(fuzzed, sent))


@settings(FUZZ, max_examples=60)
@given(sent=acknowledged_calls())
def test_every_acknowledged_call_is_listed(fuzzed: Target, sent: Fuzzed) -> None:
    answer = _send(fuzzed, sent)
    assert answer.status == 200, answer.raw[:300]  # a valid call with a key: the server takes it
    _check(fuzzed, sent, answer)


@settings(FUZZ, max_examples=100)
# At least a byte: a connection half-closed before its first byte is held until Hypercorn's keep-alive
# timeout (5 s), answered with nothing, which only makes the test slow.
@given(
    data=st.binary(min_size=1, max_size=3000),
    prefix=st.sampled_from([b"", b"GET / HTTP/1.1\r\n", b"POST /v1/track HTTP/1.1\r\n"]),
)
def test_arbitrary_bytes_get_no_5xx(fuzzed: Target, data: bytes, prefix: bytes) -> None:
    answer = exchange(address_of(fuzzed.server), prefix + data, timeout=TIMEOUT)
    _check(fuzzed, Fuzzed("?", "?", {}, data), answer)
