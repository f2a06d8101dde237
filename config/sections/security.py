"""The `security` section: the AKS security baseline's switches and the diagnostics they report."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults

from ..reader import Reader

if TYPE_CHECKING:
    from .observability import ObservabilityConfig


@dataclass(frozen=True)
class SecurityConfig:
    """The AKS security baseline's switches (on in prod, off in dev to save cost)."""
    azure_policy: bool = D["AksCluster"]["azure_policy"]
    defender: bool = D["AksCluster"]["defender"]
    encryption_at_host: bool = D["AksCluster"]["encryption_at_host"]
    ephemeral_os_disk: bool = D["AksCluster"]["ephemeral_os_disk"]  # where the VM size's local disk holds it
    diagnostics: bool = False  # Key Vault, PostgreSQL and the model share's logs to Log Analytics


def parse_security(r: Reader) -> SecurityConfig:
    d = SecurityConfig()
    cfg = SecurityConfig(azure_policy=r.bool_("azurePolicy", d.azure_policy), defender=r.bool_("defender", d.defender),
                         encryption_at_host=r.bool_("encryptionAtHost", d.encryption_at_host),
                         ephemeral_os_disk=r.bool_("ephemeralOsDisk", d.ephemeral_os_disk),
                         diagnostics=r.bool_("diagnostics", d.diagnostics))
    r.reject_unknown_keys()
    return cfg


def security_cross_checks(r: Reader, cfg: SecurityConfig, obs: ObservabilityConfig) -> None:
    for key, on in (("defender", cfg.defender), ("diagnostics", cfg.diagnostics)):
        if on and not (obs.enabled and obs.azure_monitor):
            r.problem(f"security.{key} needs observability.enabled and observability.azureMonitor true (it reports "
                      f"to the Log Analytics workspace)")
