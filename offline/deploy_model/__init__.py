"""The deploy model: what a first `pulumi up` of a plan waits for, how long, and in which order.

For every resource of the recorded plan it says what Pulumi waits for on create and under which deadline, estimates
how long that takes on a fresh subscription (`config/data/deploy_durations.json`: median and pessimistic, each with
its source), schedules the dependency graph as the engine runs it (a resource starts when everything it depends on
has finished and one of `pulumi up --parallel` workers is free, engine.py; a pod also waits for nodes of a pool it
can run on) and finds the critical path. Each of these is a plan failure:

- a wait whose pessimistic time exceeds its deadline (`timeout`);
- a custom resource not after what installs its CRD, or a Helm release whose chart's templates render one with
  its values (`templates`) not after what installs that CRD (`crd-order`);
- an object that names another neither after it nor tolerant of its absence, or naming nothing (`name-reference`);
- an object or Helm release in a namespace the plan does not create before it, or that no one creates (`namespace`);
- software that needs no GPU node waiting for a GPU pool (`gpu-wait`);
- two agent-pool writes of one AKS cluster, or one of its pools or maintenance configurations and the cluster's own
  create, that may run at once (`cluster-writes`);
- an AKS cluster or agent pool created while something else may write its virtual network: a subnet, another
  cluster's or pool's create; a private endpoint created while a subnet of its network may be written
  (`vnet-writes`);
- two federated identity credentials of one user-assigned identity that may be written at once, or that share an
  issuer and subject (`identity-writes`);
- two writes to one PostgreSQL flexible server's parameters, administrators or databases that may run at once
  (`server-writes`);
- two writes to one Key Vault (its secrets, a private endpoint to it) that may run at once (`vault-writes`);
- a RoleAssignment whose principalType is missing or does not match the identity (`principal-type`);
- a Kubernetes provider that writes as the deployer with nothing holding it back until the deployer's new cluster
  role has reached the API server (`deployer-access`);
- a workload reading a volume a Job writes, neither after the awaited Job nor tolerant of an empty volume
  (`job-output`);
- a create holding one of the engine's `--parallel` workers while what it waits for (the pool its pods need) is
  queued behind it, until its deadline fails it (`parallel`, engine.py);
- a workload whose pods more than one PodDisruptionBudget selects: the eviction API refuses every eviction of them,
  so no drain of their nodes (an upgrade, a pool's delete) ends (`budget-overlap`, budgets.py; pods that run until
  evicted: a Job's end and go, a drain leaves a DaemonSet's);
- a delete of `pulumi destroy` that needs another resource still there, or already gone, in the engine's delete
  order: a claim before its pods, an IP before its load balancer's Service, a node pool before the budgets of the
  pods it drains (`teardown`, teardown.py; it also says what a destroy deletes while protect stands).

Every object and release is on the cluster its provider is made from: the names, storage classes, pools, CRDs and
grants it is matched against are that cluster's (two clusters may each have a `fast` class or a `runner` account).

Await rules are pulumi-kubernetes' (provider/pkg/await, read at the release the SDK pin matches, see
docs/decisions.md): Deployment/StatefulSet/DaemonSet ready, Job complete, Service endpoints settled, PVC bound
(Pending on a WaitForFirstConsumer class), a kind without an awaiter created at once; 10 minutes unless
`customTimeouts.create` or `pulumi.com/timeoutSeconds`; `pulumi.com/skipAwait` skips it; a kind the API server does
not know is retried for 31 s, then fails. A Helm release (helm.sh/v3) waits for its chart's workloads unless
`skipAwait`, for `timeout` seconds (300 by default), and for the address of each LoadBalancer Service its chart
renders (`charts`). Azure resources are awaited until their long-running operation ends, with no deadline unless
`customTimeouts`.
Pure Python over the recorded plan (the standard library, offline.runner, the model catalogue's sizes and the
vendored charts' values and templates, each read once per process): no SDK import, a few milliseconds per stack.
"""
from __future__ import annotations

from typing import Any, Optional

