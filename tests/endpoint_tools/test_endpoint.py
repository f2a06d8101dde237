"""Endpoint resolution (endpoint): from the stack's outputs, and one clear error when they are not JSON."""

import os

import pytest

from endpoint_tools import endpoint


def test_endpoint_resolution(monkeypatch):
    assert endpoint.resolve("http://localhost:11434", None, None) == "http://localhost:11434"
    with pytest.raises(endpoint.EndpointError, match="'localhost:11434' does not start with http:// or https://"):
        endpoint.resolve("localhost:11434", None, None)  # once sent to http:// silently
    monkeypatch.setattr(endpoint.shutil, "which", lambda _: None)
    with pytest.raises(endpoint.EndpointError, match="Pulumi CLI is not on PATH"):
        endpoint.resolve(None, "gatewayExternalUrl", "dev")
    with pytest.raises(endpoint.EndpointError, match="give an endpoint URL"):
        endpoint.resolve(None, None, None)


def fake_pulumi(monkeypatch, tmp_path, printed: str) -> None:
    """A `pulumi` on PATH that prints `printed` for `pulumi stack output --json`."""
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\necho '{printed}'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


def test_stack_output_that_is_not_json_is_one_clear_error(monkeypatch, tmp_path):
    fake_pulumi(monkeypatch, tmp_path, "warning: something odd")
    with pytest.raises(endpoint.EndpointError, match="not a JSON object"):
        endpoint.resolve(None, "modelApiUrl", None)


def test_a_stack_output_that_is_not_an_http_url_is_named(monkeypatch, tmp_path):
    """The same URL rule as the command line's, for a URL read from the stack (an address alone gets http://)."""
    fake_pulumi(monkeypatch, tmp_path, '{"modelApiUrl": "ftp://x", "ip": "10.0.0.4:8080"}')
    with pytest.raises(endpoint.EndpointError, match="stack output 'modelApiUrl': 'ftp://x' does not start with"):
        endpoint.resolve(None, "modelApiUrl", None)
    assert endpoint.resolve(None, "ip", None) == "http://10.0.0.4:8080"


def test_stack_output_nested_too_deeply_is_one_clear_error(monkeypatch, tmp_path):
    fake_pulumi(monkeypatch, tmp_path, "[" * 100_000)
    with pytest.raises(endpoint.EndpointError, match="not a JSON object"):
        endpoint.resolve(None, "modelApiUrl", None)


def test_a_password_in_the_url_is_never_shown():
    from endpoint_tools.endpoint import shown_url
    assert shown_url("http://admin:hunter2@host:8080/x") == "http://admin:***@host:8080/x"
    assert shown_url("http://a:b@[::1]:9/") == "http://a:***@[::1]:9/"
    for plain in ("http://admin@host", "http://host:1/", "https://h"):
        assert shown_url(plain) == plain
    # a password holding / ? or # (base64 holds /) ends the authority as a URL parser reads it: hidden all the same,
    # and the parser's complaint, which quotes a piece of it, is not repeated
    for url, shown in (("http://user:pa/ss@host:8080", "http://user:***@host:8080"),
                       ("http://user:12/ss@host", "http://user:***@host"), ("http://u:p#q?r@h/", "http://u:***@h/")):
        assert shown_url(url) == shown
        problem = endpoint.url_problem(url) or ""
        assert all(piece not in problem for piece in ("pa/ss", "'pa'", "12/ss", "p#q")), problem


def test_a_url_refused_as_usage_is_quoted_without_its_password():
    from endpoint_tools.endpoint import shown_url, url_problem
    for url in ("http://admin:hunter2@x/?q=1", "http://admin:hunter2@[::1", "ftp://admin:hunter2@x"):
        problem = url_problem(url)
        assert problem and "hunter2" not in problem and "admin:***@" in problem, problem
    assert shown_url("http://admin:hunter2@[::1") == "http://admin:***@[::1"  # urlsplit refuses it


def pulumi_script(monkeypatch, tmp_path, body: str) -> None:
    """A `pulumi` on PATH running this shell `body`."""
    fake = tmp_path / "pulumi"
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")


