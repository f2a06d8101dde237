"""A tiny local HTTP/1.1 server speaking both APIs, for tests and the loopback benchmark (127.0.0.1 only).

Behaviours: `ok` (instant answers), `ratelimit` (every request answered 429), `error` (500 with the server's own
message), `hang` (no answer for `hang_s`), `close` (socket closed without an answer), `auth` (`ok` behind a bearer
key), and the ways real gateways and model servers misbehave: `html` (200 with a proxy's HTML page), `badshape`
(model lists without ids), `badsse` (an event in the stream is not JSON), `trickle` (one token every `trickle_s`,
`trickle_n` tokens), `unframed` (as `trickle`, the body neither chunked nor of a stated length: it ends when the
connection closes, RFC 9112 section 6.3), `buffered` (`trickle_n` tokens in one write, as a buffering proxy hands
them over), `slowfirst` (headers at once, first token after `hang_s`), `empty` (a stream with no content
and no usage), `unterminated` (content, then the connection ends without the final event), `loading` (503 "Loading
model" on /v1/models, 404 on /api/tags), `deep` (model lists that are JSON nested 100,000 deep), `deepanswer`
(answers and stream events nested so), `deeperror` (500 with a body nested so). The Ollama-native bodies copy the
response shapes of Ollama's API reference (docs/api.md: /api/tags, /api/chat, /api/generate).
"""
from __future__ import annotations

import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

MODEL = "loopback:latest"
OUTPUT_TOKENS = 5
WORDS = ["Hello", " from", " the", " loopback", " server"]
DEEP = b"[" * 100_000  # deeper than any JSON decoder follows (CPython's recurses per level)

