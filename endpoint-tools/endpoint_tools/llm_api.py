"""The two HTTP APIs the platform serves, spoken with `requests`: OpenAI-compatible (`/v1`, served by Ollama, vLLM
and the llm-d gateway) and Ollama's native API (`/api/tags`, `/api/chat`, `/api/generate`).

One error model for every tool: whatever an endpoint does wrong becomes an `ApiError` with a named kind (`KINDS`)
and a one-line message, never a traceback. Every request has two deadlines: a total one, and one for the first
token (the first byte of the body for non-streamed calls); a watchdog enforces them even on a server that trickles.
"""
import base64
import heapq
import html
import http.client
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional
from urllib.parse import unquote

import requests
import requests.auth
import urllib3.exceptions
import urllib3.response
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

APIS = ("openai", "ollama")
CONNECT_TIMEOUT_S = 10.0
# The most the tools read of one JSON answer, or of one event of a stream (or a stream's content in all): an endpoint
# serving an endless body once drove a tool's memory to 2 GB before the deadline fired. Answers here are kilobytes.
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_CHUNK_BYTES = 64 * 1024

# Every way a request can fail, with what it means; kinds are stable names for reports and tests.
KINDS = {
    "dns": "the host name does not resolve",
    "refused": "nothing listens at that address and port",
    "tls": "the TLS handshake failed (certificate, or HTTPS to a plain-HTTP port)",
    "connect_timeout": "no TCP connection within the connect timeout",
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


# The most tokens a tool asks for in one answer (--max-tokens): beyond it a value is a typo.
MAX_TOKENS = 1_000_000
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
        return json.loads(data)
    except RecursionError:
        raise JsonTooDeep("JSON nested too deeply to parse") from None


def excerpt(data: Any, limit: int = 120) -> str:
    """The start of `data` as JSON, for a message; never fails (a structure too deep to print is named instead)."""
    try:
        return json.dumps(data)[:limit]
    except (RecursionError, ValueError, TypeError):
        return f"a {type(data).__name__} nested too deeply to show"


def readable_retry_after(value: Optional[str]) -> Optional[str]:
    """A Retry-After header as sent, if it is one (delay-seconds or an HTTP date, RFC 9110 10.2.3), else None: a
    server's text is printed only when it is short and printable."""
    value = (value or "").strip()
    return value if value and len(value) <= 40 and value.isprintable() else None


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
_QUERY_VALUE = re.compile(r"([?&;][^=&;#?\s'\"]+=)[^&;#\s'\"]*")


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


def describe_exception(error: BaseException, url: str, phase: str = "headers",
                       deadlines: Optional[Deadlines] = None, final_url: Optional[str] = None) -> ApiError:
    """Turn a requests/urllib3 failure at `url` (as asked for; `final_url`, where a redirect led, when the error does
    not say) into a named kind and one line a person can act on (redacted: an exception's text may quote a header
    or the URL)."""
    if isinstance(error, ApiError):
        return error
    asked = url
    url = where(url, getattr(getattr(error, "request", None), "url", None) or final_url)
    text = str(error)
    first_line = text.splitlines()[0][:200] if text else type(error).__name__
    if isinstance(error, requests.exceptions.ProxyError):  # before ConnectionError, of which it is one
        return proxy_error(error, url, getattr(getattr(error, "request", None), "url", None) or final_url or asked)
    if isinstance(error, (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL)) \
            and ("proxy" in text.lower() or "socks" in text.lower()):
        found = environ_proxy(getattr(getattr(error, "request", None), "url", None) or final_url or asked)
        if found:  # a proxy variable requests cannot use: SOCKS without PySocks, a scheme it does not speak
            return ApiError("error", f"cannot use the proxy {shown_proxy(found[0])} (${found[1]}) for {url}: "
                                     f"{printable(first_line.rstrip('.'))}" + ("; SOCKS needs PySocks (pip install "
                                                                  "\"requests[socks]\") beside the tools"
                                                                  if "socks" in text.lower() else ""))
    if isinstance(error, requests.exceptions.SSLError):
        cause = _wrapped(error, ssl.SSLError, ssl.CertificateError)  # the TLS library's reason, not urllib3's pool
        reason = str(cause)[:200] if cause else first_line
        return ApiError("tls", f"TLS error talking to {url}: {reason}{tls_hint(cause, reason, url)}")
    if not isinstance(error, requests.RequestException) and isinstance(error, OSError) \
            and "CA certificate bundle" in text:
        # requests' adapter checks the bundle path before connecting, an OSError of its own (requests 2.34.2
        # adapters.py cert_verify): REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE naming a file that is not there
        return ApiError("tls", f"cannot check the certificate of {url}: {_ca_bundle() or 'the CA bundle'} is no "
                               f"file or folder of "
                               f"certificates; set it to a PEM file, or unset it for the system's CAs")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        if deadlines is None or deadlines.connect_s == CONNECT_TIMEOUT_S:
            return ApiError("connect_timeout", f"no connection to {url} within {CONNECT_TIMEOUT_S:g} s")
        deadline = deadlines.first_token_name  # a deadline shorter than the connect timeout: the wait it allowed
        return ApiError("connect_timeout", f"no connection to {url} within {deadlines.connect_s:g} s (the "
                                           f"{deadline.replace('_', '-')} deadline)", deadline=deadline)
    # requests raises a read that timed out in the body as a ConnectionError wrapping urllib3's ReadTimeoutError
    # (requests 2.34.2 models.py iter_content): the socket's timeout is the rest of the total deadline (extend_reads),
    # so it is that deadline passing, when the alarm thread comes late (a busy machine), not "cannot talk to"
    if isinstance(error, requests.exceptions.Timeout) or _wrapped(error, urllib3.exceptions.ReadTimeoutError):
        kind = "timeout_headers" if phase == "headers" else "timeout_ttft" if phase == "ttft" else "timeout_total"
        return timeout_error(kind, url, deadlines)
    if isinstance(error, requests.exceptions.ContentDecodingError):
        encoding = re.search(r"content-encoding: ([\w-]+)", text)  # urllib3's DecodeError names it
        return ApiError("error", f"{url} sent a body that does not decode as its Content-Encoding says "
                                 f"({encoding.group(1) if encoding else 'unknown'})")
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        # urllib3's InvalidChunkLength quotes the line it read for a chunk's length: empty when the connection ended
        # there, something else when the server wrote a chunk length that is no hex number (urllib3 2.8.0 response.py)
        length = re.search(r"InvalidChunkLength\(got length (b'[^']*'|b\"[^\"]*\")", text)
        if length and length.group(1) not in ("b''", 'b""'):
            return ApiError("error", f"{url} answered with a malformed HTTP response (a chunked body's chunk "
                                     f"length is {printable(length.group(1).replace(chr(92) * 2, chr(92))[:40])}, "
                                     f"no hex number)")
        return ApiError("closed", f"{url} closed the connection mid-response")
    if isinstance(error, requests.exceptions.ConnectionError):
        malformed = _malformed(error)
        if malformed:
            return ApiError("error", f"{url} answered with a malformed HTTP response ({malformed})")
        lowered = text.lower()
        if any(s in lowered for s in ("name or service not known", "nameresolution", "getaddrinfo",
                                      "nodename nor servname", "temporary failure in name resolution")):
            return ApiError("dns", f"cannot resolve the host of {url} (DNS)")
        if "refused" in lowered:
            return ApiError("refused", f"connection refused by {url} (is the port-forward or gateway up?)")
        if any(s in lowered for s in ("remotedisconnected", "aborted", "reset", "incompleteread", "broken pipe")):
            # a TLS listener (Istio's gateway on 443) closes a plain-HTTP request without a word
            hint = " (if it serves HTTPS, use https://)" if url.lower().startswith("http://") else ""
            return ApiError("closed", f"{url} closed the connection without a complete answer{hint}")
        cause = _wrapped(error, OSError)  # the socket's own error, under urllib3's pool and retry text
        return ApiError("error", f"cannot talk to {url}: {str(cause)[:200] if cause else first_line}")
    return ApiError("error", f"{type(error).__name__} talking to {url}: {first_line}")


# OpenSSL's verify codes (include/openssl/x509_vfy.h) that no CA bundle cures: the certificate does not name the host
# (urllib3 2 matches the subjectAltName only, never the subject's CN: urllib3 2.8.0 util/ssl_.py
# `hostname_checks_common_name = False`), or it is outside its validity dates. CPython's SSLCertVerificationError
# carries the code as `verify_code` (Modules/_ssl.c `fill_and_set_sslerror`, 3.7 and later).
_NAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_OUT_OF_DATES = (9, 10)  # X509_V_ERR_CERT_NOT_YET_VALID, X509_V_ERR_CERT_HAS_EXPIRED
# The codes that mean no CA given vouches for the chain, the only ones a CA bundle cures: UNABLE_TO_GET_ISSUER_CERT,
# DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
# UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_UNTRUSTED. Any other (a purpose the certificate is not for, a key too small,
# and on Python 3.13+ RFC 5280's rules that urllib3 2.8.0 enforces there with VERIFY_X509_STRICT, as
# ssl.create_default_context does: a CA's basicConstraints not critical, no authority key identifier) is a
# certificate the bundle's CA did sign, refused for what it is.
_NO_TRUSTED_ISSUER = (2, 18, 19, 20, 21, 27)
_STRICT_RULES = range(79, 95)  # X509_V_ERR_INVALID_CA .. X509_V_ERR_EC_KEY_EXPLICIT_PARAMS (OpenSSL 3.0)
# OpenSSL's reasons for a handshake answered by something that does not speak TLS (a plain-HTTP port's 400 page read
# as a TLS record: "wrong version number", OpenSSL 3.2+ "record layer failure" or "packet length too long"; a server
# that closes on the ClientHello: "unexpected eof"), by their text: CPython names a reason (`[SSL: NAME]`) only when
# its own table knows it, and the tables of CPython 3.13 and before predate OpenSSL 3.2, whose "record layer failure"
# reads `[SSL] record layer failure (_ssl.c:1000)` (cherrypy/cheroot#645 and #711, OpenSSL 3.2; urllib3 2.8.0
# connection.py `_wrap_proxy_error` matches the words too). OpenSSL 1.1.1's EOF carries no reason at all. (HTTP_REQUEST,
# "http request", is a server's reason for a plain request on its TLS port, never a client's.)
_NOT_TLS = ("wrong version number", "record layer failure", "packet length too long", "unexpected eof while reading",
            "eof occurred in violation of protocol")


def tls_hint(cause: Optional[BaseException], reason: str, url: str) -> str:
    """What to do about a TLS failure, by its cause: a certificate naming another host, one out of its dates, one no
    CA given vouches for, one refused for what it is, or a port that does not speak TLS; "" when there is nothing to
    say."""
    code = getattr(cause, "verify_code", None)
    if code in _NAME_MISMATCH:
        return ("; the certificate does not name this host in its subjectAltName (the tools, as urllib3 2, do not "
                "read the subject's CN): use a host name the certificate names, or reissue it with this one")
    if code in _OUT_OF_DATES:
        return "; the certificate is outside its validity dates: renew it (or check this machine's clock)"
    if isinstance(code, int) and code not in _NO_TRUSTED_ISSUER and "CERTIFICATE_VERIFY_FAILED" in reason:
        strict = (" (Python 3.13 and later check certificates by RFC 5280's rules: urllib3 2 sets "
                  "VERIFY_X509_STRICT there)"
                  if code in _STRICT_RULES and sys.version_info >= (3, 13) else "")
        return (f"; not a missing CA: OpenSSL refused the certificate (or its CA's) for what it is (verify code "
                f"{code}){strict}, which no CA bundle cures: reissue it")
    if "CERTIFICATE_VERIFY_FAILED" in reason:
        bundle = _ca_bundle()
        return (f"; the CAs in {bundle} do not include the one that signed it" if bundle else
                "; a private CA or a proxy that inspects TLS: set REQUESTS_CA_BUNDLE to its certificate (a PEM file)")
    if any(words in " ".join(re.split("[^a-z]+", reason.lower())) for words in _NOT_TLS) \
            and url.lower().startswith("https://"):
        return " (if it serves plain HTTP, use http://)"
    return ""


def _ca_bundle() -> Optional[str]:
    """The CA bundle the environment gives requests in place of its own (requests 2.34.2 sessions.py
    `merge_environment_settings`: REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE), named with its path; None when neither."""
    return next((f"${name} ({printable(os.environ[name])!r})" for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
                 if os.environ.get(name)), None)


def _proxy_userinfo(proxy: str) -> tuple[str, str, Optional[str], str]:
    """A proxy URL's (scheme://, user, password or None, host and the rest), whatever its form: one written without
    its scheme (`user:password@proxy:3128`, which requests refuses as malformed) or with a space in its user name."""
    scheme, sep, rest = proxy.partition("://")
    prefix = scheme + sep if sep else ""
    rest = rest if sep else proxy
    userinfo, at, host = rest.rpartition("@")
    if not at:
        return prefix, "", None, rest
    user, colon, password = userinfo.partition(":")
    return prefix, user, password if colon else None, host


def shown_proxy(proxy: str) -> str:
    """A proxy URL as the tools print it: its password starred in any form (shown_url stars only `//user:secret@`;
    `user:secret@proxy:3128` without a scheme kept it)."""
    prefix, user, password, host = _proxy_userinfo(proxy)
    if password is None:
        return shown_url(proxy)
    return f"{prefix}{user}:***@{host}"


def proxy_passwords() -> set[str]:
    """The secrets in the environment's proxy variables, for redact to star wherever a message quotes them: each
    password (4 characters or more, as a URL's) and the Basic credentials requests sends the proxy
    (Proxy-Authorization, base64 of the unquoted user:password: requests 2.34.2 adapters.py proxy_headers), which a
    proxy's error page may quote."""
    found = set()
    for proxy in requests.utils.getproxies().values():
        _, user, password, _ = _proxy_userinfo(proxy)
        if password:
            plain = f"{unquote(user)}:{unquote(password)}"
            found.add(base64.b64encode(plain.encode("latin1", "replace")).decode())
            if len(password) >= 4:
                found.add(password)
    return found


def environ_proxy(url: str) -> Optional[tuple[str, str]]:
    """The proxy requests sends a request to `url` through, from the environment, and the variable that names it
    (requests 2.34.2 utils.py: get_environ_proxies, which honours NO_PROXY, then select_proxy); None when none."""
    try:
        proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    except Exception:  # noqa: BLE001 - a URL requests cannot split has no proxy to name
        return None
    if not proxy:
        return None
    scheme = url.split("://", 1)[0].lower()
    names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY")
    return proxy, next((name for name in names if os.environ.get(name) == proxy), f"{scheme.upper()}_PROXY")


def proxy_error(error: BaseException, shown: str, url: str) -> ApiError:
    """A failure reaching or through the proxy the environment names (HTTPS_PROXY...): the proxy, not the endpoint,
    refused, did not resolve or would not open the tunnel; said so, naming the proxy (without its password) and
    NO_PROXY, which sends a host around it."""
    found = environ_proxy(url)
    proxy = (f"the proxy {shown_proxy(found[0])} (${found[1]}; hosts in $NO_PROXY are reached directly)" if found
             else "the proxy")
    cause = _wrapped(error, OSError)
    reason = " ".join(str(cause or error).split())
    lowered = reason.lower()
    if "tunnel connection failed" in lowered:  # http.client's words for a CONNECT answered other than 200
        status = re.search(r"\b([1-5]\d\d)\b", reason)
        return ApiError("error", f"{proxy} refused to open a tunnel to {shown}: {printable(reason[:160])}"
                        + (f"; {_proxy_credentials(found)}" if found and status and status.group(1) == "407"
                           else ""), int(status.group(1)) if status else None)
    if "refused" in lowered:
        return ApiError("refused", f"connection refused by {proxy}, on the way to {shown}")
    if any(s in lowered for s in ("name or service not known", "nameresolution", "getaddrinfo",
                                  "nodename nor servname", "temporary failure in name resolution")):
        return ApiError("dns", f"cannot resolve the host of {proxy}, on the way to {shown}")
    if "timed out" in lowered or "timeout" in lowered:
        return ApiError("connect_timeout", f"no connection to {proxy}, on the way to {shown}")
    return ApiError("error", f"cannot reach {shown} through {proxy}: {printable(reason[:200])}")


def proxy_wants_credentials(url: str) -> str:
    """The hint for a 407 (Proxy Authentication Required), which a proxy answers for a plain-HTTP request."""
    found = environ_proxy(url)
    if not found:
        return "; 407 is a proxy's answer: a proxy in between wants credentials"
    return f"; 407 is the answer of the proxy {shown_proxy(found[0])} (${found[1]}): {_proxy_credentials(found)}"


def _proxy_credentials(found: tuple[str, str]) -> str:
    """What to do about a proxy's 407, by whether its URL holds credentials (never quoted)."""
    proxy, name = found
    if "@" in proxy.split("://", 1)[-1]:
        return f"it refused the user and password in ${name}"
    return (f"it wants a user and password, written user:password@ before the proxy's host in ${name} (or the "
            f"endpoint's host in $NO_PROXY to go around it)")


def _wrapped(error: BaseException, *kinds: type[BaseException]) -> Optional[BaseException]:
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


def _malformed(error: BaseException) -> Optional[str]:
    """What http.client could not read in an answer (a status line that is not HTTP: another protocol on the port; a
    header line over 64 KiB; over 100 headers); None when the connection ended (RemoteDisconnected, IncompleteRead
    are http.client's too)."""
    found = _wrapped(error, http.client.HTTPException)
    if found is None or isinstance(found, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
        return None
    return printable(f"{type(found).__name__}: {str(found)[:80]}")


class _Alarms:
    """One thread firing every deadline of every request (a timer thread per request would cap the benchmark's own
    throughput): a heap of (when, callback) and a condition to wake up for earlier ones."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any]] = []
        self._cancelled: set[int] = set()
        self._cond = threading.Condition()
        self._next_id = 0
        self._thread: Optional[threading.Thread] = None

    def schedule(self, delay_s: float, callback: Any) -> int:
        with self._cond:
            self._next_id += 1
            entry = (time.monotonic() + max(0.0, delay_s), self._next_id, callback)
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="llm-api-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:  # wake the thread only when it must fire sooner than it planned
                self._cond.notify()
            return self._next_id

    def cancel(self, alarm: int) -> None:
        with self._cond:
            self._cancelled.add(alarm)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, alarm, callback = self._heap[0]
                wait_s = when - time.monotonic()
                if wait_s > 0:
                    self._cond.wait(wait_s)
                    continue
                heapq.heappop(self._heap)
                if alarm in self._cancelled:
                    self._cancelled.discard(alarm)
                    continue
            callback()


_ALARMS = _Alarms()


class _HeaderDeadline:
    """When a request's response headers must have come (LlmClient._open sets one for its thread), and whether it
    passed: requests' read timeout restarts with every byte, so a server sending its headers a byte at a time held a
    tool for as long as it kept sending."""

    _current = threading.local()  # the deadline of the request this thread is sending, None between requests

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.expired = False

    def fire(self, sock: Optional[socket.socket]) -> None:
        self.expired = True
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read of the headers returns at once
        except OSError:
            pass


class _HeadersOnTime:
    """A urllib3 connection whose wait for the response headers ends at its thread's _HeaderDeadline (each hop of a
    redirect included), by the alarm thread shutting its socket down."""

    sock: Optional[socket.socket]

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline: Optional[_HeaderDeadline] = getattr(_HeaderDeadline._current, "deadline", None)
        if deadline is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        sock = self.sock
        alarm = _ALARMS.schedule(deadline.at - time.monotonic(), lambda: deadline.fire(sock))
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            _ALARMS.cancel(alarm)


class _Connection(_HeadersOnTime, HTTPConnection):
    pass


class _TlsConnection(_HeadersOnTime, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TlsPool(HTTPSConnectionPool):
    ConnectionCls = _TlsConnection


class _BearerAuth(requests.auth.AuthBase):
    """The API key as a bearer token (RFC 6750 section 2.1)."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


def _headers_on_time(session: requests.Session) -> None:
    """The session's connections (those of each adapter's pool manager, made as requests go) are _HeadersOnTime."""
    for adapter in session.adapters.values():
        manager = getattr(adapter, "poolmanager", None)
        if manager is not None:
            manager.pool_classes_by_scheme = {"http": _Pool, "https": _TlsPool}


class _Watchdog:
    """Enforces deadlines on a response being read: when one passes, it shuts the socket down, so a blocked read
    returns at once, and remembers which deadline it was. Also how Ctrl-C stops every request in flight."""

    _inflight: "set[_Watchdog]" = set()
    _lock = threading.Lock()

    def __init__(self, response: requests.Response):
        self.response = response
        self.expired: Optional[str] = None
        self._alarms: dict[str, int] = {}

    def __enter__(self) -> "_Watchdog":
        with self._lock:
            self._inflight.add(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        for alarm in self._alarms.values():
            _ALARMS.cancel(alarm)
        with self._lock:
            self._inflight.discard(self)

    def arm(self, kind: str, seconds: float) -> None:
        self._alarms[kind] = _ALARMS.schedule(seconds, lambda: self.fire(kind))

    def disarm(self, kind: str) -> None:
        alarm = self._alarms.pop(kind, None)
        if alarm is not None:
            _ALARMS.cancel(alarm)

    def _socket(self) -> Optional[socket.socket]:
        """The response's socket: on its urllib3 connection (keep-alive), or under http.client's reader when the
        server said `Connection: close` (http.client then detaches it from the connection)."""
        raw = self.response.raw
        sock = getattr(getattr(raw, "connection", None), "sock", None)
        if sock is None:
            sock = getattr(getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None)
        return sock

    def fire(self, kind: str) -> None:
        if self.expired is not None:
            return
        self.expired = kind
        sock = self._socket()
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def extend_reads(self, seconds: float) -> None:
        """After the headers, a read may wait up to the rest of the total deadline (the watchdog bounds it)."""
        sock = self._socket()
        try:
            if sock is not None:
                sock.settimeout(max(0.001, seconds))
        except OSError:
            pass

    @classmethod
    def cancel_all(cls) -> None:
        with cls._lock:
            inflight = list(cls._inflight)
        for watchdog in inflight:
            watchdog.fire("cancelled")


def cancel_all() -> None:
    """Stop every request in flight (each fails with kind `cancelled`)."""
    _Watchdog.cancel_all()


# Where a reasoning ("thinking") model's reasoning comes, apart from the answer's content: vLLM's reasoning parsers
# `reasoning_content` (newer vLLM `reasoning`), Ollama's OpenAI-compatible API `reasoning` (ollama/ollama
# openai/openai.go, Message.Reasoning from api.Message.Thinking), Ollama's native API `thinking` (message.thinking in
# /api/chat, `thinking` in /api/generate). Its tokens are output tokens as the server counts them (usage's
# completion_tokens, eval_count) and the first of them is the first token.
OPENAI_REASONING = ("reasoning_content", "reasoning")


@dataclass
class Completion:
    content: str = ""
    reasoning: str = ""  # a reasoning model's reasoning, apart from `content` (the answer)
    # why the model stopped, as the server said: OpenAI's finish_reason, Ollama's done_reason ("stop", "length"...)
    finish_reason: Optional[str] = None
    prompt_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    chunks: int = 0
    finished: bool = False
    ttft_s: Optional[float] = None
    latency_s: float = 0.0
    chunk_times_s: list[float] = field(default_factory=list)
    server: Optional[str] = None
    raw_final: dict = field(default_factory=dict)

    @property
    def inter_token_s(self) -> Optional[float]:
        """Mean time between output tokens after the first (decode speed seen by the client): by the server's count,
        by the content chunks when it gave none; None when its count is 0 beside content (a count not to be believed,
        which the run's throughput takes as it is: 0 tokens/s beside a per-request rate from the chunks read as two
        servers)."""
        tokens = self.output_tokens if self.output_tokens is not None else self.chunks  # chunks: never None
        if self.ttft_s is None or tokens < 2:
            return None
        return (self.latency_s - self.ttft_s) / (tokens - 1)

    @property
    def output_tokens_per_s(self) -> Optional[float]:
        itl = self.inter_token_s
        return 1.0 / itl if itl else None


# The most tokens a count may say: every count a float holds exactly (10^400 overflowed the rates' division).
MAX_TOKEN_COUNT = 2**53


def token_count(value: Any, field: str, shown: str) -> Optional[int]:
    """A token count as the server gave it in `field`: None when it gave none, else a whole number from 0 to
    MAX_TOKEN_COUNT; anything else ("7", true, -7, NaN, 1.5, 10^400) is bad_shape at `shown`, never a figure in a
    report or a PASS."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKEN_COUNT):
        return value
    raise ApiError("bad_shape", f"{shown}: {field} is {excerpt(value, 60)}: expected a whole number of tokens "
                                f"(0 to 2^53)")


def usage_object(value: Any, shown: str) -> Optional[dict]:
    """An answer's (or a stream event's) `usage`: None when it has none (absent or null, as vLLM's stream events
    before the last), the object when it is one; anything else ("lots", a list) is bad_shape at `shown`, not an
    answer without usage."""
    if value is None or isinstance(value, dict):
        return value
    raise ApiError("bad_shape", f"{shown}: usage is {excerpt(value, 60)}: expected an object of token counts")


def _dig(data: Any, *path: Any) -> Any:
    for step in path:
        if isinstance(step, int):
            data = data[step] if isinstance(data, list) and len(data) > step else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
    return data


def _text(value: Any) -> Optional[str]:
    """A string the server gave, None for anything else (a finish reason is advice to a message, never a failure)."""
    return value if isinstance(value, str) and value else None


def _undecoded(response: requests.Response) -> str:
    """Why a body may read as no JSON: a Content-Encoding this client does not decode (urllib3 decodes gzip and
    deflate, br and zstd only with their packages; the tools ask for gzip and deflate), which the server used all the
    same; "" when there is none."""
    said = response.headers.get("Content-Encoding", "").strip()
    decoders = getattr(urllib3.response.HTTPResponse, "CONTENT_DECODERS", ["gzip", "x-gzip", "deflate"])
    unknown = [e.strip() for e in said.lower().split(",") if e.strip() and e.strip() not in (*decoders, "identity")]
    if not unknown:
        return ""
    return (f"; it is encoded {printable(', '.join(unknown))} (Content-Encoding), which the tools did not ask for "
            f"and cannot decode")


class _Unended(bytes):
    """The last line of a body that ended without a line end: a stream cut there, unless it parses whole."""


class LlmClient:
    """One endpoint, one API flavour. A Session per client keeps connections alive (pooling)."""

    def __init__(self, base_url: str, api: str = "openai", api_key: Optional[str] = None,
                 deadlines: Optional[Deadlines] = None, session: Optional[requests.Session] = None):
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}, got {api!r}")
        problem = api_key_problem(api_key) if api_key else None
        if problem:  # callers check the key first and say where it came from; this is the last guard
            raise ValueError(f"the API key {problem}")
        secrets = {api_key} if api_key else set()
        try:
            user, password = requests.utils.get_auth_from_url(base_url)  # what requests sends as HTTP Basic auth
        except ValueError:  # a URL that does not parse fails when sent, named
            user, password = "", ""
        if password:  # a server echoing the Authorization header it got shows the password in base64
            secrets.add(base64.b64encode(f"{user}:{password}".encode("latin1", "replace")).decode())
            if len(password) >= 4:  # shorter, it would be starred inside every word that holds it
                secrets.add(password)
        secrets |= proxy_passwords()  # a proxy's, which a message about it may quote (shown_proxy stars its own)
        with _SECRETS_LOCK:
            _SECRETS.update(secrets)
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.api_key = api_key
        self.deadlines = deadlines or Deadlines()
        self.session = session or requests.Session()
        _headers_on_time(self.session)
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # the key as requests' auth, not only a header: a request without auth takes the user's ~/.netrc (or $NETRC)
        # entry for the host, a `default` one included, as HTTP Basic auth in place of the header (requests 2.34.2
        # sessions.py `prepare_request`: get_netrc_auth when no auth is given; models.py `prepare_auth` then
        # overwrites Authorization), and the gate refused a right key it never got
        self.auth = _BearerAuth(api_key) if api_key else None
        # where a redirect last left the key behind on an answer that succeeded (the URL as shown), None if never
        self.key_dropped_at: Optional[str] = None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # ---- one request, every failure named -------------------------------------------------------------------
    def _open(self, method: str, path: str, **kwargs: Any) -> tuple[requests.Response, float]:
        """Send a request and wait for the headers (within the first-token deadline); 4xx/5xx become ApiError."""
        url = self.url(path)
        start = time.perf_counter()
        read_timeout = self.deadlines.first_token_s
        deadline = _HeaderDeadline._current.deadline = _HeaderDeadline(read_timeout)
        hops: list[requests.Response] = []  # every response, the redirects' included
        try:
            response = self.session.request(method, url, headers=self.headers, auth=self.auth, stream=True,
                                            timeout=(self.deadlines.connect_s, read_timeout),
                                            hooks={"response": lambda answer, *_, **__: hops.append(answer)},
                                            **kwargs)
        # ValueError: UnicodeError encoding a request; OSError: requests' own, and its check of a CA bundle path
        except (OSError, ValueError) as error:
            if deadline.expired:  # its socket was shut down: what the read saw is no cause
                error = requests.exceptions.ReadTimeout(request=getattr(error, "request", None))
            raise (self._unfollowed(method, url, hops[-1], error) if hops and hops[-1].is_redirect
                   else describe_exception(error, url, "headers", self.deadlines)) from None
        finally:
            _HeaderDeadline._current.deadline = None
        if deadline.expired or time.monotonic() > deadline.at:  # late, whether or not the alarm fired yet
            response.close()
            raise describe_exception(requests.exceptions.ReadTimeout(), url, "headers", self.deadlines,
                                     response.url)
        if response.status_code >= 400:
            try:
                body = response.raw.read(4096, decode_content=True) or b""
            except Exception:  # noqa: BLE001 - the status alone is enough to report
                body = b""
            response.close()
            message = server_message(body)
            retry_after = readable_retry_after(response.headers.get("Retry-After"))
            dropped = self._key_dropped(response)
            answered = ApiError(status_kind(response.status_code, body),
                                f"{method} {where(url, response.url)} answered {response.status_code}"
                                + (f": {message}" if message else "")
                                + (f" (Retry-After: {printable(retry_after)})" if retry_after else "")
                                + self._redirected(method, path, response, dropped)
                                + (proxy_wants_credentials(response.url) if response.status_code == 407 else ""),
                                response.status_code, retry_after=retry_after)
            answered.key_dropped = dropped
            raise answered
        if self._key_dropped(response):  # the answer came, from a server that never saw the key
            self.key_dropped_at = shown_target(response.url)
        return response, start

    @staticmethod
    def _key_dropped(response: requests.Response) -> bool:
        """Whether a redirect left the Authorization header (the API key's, or a URL's user:password) behind:
        requests removes it on a redirect to another host, port or scheme (requests 2.34.2 sessions.py
        `rebuild_auth` and `should_strip_auth`), so the key never reached the server that answered."""
        if not response.history:
            return False
        first = response.history[0].request
        # gone, or replaced: rebuild_auth puts the ~/.netrc entry of the host redirected to in its place
        return "Authorization" in first.headers and \
            response.request.headers.get("Authorization") != first.headers["Authorization"]

    @staticmethod
    def _redirected(method: str, path: str, response: requests.Response, dropped: bool) -> str:
        """What following the redirects changed of the request, for an error answer at their end: requests sends a
        POST redirected by a 301 or 302 (any method by a 303) as a GET without its body, as browsers do (requests
        2.34.2 sessions.py `rebuild_method`), and drops the key (`_key_dropped`). Both are fixed by giving the URL
        the redirect leads to."""
        if not response.history:
            return ""
        said = []
        sent = response.request.method
        if sent and sent != method:
            hop = next((r.status_code for r in response.history if r.status_code in (301, 302, 303)),
                       response.history[0].status_code)
            said.append(f"the {hop} redirect made the {method} a {sent}, without its body")
        if dropped:
            said.append("the API key was not sent there (a redirect to another host, port or scheme drops it)")
        if not said:
            return ""
        target = response.url.split("?", 1)[0]
        base = target[: -len(path)] if target.endswith(path) and len(target) > len(path) else target
        return f"; {' and '.join(said)}: give the URL it redirects to ({shown_url(base)})"

    def _late(self, done: Completion, shown: str) -> None:
        """The deadline that passed before the answer was complete, as measured: the alarm thread enforces them on
        the socket, but a body already received is read before it fires (and a busy machine delays it), so no answer
        is a success with a latency above its deadline."""
        ttft = self.deadlines.ttft_s
        if ttft and ttft < self.deadlines.total_s and done.ttft_s is not None and done.ttft_s > ttft:
            raise self._expired("timeout_ttft", shown)
        if done.latency_s > self.deadlines.total_s:
            raise self._expired("timeout_total", shown)

    def _unfollowed(self, method: str, url: str, redirect: requests.Response, error: Exception) -> ApiError:
        """A redirect that failed before any request was sent to its target: a loop, another scheme, a Location
        that does not parse; the server's doing, not the URL given (a failure at the target is describe_exception's,
        naming it)."""
        shown = f"{method} {where(url, redirect.url)}"
        if isinstance(error, requests.exceptions.TooManyRedirects):
            return ApiError("error", f"{shown} redirected more than {self.session.max_redirects} times")
        if not isinstance(error, (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema,
                                  requests.exceptions.InvalidURL, ValueError)):
            return describe_exception(error, url, "headers", self.deadlines)
        location = printable(repr(shown_target(redirect.headers.get("Location", ""))[:200]))
        # requests' words quote the Location too, resolved (`No connection adapters were found for '<it>'`)
        why = _QUERY_VALUE.sub(r"\1***", (str(error).splitlines() or [type(error).__name__])[0])[:160]
        return ApiError("error", f"{shown} redirected to {location}, which the tools cannot follow: {printable(why)}")

    def _expired(self, kind: str, shown: str) -> ApiError:
        """The error for a deadline the watchdog fired (or Ctrl-C) on a request to `shown` (`METHOD URL`)."""
        return ApiError(kind, f"{shown}: {KINDS[kind]}") if kind == "cancelled" \
            else timeout_error(kind, shown, self.deadlines)

    def _json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, Completion, str]:
        """A non-streamed call: the whole body within the total deadline and MAX_BODY_BYTES, parsed as JSON; with
        the URL that answered, as shown."""
        asked = self.url(path)
        response, start = self._open(method, path, **kwargs)
        url = where(asked, response.url)
        meta = Completion(server=response.headers.get("Server"))
        with _Watchdog(response) as watchdog:
            remaining = self.deadlines.total_s - (time.perf_counter() - start)
            watchdog.arm("timeout_total", remaining)
            watchdog.extend_reads(remaining)
            try:
                body = self._bounded_body(response, f"{method} {url}")
            except ApiError:
                raise
            except Exception as error:  # noqa: BLE001 - named below
                raise (self._expired(watchdog.expired, f"{method} {url}") if watchdog.expired
                       else describe_exception(error, asked, "total", self.deadlines, response.url)) from None
            finally:
                response.close()
            if watchdog.expired:  # a body without a length ends at the shut-down socket: cut short, not complete
                raise self._expired(watchdog.expired, f"{method} {url}")
        meta.latency_s = time.perf_counter() - start
        self._late(meta, f"{method} {url}")
        try:
            return parse_json(body), meta, url
        except ValueError as error:
            kind = response.headers.get("Content-Type", "no content type")
            snippet = " ".join(body[:80].decode("utf-8", "replace").split())
            what = "JSON nested too deeply to parse" if isinstance(error, JsonTooDeep) else "a body that is not JSON"
            raise ApiError("non_json", f"{method} {url} answered {response.status_code} with {what} ({kind}): "
                                       f"{printable(repr(snippet))}{_undecoded(response)}",
                           response.status_code) from None

    @staticmethod
    def _bounded_body(response: requests.Response, shown: str) -> bytes:
        """The body, read piece by piece, or too_large as soon as it passes MAX_BODY_BYTES (or says it will)."""
        declared = response.headers.get("Content-Length", "")
        body = bytearray()
        if not (declared.isdigit() and int(declared) > MAX_BODY_BYTES):
            for piece in response.iter_content(READ_CHUNK_BYTES):
                body += piece
                if len(body) > MAX_BODY_BYTES:
                    break
            else:
                return bytes(body)
        raise ApiError("too_large", f"{shown}: the body is larger than {MAX_BODY_BYTES // 2**20} MiB, the most the "
                                    f"tools read of a JSON answer", response.status_code)

    # ---- the calls ---------------------------------------------------------------------------------------------
    def list_models(self) -> list[str]:
        path, key, name = ("/v1/models", "data", "id") if self.api == "openai" else ("/api/tags", "models", "name")
        data, _, url = self._json("GET", path)
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(m, dict) and isinstance(m.get(name), str)
                                                  for m in items):
            raise ApiError("bad_shape", f"GET {url}: expected {{\"{key}\": [{{\"{name}\": ...}}]}}, "
                                        f"got {excerpt(data)}")
        if any(not m[name].strip() for m in items):  # a blank name is no model to ask for (smoke took it as none)
            raise ApiError("bad_shape", f"GET {url}: the list holds a model with an empty {name}: {excerpt(data)}")
        return [m[name] for m in items]

    def _chat_body(self, model: str, prompt: str, max_tokens: int, stream: bool) -> tuple[str, dict]:
        messages = [{"role": "user", "content": prompt}]
        if self.api == "openai":
            body = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": stream}
            if stream:
                body["stream_options"] = {"include_usage": True}
            return "/v1/chat/completions", body
        return "/api/chat", {"model": model, "messages": messages, "stream": stream,
                             "options": {"num_predict": max_tokens}}

    def chat(self, model: str, prompt: str, max_tokens: int = 32) -> Completion:
        path, body = self._chat_body(model, prompt, max_tokens, stream=False)
        data, done, url = self._json("POST", path, json=body)
        done.finished, done.chunks, done.ttft_s = True, 1, done.latency_s
        done.raw_final = data if isinstance(data, dict) else {}
        message = _dig(data, "choices", 0, "message") if self.api == "openai" else _dig(data, "message")
        if self.api == "openai":
            counts = usage_object(_dig(data, "usage"), f"POST {url}") or {}, "prompt_tokens", "completion_tokens"
        else:
            counts = data, "prompt_eval_count", "eval_count"
        done.reasoning = self._reasoning(message, f"POST {url}")
        done.finish_reason = _text(_dig(data, "choices", 0, "finish_reason") if self.api == "openai"
                                   else _dig(data, "done_reason"))
        content = _dig(message, "content")
        if content is None and done.reasoning:  # vLLM's answer cut inside the reasoning: `"content": null`
            content = ""
        if not isinstance(content, str):
            raise ApiError("bad_shape", f"POST {url}: no message content in {excerpt(data)}")
        done.content = content
        self._counts(done, *counts, f"POST {url}")
        return done

    @staticmethod
    def _counts(done: Completion, holder: Any, prompt: str, output: str, shown: str) -> None:
        """The prompt and output token counts of `holder` (usage, or Ollama's final object), each checked."""
        done.prompt_tokens = token_count(_dig(holder, prompt), prompt, shown)
        done.output_tokens = token_count(_dig(holder, output), output, shown)

    def generate(self, model: str, prompt: str, max_tokens: int = 32) -> Completion:
        """Ollama's /api/generate (native API only)."""
        data, done, url = self._json("POST", "/api/generate", json={"model": model, "prompt": prompt, "stream": False,
                                                               "options": {"num_predict": max_tokens}})
        if not isinstance(_dig(data, "response"), str):
            raise ApiError("bad_shape", f"POST {url}: no `response` in {excerpt(data)}")
        done.content, done.finished, done.chunks = data["response"], data.get("done") is True, 1  # not "false"
        done.reasoning = self._reasoning(data, f"POST {url}")
        done.finish_reason = _text(_dig(data, "done_reason"))
        self._counts(done, data, "prompt_eval_count", "eval_count", f"POST {url}")
        return done

    def chat_stream(self, model: str, prompt: str, max_tokens: int = 32) -> Completion:
        """Streamed chat: time to first token, inter-token timing, total latency, under both deadlines."""
        path, body = self._chat_body(model, prompt, max_tokens, stream=True)
        asked = self.url(path)
        response, start = self._open("POST", path, json=body)
        url = where(asked, response.url)
        result = Completion(server=response.headers.get("Server"))
        skipped: list[str] = []
        with _Watchdog(response) as watchdog:
            elapsed = time.perf_counter() - start
            watchdog.arm("timeout_total", self.deadlines.total_s - elapsed)
            watchdog.extend_reads(self.deadlines.total_s - elapsed)
            if self.deadlines.ttft_s:
                watchdog.arm("timeout_ttft", self.deadlines.ttft_s - elapsed)
            try:
                for event in self._events(response, url, skipped):
                    text, thought = self._event_text(event, url)
                    if text or thought:  # a reasoning model's first token may be of its reasoning
                        now = time.perf_counter() - start
                        if result.ttft_s is None:
                            result.ttft_s = now
                            watchdog.disarm("timeout_ttft")
                        result.chunk_times_s.append(now)
                        result.content += text
                        result.reasoning += thought
                        result.chunks += 1
                        if len(result.content) + len(result.reasoning) > MAX_BODY_BYTES:
                            raise ApiError("too_large", f"stream from {url}: the content passed "
                                                        f"{MAX_BODY_BYTES // 2**20} MiB, the most the tools keep")
                    self._event_usage(event, result, f"stream from {url}")
                    if result.finished:
                        break
            except ApiError:
                raise
            except Exception as error:  # noqa: BLE001 - every failure is named, none escapes as a traceback
                if watchdog.expired:
                    raise self._expired(watchdog.expired, f"POST {url}") from None
                raise describe_exception(error, asked, "ttft" if result.ttft_s is None else "total",
                                         self.deadlines, response.url) from None
            finally:
                response.close()
            if watchdog.expired:  # a deadline passed while the last event was being handled
                raise self._expired(watchdog.expired, f"POST {url}")
        result.latency_s = time.perf_counter() - start
        self._late(result, f"POST {url}")
        if not result.finished:
            kind = response.headers.get("Content-Type", "")
            if self.api == "openai" and not result.chunks and kind.startswith("application/json"):
                raise ApiError("unterminated", f"stream from {url}: the server answered with one JSON body ({kind}), "
                                               f"not an event stream: it (or a proxy) ignored \"stream\": true")
            if skipped and not result.chunks and skipped[0].lstrip().startswith(("{", "[")):
                raise ApiError("unterminated", f"stream from {url} ended without an event: it sent lines of JSON "
                                               f"without the `data: ` of Server-Sent Events before them "
                                               f"({printable(repr(skipped[0][:60]))}), which an OpenAI-compatible "
                                               f"stream needs")
            if skipped and not result.chunks:  # a page in place of the stream: a login page, a proxy's words
                words = server_message("\n".join(skipped).encode())
                raise ApiError("non_json", f"stream from {url} answered {response.status_code} with "
                                           f"{printable(kind or 'no content type')}, not an event stream"
                                           + (f": {words!r}" if words else ""), response.status_code)
            raise ApiError("unterminated", f"stream from {url} ended without its final event "
                                           f"({result.chunks} content chunks)")
        if result.chunks == 0 and not result.output_tokens:
            raise ApiError("empty_stream", f"stream from {url} ended with no content and no usage")
        return result

    @staticmethod
    def _pieces(response: requests.Response) -> Iterator[bytes]:
        """The body as it arrives. A chunked body comes a chunk at a time from iter_content; one neither chunked nor of
        a stated length (RFC 9112 section 6.3: it ends when the server closes) would wait there for READ_CHUNK_BYTES
        or its end (urllib3 2.8.0 HTTPResponse.read(amt) fills amt), a whole stream told as held back with its first
        token timed at the end: it is read with read1, what the socket has (the exceptions mapped as iter_content
        maps them, requests 2.34.2 models.py)."""
        raw = response.raw
        if getattr(raw, "chunked", True) or response.headers.get("Content-Length") or not hasattr(raw, "read1"):
            yield from response.iter_content(READ_CHUNK_BYTES)
            return
        try:
            while piece := raw.read1(READ_CHUNK_BYTES, decode_content=True):
                yield piece
        except urllib3.exceptions.ProtocolError as error:
            raise requests.exceptions.ChunkedEncodingError(error) from error
        except urllib3.exceptions.DecodeError as error:
            raise requests.exceptions.ContentDecodingError(error) from error
        except urllib3.exceptions.ReadTimeoutError as error:
            raise requests.exceptions.ConnectionError(error) from error
        except urllib3.exceptions.SSLError as error:
            raise requests.exceptions.SSLError(error) from error

    @staticmethod
    def _lines(response: requests.Response, url: str) -> Iterator[bytes]:
        """The body's lines as they arrive, none longer than MAX_BODY_BYTES (requests' iter_lines keeps a line's
        start however long it grows, and iter_content(None) reads a whole chunk, or a body without chunks, at
        once): pieces of at most READ_CHUNK_BYTES, which a chunked stream returns as soon as a chunk ends."""
        pending = bytearray()
        for piece in LlmClient._pieces(response):
            pending += piece
            if b"\n" in piece or b"\r" in piece:  # split only when a line ended: linear in the body's length
                lines = bytes(pending).splitlines(keepends=True)
                pending = bytearray(lines.pop() if not lines[-1].endswith((b"\n", b"\r")) else b"")
                yield from (line.rstrip(b"\r\n") for line in lines)
            if len(pending) > MAX_BODY_BYTES:
                raise ApiError("too_large", f"stream from {url}: a line passed {MAX_BODY_BYTES // 2**20} MiB "
                                            f"without its end, the most the tools read of one event")
        if pending:
            yield _Unended(pending)

    def _events(self, response: requests.Response, url: str, skipped: Optional[list[str]] = None) -> Iterator[dict]:
        """The stream's events; on the OpenAI API `skipped` gets the first lines (4 KiB) that are no SSE field nor
        comment: JSON without `data:`, an HTML page (html.spec.whatwg.org, "Interpreting an event stream": a line
        that is no known field is ignored). On Ollama's API a first line that is no JSON and opens as a page does
        (`<`: a login page, a proxy's) is `non_json` with the page's words, as the OpenAI API's page is."""
        lines = self._lines(response, url)
        first = True
        for line in lines:
            if not line:
                continue
            text = line.decode("utf-8", "replace")
            if first and text.startswith("\ufeff"):  # a BOM opening the stream, which SSE ignores
                text = text[1:]
                if not text:
                    first = False
                    continue
            if self.api != "openai" and first and text.lstrip().startswith("<"):
                page = [text]
                for more in lines:  # the page's first 4 KiB, for its words
                    if sum(map(len, page)) >= 4096:
                        break
                    page.append(more.decode("utf-8", "replace"))
                words = server_message("\n".join(page).encode())
                kind = response.headers.get("Content-Type", "")
                raise ApiError("non_json", f"stream from {url} answered {response.status_code} with "
                                           f"{printable(kind or 'no content type')}, not a stream of JSON lines"
                                           + (f": {words!r}" if words else ""), response.status_code)
            first = False
            if self.api == "openai":
                if text.startswith("error:"):  # llama.cpp's event for a failure after the headers
                    try:
                        error = parse_json(text[6:])
                    except ValueError:
                        error = text[6:]
                    raise stream_error(error, url)
                if not text.startswith("data:"):
                    if skipped is not None and sum(map(len, skipped)) < 4096 and not text.startswith(SSE_FIELDS) \
                            and text not in SSE_BARE_FIELDS:
                        skipped.append(text)  # no SSE field (JSON without `data:`, a page), ignored as the spec says
                    continue
                text = text[5:].strip()
                if text == "[DONE]":
                    yield {"__done__": True}
                    return
            try:
                event = parse_json(text)
            except ValueError as error:
                if isinstance(line, _Unended) and not isinstance(error, JsonTooDeep):
                    # the body ended inside the event (a body delimited by the connection's close, cut): not a
                    # bad event but a short stream; SSE discards such an event (html.spec.whatwg.org,
                    # "Interpreting an event stream": at the end of the stream pending data is discarded)
                    raise ApiError("closed", f"stream from {url}: the connection closed in the middle of an event "
                                             f"({text[:80]!r}, no line end)") from None
                what = "is nested too deeply to parse" if isinstance(error, JsonTooDeep) else "is not JSON"
                raise ApiError("bad_stream", f"stream from {url}: an event {what}: {text[:80]!r}") from None
            if not isinstance(event, dict):
                raise ApiError("bad_shape", f"stream from {url}: an event is not an object: {text[:80]!r}")
            if event.get("error"):  # vLLM's `data: {"error": {...}}`, Ollama's `{"error": "..."}` line
                raise stream_error(event["error"], url)
            yield event

    def _event_text(self, event: dict, url: str) -> tuple[str, str]:
        """An event's text: (answer content, reasoning), each "" when it has none."""
        message = _dig(event, "choices", 0, "delta") if self.api == "openai" else _dig(event, "message")
        text = _dig(message, "content")
        if text is not None and not isinstance(text, str):
            raise ApiError("bad_shape", f"stream from {url}: content is not text: {excerpt(event, 80)}")
        return text or "", self._reasoning(message, f"stream from {url}")

    def _reasoning(self, holder: Any, shown: str) -> str:
        """The reasoning a message (or a delta, or /api/generate's answer) holds, "" when none."""
        for key in (OPENAI_REASONING if self.api == "openai" else ("thinking",)):
            value = _dig(holder, key)
            if value is not None and not isinstance(value, str):
                raise ApiError("bad_shape", f"{shown}: {key} is not text: {excerpt(value, 80)}")
            if value:
                return value
        return ""

    def _event_usage(self, event: dict, result: Completion, shown: str) -> None:
        reason = _text(_dig(event, "choices", 0, "finish_reason") if self.api == "openai"
                       else _dig(event, "done_reason"))
        if reason:
            result.finish_reason = reason
        if self.api == "openai":
            if event.get("__done__"):
                result.finished = True
            usage = usage_object(event.get("usage"), shown)
            if usage is not None:
                self._counts(result, usage, "prompt_tokens", "completion_tokens", shown)
                result.raw_final = event
        elif event.get("done") is True:  # JSON true, not a truthy "false"
            result.finished = True
            self._counts(result, event, "prompt_eval_count", "eval_count", shown)
            result.raw_final = event


# The lines of an event stream that are no content to report when they are all it holds: the fields and a comment
# (html.spec.whatwg.org, "Interpreting an event stream"); `data:` is read, `error:` is llama.cpp's.
SSE_FIELDS = ("data:", "event:", "id:", "retry:", ":")
SSE_BARE_FIELDS = ("data", "event", "id", "retry")  # a field without a colon: its name alone, an empty value


# Failures that say nothing about which API is served: stop probing and report them as they are.
_FATAL_PROBE_KINDS = ("dns", "refused", "tls", "connect_timeout", "timeout_headers", "timeout_total", "unauthorized",
                      "blocked", "cancelled")


def detect_api(base_url: str, api_key: Optional[str] = None, deadlines: Optional[Deadlines] = None,
               session: Optional[requests.Session] = None) -> str:
    """Which API answers at base_url: OpenAI-compatible first (every server here has it), then Ollama native.
    When neither does, the error names what each probe got (a 503 "Loading model" is not hidden by a 404)."""
    failures: list[ApiError] = []
    for api in APIS:
        try:
            LlmClient(base_url, api, api_key, deadlines, session).list_models()
            return api
        except ApiError as error:
            if error.kind in _FATAL_PROBE_KINDS:
                raise
            failures.append(error)
    kinds = {f.kind for f in failures}
    kind = "server_error" if "server_error" in kinds else failures[0].kind
    raise ApiError(kind, f"neither API answered at {shown_url(base_url)}: " + "; ".join(str(f) for f in failures),
                   failures[0].status)
