"""Day-2 pull requests a platform engineer new to the repository sends (2026-12-07): each planned from the prod stack
file with the edit, and judged by the check's command line as the workflow runs it. The edits whose verdict was
right are listed in docs/decisions.md ("A stranger's pull requests through the PR check"); these are the ones whose
report left the reviewer without what the change does."""
from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check, plan_document

# the smallest server the stack may ask for: a Flexible Server's storage never shrinks
SMALLER_DATABASE = {"postgres": {"storageSizeGb": 64}}
# the GPU pools' size, force-new (pulumi-azure-native replacement.go, AgentPool `vmSize`): a refused replacement
BIGGER_GPU = {"gpu": {"vmSize": "Standard_NC48ads_A100_v4"}}
NEW_HOSTNAME = {"gateway": {"tls": {"hostname": "api.example.org"}}}
MISTRAL_DROPPED = {"modelStore": {"models": ["llama3.1:8b", "nomic-embed-text"]}}


def _heading(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("**Blocked"))


def test_a_change_refused_in_place_is_not_told_to_be_allowed_as_its_way_through(tmp_path, prod):
    """`postgres.storageSizeGb` 128 -> 64 is refused in place (Azure never shrinks a Flexible Server's storage). The
    heading asked only for the URN in `allow-replace.txt`, which lets the pull request through and leaves `pulumi up`
    to meet Azure's refusal (docs/guardrails.md says so; the report did not)."""
    code, out = check(tmp_path, plan_document(prod), plan_document(plan_for("prod", SMALLER_DATABASE)))
    heading = _heading(out)
    assert code == 1 and "allow-replace.txt" in heading
    assert "is refused (or not carried out) by Azure or the API server whatever the file says" in heading, heading
    assert "allow it only once that remedy is done" in heading


def test_a_refused_replacement_alone_keeps_the_plain_heading(tmp_path, prod):
    """A GPU pool replaced where its drain stalls is refused by the check, not by Azure: renaming the pool is its
    line's way, and an allowance after the pods have room elsewhere is a real way through."""
    code, out = check(tmp_path, plan_document(prod), plan_document(plan_for("prod", BIGGER_GPU)))
    assert code == 1 and "whatever the file says" not in _heading(out)


def test_a_new_tls_hostname_says_the_old_name_stops_and_the_dns_record_comes_first(tmp_path, prod):
    """`gateway.tls.hostname` on a stack of its own read as three quiet updates (the Certificate, both Gateways'
    listeners). A listener answers only its hostname (Gateway API v1.6.1 Listener.hostname: it "SHOULD match both
    the SNI and Host header"), so the old name's clients stop at `pulumi up`, and cert-manager's HTTP-01 order for
    the new name fails until its DNS record names the gateway."""
    code, out = check(tmp_path, plan_document(prod), plan_document(plan_for("prod", NEW_HOSTNAME)))
    assert code == 0
    (line,) = [x for x in out.splitlines() if x.startswith("- Check before merging:")]
    assert "Certificate::gateway-certificate" in line
    assert '`spec.dnsNames[0]` "llm.example.com" -> "api.example.org" (stack key `gateway.tls.hostname`)' in line
    assert "clients of the old name stop being served" in line and "DNS A record" in line
    assert "`gatewayExternalAddress`" in line


def test_a_model_dropped_from_the_preload_says_it_stays_on_the_share_and_served(tmp_path, prod, dev):
    """A model dropped from `modelStore.models` replaced the preload Job and restarted the UI, which reads as the
    model removed: the Job only pulls and Ollama lists and serves every model on the share (docs/operations.md,
    "Adding a model"), so it stays, served and listed, until someone runs `ollama rm`."""
    code, out = check(tmp_path, plan_document(prod), plan_document(plan_for("prod", MISTRAL_DROPPED)))
    assert code == 0 and "Replace: `llmplatform:index:ModelStore$kubernetes:batch/v1:Job::models-preload`" in out
    (line,) = [x for x in out.splitlines() if x.startswith("- Check before merging:")]
    assert "Job::models-preload`: `MODELS` drops `mistral:7b` (stack key `modelStore.models`)" in line
    assert "Ollama keeps serving it" in line and "`ollama rm`" in line
    # a model added drops nothing: no such line (the plan test_plan_diff_day2.py shares)
    more = {"modelStore": {"models": ["tinyllama", "llama3.2:1b"]}}
    code, out = check(tmp_path, plan_document(dev), plan_document(plan_for("dev", more)))
    assert code == 0 and "drops" not in out and "models-preload" in out
