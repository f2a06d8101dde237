"""The two HTTP APIs the platform serves, spoken with `requests`: OpenAI-compatible (`/v1`, served by Ollama, vLLM
and the llm-d gateway) and Ollama's native API (`/api/tags`, `/api/chat`, `/api/generate`).

Whatever an endpoint does wrong becomes an `ApiError` (api_errors: one error model for every tool, never a
traceback). Every request has two deadlines: a total one, and one for the first token (the first byte of the body for
non-streamed calls); a watchdog (transport) enforces them even on a server that trickles.
"""
import base64
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

import requests
import urllib3.exceptions
import urllib3.response

from .api_errors import (KINDS, MAX_BODY_BYTES, QUERY_VALUE, ApiError, Deadlines, JsonTooDeep, api_key_problem,
                         excerpt, other_scheme, parse_json, printable, readable_retry_after, remember_secrets,
                         server_message, shown_target, shown_url, status_kind, stream_error, timeout_error, where)
from .failures import describe_exception
from .proxies import proxy_passwords, proxy_wants_credentials
from .transport import BearerAuth, HeaderDeadline, Watchdog, headers_on_time

APIS = ("openai", "ollama")
READ_CHUNK_BYTES = 64 * 1024
# The most tokens a tool asks for in one answer (--max-tokens): beyond it a value is a typo.
MAX_TOKENS = 1_000_000


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


# How long an error answer's body gets to bring the server's words once its headers came: a gate's or a proxy's
# page comes with its headers.
ERROR_WORDS_S = 1.0
# A Content-Length as RFC 9110 8.6 has it: a whole number of bytes, or a list of the same one ("42, 42").
_CONTENT_LENGTH = re.compile(r"[0-9]+(?:[ \t]*,[ \t]*[0-9]+)*")


def _unframed(response: requests.Response) -> str:
    """Why an answer's body has no end the tools can tell, "" when it has one: a Content-Length that is no number
    (without a chunked Transfer-Encoding, which goes first), which RFC 9112 6.3 makes an unrecoverable error for a
    client. urllib3 2.8.0 (response.py `_init_length`) reads such a body until the connection closes: on a kept-alive
    one the tools waited the whole total deadline and said the answer did not complete."""
    declared = response.headers.get("Content-Length")
    if declared is None or "chunked" in response.headers.get("Transfer-Encoding", "").lower() \
            or _CONTENT_LENGTH.fullmatch(declared.strip()):
        return ""
    return (f"Content-Length {printable(repr(declared[:40]))} is no number of bytes, so where its body ends is "
            f"unknown: RFC 9112 6.3")


def _asks_for(scheme: str) -> str:
    """What a 401 asking for `scheme` (not Bearer) means: something in front of the gate with a login of its own."""
    basic = (" (its user and password may go in the URL, https://user:password@host, sent as Basic auth)"
             if scheme.lower() == "basic" else "")
    return (f"; it asks for {printable(scheme)} authentication, not the bearer key the tools send: not the "
            f"platform's gate (which asks for Bearer) but something in front of it with a login of its own (a "
            f"proxy, an ingress){basic}")


def _not_followed(response: requests.Response) -> str:
    """Why a 3xx answer is the answer, not a redirect requests followed: requests follows 301, 302, 303, 307 and 308
    with a Location only (requests 2.34.2 models.py REDIRECT_STATI and `Response.is_redirect`). A 300
    (Multiple Choices) may name its preferred choice in a Location, which a client may follow (RFC 9110 15.4.1); a
    305 (Use Proxy) is deprecated (RFC 9110 15.4.6; RFC 7231 6.4.5: a proxy set in band is a security risk). It said
    "without a Location" of both. The Location is shown as a redirect's (shown_target: its query values starred)."""
    location = response.headers.get("Location")
    if location is None:
        return " without a Location to follow"
    shown = printable(repr(shown_target(location)[:200]))
    if response.status_code == 300:
        return (f" (Multiple Choices), preferring Location {shown}, which the tools do not choose for you: give "
                f"the URL you mean")
    if response.status_code == 305:
        return (f" (Use Proxy) with Location {shown}, deprecated and not followed (RFC 9110 15.4.6): a proxy is set "
                f"with $HTTPS_PROXY or $HTTP_PROXY")
    return f" with Location {shown}, which is no redirect to follow (those are 301, 302, 303, 307 and 308)"


