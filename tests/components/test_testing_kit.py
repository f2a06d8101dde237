"""The testing kit (llmplatform.testing) itself, as a consumer's test suite meets it: runs after a failed one."""
import gc
import logging

import pulumi
import pulumi_kubernetes as k8s
import pytest

from llmplatform.testing import run


def _failing_inside_the_sdk() -> None:
    provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
    opts = pulumi.ResourceOptions(provider=provider)
    # a value of the wrong type: the SDK's own output typing fails the registration (AssertionError in do_register)
    k8s.core.v1.Secret("token", metadata={"name": "token"}, string_data={"token": {"nested": "x"}}, opts=opts)
    for i in range(5):
        k8s.core.v1.ConfigMap(f"config-{i}", metadata={"name": f"config-{i}"}, data={"a": "b"}, opts=opts)


def _fine() -> None:
    provider = k8s.Provider("k8s", kubeconfig="apiVersion: v1\nkind: Config\n")
    k8s.core.v1.ConfigMap("config", metadata={"name": "config"}, data={"a": "b"},
                          opts=pulumi.ResourceOptions(provider=provider))


def test_a_run_that_fails_inside_the_sdk_raises_once_and_leaves_no_noise_for_the_next(caplog):
    """The error is raised to the caller once; the same error left on the futures of the resource's outputs was
    printed again by asyncio ("Future exception was never retrieved", with a traceback) for each of them when they
    were collected, in the middle of later tests."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    with pytest.raises(AssertionError, match="string_data.token"):
        run(_failing_inside_the_sdk)
    assert len(run(_fine).resources) == 2  # the next run in the process is unaffected
    gc.collect()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_the_mocks_answer_in_call_order_so_two_runs_of_a_program_are_one_plan(monkeypatch):
    """The SDK hands each monitor call to the loop's executor; from a thread pool the answers came back in the order
    the threads finished, so writes queued in the order their inputs resolve (a vault's secrets) were chained
    differently run to run (llm-d's plan took three orders in five runs). Every call now runs in the caller's thread,
    in call order."""
    import threading

    import llmplatform.testing as kit
    threads = set()
    answer = kit.OfflineMocks.new_resource

    def recording(self, args):
        threads.add(threading.current_thread())
        return answer(self, args)
    monkeypatch.setattr(kit.OfflineMocks, "new_resource", recording)
    plan = run(_fine)
    assert threads == {threading.main_thread()} and len(plan.resources) == 2


def test_a_whole_stack_plans_the_same_twice():
    from offline import runner
    from tests.conftest import variant
    # registration order may differ inside one process (the SDK awaits sets of resources, ordered by address);
    # what each resource waits for may not
    first = sorted((r.urn, r.dependencies) for r in variant("llmd").resources)
    again = sorted((r.urn, r.dependencies) for r in runner.run("llmd", {}).resources)
    assert again == first
