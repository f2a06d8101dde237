"""A pull request that bumps a pinned chart whose CRDs live in the chart's `crds/` folder: Helm installs those once
and never upgrades them (Helm v3.20.2 pkg/action), so the offline diff says what to apply before the `pulumi up`.
The edits are what a pin bump makes of a real plan (components/llmplatform/data/pins.json -> the Release's
`version`); whether a chart's CRD upgrade is on is read from its vendored values with the release's over them."""
import copy

import pytest

from offline import plan, plan_diff

from tests.conftest import variant
from tests.offline.plan_diff_cli import check

RELEASE = "kubernetes:helm.sh/v3:Release"


def _doc(stack: str) -> dict:
    return _doc_of(variant(stack))


def _doc_of(p) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(p))


def _bumped(doc: dict, chart: str, version: str = "999.0.0", **inputs) -> tuple[dict, str]:
    new = copy.deepcopy(doc)
    urn = next(u for u, r in new.items() if r["type"] == RELEASE and r["inputs"]["chart"].endswith(chart))
    new[urn]["inputs"]["version"] = version
    for path, value in inputs.items():
        where = new[urn]["inputs"]
        *parents, last = path.split("__")
        for key in parents:
            where = where.setdefault(key, {})
        where[last] = value
    return new, urn


@pytest.fixture(scope="module")
def prod_doc() -> dict:
    return _doc("prod")


@pytest.fixture(scope="module")
def llmd_doc() -> dict:
    return _doc("llmd")


def test_a_kube_prometheus_stack_bump_says_to_apply_its_crds_first_and_the_summary_shows_it(tmp_path, prod_doc):
    new, urn = _bumped(prod_doc, "kube-prometheus-stack")
    found = plan_diff.diff_documents(prod_doc, new)
    assert urn in found["changed"] and urn not in found["replaced"]
    [line] = found["checks"][urn]
    assert "`version` '88.5.3' -> '999.0.0' (chart kube-prometheus-stack)" in line
    assert "charts/crds/crds/" in line and "crds.upgradeJob.enabled" in line
    code, printed = check(tmp_path, prod_doc, new)
    assert code == 0 and "charts/crds/crds/" in printed  # a check for the reviewer, not a refusal


def test_with_the_charts_own_crd_upgrade_job_on_a_bump_needs_nothing_first(prod_doc):
    new, urn = _bumped(prod_doc, "kube-prometheus-stack", values__crds__upgradeJob__enabled=True)
    assert urn not in plan_diff.diff_documents(prod_doc, new)["checks"]


def test_a_bump_of_a_chart_that_templates_its_crds_needs_nothing_first(prod_doc):
    """keda, cert-manager and istio base render their CRDs from templates: upgraded with the chart."""
    for chart in ("keda", "cert-manager", "base"):
        new, urn = _bumped(prod_doc, chart)
        found = plan_diff.diff_documents(prod_doc, new)
        assert urn in found["changed"] and urn not in found["checks"], chart


def test_a_values_change_without_a_bump_says_nothing_of_crds(prod_doc):
    new, urn = _bumped(prod_doc, "kube-prometheus-stack", version="88.5.3", values__grafana__replicas=2)
    found = plan_diff.diff_documents(prod_doc, new)
    assert urn in found["changed"] and urn not in found["checks"]


@pytest.mark.parametrize("validation_off, hook, expected", [
    (False, True, "requires --disable-openapi-validation"),
    (True, True, None),
    (True, False, "`operator.upgradeCRD` is off"),
], ids=["validated", "validation-off", "hook-off"])
def test_a_gpu_operator_bump_says_what_its_crd_hook_cannot_do(llmd_doc, validation_off, hook, expected):
    extra = {"disableOpenapiValidation": True} if validation_off else {}
    new, urn = _bumped(llmd_doc, "gpu-operator", values__operator__upgradeCRD=hook, **extra)
    lines = plan_diff.diff_documents(llmd_doc, new)["checks"].get(urn, [])
    if expected is None:
        assert lines == []
    else:
        [line] = lines
        assert expected in line and "charts/node-feature-discovery/crds/" in line


def test_a_crd_bundles_new_release_is_a_check_naming_what_may_leave():
    """The Gateway API and Inference Extension CRDs come from a yaml/v2 ConfigFile of a release's URL (pins.json):
    the plans hold the URL, not the CRDs, and a new release that leaves a CRD out (or moves it to another API group,
    as InferencePool moved from inference.networking.x-k8s.io to inference.networking.k8s.io) deletes it at the end
    of the `pulumi up`, and every object of its kind with it. The pin bump read as a bare update of `file`; it is a
    check before merging now, and a change elsewhere leaves the bundle unmentioned."""
    base = _doc("prod")
    new = copy.deepcopy(base)
    urn = next(u for u, r in new.items() if r["type"] == "kubernetes:yaml/v2:ConfigFile"
               and u.endswith("-gateway-api-crds"))
    old_url = base[urn]["inputs"]["file"]
    new[urn]["inputs"]["file"] = old_url.replace("/v1.6.1/", "/v1.7.0/")
    result = plan_diff.diff_documents(base, new)
    assert result["changed"][urn] == ["file"] and urn not in result["replaced"]
    [line] = result["checks"][urn]
    assert old_url in line and "/v1.7.0/" in line and "deletes every object of its kind" in line
    assert "Check before merging" in plan_diff.markdown(result, "t", [])
    assert not plan_diff.blocking(result, set(), False)  # a check, not a refusal
    untouched = plan_diff.diff_documents(base, copy.deepcopy(base))
    assert urn not in untouched["checks"]


