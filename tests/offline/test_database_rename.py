"""`postgres.database` renamed on day 2, through the stack config (the program under the mocks) and the PR check. A new
name is a new, empty database: the run creates it first, runs Open-WebUI's bootstrap Job (its role, grants, pgvector)
and migration Job on it, rolls the UI onto it, and deletes the old database, with its data, at the end (pulumi/pulumi
1b5949891b step_generator.go: a replacement not deleted first deletes the old resource once the run's creates and
updates are done). Before, the database alone was replaced, deleted first under the UI's open connections, and
neither Job ran again: the UI kept the URL it had read, and a restarted pod found a database without its role's
ownership, pgvector or schema (docs/decisions.md, "2026-12-05: the UI's Jobs follow a new database")."""
import pytest

from offline import plan, plan_diff

from tests.conftest import plan_for
from tests.offline.plan_diff_cli import check

NEW = {"postgres": {"database": "chat2"}}
JOB, DEPLOYMENT = "kubernetes:batch/v1:Job", "kubernetes:apps/v1:Deployment"
DATABASE, SECRET = "azure-native:dbforpostgresql:Database", "azure-native:keyvault:Secret"
# the UI's name in each stack (InferenceStack's, or the llm-d backend's own OpenWebUi)
UI = {"dev": "inference", "prod": "inference", "llmd": "llmd"}


def _doc(p) -> dict:
    return plan_diff.resources_by_urn(plan.resources_document(p))


def _one(p, type_: str, name: str):
    (found,) = [r for r in p.resources if r.type == type_ and r.name == name]
    return found


def _before(p, urn: str) -> set[str]:
    """Every resource `urn` waits for, directly or through others (its `dependencies`: what the engine orders by)."""
    deps = {r.urn: r.dependencies for r in p.resources}
    seen, todo = set(), list(deps.get(urn, []))
    while todo:
        u = todo.pop()
        if u not in seen:
            seen.add(u)
            todo.extend(deps.get(u, []))
    return seen


@pytest.mark.parametrize("stack", ["dev", "prod", "llmd"])
def test_a_new_database_gets_the_uis_role_pgvector_and_schema_before_the_ui_rolls_onto_it(tmp_path, stack):
    base, new = plan_for(stack), plan_for(stack, NEW)
    ui = UI[stack]
    database = _one(new, DATABASE, "postgres-db")
    assert database.inputs["databaseName"] == "chat2"
    result = plan_diff.diff_documents(_doc(base), _doc(new))
    jobs = {_one(new, JOB, f"{ui}-webui-db-bootstrap").urn, _one(new, JOB, f"{ui}-webui-migrate").urn}
    deployment = _one(new, DEPLOYMENT, f"{ui}-webui")
    # the database created first (the UI's pods hold connections to the old one, which PostgreSQL will not drop in
    # use); both Jobs under new names, deleted first and run again; the UI's pods restarted; nothing else
    assert set(result["replaced"]) == {database.urn, *jobs}, result["replaced"]
    assert database.urn not in result["deleteBeforeReplace"] and jobs <= set(result["deleteBeforeReplace"])
    assert set(result["changed"]) - set(result["replaced"]) == {deployment.urn}
    assert not result["added"] and not result["removed"]
    assert deployment.inputs["spec"]["template"]["metadata"]["annotations"]["llm-platform/database"] == "chat2"
    # in order: the new database and the two URL secrets naming it, then the bootstrap, the migration, the UI
    bootstrap, migration = (_one(new, JOB, f"{ui}-webui-db-bootstrap"), _one(new, JOB, f"{ui}-webui-migrate"))
    urls = {_one(new, SECRET, f"postgres-{s}-secret").urn for s in ("database-url", "admin-database-url")}
    assert {database.urn, *urls} <= _before(new, bootstrap.urn)
    assert bootstrap.urn in _before(new, migration.urn) and migration.urn in _before(new, deployment.urn)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_pr_check_refuses_the_old_databases_delete_until_allowed_and_prod_protects_it(tmp_path, stack):
    base, new = _doc(plan_for(stack)), _doc(plan_for(stack, NEW))
    database = next(u for u, r in new.items() if r["type"] == DATABASE)
    code, out = check(tmp_path, base, new)
    assert code != 0 and ":x:" in out and database in out and "a new one starts empty" in out, out
    allowed, out_allowed = check(tmp_path, base, new, "--allow-stateful")
    assert allowed == 0, out_allowed
    protected = [line for line in out.splitlines() if line.startswith("- Protected")]
    assert (len(protected) == 1 and "postgres-db" in protected[0]) == (stack == "prod"), protected
    for job in ("webui-db-bootstrap", "webui-migrate"):
        assert any(line.startswith("- Replace:") and job in line and "run again" in line
                   for line in out.splitlines()), out


def test_the_default_database_changes_nothing_in_the_shipped_stacks():
    """The stacks' database is PostgresServer's default, so handing its name to the UI renames no Job and restarts
    no pod at the upgrade: the Jobs' names are those a UI given no database gets (test_open_webui_database.py), and
    no pod template carries the database."""
    for stack in ("dev", "prod", "llmd"):
        p = plan_for(stack)
        assert _one(p, DATABASE, "postgres-db").inputs["databaseName"] == "openwebui"
        for d in p.of_type(DEPLOYMENT):
            assert "llm-platform/database" not in (d.inputs["spec"]["template"]["metadata"].get("annotations") or {})
