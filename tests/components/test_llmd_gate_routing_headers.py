"""Red-team review 2 (docs/decisions.md, "Second red-team review", 2026-12-08): with prefill/decode, llm-d's routing
sidecar in front of decode sends the prefill leg to the `host:port` named in the request's `x-prefiller-host-port`
header and answers the client a prefill error's status, headers and body as they came (llm-d/llm-d-router v0.10.0,
71f4f099, `pkg/sidecar/proxy/chat_completions.go` `disaggregatedPrefillHandler`, `connector_nixlv2.go`
`handleNIXLV2`). The picker only drops its own copy of the header (`disagg_profile_handler.go` `delete(request.Headers,
...)`) and answers Envoy with `SetHeaders` alone (`pkg/epp/handlers/request.go` `generateHeaders`: no
`RemoveHeaders`), so when it picks no prefill (a prompt with fewer uncached tokens than the decider's
`nonCachedTokens`, 16 in `pd_specs.pd_plugins`: `disagg/README.md`) the client's own header reaches the sidecar. Nothing but the gate stands between a key holder (or Open-WebUI's keyless listener)
and the pool gateway: the gate must not pass llm-d's routing headers on."""
import http.server
import threading

import pytest
import requests

from tests.conftest import variant
from tests.nginx_gate import KEY, running_router

# llm-d/llm-d-router v0.10.0 pkg/common/routing/common.go: the headers the picker writes for the decode sidecar
ROUTING_HEADERS = ("x-prefiller-host-port", "x-encoder-hosts-ports", "x-data-parallel-host-port",
                   "x-kv-cache-source-host-port")


class HeaderRecorder(http.server.ThreadingHTTPServer):
    """A stand-in for the pool gateway: answers 200 and records each request's headers, lower-cased."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = answer

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)


# The gate drops them (inference_specs.LLMD_ROUTING_HEADERS in `streamed_proxy`); this list is upstream's, read
# apart from the gate's, so a header the gate's list lacks fails here.
def test_llmds_gate_passes_no_client_named_prefill_target_to_the_pool(tmp_path):
    pool = HeaderRecorder()
    threading.Thread(target=pool.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    forged = {name: "169.254.169.254:80" for name in ROUTING_HEADERS}
    try:
        with running_router(variant("llmd-pd"), tmp_path, "llmd-router-config",
                            upstream=f"127.0.0.1:{pool.server_address[1]}") as gate:
            for listener, key in (("api", {"Authorization": f"Bearer {KEY}"}),
                                  ("edge", {"Authorization": f"Bearer {KEY}", "X-Forwarded-For": "198.51.100.7"}),
                                  ("ui", {})):
                answer = requests.post(f"{gate[listener]}/v1/chat/completions", json={"messages": []},
                                       headers={**key, **forged}, timeout=5)
                assert answer.status_code == 200, (listener, answer.status_code)
                passed = sorted(set(ROUTING_HEADERS) & set(pool.seen[-1]))
                assert not passed, f"the gate's {listener} listener passed {passed} on to the pool gateway"
    finally:
        pool.shutdown()
