"""Reusable Pulumi ComponentResources of the LLM inference platform.

Each component takes plain typed inputs (a TypedDict read by key) and the outputs of the components before it; none
reads stack config, so another project can import and compose them with its own config.
"""
PACKAGE = "llmplatform"
