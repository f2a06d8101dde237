"""Operators' tools for a deployed LLM endpoint: smoke test, benchmark and the post-deploy check
(`pip install ./endpoint-tools`, then `llm-smoke`, `llm-bench`, `llm-verify`). No Pulumi SDK needed."""
