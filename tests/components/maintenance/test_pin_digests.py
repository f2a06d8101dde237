"""pin_digests against a loopback registry speaking the OCI distribution API (bearer-token challenge, HEAD of a
manifest, Docker-Content-Digest)."""

import hashlib
import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from llmplatform.llmd_specs import image_is_pinned
from llmplatform.pins import parse_image

from components.maintenance import pin_digests
from endpoint_tools.loopback_server import QuietDisconnects

from tests.conftest import PROJECT_DIR


PINS = PROJECT_DIR / "components" / "llmplatform" / "data" / "pins.json"


def digest_of(repository: str, tag: str) -> str:
    return "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()


class Registry(BaseHTTPRequestHandler):
    """Every repository and tag exists except tag `gone`; manifests need the token the realm hands out; repository
    `broken/*` answers without a digest header."""

    def log_message(self, *_):
        pass

    def do_GET(self):
        if self.path.startswith("/token?"):
            body = json.dumps({"token": "pull-token"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def do_HEAD(self):
        path = self.path.removeprefix("/v2/")
        repository, _, tag = path.partition("/manifests/")
        if self.headers.get("Authorization") != "Bearer pull-token":
            self.send_response(401)
            host = self.headers["Host"]
            self.send_header("WWW-Authenticate", f'Bearer realm="http://{host}/token",service="fake",'
                                                 f'scope="repository:{repository}:pull"')
            self.end_headers()
            return
        if tag == "gone":
            self.send_response(404)
            self.end_headers()
            return
        assert "application/vnd.oci.image.index.v1+json" in self.headers["Accept"]
        self.send_response(200)
        if not repository.startswith("broken/"):
            self.send_header("Docker-Content-Digest", digest_of(repository, tag))
        self.end_headers()


class RegistryServer(QuietDisconnects, ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture(scope="module")
def registry():
    server = RegistryServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()  # shut down in 10 ms, not 0.5 s
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run(pins: Path, url: str, *extra: str) -> int:
    mirrors = [arg for host in ("docker.io", "ghcr.io") for arg in ("--mirror", f"{host}={url}")]
    return pin_digests.main(["--pins", str(pins), *mirrors, *extra])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_image_of_the_real_pins_file_is_pinned_and_then_current(registry, tmp_path, capsys):
    pins = tmp_path / "pins.json"
    shutil.copy(PINS, pins)
    before = json.loads(pins.read_text())
    assert run(pins, registry, "--check") == 1  # no digests yet: every pin is missing one
    assert run(pins, registry) == 0
    after = json.loads(pins.read_text())
    assert after["charts"] == before["charts"] and after.keys() == before.keys()
    for key, image in after["images"].items():
        ref = parse_image(image)
        assert str(ref).startswith(before["images"][key] + "@") and ref.digest == digest_of(ref.repository, ref.tag)
        assert image_is_pinned(image)
    capsys.readouterr()
    assert run(pins, registry, "--check") == 0 and "stale" not in capsys.readouterr().out
    # a tag bumped by hand with its old digest left behind is stale, and re-resolved (the pinned tag read, not
    # written here: a bump of Ollama's pin left this edit a no-op and the check "current")
    tag = parse_image(after["images"]["ollama"]).tag
    bumped = {**after, "images": {**after["images"],
                                  "ollama": after["images"]["ollama"].replace(f":{tag}@", ":999.0.0@")}}
    assert bumped["images"]["ollama"] != after["images"]["ollama"]
    pins.write_text(json.dumps(bumped, indent=2) + "\n")
    assert run(pins, registry, "--check") == 1
    assert run(pins, registry) == 0
    assert json.loads(pins.read_text())["images"]["ollama"].endswith(digest_of("ollama/ollama", "999.0.0"))


@pytest.mark.parametrize("image, fragment", [
    ("docker.io/ollama/ollama:gone", "has no tag gone of ollama/ollama"),
    ("docker.io/broken/thing:1.0", "sent no sha256 Docker-Content-Digest"),
    ("ollama:1.0", "is not registry/repository:tag"),
])
def test_one_bad_image_changes_nothing_and_is_named(registry, tmp_path, capsys, image, fragment):
    pins = tmp_path / "pins.json"
    original = json.dumps({"images": {"good": "docker.io/ollama/ollama:0.32.15", "bad": image}}, indent=2) + "\n"
    pins.write_text(original)
    assert run(pins, registry) == 1
    err = capsys.readouterr().err
    assert "bad: " in err and fragment in err and "left unchanged" in err and "Traceback" not in err
    assert pins.read_text() == original


def test_an_unreachable_registry_and_a_broken_file_are_one_line_each(tmp_path, capsys):
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"images": {"a": "docker.io/x/y:1.0"}}))
    assert run(pins, f"http://127.0.0.1:{closed_port()}") == 1
    err = capsys.readouterr().err
    assert "a: cannot reach docker.io" in err and "Traceback" not in err
    pins.write_text("{not json")
    assert run(pins, "http://127.0.0.1:1") == 1
    assert "cannot read" in capsys.readouterr().err
    for bad in (["--mirror", "docker.io"], ["--timeout", "inf"], ["--timeout", "0"], ["--timeout", "nan"]):
        with pytest.raises(SystemExit) as usage:
            pin_digests.main(bad)
        assert usage.value.code == 2 and "Traceback" not in capsys.readouterr().err
