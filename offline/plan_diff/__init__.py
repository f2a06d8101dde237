"""What a change does to the plan: `python -m offline.plan_diff BASE_DIR NEW_DIR` compares two `build/<stack>/` folders
(resources.json, cost.json and crd-bundles.json) and prints Markdown for a pull-request comment: the monthly cost
before and after (idle and peak, per component that changed), and the resources added, updated, REPLACED and DELETED,
each replacement with the rule that causes it (the providers' own force-new data in
offline/data/replacement_rules.json, and Pulumi's: a changed URN, `replaceOnChanges`, a replaced provider), after
Pulumi's `ignoreChanges` (an ignored change is listed, not applied). A replacement or deletion of a stateful
resource, or a change the cloud refuses in place or cannot undo (a downgrade, a shrink, purge protection off: the
base's value against the change's), fails the check (exit 1) unless the pull request allows it: `--allow-file` (the
repository's `allow-replace.txt`, one URN a line) or `--allow-stateful` (the `allow-stateful-replace` label); an
allowed stateful replacement or deletion is still listed, marked with what allowed it, and an allow-file entry that
matches nothing in the diff is reported. The base must have a plan: a base folder without one is bad usage (exit 2)
unless `--new-stack` says the base branch has no such stack (then every resource is added). A namespace deleted or
replaced while it holds volume claims, and a Helm release whose uninstall deletes claims, count as stateful
(`claims`: claims Pulumi does not register, made by a chart or a controller), and so does a generated password or key
replaced or given a new URN (`rules.NEW_VALUE`: its holders get a new value), and a CustomResourceDefinition a
yaml/v2 ConfigFile's file no longer holds (crd-bundles.json of the two plans: the API server deletes every object of
its kind with it); a CRD version no longer served, or a storage version changed, is a check before merging. A regional
stack's comment also names each output the global stack reads that the change renews, and the `pulumi up` of the
global stack to run after (a note, never a failure).

The package: `documents` reads the two plans, `rules` and `values` hold the replacement and refusal rules, `claims`
the volume claims of namespaces and releases, `crd_bundles` the CRDs of the ConfigFiles' files, `volumes` two
volumes of one CSI handle, `secrets` Key Vault secrets whose value comes from a resource added or deleted, `urns` the
engine's URNs and aliases, `compare` the diff, `gate` the allowances, `global_reads` what the global stack must
follow of a regional stack's change, `report` the comment, `cli` the command; what an update alone does not tell:
`preload` models dropped from the store's preload, `served_models` a model name vLLM no longer serves,
`internal_address` an internal load balancer's new address, `vault_closing` a Key Vault closed before its private
endpoint exists, and `pool_keys` the stack key of the pool a refusal is about.
"""
from .cli import main
from .compare import diff, diff_documents
from .documents import PlanError, resources_by_urn
from .gate import ALLOW_FILE, ALLOW_LABEL, allowances, blocking, read_allow_file, unmatched_allowances
from .ignore_changes import process_ignore_changes
from .report import cost_lines, markdown
from .rules import STATEFUL, rules, under
from .urns import alias_matches, engine_urn, engine_urns, provider_urn, short_urn, urn_scheme

__all__ = ["ALLOW_FILE", "ALLOW_LABEL", "PlanError", "STATEFUL", "alias_matches", "allowances", "blocking",
           "cost_lines", "diff", "diff_documents", "engine_urn", "engine_urns", "main", "markdown",
           "process_ignore_changes", "provider_urn", "read_allow_file", "resources_by_urn", "rules", "short_urn",
           "under", "unmatched_allowances",
           "urn_scheme"]
