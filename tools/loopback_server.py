"""A tiny local HTTP/1.1 server speaking both APIs, for tests and the loopback benchmark (127.0.0.1 only).

Behaviours: `ok` (instant answers), `ratelimit` (every request answered 429), `error` (500), `hang` (no answer for
`hang_s`), `close` (socket closed without an answer), `auth` (`ok` behind a bearer key). The Ollama-native bodies
copy the response shapes of Ollama's API reference (docs/api.md: /api/tags, /api/chat, /api/generate).
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

MODEL = "loopback:latest"
OUTPUT_TOKENS = 5
WORDS = ["Hello", " from", " the", " loopback", " server"]

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

    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
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
        if mode == "ratelimit":
            self._body()
            self._json(429, {"error": "rate limit exceeded"})
        elif mode == "error":
            self._body()
            self._json(500, {"error": "internal error"})
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

    def do_GET(self) -> None:  # noqa: N802
        if self._misbehave():
            return
        if self.path == "/v1/models":
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
        if self.path == "/v1/chat/completions":
            if not stream:
                self._json(200, {"id": "c1", "object": "chat.completion", "model": MODEL, "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)},
                     "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 8, "completion_tokens": OUTPUT_TOKENS, "total_tokens": 13}})
                return
            events = [{"choices": [{"index": 0, "delta": {"content": w}}]} for w in WORDS]
            events.append({"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": OUTPUT_TOKENS,
                                                    "total_tokens": 13}})
            text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
            self._send(200, text.encode(), "text/event-stream")
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


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mode: str = "ok", api_key: str = "loopback-key", hang_s: float = 5.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode, self.api_key, self.hang_s = mode, api_key, hang_s
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "LoopbackServer":
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
