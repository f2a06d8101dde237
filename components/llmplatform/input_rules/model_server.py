"""OllamaServer's value rules."""
import posixpath
from typing import Any, Mapping, Optional

from .. import azure_names as names, ollama_names
from ..choices import ACCELERATORS
from ..inference_specs import CONTEXT_LENGTH_ENV, OLLAMA_KEY_DIR, OLLAMA_SCRATCH_DIR, ollama_env, stop_grace_seconds
from ..rules import Problem, Rules, keep_alive_problem, known, resources_rules
from .shared import drain_rule, keda_rule, name_given_rule, ollama_sharing, plain_env_rule


# the variables OllamaServer sets itself (inference_specs.ollama_env): its inputs say them, extra_env may not
MANAGED_OLLAMA_ENV = tuple(sorted(ollama_env("/models", 1, "0", 1)))


def warm_model_problem(warm: str, preloaded: list[Any]) -> Optional[str]:
    """Why a model server cannot warm `warm` from a store that preloads `preloaded` (None when it can): its startup
    probe loads the model from the read-only store, so a replica warming another would never become Ready."""
    if any(ollama_names.same_model(str(m), warm) for m in preloaded):
        return None
    # quoted, as the values they are: a name may be spelt like an input (Ollama's grammar takes `_`), and the
    # component provider spells a bare word that is one in the schema's names (docs/decisions.md, "Review of the
    # refusal names")
    return f"one of the models the store preloads ({', '.join(map(repr, preloaded))}), or none"


def mount_path_problem(path: str) -> Optional[str]:
    """What a model volume's `mount_path` must be for the server that mounts it there (its volumeMount's `mountPath`,
    its OLLAMA_MODELS): an absolute path of a directory of its own. The API server refuses "" (`mountPath` is
    required) and a path another mount of the container has ("must be unique": kubernetes pkg/apis/core/validation
    ValidateVolumeMounts; the server mounts its scratch at OLLAMA_SCRATCH_DIR, and `/tmp/` is the same directory to
    the runtime, the later mount hiding the store); / hides the image (Ollama's binary with it); a relative path is
    mounted under / by the kubelet (pkg/kubelet/kubelet_pods.go makeMounts, MakeAbsolutePath) while OLLAMA_MODELS
    reads it against Ollama's working directory. A path under the scratch (/tmp/models) is mounted over it, but not
    $HOME/.ollama or a path under it: `ollama serve` writes its key pair there when it has none and exits when it
    cannot (ollama/ollama v0.32.15 cmd/cmd.go RunServer, initializeKeypair), and the store is mounted read-only; a
    mount point under it (/tmp/.ollama/models, Ollama's own default store) has the runtime create the directories
    above it as root, 0755 (opencontainers/runc 007bdcaa libcontainer/rootfs_linux.go createIfNotExists: MkdirAll
    before the container's user is taken), so the server, which runs as NON_ROOT_UID with every capability dropped,
    cannot write its key into /tmp/.ollama either."""
    normal = posixpath.normpath("/" + path.lstrip("/"))
    if path.startswith("/") and normal not in ("/", OLLAMA_SCRATCH_DIR, OLLAMA_KEY_DIR) and \
            not normal.startswith(OLLAMA_KEY_DIR + "/"):
        return None
    return (f"an absolute path of a directory of its own in the model server's container, e.g. /models: not /, "
            f"not {OLLAMA_SCRATCH_DIR} (the server's scratch volume), not {OLLAMA_KEY_DIR} or a path under it "
            f"(where Ollama writes its key pair at start)")


