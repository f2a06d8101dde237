"""The inference specs (components/llmplatform/inference_specs.py) as pure functions."""
from __future__ import annotations

import re

from llmplatform.inference_specs import api_key_map_line, key_vault_objects, router_nginx_conf
from llmplatform.key_vault import secret_expiry


def test_pure_helpers():
    assert api_key_map_line("abc") == '"Bearer abc" 1;\n'
    assert "objectName: db-url" in key_vault_objects(["db-url"])
    conf = router_nginx_conf("ollama:11434", 5, 0, False, [], 300)
    assert "return 401" not in conf and "rate=300r/m" in conf  # 5 r/s on one pod
    from datetime import date
    assert secret_expiry(date(2026, 11, 25)) == secret_expiry(date(2026, 1, 1)) > secret_expiry(date(2025, 6, 1))


def _nginx_token(quoted: str) -> str:
    r"""A double-quoted nginx.conf token as nginx reads it (src/core/ngx_conf_file.c, ngx_conf_read_token): a
    backslash before \", \' or \\ yields that character, \t \r \n control characters; any other stays as written
    (so the regex's \| and \s reach PCRE unchanged)."""
    out, i = [], 0
    while i < len(quoted):
        if quoted[i] == "\\" and i + 1 < len(quoted) and quoted[i + 1] in "\"'\\tnr":
            out.append({"t": "\t", "n": "\n", "r": "\r"}.get(quoted[i + 1], quoted[i + 1]))
            i += 2
        else:
            out.append(quoted[i])
            i += 1
    return "".join(out)


def _rate_limit_key(conf: str, fdid: str, forwarded_for: str) -> str:
    """What nginx keys the per-client limit on for a request, read from the conf's own map as nginx evaluates it
    (src/http/modules/ngx_http_map_module.c, ngx_http_map_find in ngx_http_variables.c): the source is a complex
    value (the two headers' values around a literal |), the regexes are tried in order and a match's value is a
    complex value evaluated with that match's captures ($1), else the default. nginx's PCRE and Python's re agree
    on this expression (no construct either reads differently). Checked against nginx 1.22.1 itself, 2026-12-02
    (docs/decisions.md)."""
    import re
    zone = re.search(r"limit_req_zone (\S+) zone=per_client", conf)
    assert zone, conf
    if zone[1] != "$rate_limit_client":
        return zone[1]
    block = re.search(r'map "(.*?)" \$rate_limit_client \{\n(.*?)\n    \}', conf, re.S)
    assert block, conf
    source = _nginx_token(block[1]).replace("$http_x_azure_fdid", fdid).replace("$http_x_forwarded_for",
                                                                                  forwarded_for)
    if "$rate_limit_private_peer" in source:  # the geo on $remote_addr: realip's, the last entry (not recursive)
        source = source.replace("$rate_limit_private_peer", _geo_value(conf, forwarded_for.rsplit(",", 1)[-1]))
    assert "$" not in source, source  # every variable of the source is one of the two headers or the geo
    default = re.search(r"default (\S+);", block[2])
    patterns = re.findall(r'"~((?:[^"\\]|\\.)+)" (\S+);', block[2])
    assert default and patterns, block[2]
    for pattern, value in patterns:
        found = re.search(_nginx_token(pattern), source)
        if found:
            return re.sub(r"\$(\d)", lambda m: found[int(m[1])], value)
    return default[1]


def _geo_value(conf: str, address: str) -> str:
    """The conf's `geo $rate_limit_private_peer` for `address`: the longest matching prefix's value, else the
    default (nginx.org ngx_http_geo_module)."""
    import ipaddress
    import re
    block = re.search(r"geo \$rate_limit_private_peer \{\n(.*?)\n    \}", conf, re.S)
    assert block, conf
    entries = dict(re.findall(r"^\s*(\S+) (\S+);$", block[1], re.M))
    ip = ipaddress.ip_address(address.strip())
    matching = [ipaddress.ip_network(cidr) for cidr in entries if cidr != "default"
                and ipaddress.ip_network(cidr).version == ip.version and ip in ipaddress.ip_network(cidr)]
    return entries[str(max(matching, key=lambda n: n.prefixlen))] if matching else entries["default"]


