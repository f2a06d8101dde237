"""Ollama models the preload job knows, with their download size (GiB, default quantisation).

The size lets config validation refuse a share too small for the models asked for, before anything is created.
"""
from __future__ import annotations

OLLAMA_MODELS: dict[str, float] = {
    "tinyllama": 0.64,
    "llama3.2:1b": 1.3,
    "llama3.2:3b": 2.0,
    "llama3.1:8b": 4.9,
    "phi3.5": 2.2,
    "mistral:7b": 4.1,
    "gemma2:2b": 1.6,
    "qwen2.5:7b": 4.7,
    "deepseek-r1:8b": 5.2,
    "gpt-oss:20b": 14.0,
    "qwen2.5:32b": 20.0,
    "llama3.1:70b": 43.0,
    "nomic-embed-text": 0.27,
}


def model_size_gib(name: str) -> float:
    return OLLAMA_MODELS[name]


def total_size_gib(names: tuple[str, ...] | list[str]) -> float:
    return sum(OLLAMA_MODELS[n] for n in names)
