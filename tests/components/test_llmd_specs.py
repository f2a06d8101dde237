"""The llm-d specs (components/llmplatform/llmd_specs.py) as pure decisions."""

from llmplatform.llmd_specs import fits, image_is_pinned, served_name


def test_pure_decisions():
    assert served_name("Qwen/Qwen3-8B") == "qwen3-8b"
    assert fits(16.4, 80, 1) and not fits(141, 80, 1) and fits(141, 80, 4)
    assert image_is_pinned("docker.io/vllm/vllm-openai:v0.19.1") and image_is_pinned("ghcr.io/x/y:1.2")
    assert image_is_pinned("registry:5000/x/y:v1.2.3")
    assert not image_is_pinned("vllm/vllm-openai:latest") and not image_is_pinned("vllm/vllm-openai")
    assert not image_is_pinned("ghcr.io/llm-d/llm-d-router-endpoint-picker:main")
    assert image_is_pinned("vllm/vllm-openai@sha256:" + "a" * 64)
