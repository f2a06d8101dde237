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


def _rate_limit_key(conf: str, fdid: str, forwarded_for: str) -> str:
    """What nginx keys the per-client limit on for a request, read from the conf's own map (nginx's PCRE and
    Python's re agree on this expression): the map's capture, else its default."""
    import re
    zone = re.search(r"limit_req_zone (\S+) zone=per_client", conf)
    assert zone, conf
    if zone[1] != "$rate_limit_client":
        return zone[1]
    block = re.search(r'map "\$http_x_azure_fdid\|\$http_x_forwarded_for" \$rate_limit_client \{\n(.*?)\n    \}',
                      conf, re.S)
    assert block, conf
    default = re.search(r"default (\S+);", block[1])
    pattern = re.search(r'"~(.+)" \$1;', block[1])
    assert default and pattern, block[1]
    found = re.search(pattern[1], f"{fdid}|{forwarded_for}")
    return found[1] if found else default[1]


def test_behind_front_door_the_rate_limit_keys_on_the_client_front_door_saw():
    """Behind Azure Front Door every request reaches the gateway from a Front Door server: keyed on the peer, all
    clients of one edge server would share one limit. The key is the entry Front Door appended to X-Forwarded-For
    (before the one the gateway appends), which a client's own X-Forwarded-For cannot move."""
    conf = router_nginx_conf("ollama:11434", 5, 10, True, ["10.244.0.0/16"], 300, front_door=True)
    fdid = "55ce4ed1-4b06-4bf1-b40e-4638452104da"
    assert _rate_limit_key(conf, fdid, "198.51.100.7, 147.243.1.2") == "198.51.100.7"
    # a client that sends its own X-Forwarded-For only adds entries to the left of Front Door's
    assert _rate_limit_key(conf, fdid, "1.1.1.1, 2.2.2.2,198.51.100.7 , 147.243.1.2") == "198.51.100.7"
    assert _rate_limit_key(conf, fdid, "2001:db8::7, 2a01:111:2050::1") == "2001:db8::7"
    # not through Front Door (the internal Gateway, in-cluster callers): the caller's own address
    assert _rate_limit_key(conf, "", "1.1.1.1, 10.1.0.9") == "$remote_addr"
    assert _rate_limit_key(conf, fdid, "10.1.0.9") == "$remote_addr"
    plain = router_nginx_conf("ollama:11434", 5, 10, True, ["10.244.0.0/16"], 300)
    assert _rate_limit_key(plain, fdid, "198.51.100.7, 147.243.1.2") == "$binary_remote_addr"
    assert "$rate_limit_client" not in plain and "set_real_ip_from 10.244.0.0/16;" in conf