from llmplatform.azure_roles import KEY_VAULT_SECRETS_USER
from llmplatform.llmd_specs import MODEL_WEIGHTS_ANNOTATION as MODEL_WEIGHTS
from llmplatform.model_store import MODEL_SIZES_ANNOTATION as MODEL_SIZES
from llmplatform.write_order import (AGENT_POOL, FEDERATION, MANAGED_CLUSTER, PRIVATE_ENDPOINT, SUBNET, VAULT,
                                     ancestors, conflicts)

from ..runner import Plan
from .awaits import bind_modes, helm_wait, job_work, k8s_timeout, service_wait, wait_of
from .budgets import check_budget_overlap
from .checks import (CHART_CRD_GROUPS, check_claim_classes, check_crd_order, check_gpu_waits, check_job_outputs,
                     check_deployer_access, check_namespaces, check_principal_types, check_references, check_timeouts,
                     check_warm_ups, crd_installers)
from .engine import DEFAULT_PARALLEL, default_parallel, workers
from .figures import ModelShare, image_pull, image_size_mb, model_load, model_weights_gb, store_throughput_mb_s
from .model import DeployModel, DurationsError, HELM_RELEASE, Problem, Span, WORKLOADS, load_durations
from .node_drains import check_node_drains
from .objects import kind_of
from .pools import Pool, landing_pools, node_family, node_wait, pools
from .schedule import IDENTITY, dependencies, grant_gates, identity_gates, schedule
from .teardown import check_teardown, delete_heights, destroyed, kept_by_protect, protect_line

__all__ = ["AGENT_POOL", "CHART_CRD_GROUPS", "DEFAULT_PARALLEL", "DeployModel", "DurationsError", "FEDERATION",
           "HELM_RELEASE", "IDENTITY", "KEY_VAULT_SECRETS_USER", "MANAGED_CLUSTER", "MODEL_SIZES", "MODEL_WEIGHTS",
           "ModelShare", "PRIVATE_ENDPOINT", "Pool", "Problem", "SUBNET", "Span", "VAULT", "WORKLOADS", "ancestors",
           "bind_modes", "check_principal_types", "check_teardown", "crd_installers", "default_parallel",
           "delete_heights", "dependencies", "destroyed", "evaluate", "grant_gates", "helm_wait", "identity_gates",
           "image_pull", "image_size_mb", "job_work", "k8s_timeout", "kept_by_protect", "kind_of", "landing_pools",
           "load_durations", "model_load", "model_weights_gb", "node_family", "node_wait", "pools", "protect_line",
           "report_lines", "schedule", "service_wait", "store_throughput_mb_s", "wait_of", "workers"]


def evaluate(plan: Plan, data: Optional[dict[str, Any]] = None, parallel: Optional[int] = None) -> DeployModel:
    """The schedule and every check, for `make plan` and the tests; `parallel` as `pulumi up --parallel` takes it
    (unset: PULUMI_PARALLEL, else engine.DEFAULT_PARALLEL)."""
    data = data or load_durations()
    limit = workers(default_parallel() if parallel is None else parallel)
    model = schedule(plan, data, parallel=limit)
    model.floor = schedule(plan, data, awaited=False, parallel=limit)
    graph = dependencies(plan)
    before = ancestors(graph)
    model.problems += (check_timeouts(model, bool(pools(plan))) + check_warm_ups(model, data)
                      + check_crd_order(plan, before)
                      + check_references(plan, before) + check_claim_classes(plan, before)
                      + check_namespaces(plan, before)
                      + check_gpu_waits(plan, graph)
                      + [Problem(c.rule, c.resource, c.message) for c in conflicts(plan.resources, before)]
                      + check_principal_types(plan) + check_deployer_access(plan)
                      + check_job_outputs(plan, before) + check_budget_overlap(plan) + check_teardown(plan)
                      + check_node_drains(plan))
    model.teardown = protect_line(plan)
    return model


def report_lines(model: DeployModel) -> list[str]:
    lines = [model.summary(), *([line] if (line := model.floor_line()) else []), model.parallel_line(),
             *([model.teardown] if model.teardown else [])]
    lines.extend(f"deploy model: {p}" for p in model.problems)
    return lines
