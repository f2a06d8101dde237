"""Turns the kubeconfig AKS hands out into one that authenticates through kubelogin with a chosen login mode.

With Entra ID integration (and local accounts disabled) a kubeconfig needs the `kubelogin` exec plugin; the mode
decides whose identity it uses: `azurecli` for a person after `az login`, `workloadidentity` or `spn` for CI.
"""

import functools
from typing import Any, Callable

import yaml

# The Entra application id of the AKS AAD server, the same for every managed-AAD cluster.
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"


def _without_flag(args: list[str], flag: str) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == flag:
            skip = True
            continue
        if arg.startswith(flag + "="):
            continue
        out.append(arg)
    return out


def kubelogin_exec(login_mode: str, previous_args: list[str] | None = None) -> dict:
    args = list(previous_args or ["get-token", "--environment", "AzurePublicCloud", "--server-id", AKS_AAD_SERVER_ID])
    if args[:1] != ["get-token"]:
        args = ["get-token", *args]
    if "--server-id" not in args:
        args += ["--server-id", AKS_AAD_SERVER_ID]
    args = _without_flag(args, "--login")
    if login_mode != "devicecode":  # the device-code client/tenant flags only apply to that mode
        args = _without_flag(_without_flag(args, "--client-id"), "--tenant-id")
    return {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "kubelogin",
        "args": [*args, "--login", login_mode],
        "env": None,
        "installHint": "kubelogin is required: https://azure.github.io/kubelogin/install.html",
        "provideClusterInfo": False,
        "interactiveMode": "IfAvailable",
    }


def cached_for_text(maxsize: int) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """A pure function of strings cached (`lru_cache`) when every argument is a string, and called afresh with any
    other (an input a program got wrong, which the function reports or dumps as given): under the testing kit's
    mocks the same kubeconfigs are made and rewritten in every run, a few ms of YAML each."""
    def wrap(function: Callable[..., str]) -> Callable[..., str]:
        cached = functools.lru_cache(maxsize=maxsize)(function)

        @functools.wraps(function)
        def call(*args: Any) -> str:
            return cached(*args) if all(isinstance(arg, str) for arg in args) else function(*args)
        return call
    return wrap


@cached_for_text(maxsize=16)
def with_kubelogin(kubeconfig_yaml: str, login_mode: str) -> str:
    """Rewrite every user of the kubeconfig to use `kubelogin get-token --login <login_mode>`. A pure function of two
    strings, so the rewrite of a kubeconfig already rewritten is the one made then."""
    doc = yaml.safe_load(kubeconfig_yaml)
    for user in doc.get("users") or []:
        previous = ((user.get("user") or {}).get("exec") or {}).get("args")
        user["user"] = {"exec": kubelogin_exec(login_mode, previous)}
    return yaml.safe_dump(doc, sort_keys=False)
