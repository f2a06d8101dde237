"""GatewayAccess's value rules."""
from typing import Any, Mapping

from .. import azure_names as names
from ..choices import TLS_MODES
from ..networks import cidr_or_none, internal_ip_problem
from ..rules import GUID, Problem, Rules, acme_email_problem, known, pattern, public_dns_name_problem
from .shared import handle_range_rule


def gateway_access(args: Mapping[str, Any]) -> list[Problem]:
    r = Rules(args, "GatewayAccess")
    r.text("name_prefix", names.name_prefix)
    mode = r.choice("tls_mode", TLS_MODES)
    r.whole("replicas", 1, 10)
    if r.get("internal") is not False:  # the internal Gateway's address (unused without it)
        if r.get("internal_ip"):
            handle_range_rule(r, "node_subnet_cidr")
        subnet = cidr_or_none(known(r.args.get("cluster"), "node_subnet_cidr"))  # AksCluster's handle carries it
        r.text("internal_ip", lambda address: internal_ip_problem(address, subnet))
    if r.get("internal") is False and r.get("external") is False:
        r.add("internal", False, f"true unless {r.ref('external')} is (one Gateway at least)")
    if mode == "letsencrypt":
        if r.get("external") is False:
            r.add("tls_mode", mode, f"letsencrypt only with {r.ref('external')} true (the ACME HTTP-01 challenge "
                                    f"comes from the internet)")
        for key, rule in (("tls_hostname", public_dns_name_problem), ("tls_email", acme_email_problem)):
            if not r.args.get(key):
                r.add(key, r.args.get(key), f"a value when {r.ref('tls_mode')} is letsencrypt")
            else:
                r.text(key, rule)
    elif mode is not None:
        for key in ("tls_hostname", "tls_email"):
            if r.given(key):
                r.add(key, r.given(key), f"none unless {r.ref('tls_mode')} is letsencrypt (it is {mode!r})")
    fd_id, probes = r.args.get("front_door_id"), r.args.get("front_door_probe_paths")
    if fd_id is not None:  # only Front Door (one profile) reaches the external Gateway
        if r.get("external") is False:
            r.add("front_door_id", fd_id, f"only with the external Gateway ({r.ref('external')} true: Front Door's "
                                          f"origin)")
        elif fd_id != "":
            r.text("front_door_id", lambda v: GUID(v) and "the Front Door profile's ID (a GUID), or \"\" until known")
    if probes is not None:
        if fd_id is None:
            r.add("front_door_probe_paths", probes, f"only with {r.ref('front_door_id')}")
        r.texts("front_door_probe_paths", pattern(r"/[A-Za-z0-9._~/-]*", "exact paths starting with /"))
    # Azure service tag names (AzureFrontDoor.Backend, Storage.WestEurope): cloud-provider-azure writes them into
    # the load balancer's NSG rules, which Azure refuses for a name that is no tag
    if isinstance(r.given("allowed_service_tags"), (list, tuple)):  # another type: the shape check says so
        r.texts("allowed_service_tags", pattern(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)*",
                                                "Azure service tag names, e.g. AzureFrontDoor.Backend"))
    return r.problems
