"""The inference specs (components/llmplatform/inference_specs.py) as pure functions."""
from __future__ import annotations

from llmplatform.inference_specs import api_key_map_line, key_vault_objects, router_nginx_conf
from llmplatform.key_vault import secret_expiry


def test_pure_helpers():
    assert api_key_map_line("abc") == '"Bearer abc" 1;\n'
    assert "objectName: db-url" in key_vault_objects(["db-url"])
    conf = router_nginx_conf("ollama:11434", 5, 0, False, [], 300)
    assert "return 401" not in conf and "rate=300r/m" in conf  # 5 r/s on one pod
    from datetime import date
    assert secret_expiry(date(2026, 11, 25)) == secret_expiry(date(2026, 1, 1)) > secret_expiry(date(2025, 6, 1))
