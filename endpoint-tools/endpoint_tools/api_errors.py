"""The one error model of every tool: whatever an endpoint does wrong becomes an `ApiError` with a named kind
(`KINDS`) and a one-line message, never a traceback; the deadlines every request has (a total one, and one for the
first token); and how a message shows a URL, a server's words and JSON without a key in them or a character a
terminal would act on."""
import email.utils
import html
import http.client
import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Optional

import requests

CONNECT_TIMEOUT_S = 10.0
# The most the tools read of one JSON answer, or of one event of a stream (or a stream's content in all): an endpoint
# serving an endless body once drove a tool's memory to 2 GB before the deadline fired. Answers here are kilobytes.
MAX_BODY_BYTES = 16 * 1024 * 1024

# Every way a request can fail, with what it means; kinds are stable names for reports and tests.
KINDS = {
    "dns": "the host name does not resolve",
    "refused": "nothing listens at that address and port",
    "tls": "the TLS handshake failed (certificate, or HTTPS to a plain-HTTP port)",
    "connect_timeout": "no connection (TCP, and for https:// the TLS handshake) within the connect timeout",
    "timeout_headers": "no response headers before the first-token (or total) deadline",
    "timeout_ttft": "headers came, but no first token before the first-token deadline",
    "timeout_total": "the answer did not complete before the total deadline",
    "closed": "the server closed the connection before the answer was complete",
    "non_json": "the body is not JSON (a proxy's HTML page, a truncated body...)",
    "bad_shape": "JSON of the wrong shape (a missing field, a wrong type)",
    "bad_stream": "an event in the stream is not valid JSON",
    "empty_stream": "the stream ended with no content and no usage",
    "unterminated": "the stream ended without its final event",
    "too_large": f"the answer (or one stream event) is larger than {MAX_BODY_BYTES // 2**20} MiB",
    "unauthorized": "401/403: missing or wrong API key",
    "blocked": "403 from a web application firewall in front (Azure Front Door's \"The request is blocked.\"): a "
               "rule matched the request, not its key",
    "rate_limited": "429: the gateway's rate limit",
    "client_error": "another 4xx answer",
    "server_error": "a 5xx answer, or an error event inside a stream (model loading, backend down...)",
    "cancelled": "stopped by the user (Ctrl-C)",
    "error": "anything else",
}

# Every API key a client was given: no message the tools print or write contains one (a server may echo a wrong key
# in its 401, an exception text may quote the Authorization header).
_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
# A URL's user:password@, the password up to the last @ of the URL: a password may hold / ? # (base64 does), which
# end the authority as a URL parser reads it, so the parser's own password cannot be trusted to find all of it.
_USERINFO_PASSWORD = re.compile(r"(//[^/?#@\s:]*):\S*@")