def _image_bumped(doc: dict, old: str, new_image: str) -> dict:
    """What a bump of an image in pins.json makes of a plan: every container of that image runs the new one."""
    new = copy.deepcopy(doc)
    for resource in new.values():
        for spec in [((resource["inputs"].get("spec") or {}).get("template") or {}).get("spec") or {}]:
            for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
                if container.get("image") == old:
                    container["image"] = new_image
    return new


def test_an_open_webui_image_bump_asks_for_the_time_before_its_forward_only_migration(tmp_path, prod_doc):
    """docs/operations.md, "Upgrading charts and images": a new Open-WebUI image runs its migration Job (Alembic's
    `upgrade head` on the UI's database) before the Deployment rolls, and going back is a restore to the time before;
    the check says so on the migration Job, and on no other Job the bump replaces (the bootstrap Job, which only makes
    the role). An Ollama image bump replaces the preload Job with no such line."""
    from llmplatform.pins import OLLAMA_IMAGE, OPEN_WEBUI_IMAGE
    new = _image_bumped(prod_doc, OPEN_WEBUI_IMAGE, "ghcr.io/open-webui/open-webui:99.0.0")
    code, out = check(tmp_path, prod_doc, new)
    checks = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0 and len(checks) == 1, out
    assert "Job::inference-webui-migrate`" in checks[0] and "-> 'ghcr.io/open-webui/open-webui:99.0.0'" in checks[0]
    assert "note the time before `pulumi up`" in checks[0]
    replaced = [line for line in out.splitlines() if line.startswith("- Replace:")]
    assert any("Job::inference-webui-db-bootstrap`" in line for line in replaced), out
    code, out = check(tmp_path, prod_doc, _image_bumped(prod_doc, OLLAMA_IMAGE, "docker.io/ollama/ollama:99.0.0"))
    assert code == 0 and "Job::models-preload`" in out and "Check before merging" not in out, out


def test_a_move_to_a_mirror_is_no_open_webui_migration(tmp_path, prod_doc):
    """`cluster.imageRegistry` set on prod pulls the same Open-WebUI release from the mirror: the migration Job is
    replaced (its image's name changed) but migrates nothing, so no "note the time" line; the check said one (it
    compared the image's whole name, not its tag)."""
    from tests.conftest import MIRROR, plan_for
    mirrored = _doc_of(plan_for("prod", {"cluster": MIRROR}))
    code, out = check(tmp_path, prod_doc, mirrored)
    assert code == 0 and "Job::inference-webui-migrate`" in out, out
    assert "migrates Open-WebUI's database" not in out, out


def test_a_reverted_open_webui_bump_says_its_migration_job_fails_on_the_newer_schema(tmp_path, prod_doc):
    """A pull request that reverts an Open-WebUI bump (the base ran 99.0.0, the head the pin again) got the same "note
    the time" line as a bump; but the database is ahead of the older image's migrations then, and its Job's `alembic
    upgrade head` fails ("Can't locate revision") before the UI rolls: the line says to restore first."""
    from llmplatform.pins import OPEN_WEBUI_IMAGE
    code, out = check(tmp_path, _image_bumped(prod_doc, OPEN_WEBUI_IMAGE, "ghcr.io/open-webui/open-webui:99.0.0"),
                      prod_doc)
    [line] = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0 and "Job::inference-webui-migrate`" in line, out
    assert "goes back a version" in line and "Can't locate revision" in line and "restore the database" in line, line
    assert "note the time" not in line, line


