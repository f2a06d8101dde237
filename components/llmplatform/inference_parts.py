"""What InferenceStack hands each of its parts, by its own input name -> the part's. Plain data (no Pulumi import):
its defaults, its input rules and its construction read this one table."""


def _same(*keys: str) -> dict[str, str]:
    return {k: k for k in keys}


OLLAMA_INPUTS = _same("model_volume", "gpu", "keda", "accelerator", "replicas", "resources", "gpus_per_replica",
                      "num_parallel", "keep_alive", "max_loaded_models", "context_length", "warm_model", "autoscaled",
                      "request_timeout_seconds")
GATE_INPUTS = {**_same("cluster", "route_target", "name_prefix", "api_key_auth", "api_key_secret",
                       "api_key_map_secret", "api_key_replaceable", "rate_limit_per_second", "rate_limit_burst",
                       "request_timeout_seconds"),
               "api_client_namespaces": "client_namespaces"}
WEBUI_RENAMED = {"webui_replicas": "replicas", "webui_max_replicas": "max_replicas", "webui_resources": "resources",
                 "webui_uploads_size_gib": "uploads_size_gib", "webui_uploads_tier": "uploads_tier",
                 "webui_secret_key_secret": "secret_key_secret", "webui_model_access": "model_access",
                 "webui_enable_signup": "enable_signup", "webui_default_user_role": "default_user_role",
                 "webui_admin_email": "admin_email", "webui_extra_env": "extra_env",
                 "webui_secret_env": "secret_env",
                 "webui_client_namespaces": "client_namespaces"}  # InferenceStack's webui_* inputs -> OpenWebUi's
WEBUI_INPUTS = {**_same("route_target", "name_prefix", "database_url_secret", "admin_database_url_secret",
                      "database_name", "database_sku_name", "request_timeout_seconds"),
                **WEBUI_RENAMED}
PARTS = (("OllamaServer", OLLAMA_INPUTS), ("ApiGate", GATE_INPUTS), ("OpenWebUi", WEBUI_INPUTS))
