"""The `webui` section: Open-WebUI (its resources are inference's kind, `ResourcesConfig`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from llmplatform.defaults import DEFAULTS as D  # the components' defaults are the stack's defaults

from ..reader import Reader, as_text, describe
from .resources import ResourcesConfig, parse_resources

if TYPE_CHECKING:
    from .llmd import LlmdConfig


@dataclass(frozen=True)
class WebUiConfig:
    enabled: bool = True
    replicas: int = D["InferenceStack"]["webui_replicas"]
    max_replicas: int = D["InferenceStack"]["webui_max_replicas"]
    resources: ResourcesConfig = ResourcesConfig(**D["InferenceStack"]["webui_resources"])
    uploads_size_gib: int = D["InferenceStack"]["webui_uploads_size_gib"]
    uploads_tier: str = D["InferenceStack"]["webui_uploads_tier"]  # premium | standard
    backend: str = "ollama"  # ollama | llmd: the model the UI fronts
    model_access: str = D["InferenceStack"]["webui_model_access"]  # all | granted
    enable_signup: bool = D["InferenceStack"]["webui_enable_signup"]
    default_user_role: str = D["InferenceStack"]["webui_default_user_role"]  # pending | user
    admin_email: Optional[str] = None  # the first admin, with a generated password in Key Vault
    extra_env: dict = field(default_factory=dict)  # more Open-WebUI settings, plain values
    secret_env: dict = field(default_factory=dict)  # Open-WebUI settings from Key Vault: variable -> secret name
    client_namespaces: tuple[str, ...] = ()  # namespaces whose pods may open the UI in-cluster


WEBUI_BACKENDS = ("ollama", "llmd")  # the model Open-WebUI fronts: Ollama's, or llm-d's through its API gate


def parse_webui(r: Reader) -> WebUiConfig:
    """Read as written; InferenceStack's rules check it (inference_stack_checks)."""
    d = WebUiConfig()
    cfg = WebUiConfig(
        enabled=r.bool_("enabled", d.enabled),
        replicas=r.int_("replicas", d.replicas),
        max_replicas=r.int_("maxReplicas", d.max_replicas),
        resources=parse_resources(r.section("resources"), d.resources),
        uploads_size_gib=r.int_("uploadsSizeGib", d.uploads_size_gib),
        uploads_tier=r.str_("uploadsTier", d.uploads_tier) or d.uploads_tier,
        backend=r.choice("backend", d.backend, WEBUI_BACKENDS),
        model_access=r.str_("modelAccess", d.model_access) or d.model_access,
        enable_signup=r.bool_("enableSignup", d.enable_signup),
        default_user_role=r.str_("defaultUserRole", d.default_user_role) or d.default_user_role,
        admin_email=r.str_("adminEmail", d.admin_email),
        extra_env=_variables(r, "extraEnv"),
        secret_env=_variables(r, "secretEnv"),
        client_namespaces=r.str_list("clientNamespaces", d.client_namespaces),
    )
    r.reject_unknown_keys()
    return cfg


def _variables(r: Reader, name: str) -> dict[str, Any]:
    """A map of environment variables, read whole (its keys are variable names, not settings): a YAML number or
    boolean is taken as the text Open-WebUI reads (`true`, `8192`); OpenWebUi's rules check names and values."""
    raw = r.raw.get(name)
    r.section(name, withhold=True)  # an object, or a problem naming the key (a string may be a secret itself)
    if not isinstance(raw, dict):
        return {}
    return {str(k): (str(v).lower() if isinstance(v, bool) else as_text(v)) for k, v in raw.items()}


LLMD_WEBUI_SUFFIX = "-webui"  # under prefill/decode the llm-d UI runs in <llmd.namespace>-webui (config/inputs.py)


def llmd_webui_namespace_name(llmd_cfg: LlmdConfig) -> str:
    """The namespace of the llm-d stack's Open-WebUI under prefill/decode (config/inputs.py llmd_webui_namespace)."""
    return llmd_cfg.namespace + LLMD_WEBUI_SUFFIX


def webui_backend_checks(r: Reader, cfg: WebUiConfig, llmd_cfg: LlmdConfig, namespace: str = "") -> None:
    """Open-WebUI on llm-d needs the llm-d stack (one UI per stack: it takes the Gateways' UI listener). Under
    prefill/decode it runs in `<llmd.namespace>-webui`: a namespace name, and not the Ollama stack's `namespace`."""
    if cfg.enabled and cfg.backend == "llmd" and not llmd_cfg.enabled:
        r.problem("webui.backend 'llmd' needs llmd.enabled true (the UI fronts the llm-d model through its API gate)")
    if not (cfg.enabled and cfg.backend == "llmd" and llmd_cfg.enabled and llmd_cfg.prefill_decode):
        return
    own = llmd_webui_namespace_name(llmd_cfg)
    if len(own) > 63:
        r.problem(f"llmd.namespace {describe(llmd_cfg.namespace)} is longer than {63 - len(LLMD_WEBUI_SUFFIX)} "
                  f"characters: with llmd.prefillDecode, Open-WebUI (webui.backend 'llmd') runs in "
                  f"'<llmd.namespace>{LLMD_WEBUI_SUFFIX}', a namespace name of at most 63")
    elif own == namespace:
        r.problem(f"namespace {describe(namespace)} is also the namespace the llm-d stack's Open-WebUI runs in with "
                  f"llmd.prefillDecode ('<llmd.namespace>{LLMD_WEBUI_SUFFIX}'); give one of them another name")


def webui_prod_checks(r: Reader, environment: str, cfg: WebUiConfig, public: bool) -> None:
    """Nobody but the operator gets into a public prod Open-WebUI. Open-WebUI 0.11.0 admits its first account and
    makes it admin whatever ENABLE_SIGNUP says (routers/auths.py), and a prod UI's public certificate is in the
    Certificate Transparency logs minutes after the deploy, so 'sign up yourself at once' is a race against scanners:
    prod needs webui.adminEmail (the admin created at start, config/advisories.py keeps the advisory for dev).
    WEBUI_AUTH off or a trusted e-mail header (which the public gateway passes through from the client) would sign
    anyone in as admin / as anyone."""
    if environment != "prod" or not (cfg.enabled and public):
        return
    if not cfg.admin_email:
        r.problem("webui.adminEmail is unset while the UI is public and environment is 'prod': Open-WebUI makes its "
                  "first account admin, so whoever signs up first would own the UI; set webui.adminEmail (an admin "
                  "created at start with a generated password in Key Vault, docs/operations.md), or keep the UI "
                  "private (gateway.mode 'internal')")
    if str(cfg.extra_env.get("WEBUI_AUTH", "true")).lower() != "true":  # env.py: true only when lower-cased 'true'
        r.problem("webui.extraEnv.WEBUI_AUTH turns Open-WebUI's sign-in off while the UI is public and environment "
                  "is 'prod': anyone who reaches it would be signed in as its admin")
    if cfg.extra_env.get("WEBUI_AUTH_TRUSTED_EMAIL_HEADER"):
        r.problem("webui.extraEnv.WEBUI_AUTH_TRUSTED_EMAIL_HEADER signs in whoever that header names, and the public "
                  "gateway passes a client's own headers through: not allowed while the UI is public and "
                  "environment is 'prod'")
