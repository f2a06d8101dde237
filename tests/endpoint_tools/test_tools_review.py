"""A second review of the stranger's review of the endpoint tools (docs/decisions.md, "2026-12-06: a review of the
stranger's endpoint-tools review"): what its redirect and proxy messages print of a secret, an answer that is all
reasoning from a model that finished, and an old result file beside a new one in --compare. Each test failed before
its fix."""

import json
import time

import pytest

from endpoint_tools import bench, smoke
from endpoint_tools.loopback_server import BackgroundServer

from tests.endpoint_tools.test_bench import run_bench
from tests.endpoint_tools.test_first_use import KEY, _Quiet, key_gate, no_proxy_settings  # noqa: F401 - a fixture

SECRET = "sig-5ec2e7-token"


class _SignedRedirect(_Quiet):
    """Every request: 302 to the same path under `target`, with a signed query (a SAS token, a login page's state)."""

    def do_GET(self) -> None:  # noqa: N802
        self._read_body()
        location = self.server.target + self.path + f"?sv=2025&sig={SECRET}"  # type: ignore[attr-defined]
        self._send(302, headers={"Location": location})

    do_POST = do_GET


def signed_redirect(target: str) -> BackgroundServer:
    server = BackgroundServer(("127.0.0.1", 0), _SignedRedirect)
    server.target = target  # type: ignore[attr-defined]
    return server


def test_a_redirects_signed_query_is_not_printed_nor_written(tmp_path, capsys):
    """A redirect to a URL whose query holds a token: the line named the URL redirected to with its query
    ("GET http://host/v1/models?sv=2025&sig=<token> (redirected from ...) answered 401"), in the terminal and in
    llm-bench's result files, while the hint on the same line already left the query out."""
    with key_gate() as gate:
        with signed_redirect(f"http://localhost:{gate.server_address[1]}") as server:
            assert smoke.main([server.url, "--api-key", KEY, "--api", "openai", "--timeout", "5"]) == 1
            out = capsys.readouterr().out
            code, report = run_bench(tmp_path, server.url, "--api-key", KEY, "--api", "openai", "--model", "m",
                                     "-n", "1", "-c", "1")
    written = (tmp_path / "run.json").read_text() + (tmp_path / "run.csv").read_text()
    assert "/v1/models?sv=***&sig=*** (redirected from" in out and "[unauthorized]" in out, out
    assert SECRET not in out, out
    assert code == 1 and report["summary"]["errors"] == {"unauthorized": 1}, report["summary"]
    assert "sig=***" in written and SECRET not in written, written


def test_a_redirect_the_tools_cannot_follow_does_not_print_its_query(capsys):
    """A Location the tools cannot follow (another scheme) was quoted whole, twice: in the line and in requests'
    own words after it."""
    class _Elsewhere(_Quiet):
        def do_GET(self) -> None:  # noqa: N802
            self._send(302, headers={"Location": f"ftp://files.example/?token={SECRET}"})

    with BackgroundServer(("127.0.0.1", 0), _Elsewhere) as server:
        assert smoke.main([server.url, "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "redirected to 'ftp://files.example/?token=***', which the tools cannot follow" in out, out
    assert SECRET not in out, out


@pytest.mark.parametrize("proxy", ["user:pr0xy-pass@127.0.0.1:3128", "http://corp user:pr0xy-pass@127.0.0.1:1"])
def test_a_proxy_password_is_never_printed(proxy, no_proxy_settings, capsys):  # noqa: F811 - the fixture
    """HTTPS_PROXY written without its scheme (`user:password@proxy:3128`, a common slip) or with a user name that
    holds a space: the new proxy lines quoted it whole, password and all (shown_url stars only a `//user:` form)."""
    no_proxy_settings.setenv("HTTPS_PROXY", proxy)
    assert smoke.main(["https://llm.example.invalid", "--api", "openai", "--timeout", "5"]) == 1
    out = capsys.readouterr().out
    assert "proxy" in out and "pr0xy-pass" not in out, out
    assert ":***@127.0.0.1" in out, out
