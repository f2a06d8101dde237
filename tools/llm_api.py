"""The two HTTP APIs the platform serves, spoken with `requests`: OpenAI-compatible (`/v1`, served by Ollama, vLLM
and the llm-d gateway) and Ollama's native API (`/api/tags`, `/api/chat`, `/api/generate`)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import requests

APIS = ("openai", "ollama")


class ApiError(Exception):
    """A request that did not succeed, with a kind (timeout, rate_limited, server_error, connection, dns, tls...)."""

    def __init__(self, kind: str, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


def status_kind(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "unauthorized"
    if status >= 500:
        return "server_error"
    return "client_error"


def describe_exception(error: BaseException, url: str) -> ApiError:
    """Turn a requests/urllib3 failure into one line a person can act on."""
    text = str(error)
    if isinstance(error, ApiError):
        return error
    if isinstance(error, requests.exceptions.SSLError):
        return ApiError("tls", f"TLS error talking to {url}: {text.splitlines()[0][:200]}")
    if isinstance(error, requests.exceptions.Timeout):
        return ApiError("timeout", f"timed out waiting for {url}")
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return ApiError("connection", f"{url} closed the connection mid-response")
    if isinstance(error, requests.exceptions.ConnectionError):
        lowered = text.lower()
        if "name or service not known" in lowered or "nameresolution" in lowered or "getaddrinfo" in lowered \
                or "nodename nor servname" in lowered or "temporary failure in name resolution" in lowered:
            return ApiError("dns", f"cannot resolve the host of {url} (DNS)")
        if "refused" in lowered:
            return ApiError("connection", f"connection refused by {url} (is the port-forward or gateway up?)")
        if "remotedisconnected" in lowered or "aborted" in lowered or "reset" in lowered:
            return ApiError("connection", f"{url} closed the connection without answering")
        return ApiError("connection", f"cannot connect to {url}: {text.splitlines()[0][:200]}")
    return ApiError("error", f"{type(error).__name__} talking to {url}: {text[:200]}")


@dataclass
class Completion:
    content: str = ""
    prompt_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    chunks: int = 0
    finished: bool = False
    ttft_s: Optional[float] = None
    latency_s: float = 0.0
    raw_final: dict = field(default_factory=dict)


class LlmClient:
    """One endpoint, one API flavour. A Session per client keeps connections alive (pooling)."""

    def __init__(self, base_url: str, api: str = "openai", api_key: Optional[str] = None, timeout: float = 120.0,
                 session: Optional[requests.Session] = None):
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}, got {api!r}")
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.timeout = timeout
        self.session = session or requests.Session()
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        url = self.url(path)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        try:
            response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise describe_exception(error, url) from None
        if response.status_code >= 400:
            body = response.text[:200].strip()
            response.close()
            raise ApiError(status_kind(response.status_code), f"{method} {url} answered {response.status_code}"
                           + (f": {body}" if body else ""), response.status_code)
        return response

    def list_models(self) -> list[str]:
        if self.api == "openai":
            return [m["id"] for m in self._request("GET", "/v1/models").json().get("data", [])]
        return [m["name"] for m in self._request("GET", "/api/tags").json().get("models", [])]

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
        start = time.perf_counter()
        data = self._request("POST", path, json=body).json()
        done = Completion(latency_s=time.perf_counter() - start, finished=True, raw_final=data, chunks=1)
        if self.api == "openai":
            done.content = (data.get("choices") or [{}])[0].get("message", {}).get("content") or ""
            usage = data.get("usage") or {}
            done.prompt_tokens, done.output_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
        else:
            done.content = (data.get("message") or {}).get("content") or ""
            done.prompt_tokens, done.output_tokens = data.get("prompt_eval_count"), data.get("eval_count")
        done.ttft_s = done.latency_s
        return done

    def generate(self, model: str, prompt: str, max_tokens: int = 32) -> Completion:
        """Ollama's /api/generate (native API only)."""
        start = time.perf_counter()
        data = self._request("POST", "/api/generate", json={"model": model, "prompt": prompt, "stream": False,
                                                             "options": {"num_predict": max_tokens}}).json()
        return Completion(content=data.get("response") or "", prompt_tokens=data.get("prompt_eval_count"),
                          output_tokens=data.get("eval_count"), chunks=1, finished=bool(data.get("done")),
                          latency_s=time.perf_counter() - start, raw_final=data)

    def chat_stream(self, model: str, prompt: str, max_tokens: int = 32) -> Completion:
        """Streamed chat; measures time to first token and total latency."""
        path, body = self._chat_body(model, prompt, max_tokens, stream=True)
        start = time.perf_counter()
        result = Completion()
        response = self._request("POST", path, json=body, stream=True)
        try:
            for event in self._events(response):
                text = self._event_text(event)
                if text:
                    if result.ttft_s is None:
                        result.ttft_s = time.perf_counter() - start
                    result.content += text
                    result.chunks += 1
                self._event_usage(event, result)
                if result.finished:
                    break
        except requests.RequestException as error:
            raise describe_exception(error, self.url(path)) from None
        finally:
            response.close()
        result.latency_s = time.perf_counter() - start
        if not result.finished:
            raise ApiError("connection", f"stream from {self.url(path)} ended without a final event")
        return result

    def _events(self, response: requests.Response) -> Iterator[dict]:
        for line in response.iter_lines(chunk_size=None, decode_unicode=False):
            if not line:
                continue
            text = line.decode("utf-8", "replace")
            if self.api == "openai":
                if not text.startswith("data:"):
                    continue
                payload = text[5:].strip()
                if payload == "[DONE]":
                    yield {"__done__": True}
                    return
                yield json.loads(payload)
            else:
                yield json.loads(text)

    def _event_text(self, event: dict) -> str:
        if self.api == "openai":
            choices = event.get("choices") or []
            return (choices[0].get("delta") or {}).get("content") or "" if choices else ""
        return (event.get("message") or {}).get("content") or ""

    def _event_usage(self, event: dict, result: Completion) -> None:
        if self.api == "openai":
            if event.get("__done__"):
                result.finished = True
            usage = event.get("usage")
            if usage:
                result.prompt_tokens = usage.get("prompt_tokens")
                result.output_tokens = usage.get("completion_tokens")
                result.raw_final = event
        elif event.get("done"):
            result.finished = True
            result.prompt_tokens = event.get("prompt_eval_count")
            result.output_tokens = event.get("eval_count")
            result.raw_final = event


def detect_api(base_url: str, api_key: Optional[str] = None, timeout: float = 10.0,
               session: Optional[requests.Session] = None) -> str:
    """Which API answers at base_url: OpenAI-compatible first (every server here has it), then Ollama native."""
    last: Optional[ApiError] = None
    for api in APIS:
        try:
            LlmClient(base_url, api, api_key, timeout, session).list_models()
            return api
        except ApiError as error:
            if error.kind in ("connection", "dns", "tls", "timeout", "unauthorized"):
                raise
            last = error
    raise ApiError("client_error", f"neither /v1/models nor /api/tags answered at {base_url}"
                   + (f" ({last})" if last else ""))
