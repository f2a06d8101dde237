"""OpenWebUi's pods when they stop (components/llmplatform/open_webui.py): the answers in flight finish before uvicorn
gets SIGTERM, and the autoscaler waits out a pod's grace before it scales in again."""
from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import llmplatform as P
from llmplatform.inference_specs import SHUTDOWN_MARGIN_SECONDS

from offline import runner as offline

from tests.conftest import variant
from tests.components.test_inference_stack import deployment
from tests.components.test_components_alone import ENDPOINT, VAULT, cluster_handle, provider_opts

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
# /proc/net/tcp (Linux proc(5)): sl, local_address, rem_address, st (01 ESTABLISHED, 0A LISTEN), ...
TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def tcp_line(n: int, local_port: int, remote_port: int, state: str) -> str:
    return (f"   {n}: 0A00000B:{local_port:04X} 0A00000C:{remote_port:04X} {state} 00000000:00000000 00:00000000 "
            f"00000000 0 0 {n} 1\n")


def ui_shutdown(plan) -> tuple[dict, str, int]:
    """The UI's pod spec, its preStop hook's script and the hook's deadline in seconds."""
    pod = deployment(plan, "open-webui")["spec"]["template"]["spec"]
    hook = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1]
    return pod, hook, int(re.search(r"\$\(date \+%s\) \+ (\d+)", hook).group(1))


def model_port(pod: dict) -> int:
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    url = env.get("OLLAMA_BASE_URL") or env["OPENAI_API_BASE_URL"]
    return int(re.match(r"https?://[^/:]+:(\d+)", url).group(1))


def waits(script: str, proc: Path, connections: list[str]) -> bool:
    """Whether one round of the hook's loop, reading `connections` as /proc/net/tcp, waits on."""
    (proc / "tcp").write_text(TCP_HEADER + "".join(connections))
    (proc / "tcp6").write_text(TCP_HEADER)
    log = proc / "waits"
    log.write_text("")
    once = script.replace("/proc/net", str(proc)).replace("sleep 5", ":").replace(
        "sleep 2", f"echo wait >> {log}; exit 0")
    subprocess.run(["sh", "-c", once], check=True, timeout=10)
    return "wait" in log.read_text()


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_a_stopping_ui_pod_lets_its_answers_finish_before_sigterm(name):
    """Open-WebUI 0.11.0 runs a UI chat as a task of the process and sends its tokens over the browser's websocket
    (main.py 1703-1751); at SIGTERM uvicorn 0.51.0 closes every websocket (1012) and the task ends with the loop. The
    kubelet runs the preStop hook first, the pod already out of the Service's endpoints: the hook waits while the
    pod's calls to the model endpoint are open, as long as the longest answer the Gateway waits for the UI, and the
    grace covers the hook and uvicorn's shutdown. Kubernetes' default grace, 30 s, cut every answer in flight."""
    plan = variant(name)
    pod, hook, deadline = ui_shutdown(plan)
    route = next(r.inputs["spec"] for r in plan.of_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
                 if r.inputs["metadata"]["name"] == "ui-route")
    longest_answer = int(route["rules"][0]["timeouts"]["request"].rstrip("s"))
    assert deadline >= longest_answer
    assert pod["terminationGracePeriodSeconds"] == deadline + SHUTDOWN_MARGIN_SECONDS
    assert f"$3 ~ /:{model_port(pod):04X}$/" in hook  # the connections' remote end: the model endpoint's port


def test_the_hook_waits_for_the_uis_calls_to_the_model_not_for_its_browsers(tmp_path):
    """dev's hook against /proc/net/tcp: an open call to the model endpoint's port keeps it waiting; a browser's
    websocket to the UI's own port (which the Gateway keeps open while a tab is) and a listening socket do not."""
    pod, hook, _ = ui_shutdown(variant("dev"))
    model, ui = model_port(pod), pod["containers"][0]["ports"][0]["containerPort"]
    listening = tcp_line(0, ui, 0, "0A")
    browser = tcp_line(1, ui, 51000, "01")
    answer = tcp_line(2, 41000, model, "01")
    assert not waits(hook, tmp_path, [listening, browser])
    assert waits(hook, tmp_path, [listening, browser, answer])


def open_webui(**inputs) -> tuple[dict, dict]:
    """A lone OpenWebUi's pod spec and HPA spec, given `inputs`."""
    p = offline.run_function(lambda: P.OpenWebUi("ui", {"cluster": cluster_handle(), "key_vault": VAULT,
                                                        "endpoint": ENDPOINT, "database_url_secret": "db-url",
                                                        **inputs}, provider_opts()))
    return deployment(p, "open-webui")["spec"]["template"]["spec"], p.one(HPA).inputs["spec"]