class _Unended(bytes):
    """The last line of a body that ended without a line end: a stream cut there, unless it parses whole."""


def _alone(text: str) -> bool:
    """Whether a `data:` line is an event on its own (JSON, or JSON too deep to parse, named as such), not the first
    line of an event of several, which is no JSON alone (an event's line is parsed twice: microseconds)."""
    try:
        parse_json(text)
    except JsonTooDeep:
        return True
    except ValueError:
        return False
    return True


class _DataLines:
    """The `data:` lines of one SSE event that did not parse alone: the spec joins an event's data lines with LF
    (html.spec.whatwg.org, "Interpreting an event stream"; openai-python's SSEDecoder does), and sse-starlette writes
    data holding line breaks (pretty-printed JSON) as one `data:` line per line of it (sse_starlette/event.py)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.unended = False  # the last line came without its line end: the body ended there

    def __bool__(self) -> bool:
        return bool(self.lines)

    def add(self, text: str, unended: bool, url: str) -> None:
        self.lines.append(text)
        self.size += len(text) + 1
        self.unended = unended
        if self.size > MAX_BODY_BYTES:
            raise ApiError("too_large", f"stream from {url}: an event's data lines passed "
                                        f"{MAX_BODY_BYTES // 2**20} MiB, the most the tools read of one event")

    def joined(self) -> str:
        return "\n".join(self.lines)


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
        remember_secrets(secrets)
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.api_key = api_key
        self.deadlines = deadlines or Deadlines()
        self.session = session or requests.Session()
        headers_on_time(self.session)
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # the key as requests' auth, not only a header: a request without auth takes the user's ~/.netrc (or $NETRC)
        # entry for the host, a `default` one included, as HTTP Basic auth in place of the header (requests 2.34.2
        # sessions.py `prepare_request`: get_netrc_auth when no auth is given; models.py `prepare_auth` then
        # overwrites Authorization), and the gate refused a right key it never got
        self.auth = BearerAuth(api_key) if api_key else None
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
        deadline = HeaderDeadline._current.deadline = HeaderDeadline(read_timeout)
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
                   else describe_exception(error, url, "headers" if deadline.sent else "connect",
                                           self.deadlines)) from None
        finally:
            HeaderDeadline._current.deadline = None
        if deadline.expired or time.monotonic() > deadline.at:  # late, whether or not the alarm fired yet
            response.close()
            raise describe_exception(requests.exceptions.ReadTimeout(), url, "headers", self.deadlines,
                                     response.url)
        unframed = _unframed(response)
        if unframed:
            response.close()
            raise ApiError("error", f"{method} {where(url, response.url)} answered with a malformed HTTP response "
                                    f"({unframed})", response.status_code)
        if response.status_code >= 400:
            body = self._error_words(response, self._remaining(start))
            response.close()
            message = server_message(body)
            retry_after = readable_retry_after(response.headers.get("Retry-After"))
            dropped = self._key_dropped(response)
            challenge = response.headers.get("WWW-Authenticate", "") if response.status_code == 401 else ""
            other = other_scheme(challenge, response.request.headers.get("Authorization", ""))
            answered = ApiError(status_kind(response.status_code, body),
                                f"{method} {where(url, response.url)} answered {response.status_code}"
                                + (f": {message}" if message else "")
                                + (f" (WWW-Authenticate: {printable(challenge.strip()[:160])})" if challenge.strip()
                                   else "")
                                + (f" (Retry-After: {printable(retry_after)})" if retry_after else "")
                                + (_asks_for(other) if other else "")
                                + self._redirected(method, path, response, dropped)
                                + (proxy_wants_credentials(response.url) if response.status_code == 407 else ""),
                                response.status_code, retry_after=retry_after)
            answered.key_dropped = dropped
            answered.other_scheme = other
            raise answered
        if 300 <= response.status_code < 400:  # a 3xx requests did not follow (`Response.is_redirect`)
            words = server_message(self._error_words(response, self._remaining(start)))
            response.close()
            raise ApiError("error", f"{method} {where(url, response.url)} answered {response.status_code}"
                                    f"{_not_followed(response)}" + (f": {words}" if words else ""),
                           response.status_code)
        if self._key_dropped(response):  # the answer came, from a server that never saw the key
            self.key_dropped_at = shown_target(response.url)
        return response, start

    def _remaining(self, start: float) -> float:
        """What is left of the total deadline of a call that started at `start` (time.perf_counter)."""
        return self.deadlines.total_s - (time.perf_counter() - start)

    @staticmethod
    def _error_words(response: requests.Response, remaining_s: float) -> bytes:
        """The start of an error answer's body (4 KiB at most), for the server's words: what arrives within
        ERROR_WORDS_S (or the rest of the total deadline), piece by piece. A body that does not end (a Content-Length
        longer than what is sent on a kept-alive connection, a chunked body without its last chunk) held a read of 4
        KiB for the whole first-token deadline, and what had come was lost with it."""
        body = bytearray()
        with Watchdog(response) as watchdog:
            watchdog.arm("timeout_total", min(ERROR_WORDS_S, remaining_s))
            try:
                while len(body) < 4096 and (piece := response.raw.read1(4096 - len(body), decode_content=True)):
                    body += piece
            except Exception:  # noqa: BLE001 - what came is enough, and the status alone too
                pass
        return bytes(body)

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
        why = QUERY_VALUE.sub(r"\1***", (str(error).splitlines() or [type(error).__name__])[0])[:160]
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
        with Watchdog(response) as watchdog:
            remaining = self._remaining(start)
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
        with Watchdog(response) as watchdog:
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
        once): pieces of at most READ_CHUNK_BYTES, which a chunked stream returns as soon as a chunk ends. A CRLF
        split over two pieces ends one line: its LF is no empty line (which ends an event in SSE)."""
        pending = bytearray()
        after_cr = False  # the last piece ended a line with CR: a LF opening the next one is the rest of its CRLF
        for piece in LlmClient._pieces(response):
            if after_cr and piece.startswith(b"\n"):
                piece, after_cr = piece[1:], False
            after_cr = after_cr and not piece
            pending += piece
            if b"\n" in piece or b"\r" in piece:  # split only when a line ended: linear in the body's length
                lines = bytes(pending).splitlines(keepends=True)
                pending = bytearray(lines.pop() if not lines[-1].endswith((b"\n", b"\r")) else b"")
                after_cr = not pending and lines[-1].endswith(b"\r")
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
        data = _DataLines()  # an SSE event's `data:` lines when the first is no JSON alone
        for line in lines:
            if not line:
                if data:  # the empty line that ends an SSE event: its data lines joined with LF, as the spec says
                    yield self._parsed(data.joined(), False, url)
                    data = _DataLines()
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
            if self.api != "openai":
                yield self._parsed(text, isinstance(line, _Unended), url)
                continue
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
            if not data and not text:
                # an empty data field: an event of empty data (html.spec.whatwg.org, "Interpreting an event stream":
                # the field appends "" and a line feed, then the last line feed goes), a keep-alive with no JSON to
                # read; before an event's other data lines, only a line feed, which JSON reads as white space
                continue
            if not data and text == "[DONE]":
                yield {"__done__": True}
                return
            if not data and _alone(text):  # an event on one line, taken as it arrives, its empty line or not
                yield self._parsed(text, False, url)
                continue
            data.add(text, isinstance(line, _Unended), url)
        if data:  # the body ended inside an event of several data lines: whole if it parses, else cut or bad
            yield self._parsed(data.joined(), data.unended, url)

    @staticmethod
    def _parsed(text: str, unended: bool, url: str) -> dict:
        """One event's JSON object, or the ApiError that names what is wrong with it: cut by the body's end
        (`unended`: no line end after it), not JSON, not an object, or the server's error."""
        try:
            event = parse_json(text)
        except ValueError as error:
            if unended and not isinstance(error, JsonTooDeep):
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
        return event

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