def test_stack_outputs_that_are_not_utf8_are_one_clear_error_in_every_tool(monkeypatch, tmp_path, capsys):
    """`pulumi stack output --json` printing bytes that are not UTF-8 (a broken terminal encoding, a plugin's
    stray output) crashed llm-smoke and llm-verify with a UnicodeDecodeError traceback."""
    from endpoint_tools import smoke, verify
    pulumi_script(monkeypatch, tmp_path, r"printf '\377\376{}'; printf '\377' >&2")
    assert smoke.main(["--stack-output", "modelApiUrl"]) == 1
    assert verify.main(["--stack", "dev"]) == 1
    captured = capsys.readouterr()
    assert captured.out.count("printed something that is not a JSON object") == 2, captured.out
    assert "Traceback" not in captured.out + captured.err


def test_stack_outputs_shown_with_their_secrets_are_never_quoted_back(monkeypatch, tmp_path, capsys):
    """llm-verify reads the outputs with --show-secrets (the kubeconfig, a key): output that is no JSON object (a
    plugin's stray line before it) is named, not quoted, there; llm-smoke's, without secrets, is quoted."""
    from endpoint_tools import smoke, verify
    pulumi_script(monkeypatch, tmp_path, """case "$*" in *--show-secrets*) printf 'plugin: hello\\n{"kubeconfig": "token: sekret-123"}';;
        *) printf 'plugin: hello\\n{"kubeconfig": "[secret]"}';; esac""")
    assert verify.main(["--stack", "dev"]) == 1 and smoke.main(["--stack-output", "modelApiUrl"]) == 1
    out = capsys.readouterr().out
    assert "sekret" not in out and "'plugin: hello" in out, out


@pytest.mark.parametrize("body,why", [("kill -9 $$", "killed by signal 9"), ("exit 3", "exit code 3")])
def test_a_failed_pulumi_without_a_word_on_stderr_is_named_by_how_it_ended(body, why, monkeypatch, tmp_path):
    """`pulumi stack output` killed (out of memory) or exiting non-zero in silence: the message was
    "`pulumi stack output` failed: " and nothing more."""
    pulumi_script(monkeypatch, tmp_path, body)
    with pytest.raises(endpoint.EndpointError) as failed:
        endpoint.resolve(None, "modelApiUrl", None)
    assert str(failed.value) == f"`pulumi stack output` failed ({why})"


@pytest.mark.parametrize("value,shown", [("5", "5"), ("true", "true"), ('["http://x"]', '["http://x"]'),
                                         ('{"a": 1}', '{"a": 1}')])
def test_a_stack_output_that_is_not_text_is_named_not_requested(value, shown, monkeypatch, tmp_path, capsys):
    """A number or true became `http://5` or `http://True` and was requested (a 404 or a DNS failure at an address
    nobody gave); a list or an object was quoted as Python's repr. The output is named, with what it holds."""
    from endpoint_tools import smoke
    fake_pulumi(monkeypatch, tmp_path, f'{{"modelApiUrl": {value}}}')
    assert smoke.main(["--stack-output", "modelApiUrl"]) == 1
    out = capsys.readouterr().out
    assert f"stack output 'modelApiUrl' is {shown}: expected text (the endpoint's URL)" in out, out


def test_a_secret_stack_output_is_named_as_a_secret_not_an_invalid_url(monkeypatch, tmp_path, capsys):
    """An output Pulumi marks secret (derived from a secret config value) prints as "[secret]" without
    --show-secrets: it read "'http://[secret]' is not a valid URL (Invalid IPv6 URL)"."""
    from endpoint_tools import smoke
    fake_pulumi(monkeypatch, tmp_path, '{"modelApiUrl": "[secret]"}')
    assert smoke.main(["--stack-output", "modelApiUrl"]) == 1
    out = capsys.readouterr().out
    assert "stack output 'modelApiUrl' is a secret" in out and "--show-secrets" in out and "IPv6" not in out, out
