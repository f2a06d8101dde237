"""The `gateway` section: the internal and external Istio gateways, the API gate's limits, and TLS."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from llmplatform.choices import TLS_MODES
from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults
from llmplatform.networks import cidr_or_none, internal_ip_problem, usable_subnet_address
from llmplatform.rules import acme_email_problem, public_dns_name_problem

from ..reader import Reader, describe

if TYPE_CHECKING:
    from .network import NetworkConfig


@dataclass(frozen=True)
class TlsConfig:
    mode: str = "none"  # none | letsencrypt
    hostname: Optional[str] = None
    email: Optional[str] = None


@dataclass(frozen=True)
class GatewayConfig:
    mode: str = "both"  # both | internal | external | none
    internal_ip: str = "10.40.15.250"
    replicas: int = 1
    rate_limit_per_second: int = D["InferenceStack"]["rate_limit_per_second"]
    rate_limit_burst: int = D["InferenceStack"]["rate_limit_burst"]
    api_key_auth: bool = D["InferenceStack"]["api_key_auth"]
    request_timeout_seconds: int = D["InferenceStack"]["request_timeout_seconds"]
    tls: TlsConfig = TlsConfig()
    # namespaces whose pods may call the API gates in-cluster (InferenceStack's api_client_namespaces, LlmdStack's
    # client_namespaces)
    client_namespaces: tuple[str, ...] = ()

    @property
    def internal(self) -> bool:
        return self.mode in ("both", "internal")

    @property
    def external(self) -> bool:
        return self.mode in ("both", "external")


GATEWAY_MODES = ("both", "internal", "external", "none")


def parse_gateway(r: Reader, network: NetworkConfig) -> GatewayConfig:
    d = GatewayConfig()
    tls_reader = r.section("tls")
    tls = TlsConfig(mode=tls_reader.choice("mode", "none", TLS_MODES), hostname=tls_reader.str_("hostname", None),
                    email=tls_reader.str_("email", None))
    tls_reader.reject_unknown_keys()
    if tls.mode != "letsencrypt" and (tls.hostname or tls.email):
        r.problem("gateway.tls.hostname and gateway.tls.email are only used with gateway.tls.mode 'letsencrypt' "
                  f"(mode is {tls.mode!r})")
    if tls.mode == "letsencrypt":
        for key, value, rule, wanted in (
                ("hostname", tls.hostname, public_dns_name_problem, "a DNS name (needed for Let's Encrypt)"),
                ("email", tls.email, acme_email_problem, "an e-mail address (ACME account)")):
            if not value:
                r.problem(f"gateway.tls.{key} '' must be {wanted}")
            elif wrong := rule(value):
                r.problem(f"gateway.tls.{key} {describe(value)} is invalid; allowed: {wrong}")
    given_ip = r.str_("internalIp", d.internal_ip)
    cfg = GatewayConfig(
        mode=r.choice("mode", d.mode, GATEWAY_MODES),
        # the raw value, not r.has: the reference then keeps the default it documents (a has() marks a key unset)
        internal_ip=given_ip if r.raw.get("internalIp") not in (None, "") and given_ip
        else default_internal_ip(network.node_subnet_cidr, d.internal_ip),
        replicas=r.int_("replicas", d.replicas),
        rate_limit_per_second=r.int_("rateLimitPerSecond", d.rate_limit_per_second),
        rate_limit_burst=r.int_("rateLimitBurst", d.rate_limit_burst),
        api_key_auth=r.bool_("apiKeyAuth", d.api_key_auth),
        request_timeout_seconds=r.int_("requestTimeoutSeconds", d.request_timeout_seconds, 300, 3600),
        tls=tls,
        client_namespaces=r.str_list("clientNamespaces", d.client_namespaces),
    )
    r.reject_unknown_keys()
    if tls.mode == "letsencrypt" and not cfg.external:
        r.problem(f"gateway.tls.mode 'letsencrypt' needs the external gateway (HTTP-01 challenge); gateway.mode is "
                  f"{cfg.mode!r}")
    # the component's own rule (llmplatform.networks), against the stack's node subnet; a value the stack sets is
    # checked without an internal gateway too (it was accepted unread, a typo waiting for the day gateway.mode has one)
    if cfg.internal or r.has("internalIp"):
        wrong = internal_ip_problem(cfg.internal_ip, cidr_or_none(network.node_subnet_cidr))
        if wrong:
            r.problem(f"gateway.internalIp {describe(cfg.internal_ip)} is invalid; allowed: {wrong} "
                      "(network.nodeSubnetCidr)")
    return cfg


def default_internal_ip(node_subnet: str, default: str) -> str:
    """The internal gateway's address when the stack names none: the default where the node subnet can hold it (so
    no deployed stack's load balancer moves), else the same place in the stack's own subnet, five below its broadcast
    address (a stack with another nodeSubnetCidr was refused for a gateway.internalIp it never set)."""
    subnet = cidr_or_none(node_subnet)
    if subnet is None or usable_subnet_address(default, subnet):
        return default
    derived = str(ipaddress.ip_network(subnet, strict=False).broadcast_address - 5)
    return derived if usable_subnet_address(derived, subnet) else default


def gateway_prod_checks(r: Reader, environment: str, gateway: GatewayConfig, behind_front_door: bool) -> None:
    """A prod gateway on a public address serves HTTPS: bearer API keys and Open-WebUI's sign-ins and session cookies
    must not cross the internet as plain HTTP. Behind Front Door too: Front Door reaches a prod region over HTTPS
    only, checking the certificate against gateway.tls.hostname (config.regions, the global stack's rule), so the
    prompts, answers and keys it forwards are encrypted on their way from the edge to the region. A public prod
    model API also keeps its bearer keys (behind Front Door too: the edge publishes /v1/*)."""
    if environment == "prod" and gateway.external and gateway.tls.mode == "none":
        r.problem(f"gateway.tls.mode 'none' with an external gateway (gateway.mode {gateway.mode!r}) when "
                  "environment is 'prod': " + (
                      "Front Door (edge.globalStack) reaches a prod region over HTTPS only, at the hostname its "
                      "certificate is for, so prompts, answers and API keys are encrypted between the edge and the "
                      "region; set gateway.tls.mode 'letsencrypt' with gateway.tls.hostname (its DNS A record: this "
                      "stack's gatewayExternalAddress) and gateway.tls.email" if behind_front_door else
                      "API keys and Open-WebUI sign-ins would cross the internet as plain HTTP; set gateway.tls.mode "
                      "'letsencrypt' with gateway.tls.hostname and gateway.tls.email, put the region behind Front "
                      "Door (edge.globalStack, with TLS too), or keep the gateway private (gateway.mode "
                      "'internal')"))
    if environment == "prod" and gateway.external and not gateway.api_key_auth:
        r.problem("gateway.apiKeyAuth is false while the model API is public and environment is 'prod': anyone who "
                  "reaches the gateway (or the Front Door endpoint) could use the GPUs with no credential; keep "
                  "gateway.apiKeyAuth true, or keep the gateway private (gateway.mode 'internal')")