def redact(text: str) -> str:
    """`text` with every API key given to a client, and the password of any URL in it, replaced by `***`."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return _USERINFO_PASSWORD.sub(r"\1:***@", text)


def shown_url(url: str) -> str:
    """`url` as the tools print or record it: a password in its userinfo (`http://user:secret@host`) replaced by
    `***`, since output and result files are shared."""
    return _USERINFO_PASSWORD.sub(r"\1:***@", url)


def remember_secrets(secrets: "set[str]") -> None:
    """Keys and passwords a client was given, for redact to star wherever a message would quote them."""
    with _SECRETS_LOCK:
        _SECRETS.update(secrets)


def api_key_problem(key: str) -> Optional[str]:
    """Why `key` cannot be sent as a bearer key (None when it can), never quoting the key: an HTTP header carries
    Latin-1 at most and no control character (requests refuses CR/LF quoting the header, http.client raises
    UnicodeEncodeError on a euro sign), and a bearer token (RFC 6750 section 2.1) is printable ASCII without spaces."""
    bad = next((c for c in key if not "!" <= c <= "~"), None)
    if bad is None:
        return None
    what = ("a control character" if ord(bad) < 0x20 or ord(bad) == 0x7F else "whitespace" if bad.isspace()
            else "a character outside ASCII")
    return f"contains {what} (U+{ord(bad):04X}); an API key is printable ASCII without spaces"


class ApiError(Exception):
    """A request that did not succeed: a kind from KINDS, a one-line message (redacted), the HTTP status when there
    was one, and for a timeout which deadline passed (`total` or `first_token`)."""

    def __init__(self, kind: str, message: str, status: Optional[int] = None, deadline: Optional[str] = None,
                 retry_after: Optional[str] = None):
        super().__init__(redact(message))
        self.kind = kind if kind in KINDS else "error"
        self.status = status
        self.deadline = deadline
        self.retry_after = retry_after  # the answer's Retry-After, when it had a readable one
        self.key_dropped = False  # a redirect left the API key behind: the server that answered never saw it
        self.other_scheme: Optional[str] = None  # a 401 asking for another authentication than a bearer key


@dataclass(frozen=True)
class Deadlines:
    """Per request: the answer completes within `total_s`; the first token arrives within `ttft_s` (if set)."""

    total_s: float = 120.0
    ttft_s: Optional[float] = None

    @property
    def first_token_s(self) -> float:
        return min(self.total_s, self.ttft_s) if self.ttft_s else self.total_s

    @property
    def connect_s(self) -> float:
        """The connect timeout: CONNECT_TIMEOUT_S, or less when the headers must come sooner than that."""
        return min(CONNECT_TIMEOUT_S, self.first_token_s)

    @property
    def first_token_name(self) -> str:
        """Which deadline first_token_s is: `first_token` when --ttft-timeout sets it, else `total`."""
        return "first_token" if self.ttft_s and self.first_token_s < self.total_s else "total"


class JsonTooDeep(ValueError):
    """JSON nested deeper than the decoder can follow."""


def parse_json(data: "str | bytes") -> Any:
    """JSON from a server (or any other program's output): every way it can fail is a ValueError, so callers have one
    thing to catch. `json.loads` raises RecursionError, not ValueError, on deep nesting (`[` x 100000: CPython's
    decoder recurses per level), which a hostile or broken server can send in a 200; requests' `Response.json()`
    is `json.loads` too, so the tools never call it."""
    try:
        return json.loads(data, parse_int=_whole_number)
    except RecursionError:
        raise JsonTooDeep("JSON nested too deeply to parse") from None


def _whole_number(digits: str) -> "int | float":
    """A JSON integer: an int, or a float (infinite) when it has more digits than CPython converts to an int
    (4,300 by default, sys.get_int_max_str_digits, 3.11+), where json.loads raised ValueError on valid JSON: a
    field the tools never read held a model list or an event for "not JSON". A count checked is refused by its
    value."""
    try:
        return int(digits)
    except ValueError:
        return float(digits)


def excerpt(data: Any, limit: int = 120) -> str:
    """The start of `data` as JSON, for a message; never fails (a structure too deep to print is named instead)."""
    try:
        return json.dumps(data)[:limit]
    except (RecursionError, ValueError, TypeError):
        return f"a {type(data).__name__} nested too deeply to show"


def readable_retry_after(value: Optional[str]) -> Optional[str]:
    """A Retry-After header as sent (a server's text is printed only when it is short and printable, else None),
    said to be none when it is neither of the header's two forms, a whole number of seconds or an HTTP date (RFC
    9110 10.2.3): a `-5` or `1.5` tells no client when to retry."""
    value = (value or "").strip()
    if not (value and len(value) <= 40 and value.isprintable()):
        return None
    return value if _DELAY_SECONDS.fullmatch(value) or _http_date(value) else \
        f"{value}, not a whole number of seconds nor an HTTP date (RFC 9110 10.2.3)"


_DELAY_SECONDS = re.compile(r"[0-9]+")


def _http_date(value: str) -> bool:
    """Whether `value` reads as an HTTP date (the IMF-fixdate and the two obsolete forms a recipient takes, RFC 9110
    5.6.7), as email.utils reads one."""
    try:
        email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return True


# A quoted string in a header (RFC 9110 5.6.4), whose commas and words are no challenge's scheme.
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
# A challenge's scheme (RFC 9110 11.6.1): a token opening the header or following a comma, not an auth-param's name.
_SCHEME = re.compile(r"(?:^|,)\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?=\s|,|$)(?!\s*=)")


def challenge_schemes(header: str) -> list[str]:
    """The authentication schemes a WWW-Authenticate header asks for, as written: `Basic realm="corp"` -> Basic,
    `Negotiate, NTLM` -> both."""
    return _SCHEME.findall(_QUOTED.sub('""', header))


def other_scheme(asked: str, sent: "str | bytes") -> Optional[str]:
    """The scheme a 401's WWW-Authenticate (`asked`) wants when it is neither a bearer token (the platform's gates
    ask for Bearer) nor the scheme of the Authorization header `sent` (a URL's user:password goes as Basic); None
    when it takes one of those, or names none."""
    schemes = challenge_schemes(asked)
    sent = sent.decode("latin-1") if isinstance(sent, bytes) else sent  # a header requests was given as bytes
    taken = {"bearer", sent.split(" ", 1)[0].lower()}
    return schemes[0] if schemes and not taken & {scheme.lower() for scheme in schemes} else None


# What Azure Front Door's WAF answers a block with when its policy sets no custom response: 403 and "The request is
# blocked." with a tracking reference (MicrosoftDocs/azure-docs 04d64497, waf-front-door-policy-settings.md).
EDGE_BLOCK_WORDS = "the request is blocked"


def status_kind(status: int, body: bytes = b"") -> str:
    """The kind of an error answer; a 403 whose body has Front Door's block words is the edge's WAF, not the gate."""
    if status == 429:
        return "rate_limited"
    if status == 403 and EDGE_BLOCK_WORDS in body.decode("utf-8", "replace").lower():
        return "blocked"
    if status in (401, 403):
        return "unauthorized"
    if status >= 500:
        return "server_error"
    return "client_error"


def printable(text: str) -> str:
    """`text` with every character a terminal would act on (escape sequences, carriage returns, bidi overrides) shown
    escaped, `\\x1b`: a server's words cannot erase a FAIL line and print a PASS in its place."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_TAG = re.compile(r"<[^<>]*>")
# What an HTML page holds that is not its words: the head (its title repeats the heading), scripts, styles, comments.
_NOT_WORDS = re.compile(r"<(head|script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.S | re.I)


def server_message(body: bytes, limit: int = 160) -> str:
    """The server's own words from an error body: OpenAI `{"error": {"message"}}`, Ollama `{"error": "..."}`,
    `{"message"}` / `{"detail"}`, or the text itself (an HTML page's text without its tags: a proxy's or an edge's
    error page)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = parse_json(text)
    except ValueError:
        data = None
        if text.startswith("<"):  # a page's words: without what is not shown, entities (&amp; &#39;) decoded
            words = html.unescape(_TAG.sub(" ", _NOT_WORDS.sub(" ", text)))
            text = words if words.strip() else html.unescape(_TAG.sub(" ", text))  # all in the head: its title
    if isinstance(data, dict):
        err = data.get("error")
        for candidate in ((err.get("message") if isinstance(err, dict) else err), data.get("message"),
                          data.get("detail")):
            if isinstance(candidate, str) and candidate.strip():
                text = candidate.strip()
                break
    return printable(" ".join(text.split())[:limit])


def stream_error(error: Any, url: str) -> ApiError:
    """An error the server sent inside a stream (its headers said 200): its own words, the kind from its `code` when
    that is an HTTP status (vLLM's 400 for a prompt too long), else server_error."""
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599 else None
    words = error.get("message") if isinstance(error, dict) else error
    words = printable(" ".join(words.split())[:160]) if isinstance(words, str) and words.strip() else excerpt(error)
    return ApiError(status_kind(status) if status else "server_error",
                    f"stream from {url}: the server sent an error mid-stream: {words}")


def _as_sent(url: str) -> str:
    """`url` as requests sends it (it quotes what needs quoting: `%zz` goes as `%25zz`), to tell a redirect from
    requests' own rewriting."""
    try:
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, None)
        return prepared.url or url
    except Exception:  # noqa: BLE001 - a URL requests cannot prepare fails elsewhere, named
        return url


# A query's value in a message's text (a URL a server chose, quoted by requests' words): starred as shown_target does.
QUERY_VALUE = re.compile(r"([?&;][^=&;#?\s'\"]+=)[^&;#\s'\"]*")


def shown_target(url: str) -> str:
    """A URL a server chose (a redirect's Location), as shown: shown_url, each query value starred and no fragment. A
    redirect may lead to a signed URL (a storage SAS's `sig=`) or a login page holding a token in its query, which
    the lines and llm-bench's result files would keep; the names stay, to tell one redirect from another."""
    base, sep, rest = url.partition("?")
    base = base.partition("#")[0]
    if not sep:
        return shown_url(base)
    parts = [p for p in rest.partition("#")[0].replace(";", "&").split("&") if p]
    return shown_url(base) + "?" + "&".join(f"{p.partition('=')[0]}=***" if "=" in p else "***" for p in parts)


def where(url: str, final_url: Optional[str]) -> str:
    """The URL a request failed at, as shown (no password): after a redirect the one it was redirected to (that is
    what refused, timed out or answered; its query values starred, shown_target), naming the one asked for too."""
    if not final_url or final_url == url or final_url == _as_sent(url):
        return shown_url(url)
    return f"{shown_target(final_url)} (redirected from {shown_url(url)})"


# What each timeout kind waited for, and which of Deadlines' two it was.
_TIMEOUTS = {"timeout_headers": "no response headers", "timeout_ttft": "no first token",
             "timeout_total": "the answer did not complete"}


def timeout_error(kind: str, shown: str, deadlines: Optional[Deadlines] = None) -> ApiError:
    """A timeout of that kind at `shown` (a URL, or `METHOD URL`), naming the deadline and its seconds when known."""
    if deadlines is None:
        return ApiError(kind, f"timed out waiting for {shown} ({KINDS[kind]})")
    deadline = "total" if kind == "timeout_total" or (kind == "timeout_headers" and
                                                      deadlines.first_token_name == "total") else "first_token"
    seconds = deadlines.total_s if deadline == "total" else deadlines.first_token_s
    return ApiError(kind, f"timed out waiting for {shown}: {_TIMEOUTS[kind]} within {seconds:g} s "
                          f"(the {deadline.replace('_', '-')} deadline)", deadline=deadline)


def wrapped_error(error: BaseException, *kinds: type[BaseException]) -> Optional[BaseException]:
    """The first exception of `kinds` that `error` wraps, passing over requests' own (OSErrors too): requests wraps
    urllib3's in its args, urllib3's MaxRetryError keeps its cause as `reason`, NewConnectionError the socket's as
    `__cause__`."""
    pending: list[Any] = [error]
    while pending:
        found = pending.pop(0)
        if isinstance(found, BaseException):
            if isinstance(found, kinds) and not isinstance(found, requests.RequestException):
                return found
            pending.extend([*found.args, getattr(found, "reason", None), found.__cause__])
    return None


def malformed_answer(error: BaseException) -> Optional[str]:
    """What http.client could not read in an answer (a status line that is not HTTP: another protocol on the port; a
    header line over 64 KiB; over 100 headers); None when the connection ended (RemoteDisconnected, IncompleteRead
    are http.client's too)."""
    found = wrapped_error(error, http.client.HTTPException)
    if found is None or isinstance(found, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return None
    return printable(f"{type(found).__name__}: {str(found)[:80]}")
