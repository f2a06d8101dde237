"""Ollama model names (components/llmplatform/ollama_names.py) against the pinned Ollama's own cases: v0.32.15
(b7871fc0) types/model/name_test.go `testCases` (ParseNameBare(s).IsValid()), TestNameparseNameDefault and the
ParseName table, and internal/modelref/modelref.go's source suffixes."""
from __future__ import annotations

import pytest

from llmplatform import ollama_names as names

P80, P350 = "8" * 80, "3" * 350

# name_test.go testCases: name -> valid (every part present and valid, no defaults)
NAME_TEST_CASES = {
    "": False, "_why/_the/_lucky:_stiff": True, "h/n/m:t": True, "host/namespace/model:tag": True,
    "host/namespace/model": False, "namespace/model": False, "model": False,
    f"{P80}/{P80}/{P80}:{P80}": True, f"{P350}/{P80}/{P80}:{P80}": True, "h/nn/mm:t": True,
    "m": False, "n/m:": False, "h/n/m": False, "@t": False, "m@d": False,
    "^": False, "mm:": False, "/nn/mm": False, "//": False, "//mm": False, "hh//": False, "//mm:@": False,
    "00@": False, "@": False,
    "-hh/nn/mm:tt": False, "hh/-nn/mm:tt": False, "hh/nn/-mm:tt": False, "hh/nn/mm:-tt": False,
    "host:https/namespace/model:tag": True, "host/name:space/model:tag": False,
}


def bare_valid(s: str) -> bool:
    return all(names._part_problem(kind, part) is None for kind, part in zip(names.Name._fields, names.parse_bare(s)))


@pytest.mark.parametrize("name, valid", NAME_TEST_CASES.items())
def test_bare_names_are_valid_exactly_when_ollama_says(name, valid):
    assert bare_valid(name) is valid


def test_parse_fills_the_defaults_and_splits_as_ollama_does():
    # TestNameparseNameDefault: "xx" -> registry.ollama.ai/library/xx:latest; TestParseNameParts
    assert names.parse("xx") == ("registry.ollama.ai", "library", "xx", "latest")
    assert names.parse("scheme://host:port/namespace/model:tag") == ("host:port", "namespace", "model", "tag")
    assert names.parse("host:port/namespace/model") == ("host:port", "namespace", "model", "latest")
    assert names.parse("namespace/model") == ("registry.ollama.ai", "namespace", "model", "latest")
    assert names.parse("registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_K") == \
        ("registry.ollama.ai", "library", "dolphin-mistral", "7b-v2.6-dpo-laser-q6_K")
    assert names.parse("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M") == \
        ("hf.co", "bartowski", "Llama-3.2-1B-Instruct-GGUF", "Q4_K_M")


@pytest.mark.parametrize("name", ["tinyllama", "gpt-oss", "deepseek-r1:8b", "qwen2.5:7b", "library/gpt-oss:20b",
                                  "registry.ollama.ai/library/gpt-oss:20b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF",
                                  "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "myreg:5000/team/model:v1",
                                  "_why/_the/_lucky:_stiff"])
def test_names_ollama_pulls_are_accepted(name):
    assert names.name_problem(name) is None


@pytest.mark.parametrize("name, why", [
    ("", "an Ollama model name"), ("Bad Name", "its model 'Bad Name'"), (" tinyllama", "leading or trailing"),
    ("a/b/c/d", "its host 'a/b'"), ("ns.x/model", "its namespace 'ns.x'"), ("model:", "its tag is empty"),
    ("/model", "its namespace is empty"), ("model@sha256-1", "its model 'model@sha256-1'"),
    ("m" * 81, "its model must be 1-80"), ("https://hf.co/a/b:Q4", "without a scheme"),
    ("gpt-oss:20b-cloud", "source suffix '-cloud'"), ("gpt-oss:cloud", "source suffix ':cloud'"),
    ("qwen2.5:7b:local", "source suffix ':local'"), ("tiny;llama", "its model"), ("tiny*", "its model"),
])
def test_names_ollama_refuses_are_refused_with_the_reason(name, why):
    assert why in (names.name_problem(name) or "")


def test_the_listed_name_is_ollama_lists_display_shortest():
    assert names.display_shortest("gpt-oss") == "gpt-oss:latest"
    assert names.display_shortest("registry.ollama.ai/library/gpt-oss:20b") == "gpt-oss:20b"
    assert names.display_shortest("team/model") == "team/model:latest"
    assert names.display_shortest("hf.co/a/b:Q4_K_M") == "hf.co/a/b:Q4_K_M"
    assert names.has_tag("hf.co/a/b:Q4") and not names.has_tag("myreg:5000/team/model")
    assert names.is_library("gpt-oss") and not names.is_library("hf.co/a/b")