def _forwarded_for(client_lines: list[str], client_socket: str, front_door_server: str) -> str:
    """X-Forwarded-For as nginx reads it behind Front Door and Istio's gateway: Front Door appends the client's socket
    address to what the client sent, or adds it (MicrosoftDocs front-door-http-headers-protocol.md; several client
    lines taken as one list, RFC 9110 5.3); Envoy joins repeated X-Forwarded-For lines into one with "," and appends
    its peer, the Front Door server, with "," (HeaderMapImpl::insertByKey, Utility::appendXff: address without
    port; Istio's gateway sets use_remote_address, pilot/pkg/networking/core/gateway.go at 1.30.3)."""
    sent = ", ".join(client_lines)
    at_front_door = f"{sent}, {client_socket}" if sent else client_socket
    return f"{at_front_door},{front_door_server}"


def test_behind_front_door_the_rate_limit_keys_on_the_client_front_door_saw():
    """Behind Azure Front Door every request reaches the gateway from a Front Door server: keyed on the peer, all
    clients of one edge server would share one limit. The key is the entry Front Door appended to X-Forwarded-For
    (before the one the gateway appends), which a client's own X-Forwarded-For cannot move."""
    conf = router_nginx_conf("ollama:11434", 5, 10, True, ["10.244.0.0/16"], 300, front_door=True)
    fdid = "55ce4ed1-4b06-4bf1-b40e-4638452104da"
    edge = "147.243.1.2"
    for sent in ([], ["1.1.1.1"], ["1.1.1.1, 2.2.2.2", " 3.3.3.3 "], ["198.51.100.99,"], ["2001:db8::66"]):
        assert _rate_limit_key(conf, fdid, _forwarded_for(sent, "198.51.100.7", edge)) == "198.51.100.7", sent
    assert _rate_limit_key(conf, fdid, _forwarded_for([], "2001:db8::7", "2a01:111:2050::1")) == "2001:db8::7"
    # not through Front Door (the internal Gateway, in-cluster callers): the caller's own address (realip's)
    assert _rate_limit_key(conf, "", "1.1.1.1,10.1.0.9") == "$remote_addr"
    assert _rate_limit_key(conf, fdid, "10.1.0.9") == "$remote_addr"  # a probe: Envoy's entry alone
    # an X-Azure-FDID of the caller's own on the internal Gateway: its peer is private, the caller's own address
    for peer in ("10.1.0.9", "172.20.0.4", "192.168.7.7", "100.64.0.2", "fd12::9"):
        assert _rate_limit_key(conf, fdid, f"198.51.100.1, {peer}") == "$remote_addr", peer
    plain = router_nginx_conf("ollama:11434", 5, 10, True, ["10.244.0.0/16"], 300)
    assert _rate_limit_key(plain, fdid, _forwarded_for([], "198.51.100.7", edge)) == "$binary_remote_addr"
    assert "$rate_limit_client" not in plain and "set_real_ip_from 10.244.0.0/16;" in conf


def test_the_front_door_flag_takes_the_stacks_own_ranges_once_and_only_outside_private_space():
    """The stack's own ranges join the private flag (the nginx test runs it): a VNet in private space changes nothing
    (no new ConfigMap, no roll of the gates), one in public space is listed once, its node subnet inside it not again,
    and a value no rule read is written as given (nginx refuses it, as it did)."""
    def geo(conf: str) -> list[str]:
        block = conf.split("geo $rate_limit_private_peer {", 1)[1].split("}", 1)[0]
        return re.findall(r"^\s*(\S+) 1;$", block, re.M)

    def conf(*own: str) -> str:
        return router_nginx_conf("o:1", 5, 10, True, ["192.168.0.0/16"], 300, front_door=True, own_cidrs=list(own))
    assert conf("10.41.0.0/20", "10.41.0.0/16") == conf()
    public = geo(conf("40.90.0.0/20", "40.90.0.0/16"))
    assert public == [*geo(conf()), "40.90.0.0/16"]
    assert geo(conf("nope"))[-1] == "nope"


def test_the_nginx_reading_of_the_map_follows_nginx_not_python():
    r"""The test's reading of nginx.conf unescapes as nginx does: a regex written with \\s in the file reaches PCRE as
    \s (whitespace), which a plain Python reading of the file would take for a backslash."""
    assert _nginx_token(r"a\\s\|\"b\n") == "a\\s\\|\"b\n"
    doubled = router_nginx_conf("o:1", 5, 10, False, [], 300, front_door=True).replace(r"\s", r"\\s")
    assert _rate_limit_key(doubled, "x", "1.1.1.1, 198.51.100.7,147.243.1.2") == "198.51.100.7"
