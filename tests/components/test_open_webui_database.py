"""OpenWebUi's `database_name` (PostgresServer's `database`): the bootstrap and migration Jobs are named after it and
the UI's pods carry it, so a new database (an empty one, `postgres.database` renamed) gets the UI's role, pgvector
and schema before the pods restart onto it. A UI on PostgresServer's default database, or given none, keeps the names
it had before the input existed. Through the stack config and the PR check: tests/offline/test_database_rename.py."""
from __future__ import annotations

import pulumi
import pytest

import llmplatform as P
from llmplatform.open_webui import DATABASE_ANNOTATION
from llmplatform.workload_identity import CLIENT_ID_ANNOTATION
from offline import runner as offline

from tests.components.test_components_alone import REQUIRED, provider_opts

JOB = "kubernetes:batch/v1:Job"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
BOOTSTRAP, MIGRATION = "open-webui-db-bootstrap", "open-webui-migrate"


def _ui(database=None, as_output: bool = False, component: str = "OpenWebUi"):
    def program() -> None:
        args = REQUIRED[component]()
        if component == "InferenceStack":
            args.update(database_url_secret="db-url", admin_database_url_secret="db-admin-url")
        else:
            args["admin_database_url_secret"] = "db-admin-url"
        if database is not None:
            args["database_name"] = pulumi.Output.from_input(database) if as_output else database
        getattr(P, component)("ui", args, provider_opts())
    return offline.run_function(program)


def _jobs(p) -> dict[str, str]:
    """Each Job's kind (its app.kubernetes.io/name) -> its object name."""
    return {r.inputs["metadata"]["labels"]["app.kubernetes.io/name"]: r.inputs["metadata"]["name"]
            for r in p.of_type(JOB)}


def _ui_deployment(p):
    (ui,) = [r for r in p.of_type(DEPLOYMENT) if r.inputs["metadata"]["name"] == "open-webui"]
    return ui


def _pod_annotations(p) -> dict:
    return _ui_deployment(p).inputs["spec"]["template"]["metadata"].get("annotations") or {}


def test_a_ui_on_the_default_database_keeps_the_names_and_pods_it_had_without_one():
    """PostgresServer's default database (`openwebui`, every shipped stack's) names the Jobs and the pod template as
    a UI given no database does: upgrading to a release that hands the name over runs no Job and restarts no pod."""
    alone, default = _ui(), _ui("openwebui")
    assert set(_jobs(alone)) == {BOOTSTRAP, MIGRATION}
    assert _jobs(default) == _jobs(alone)
    # the pods' annotations: their identity's client id alone (CLIENT_ID_ANNOTATION), the same in both
    assert _pod_annotations(default) == _pod_annotations(alone)
    assert set(_pod_annotations(alone)) == {CLIENT_ID_ANNOTATION}


@pytest.mark.parametrize("as_output", [False, True])
def test_a_new_database_runs_both_jobs_again_and_then_restarts_the_pods_onto_it(as_output):
    """A new database name is a new name for each Job (a Job's template is immutable: a new Job runs, the old one is
    deleted first) and a new pod template (a rollout), the same whether the name is plain or a handle's output; the
    pods wait for the migration, the migration for the bootstrap, so the pods start on a database the UI's role
    owns, with pgvector and the schema."""
    before, after = _jobs(_ui("openwebui")), _jobs(p := _ui("chat2", as_output))
    assert all(after[job] != before[job] for job in (BOOTSTRAP, MIGRATION)), (before, after)
    assert _jobs(_ui("chat3")) != after  # each database its own Jobs
    assert _pod_annotations(p)[DATABASE_ANNOTATION] == "chat2"
    urns = {r.inputs["metadata"]["labels"]["app.kubernetes.io/name"]: r.urn for r in p.of_type(JOB)}
    migration = next(r for r in p.of_type(JOB) if r.urn == urns[MIGRATION])
    assert urns[BOOTSTRAP] in migration.dependencies and urns[MIGRATION] in _ui_deployment(p).dependencies


def test_inference_stack_hands_its_ui_the_database():
    before, after = _ui("openwebui", component="InferenceStack"), _ui("chat2", component="InferenceStack")
    assert _jobs(before) == _jobs(_ui(component="InferenceStack"))
    assert _jobs(after)[BOOTSTRAP] != _jobs(before)[BOOTSTRAP]
    assert _pod_annotations(after)[DATABASE_ANNOTATION] == "chat2"


@pytest.mark.parametrize("component", ["OpenWebUi", "InferenceStack"])
@pytest.mark.parametrize("as_output", [False, True])
def test_a_database_name_postgresql_would_not_take_is_refused_naming_input_value_and_rule(component, as_output):
    """The name PostgresServer's rule takes (a lowercase PostgreSQL identifier): refused before anything registers,
    or once an output resolves, in one sentence without a traceback."""
    with pytest.raises((P.ComponentInputError, offline.ProgramError)) as refused:
        _ui("Chat-2", as_output, component)
    message = str(refused.value)
    assert message.startswith(f"{component} ui: input database_name='Chat-2' is invalid; allowed: a lowercase "
                              "PostgreSQL identifier"), message
    assert "Traceback" not in message and "While processing" not in message