@pytest.mark.parametrize("pulled_as", [
    "{image}@sha256:" + "a" * 64,  # `make pin-digests` pins the same tag to its digest: tag@sha256:digest
    "mirror.example.com:5000/open-webui/open-webui:{tag}",  # a mirror with a port (cluster.imageRegistry allows one)
    "ghcr.io/open-webui/open-webui:v{tag}",  # the release's other tag: Open-WebUI pushes `v0.11.0` and `0.11.0`
])
def test_the_same_open_webui_release_by_digest_from_a_mirror_with_a_port_or_its_v_tag_migrates_nothing(
        tmp_path, prod_doc, pulled_as):
    """The migration Job is replaced (its image's name changed) but runs the release it ran: no "note the time" line
    and no "goes back a version" line; a mutant reading the digest or the mirror's port into the tag said one, and
    the check said one for the `v` tag (open-webui/open-webui .github/workflows/docker-build.yaml at 00a21005 tags one
    image `type=ref,event=tag` and `type=semver,pattern={{version}}`)."""
    from llmplatform.pins import OPEN_WEBUI_IMAGE
    tag = OPEN_WEBUI_IMAGE.rsplit(":", 1)[1]
    code, out = check(tmp_path, prod_doc, _image_bumped(prod_doc, OPEN_WEBUI_IMAGE,
                                                        pulled_as.format(image=OPEN_WEBUI_IMAGE, tag=tag)))
    assert code == 0 and "Job::inference-webui-migrate`" in out, out
    assert "migrates Open-WebUI's database" not in out and "goes back a version" not in out, out


def test_a_reverted_open_webui_bump_is_told_as_going_back_with_v_tags_too(tmp_path, prod_doc):
    """Open-WebUI's `v` tags (`v0.11.0`, its git tag) read as releases: `v99.0.0` -> `v0.11.0` goes back a version."""
    from llmplatform.pins import OPEN_WEBUI_IMAGE
    older = "ghcr.io/open-webui/open-webui:v" + OPEN_WEBUI_IMAGE.rsplit(":", 1)[1]
    newer = _image_bumped(prod_doc, OPEN_WEBUI_IMAGE, "ghcr.io/open-webui/open-webui:v99.0.0")
    code, out = check(tmp_path, newer, _image_bumped(prod_doc, OPEN_WEBUI_IMAGE, older))
    [line] = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0 and "goes back a version" in line and "note the time" not in line, line


def test_a_bump_between_tags_that_are_no_plain_release_still_asks_for_the_time_before_its_migration(tmp_path, prod_doc):
    """Tags with a suffix (`0.11.0-cuda`, Open-WebUI's CUDA images) are no plain release to compare, but two different
    ones are two images: the bump's "note the time" line is kept, not taken for the same release."""
    from llmplatform.pins import OPEN_WEBUI_IMAGE
    cuda = "ghcr.io/open-webui/open-webui:{}-cuda"
    base = _image_bumped(prod_doc, OPEN_WEBUI_IMAGE, cuda.format("0.11.0"))
    code, out = check(tmp_path, base, _image_bumped(prod_doc, OPEN_WEBUI_IMAGE, cuda.format("99.0.0")))
    [line] = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0 and "Job::inference-webui-migrate`" in line and "note the time" in line, out


DIGEST_A, DIGEST_B = "@sha256:" + "a" * 64, "@sha256:" + "b" * 64


@pytest.mark.parametrize("tag", [
    ":main",  # Open-WebUI pushes `main` (type=ref,event=branch) and `latest` from every push to its main branch
    ":latest",
    ":0.11",  # `type=semver,pattern={{major}}.{{minor}}`: moves to each patch release, whose migrations it carries
    "",  # a digest alone
])
def test_a_moving_open_webui_tag_pinned_to_another_digest_still_asks_for_the_time_before_its_migration(
        tmp_path, prod_doc, tag):
    """`make pin-digests` on a tag that moves (`main`, `latest`, `0.11`) or a digest alone: a new digest is another
    build, which may migrate the database; only a release tag (`0.11.0`, `v0.11.0`) names one release whatever its
    digest. The check took one tag's two digests for the same release and said nothing (open-webui/open-webui
    .github/workflows/docker-build.yaml at 00a21005: `type=ref,event=branch`, `{{major}}.{{minor}}`, `latest` on
    main)."""
    from llmplatform.pins import OPEN_WEBUI_IMAGE as OPEN_WEBUI
    image = "ghcr.io/open-webui/open-webui" + tag
    base = _image_bumped(prod_doc, OPEN_WEBUI, image + DIGEST_A)
    code, out = check(tmp_path, base, _image_bumped(prod_doc, OPEN_WEBUI, image + DIGEST_B))
    [line] = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0 and "Job::inference-webui-migrate`" in line and "note the time" in line, out


def test_a_release_moved_to_its_moving_minor_tag_is_no_step_back(tmp_path, prod_doc):
    """`0.11.0` -> `0.11` runs the minor's newest patch, never an older release: the check said "goes back a version"
    and "restore the database" for it; it is a bump that may migrate (the time to note), as `0.11` -> `0.11.0` is."""
    from llmplatform.pins import OPEN_WEBUI_IMAGE as OPEN_WEBUI
    base = _image_bumped(prod_doc, OPEN_WEBUI, "ghcr.io/open-webui/open-webui:0.11.0")
    code, out = check(tmp_path, base, _image_bumped(prod_doc, OPEN_WEBUI, "ghcr.io/open-webui/open-webui:0.11"))
    [line] = [line for line in out.splitlines() if line.startswith("- Check before merging:")]
    assert code == 0 and "goes back a version" not in line and "note the time" in line, line