OLLAMA_TAGS = {"models": [{
    "name": MODEL, "model": MODEL, "modified_at": "2025-05-04T17:37:44.706015396-07:00", "size": 2019393189,
    "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
    "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}}]}


def _ollama_final(extra: dict) -> dict:
    return {"model": MODEL, "created_at": "2023-12-12T14:13:43.416799Z", "done": True, "done_reason": "stop",
            "total_duration": 5191566416, "load_duration": 2154458, "prompt_eval_count": 26,
            "prompt_eval_duration": 383809000, "eval_count": OUTPUT_TOKENS, "eval_duration": 4799921000, **extra}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "LoopbackServer"
    _headers_buffer: list[bytes]  # BaseHTTPRequestHandler's own (CPython's http/server.py), which typeshed leaves out

    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: Optional[dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)  # headers and body in one write: no delayed-ACK stall
        self.flush_headers()

    def _json(self, status: int, obj: dict) -> None:
        self._send(status, json.dumps(obj).encode())

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _misbehave(self) -> bool:
        mode = self.server.mode
        with self.server.lock:
            self.server.received += 1
        if mode == "ratelimit":  # as the platform's gate answers past its burst
            self._body()
            self._send(429, json.dumps({"error": "rate limit exceeded"}).encode(), headers={"Retry-After": "1"})
        elif mode == "error":
            self._body()
            self._json(500, {"error": {"message": "CUDA out of memory", "type": "server_error"}})
        elif mode == "html":
            self._body()
            self._send(200, b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html")
        elif mode == "loading" and self.command == "GET":
            if self.path == "/v1/models":
                self._json(503, {"error": {"message": "Loading model", "type": "unavailable_error", "code": 503}})
            else:
                self._json(404, {"error": "404 page not found"})
        elif mode == "deeperror":
            self._body()
            self._send(500, DEEP)
        elif mode == "deep" and self.command == "GET":
            self._send(200, DEEP)
        elif mode == "hang":
            time.sleep(self.server.hang_s)
            self.close_connection = True
        elif mode == "close":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif mode == "auth" and self.headers.get("Authorization") != f"Bearer {self.server.api_key}":
            self._body()
            self._json(401, {"error": "invalid api key"})
        else:
            return False
        return True

    def _stream(self, lines: list[str], content_type: str, gap_s: float = 0.0, first_gap_s: float = 0.0,
                chunked: bool = True) -> None:
        """Write a streamed body piece by piece with chunked transfer encoding, as model servers do (or, not
        `chunked`, as the bare bytes of a body the connection's close ends)."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding" if chunked else "Connection", "chunked" if chunked else "close")
        self.end_headers()
        if not chunked:
            self.close_connection = True
        try:
            for i, line in enumerate(lines):
                delay = first_gap_s if i == 0 else gap_s
                if delay:
                    time.sleep(delay)
                data = line.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                self.wfile.flush()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (a deadline): nothing to do

    def do_GET(self) -> None:  # noqa: N802
        if self._misbehave():
            return
        if self.server.mode == "badshape":
            self._json(200, {"object": "list", "data": [{"name": MODEL}]} if self.path == "/v1/models"
                       else {"models": [{"model": MODEL}]})
        elif self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "loopback"}]})
        elif self.path == "/api/tags":
            self._json(200, OLLAMA_TAGS)
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:  # noqa: N802
        if self._misbehave():
            return
        body = self._body()
        stream = bool(body.get("stream"))
        if self.server.mode in ("deep", "deepanswer"):
            if not stream:
                self._send(200, DEEP)
            elif self.path.startswith("/v1/"):
                self._send(200, b"data: " + DEEP + b"\n\n", "text/event-stream")
            else:
                self._send(200, DEEP + b"\n", "application/x-ndjson")
        elif self.path == "/v1/chat/completions":
            if not stream:
                self._json(200, {"id": "c1", "object": "chat.completion", "model": MODEL, "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)},
                     "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 8, "completion_tokens": OUTPUT_TOKENS, "total_tokens": 13}})
                return
            self._openai_stream()
        elif self.path == "/api/chat":
            if not stream:
                self._json(200, _ollama_final({"message": {"role": "assistant", "content": "".join(WORDS)}}))
                return
            lines = [{"model": MODEL, "created_at": "2023-08-04T08:52:19.385406455-07:00",
                      "message": {"role": "assistant", "content": w, "images": None}, "done": False} for w in WORDS]
            lines.append(_ollama_final({"message": {"role": "assistant", "content": ""}}))
            self._send(200, "".join(json.dumps(x) + "\n" for x in lines).encode(), "application/x-ndjson")
        elif self.path == "/api/generate":
            self._json(200, _ollama_final({"response": "".join(WORDS), "context": [1, 2, 3]}))
        else:
            self._json(404, {"error": "not found"})


    def _openai_stream(self) -> None:
        mode, server = self.server.mode, self.server
        words = [f" w{i}" for i in range(server.trickle_n)] if mode in ("trickle", "unframed", "buffered") \
            else WORDS
        events: list = [{"choices": [{"index": 0, "delta": {"content": w}}]} for w in words]
        usage = {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": len(words), "total_tokens": 13}}
        if mode == "empty":
            events = []
        elif mode != "unterminated":
            events.append(usage)
        lines = [f"data: {json.dumps(e)}\n\n" for e in events]
        if mode == "badsse":
            lines.insert(2, "data: {\"choices\": [{\"delta\": \n\n")
        if mode != "unterminated":
            lines.append("data: [DONE]\n\n")
        if mode in ("ok", "auth", "buffered"):  # "buffered": trickle_n events at once, as a buffering proxy sends
            self._send(200, "".join(lines).encode(), "text/event-stream")
        else:
            trickle = mode in ("trickle", "unframed")
            self._stream(lines, "text/event-stream", gap_s=server.trickle_s if trickle else 0.0,
                         first_gap_s=server.hang_s if mode == "slowfirst" else 0.0, chunked=mode != "unframed")


class QuietDisconnects:
    """Server mixin: a client that hangs up (a reset keep-alive connection, a cancelled stream) is routine, as for
    any real server, not a traceback on stderr; anything else is still reported."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)  # type: ignore[misc]


class BackgroundServer(QuietDisconnects, ThreadingHTTPServer):
    """A loopback HTTP server on a free port, served from a thread while the `with` block runs.

    Every connection it accepts sends without Nagle's delay (TCP_NODELAY, as Go's servers, Ollama's among them, and
    asyncio's, uvicorn's, set it by default): a handler writing its headers and its body in two writes otherwise
    waited for the client's delayed ACK (40 ms on Linux) on every answer of a kept-alive connection. Its loop looks
    for `shutdown()` every POLL_S seconds: the end of a `with` block waits at most that long."""
    daemon_threads = True
    POLL_S = 0.01
    _thread: Optional[threading.Thread] = None

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "BackgroundServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": self.POLL_S},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class LoopbackServer(BackgroundServer):
    """A fake LLM server (OpenAI and Ollama APIs) that misbehaves on purpose in the given mode."""

    def __init__(self, mode: str = "ok", api_key: str = "loopback-key", hang_s: float = 5.0,
                 trickle_s: float = 0.1, trickle_n: int = 10):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.api_key, self.hang_s = mode, api_key, hang_s
        self.received, self.lock = 0, threading.Lock()  # requests received (a test waits for them)
        self.trickle_s, self.trickle_n = trickle_s, trickle_n