@pytest.mark.parametrize("answer, deadline, grace, window", [
    (60, 60, 90, 300),  # a short answer: Kubernetes' default window stays
    (600, 600, 630, 645),  # the default: the window past the grace by an HPA sync period
    (5000, 3555, 3585, 3600),  # the API admits a window of an hour at most: the drain gives way
])
def test_the_autoscaler_scales_in_again_only_after_the_pods_it_stopped_are_gone(answer, deadline, grace, window):
    """The connection budget (postgres_access.webui_pods) counts the pods one scale-in stops while a scale-out
    replaces them; a scale-out restarts the HPA's scale-down window, so with the window past a pod's grace the next
    scale-in finds the last one's pods gone. A window above 3600 s is refused by the API (kubernetes
    pkg/apis/autoscaling/validation MaxStabilizationWindowSeconds): past it the drain is shortened instead."""
    pod, hpa = open_webui(request_timeout_seconds=answer)
    hook = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert int(re.search(r"\$\(date \+%s\) \+ (\d+)", hook).group(1)) == deadline
    assert pod["terminationGracePeriodSeconds"] == grace
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == window
    assert f"$3 ~ /:{11434:04X}$/" in hook  # ENDPOINT: Ollama's Service


def test_an_endpoint_url_without_a_port_is_drained_on_its_schemes():
    from llmplatform.open_webui import endpoint_port
    assert (endpoint_port("https://llm.example.com/v1"), endpoint_port("http://gate.llm.svc")) == (443, 80)
    assert endpoint_port("http://router.llm.svc:8081") == 8081


def hook_waits_on_this_kernel(script: str) -> bool:
    """Whether one round of the hook, run by /bin/sh (as the kubelet's exec runs it) against this machine's own
    /proc/net/tcp{,6}, waits on."""
    once = script.replace("sleep 5", ":").replace("sleep 2", "echo wait; exit 0")
    return "wait" in subprocess.run(["/bin/sh", "-c", once], check=True, timeout=10, capture_output=True,
                                    text=True).stdout


# the image's client sockets: an IPv4 one (tcp), an IPv6 one, an IPv6 one to an IPv4 address (tcp6, ::ffff:a.b.c.d)
SOCKETS = [(socket.AF_INET, "127.0.0.1", socket.AF_INET, "127.0.0.1"),
           (socket.AF_INET6, "::1", socket.AF_INET6, "::1"),
           (socket.AF_INET, "127.0.0.1", socket.AF_INET6, "::ffff:127.0.0.1")]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
@pytest.mark.parametrize("server_family, server_host, client_family, client_host", SOCKETS)
def test_the_hook_reads_the_kernels_own_connection_table(server_family, server_host, client_family, client_host):
    """The hook OpenWebUi gives a model endpoint on port P, run by this machine's dash and mawk 1.3.4 (the image's
    /bin/sh and awk: python:3.11-slim-bookworm) against real sockets, so the table is the kernel's, not one written
    to match the script (net/ipv4/tcp_ipv4.c get_tcp4_sock: the port by ntohs, %04X): a listening model port and
    connections already closed (the client's TIME_WAIT after it closed; its CLOSE_WAIT after the server did, as a
    pooled keep-alive connection the router dropped) keep no pod; an open call does, over IPv4, IPv6 or IPv4-mapped
    IPv6 (tcp6)."""
    with socket.socket(server_family) as server:
        try:
            server.bind((server_host, 0))
        except OSError:
            pytest.skip(f"no {server_host} here")
        server.listen()
        port = server.getsockname()[1]
        pod, _ = open_webui(endpoint={**ENDPOINT, "base_url": f"http://ollama:{port}", "port": port})
        hook = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][-1]
        assert not hook_waits_on_this_kernel(hook)
        with socket.socket(client_family) as call:
            call.connect((client_host, port))
            answered, _ = server.accept()
            assert hook_waits_on_this_kernel(hook)
            answered.close()  # the server ends it first: the client's side in CLOSE_WAIT until it closes
            time.sleep(0.2)
            assert not hook_waits_on_this_kernel(hook)
        with socket.socket(client_family) as call:
            call.connect((client_host, port))
            answered, _ = server.accept()
            call.close()  # the client ends it first: its side in TIME_WAIT
            answered.close()
            time.sleep(0.2)
            assert not hook_waits_on_this_kernel(hook)