def ollama_server(args: Mapping[str, Any]) -> list[Problem]:
    """OllamaServer's inputs (accelerator, replicas, resources, Ollama's own settings, extra environment)."""
    r = Rules(args, "OllamaServer")
    accelerator = r.choice("accelerator", ACCELERATORS)
    if accelerator == "gpu" and not r.args.get("gpu"):
        r.add("gpu", None, f"GpuNodePool's scheduling when {r.ref('accelerator')} is gpu")
    if keda_rule(r):
        # the interceptor's port makes the endpoint's URL (http://ollama-scaled.<namespace>:<port>), which the gate or
        # UI in front of the server calls: one that is no TCP port (a hand-built handle) was refused by that gate as
        # its `endpoint.base_url`, an input InferenceStack's user never gave
        r.section("keda").whole("interceptor_port", 1, 65535, " (the KEDA HTTP interceptor's port: the model "
                                                              "server's endpoint URL names it)")
    if r.args.get("keda") and r.given("autoscaled") is False:
        r.add("autoscaled", False, f"true with {r.ref('keda')}, or left out: requests then reach Ollama only "
                                   "through the KEDA interceptor, which routes only what a ModelAutoscaler in requests "
                                   "mode declares, and that autoscaler owns the replica count")
    replicas = r.whole("replicas", 0, 100)
    gpus = r.whole("gpus_per_replica", 1, 8)
    r.whole("num_parallel", 1, 256)
    r.whole("max_loaded_models", 1, 64)
    r.whole("context_length", 512, 1 << 20)
    r.text("keep_alive", keep_alive_problem)
    warm = r.text("warm_model", ollama_names.name_problem)
    pulled = known(r.args.get("model_volume"), "models")
    missing = warm_model_problem(warm, pulled) if warm and isinstance(pulled, list) else None
    if missing:
        r.add("warm_model", warm, missing)
    answer = r.whole("request_timeout_seconds", 1, 86400)
    drain_rule(r, "the model server's pods", stop_grace_seconds(answer) if answer else None,
               f"{r.ref('request_timeout_seconds')} + 30 s", "request_timeout_seconds",
               **ollama_sharing(r, replicas, gpus))
    # the store as the server mounts it: where it runs (the store's namespace), the claim, where its pods mount it
    name_given_rule(r, "model_volume")
    name_given_rule(r, "model_volume", "claim_name", names.dns_subdomain)
    path = known(r.args.get("model_volume"), "mount_path")
    wrong = mount_path_problem(path) if isinstance(path, str) else None
    if wrong:
        r.add("model_volume.mount_path", path, wrong)
    resources_rules(r.section("resources"))
    gpus = known(r.args.get("gpu"), "gpus_per_node")
    per_replica = r.get("gpus_per_replica")
    mig = known(r.args.get("gpu"), "mig_profile")
    if accelerator == "gpu" and mig:
        # Ollama validates each CUDA device in a second pass that drops A100 MIG instances in Kubernetes, and then
        # runs on the CPU with its startup probe green (ollama/ollama#13800, open; its fixes #13851 and #15146 are
        # unmerged; discover/runner.go and ml/device.go at the pinned v0.32.15)
        r.add("gpu", f"a pool with mig_profile {mig}", "a pool of whole GPUs (Ollama drops MIG instances when it "
                                                        "validates its CUDA devices and runs on the CPU: "
                                                        "ollama/ollama#13800)")
    elif accelerator == "gpu" and isinstance(gpus, int) and isinstance(per_replica, int) and per_replica > gpus:
        r.add("gpus_per_replica", per_replica, f"at most the {gpus} GPU(s) of one node of {r.ref('gpu')}")
    # Ollama reads OLLAMA_API_KEY (ollama.com) and a proxy URL (tests/upstream/settings/ollama.txt); the server
    # mounts no secret
    # OLLAMA_CONTEXT_LENGTH is the component's once `context_length` is given (else extra_env may set it)
    managed = MANAGED_OLLAMA_ENV + ((CONTEXT_LENGTH_ENV,) if r.args.get("context_length") is not None else ())
    plain_env_rule(r, tuple(sorted(managed)), "sets from its inputs",
                   ", which would be plain text in the Deployment; the model server takes no secret (its pulls from "
                   "public registries need none)")
    return r.problems
