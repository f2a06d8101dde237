"""A stand-in for the Pulumi engine's side of two plugin protocols, so the tests run our plugins as the CLI does.

- The policy pack is an **Analyzer** plugin: `pulumi preview --policy-pack policy` has the Python language host
  run it (`RunPlugin`, since v3.198.0, pulumi/pulumi#20412, in place of the shim `pulumi-analyzer-policy-python`;
  sdk/python/cmd/pulumi-language-python/main.go at 1b5949891b): `python -u -m pulumi.policy <engine> <pack folder>`
  in the pack's folder with PULUMI_ORGANIZATION/PULUMI_PROJECT/PULUMI_STACK/PULUMI_DRY_RUN set (and PULUMI_CONFIG,
  the stack's config, since v3.208.0, #20572, which this pack does not read: its settings are the policy config),
  reads the port from stdout, then calls Handshake, ConfigureStack,
  GetAnalyzerInfo, Analyze once a resource (inputs marshalled with secrets and unknowns kept) and AnalyzeStack
  (every resource's outputs, components' and the Stack's too, `step_generator.go` `AnalyzeResources`; pulumi/pulumi
  sdk/go/common/resource/plugin/analyzer_plugin.go, sdk/python/dist/pulumi-analyzer-policy-python).
- The component package is a **ResourceProvider** plugin: the Python language host runs `python <package dir>
  <engine>`; the engine calls GetSchema, then Construct once a component, with a resource monitor the provider
  registers the component's children with (provider_plugin.go `Construct`).

`EngineStub` answers Log; `MonitorStub` serves the offline runner's recording monitor over gRPC, so what a
Construct registers is recorded and checked exactly as `make plan` records and checks a program.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import weakref
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
import grpc  # type: ignore[import-untyped]  # grpcio ships no type information (no py.typed, stubs apart)
from google.protobuf import empty_pb2, json_format
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import (analyzer_pb2, analyzer_pb2_grpc, engine_pb2, engine_pb2_grpc, errors_pb2,
                                  provider_pb2, provider_pb2_grpc, resource_pb2, resource_pb2_grpc, status_pb2)

from llmplatform.testing.records import OUTPUT_VALUE_SIG, RESOURCE_REF_SIG

from . import policy_check, runner
from .property_path import parse_path
from .wire import duration_seconds, from_struct, to_struct

PROJECT_DIR = runner.PROJECT_DIR
POLICY_DIR = PROJECT_DIR / "policy"
COMPONENTS_DIR = PROJECT_DIR / "components"
START_TIMEOUT = 60.0  # seconds a plugin may take to print its port (imports on a busy 2-core machine)


# ---- the engine side ----------------------------------------------------------------------------------------

class EngineStub(engine_pb2_grpc.EngineServicer):
    """The engine's Engine service: keeps what plugins log (errors are test failures)."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str]] = []

    def Log(self, request, context):
        self.logs.append((request.severity, request.message))
        return empty_pb2.Empty()

    def errors(self) -> list[str]:
        return [message for severity, message in self.logs if severity == engine_pb2.ERROR]


class _Monitor(runner.RecordingMonitor):
    """The recording monitor with URNs as the engine makes them: a fixed project and stack, and the parent's whole
    qualified type (`A$B$type`; pkg/resource/deploy `generateURN` uses parent.QualifiedType(), where the SDK's mock
    monitor keeps only the last link)."""

    def __init__(self, project: str, stack: str, new_stack: bool = False) -> None:
        # new_stack: each create answered as `pulumi preview` of a stack with nothing created yet (the kit's preview)
        super().__init__(runner.OfflineMocks(preview=new_stack))
        self.project, self.stack = project, stack
        self.lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent:
            type_ = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"


# The SDK's dry-run flag, a ContextVar behind `Settings.dry_run` (pulumi 3.272.0 `_utils.py` `ContextProperty`), read
# by the mock monitor in the thread that serves a call: an unknown input kept as the SDK's Unknown or dropped
# (`runtime/rpc.py` `deserialize_property`), the kit's preview paths (`stand_ins`). A thread where it is unset reads
# the property's default, which every run that first sets it in a fresh context moves (`fset`): the last kit run in the
# process decided how a deployment through the provider recorded its inputs (after a plan of a preview on the same
# test worker, an `up` kept Unknowns; after an `up`, a preview dropped them). Each call sets it as its own engine has
# it, and puts it back, leaving the default alone.
_DRY_RUN = vars(type(pulumi_settings.SETTINGS))["dry_run"]._data


class MonitorStub(resource_pb2_grpc.ResourceMonitorServicer):
    """The ResourceMonitor a Construct registers children with. Features as the SDK's mock monitor: no output
    values (the SDK then sends plain values and dependencies, which the real engine accepts too)."""

    # Every monitor of this process, for a read of a resource an earlier deployment registered (Invoke below).
    _every: "weakref.WeakSet[_Monitor]" = weakref.WeakSet()
    # a WeakSet iterated while another thread adds to it raises "Set changed size during iteration": the read below
    # runs on gRPC's pool while the next deployment makes its monitor (the very case it is for)
    _every_lock = threading.Lock()

    def __init__(self, project: str, stack: str, new_stack: bool = False, preview: bool = False) -> None:
        self.monitor = _Monitor(project, stack, new_stack)
        self.preview = preview  # the deployment's engine: `pulumi preview` (dryRun)
        with MonitorStub._every_lock:
            MonitorStub._every.add(self.monitor)

    @property
    def registrations(self) -> list[runner.Registration]:
        return self.monitor.registrations

    def _holder(self, request: Any) -> "_Monitor":
        """The monitor that registered the resource a `pulumi:pulumi:getResource` reads (the SDK's rehydration of a
        resource reference), this one first. The plugin's SDK points every RPC at the monitor of the latest Construct
        (pulumi 3.272.0 provider/server.py `reset_options`), so a rehydration an earlier construct left running
        reaches a later test's deployment, which the one engine of a real `pulumi up` never has; it was an unretrieved
        "unknown resource" traceback in the plugin's stderr now and then, failing the tests' clean-stderr check."""
        if request.tok != "pulumi:pulumi:getResource":
            return self.monitor
        urn = json_format.MessageToDict(request.args).get("urn")
        if urn in self.monitor.resources:
            return self.monitor
        with MonitorStub._every_lock:
            every = list(MonitorStub._every)
        return next((m for m in every if urn in m.resources), self.monitor)

    def _call(self, method: str, request: Any, monitor: Optional["_Monitor"] = None) -> Any:
        monitor = monitor or self.monitor
        mode = _DRY_RUN.set(self.preview)
        try:
            with monitor.lock:  # the mock monitor's state is not thread-safe; gRPC serves from a pool
                return getattr(monitor, method)(request)
        finally:
            _DRY_RUN.reset(mode)

    def GetDeploymentInfo(self, request, context):
        return self._call("GetDeploymentInfo", request)

    def SupportsFeature(self, request, context):
        return resource_pb2.SupportsFeatureResponse(
            hasSupport=self._call("SupportsFeature", request).hasSupport)

    def RegisterResource(self, request, context):
        return self._call("RegisterResource", request)

    def RegisterResourceOutputs(self, request, context):
        return self._call("RegisterResourceOutputs", request)

    def Invoke(self, request, context):
        try:
            return self._call("Invoke", request, self._holder(request))
        except NotImplementedError as error:  # an invoke the offline runner does not answer: a test failure
            context.abort(grpc.StatusCode.UNIMPLEMENTED, str(error))

    def ReadResource(self, request, context):
        return self._call("ReadResource", request)

    def RegisterPackage(self, request, context):
        return self._call("RegisterPackage", request)


# Every port a server of this process listened on. A plugin keeps its process across the tests' deployments, and
# gRPC shares a subchannel among the channels to one address: a new monitor on the port of one stopped a moment
# before could meet that subchannel still backing off from the stopped one, and the plugin's first RPC to it failed
# UNAVAILABLE ("Resource monitor has terminated, shutting down": pulumi 3.272.0 runtime/settings.py
# `grpc_error_to_exception`), once in a loaded suite. A real engine serves one monitor for the plugin's life.
_PORTS_USED: set[int] = set()


def _server(*servicers: tuple[Any, Any]) -> tuple[grpc.Server, str]:
    """A started gRPC server of `servicers` on a loopback port no earlier server of this process had."""
    held: list[grpc.Server] = []  # bound, so that the next bind takes another port
    while True:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        for add, servicer in servicers:
            add(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        if port not in _PORTS_USED:
            break
        held.append(server)
    for other in held:
        other.stop(0)
    _PORTS_USED.add(port)
    server.start()
    return server, f"127.0.0.1:{port}"


# ---- plugins ------------------------------------------------------------------------------------------------

class PluginError(RuntimeError):
    """A plugin did not start, or an RPC failed for a reason other than bad inputs."""


# Linux: the plugin gets SIGKILL when the process that started it dies (a crashed test run leaves none). Set by a tiny
# launcher that then execs the plugin (the death signal survives execve), not by `preexec_fn`: a preexec_fn makes
# Python fork with its at-fork handlers, and grpcio's (this process serves the engine stand-ins over gRPC) then broke
# the child's event engine now and then ("epoll_wait error: Bad file descriptor", the plugin dying before its port).
_DIE_WITH_PARENT = ("import ctypes, os, sys\n"
                    "try:\n"
                    "    ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL\n"
                    "except (OSError, AttributeError):\n"
                    "    pass\n"
                    "os.execv(sys.argv[1], sys.argv[1:])\n")


def _dying_with_parent(argv: list[str]) -> list[str]:
    return [sys.executable, "-c", _DIE_WITH_PARENT, *argv]


# A folder holding only a sitecustomize.py that raises the plugins' garbage collection threshold (read it).
PLUGIN_SITE = Path(__file__).resolve().parent / "plugin_site"


def _plugin_environment(env: dict[str, str]) -> dict[str, str]:
    python_path = os.pathsep.join(p for p in (str(PLUGIN_SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": python_path, **env}


class Plugin:
    """A plugin process started as the CLI starts it; its gRPC channel once it printed its port."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(_dying_with_parent(argv), cwd=cwd, env=_plugin_environment(env),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # stderr read as it comes, as the engine reads it (plugin.go `runtrace`, each line a diagnostic for the
        # user): left in the pipe, 64 KiB of it blocked the plugin's next write, and the plugin with it
        self._stderr: list[str] = []
        errors, stdout = self.process.stderr, self.process.stdout
        assert errors is not None and stdout is not None  # stderr=PIPE, stdout=PIPE
        self._stderr_reader = threading.Thread(target=lambda: self._stderr.extend(iter(errors.readline, "")),
                                               daemon=True)
        self._stderr_reader.start()
        port: list[str] = []
        printed = threading.Event()

        def read_stdout() -> None:  # the port first; then whatever else, drained as the engine drains it
            port.append(stdout.readline())
            printed.set()
            for _ in iter(stdout.readline, ""):
                pass
        threading.Thread(target=read_stdout, daemon=True).start()
        printed.wait(START_TIMEOUT)
        if not port or not port[0].strip().isdigit():
            err = self.close()
            raise PluginError(f"{' '.join(argv)} printed no port within {START_TIMEOUT:.0f} s: {port[:1]} "
                              f"{err[-2000:]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port[0].strip()}")
        grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT)

    def stderr(self) -> str:
        """What the plugin wrote to stderr so far (the engine would have shown each line to the user)."""
        return "".join(self._stderr)

    def close(self) -> str:
        """Stop the plugin; what it wrote to stderr."""
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        self.process.kill()
        self.process.wait()
        self._stderr_reader.join(START_TIMEOUT)  # the pipe closes with the process (and any child holding it)
        return "".join(self._stderr)


# ---- the Analyzer -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Diagnostic:
    policy: str
    mandatory: bool
    urn: str
    message: str


def pack_python(policy_dir: Path) -> Path:
    """The python the language host starts the pack with: its PulumiPolicy.yaml's `virtualenv` (relative to the
    pack), as pulumi/pulumi's Python language host resolves it (`parseOptions`; `RunPlugin` refuses a path that is
    not a virtualenv, `python.NewVirtualEnvError`)."""
    project = yaml.safe_load((policy_dir / "PulumiPolicy.yaml").read_text()) or {}
    runtime = project.get("runtime")
    virtualenv = (runtime.get("options") or {}).get("virtualenv") if isinstance(runtime, dict) else None
    if not virtualenv:
        raise PluginError(f"{policy_dir / 'PulumiPolicy.yaml'} names no virtualenv: the language host would start "
                          "the pack with a python that may lack pulumi-policy")
    python = (policy_dir / virtualenv).resolve() / "bin" / "python"
    if not python.exists():
        raise PluginError(f"the pack's virtualenv {virtualenv} ({python.parent.parent}) is not a virtualenv")
    return python


class AnalyzerHost:
    """The policy pack as `pulumi preview --policy-pack policy` runs it, for one stack."""

    def __init__(self, project: str, stack: str, policy_dir: Path = POLICY_DIR,
                 config: Optional[dict[str, dict[str, Any]]] = None) -> None:
        self.engine = EngineStub()
        self.server, address = _server((engine_pb2_grpc.add_EngineServicer_to_server, self.engine))
        env = {"PULUMI_PROJECT": project, "PULUMI_STACK": stack, "PULUMI_DRY_RUN": "true",
               "PULUMI_ORGANIZATION": "organization"}
        try:
            self.plugin = Plugin([str(pack_python(policy_dir)), "-u", "-m", "pulumi.policy", address, "."],
                                 policy_dir, env)
        except PluginError:
            self.server.stop(0)
            raise
        self.client = analyzer_pb2_grpc.AnalyzerStub(self.plugin.channel)
        self._handshake(address, policy_dir)
        self.client.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization="organization", dry_run=True))
        self.configure(config or {})

    def configure(self, given: dict[str, dict[str, Any]]) -> None:
        """The pack's configuration as the engine sends it (pulumi/pulumi pkg/resource/analyzer/config.go,
        `ReconcilePolicyPackConfig`, then the analyzer plugin's `Configure`): every policy the pack lists, at its own
        enforcement level, its schema's defaults with the --policy-pack-config properties over them."""
        policy_check.properties_only(given)
        policy_config = {}
        for policy in self.info().policies:
            schema = from_struct(policy.configSchema.properties) if policy.HasField("configSchema") else {}
            properties = {k: v["default"] for k, v in schema.items() if "default" in v}
            properties.update(given.get(policy.name, {}))
            policy_config[policy.name] = analyzer_pb2.PolicyConfig(enforcementLevel=policy.enforcementLevel,
                                                                   properties=to_struct(properties))
        self.client.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))

    def _handshake(self, address: str, policy_dir: Path) -> None:
        try:
            self.client.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address=address, root_directory=str(policy_dir), program_directory=str(policy_dir)))
        except grpc.RpcError as error:  # the engine, too, goes on when a pack does not implement it
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.client.GetAnalyzerInfo(empty_pb2.Empty())

    def analyze(self, reg: runner.Registration, plan: runner.Plan) -> list[Diagnostic]:
        """One resource as the engine hands it over: inputs with secrets (and in a preview unknowns), its options,
        its provider."""
        response = self.client.Analyze(analyzer_pb2.AnalyzeRequest(
            type=reg.type, properties=to_struct(policy_check.wire_inputs(reg)), urn=reg.urn,
            name=reg.name, options=self._options(reg), provider=self._provider(reg, plan)))
        return self._diagnostics(response)

    def analyze_stack(self, plan: runner.Plan) -> list[Diagnostic]:
        response = self.client.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(
                type=reg.type, properties=to_struct(policy_check.stack_properties(reg, plan)), urn=reg.urn,
                name=reg.name, options=self._options(reg), provider=self._provider(reg, plan),
                parent=reg.parent, dependencies=reg.dependencies,
                propertyDependencies={key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                                      for key, urns in reg.property_dependencies.items()})
            for reg in policy_check.stack_resources(plan)]))
        return self._diagnostics(response)

    @staticmethod
    def _options(reg: runner.Registration) -> analyzer_pb2.AnalyzerResourceOptions:
        timeouts = reg.options.get("customTimeouts") or {}
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=reg.options.get("protect", False), ignoreChanges=reg.options.get("ignoreChanges") or [],
            deleteBeforeReplace=reg.options.get("deleteBeforeReplace", False),
            # the engine's option is a pointer, set for true and for an explicit false (pulumi/pulumi 1b5949891b
            # pkg/resource/plugin/analyzer_plugin.go `marshalResourceOptions`: `opts.DeleteBeforeReplace != nil`);
            # the kit records an explicit false as `deleteBeforeReplaceDefined`
            deleteBeforeReplaceDefined=policy_check.delete_before_replace(reg) is not None,
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
                **{kind: duration_seconds(timeouts.get(kind)) or 0.0 for kind in ("create", "update", "delete")}),
            parent=reg.parent)

    @staticmethod
    def _provider(reg: runner.Registration, plan: runner.Plan) -> Optional[analyzer_pb2.AnalyzerProviderResource]:
        provider = plan.provider_of(reg)  # the one it names, else its package's default provider
        if provider is None:
            return None
        return analyzer_pb2.AnalyzerProviderResource(type=provider.type, urn=provider.urn, name=provider.name,
                                                     properties=to_struct(policy_check.wire_inputs(provider)))

    @staticmethod
    def _diagnostics(response: analyzer_pb2.AnalyzeResponse) -> list[Diagnostic]:
        return [Diagnostic(d.policyName, d.enforcementLevel == analyzer_pb2.MANDATORY, d.urn, d.message)
                for d in response.diagnostics]

    def close(self) -> str:
        err = self.plugin.close()
        self.server.stop(0)
        return err


# ---- the component provider ---------------------------------------------------------------------------------

@dataclass
class ConstructFailure(Exception):
    """Construct answered with an error status: its code, message and per-property errors."""

    code: grpc.StatusCode
    message: str
    property_errors: list[tuple[str, str]] = field(default_factory=list)
    shown: str = ""
    """What the CLI shows the user (`engine_message`): the message, then a line per property error."""

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message} {self.property_errors}"


@dataclass
class Constructed:
    urn: str
    outputs: dict[str, Any]
    """The component's outputs, secrets unwrapped (to assert on)."""
    children: list[runner.Registration]
    wire: dict[str, Any] = field(default_factory=dict)
    """The outputs as the engine keeps them (secrets wrapped), as a program passes them to the next component."""
    state_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Each output's dependencies as Construct answered them (`stateDependencies`): what the engine hands the
    program as that output's dependencies (`RegisterResourceResponse.propertyDependencies`)."""


class ProviderHost:
    """The component package as the engine runs it for a Pulumi YAML, TypeScript or Go program."""

    _shared = False  # a host from with_fresh_monitor: the plugin process is the first host's to stop

    def __init__(self, project: str = "consumer", stack: str = "dev", package_dir: Path = COMPONENTS_DIR) -> None:
        self.project, self.stack = project, stack
        self.engine = EngineStub()
        self.monitor = MonitorStub(project, stack)
        self.server, self.address = _server((engine_pb2_grpc.add_EngineServicer_to_server, self.engine),
                                            (resource_pb2_grpc.add_ResourceMonitorServicer_to_server, self.monitor))
        try:
            self.plugin = Plugin([sys.executable, "-u", str(package_dir), self.address], package_dir, {})
        except PluginError:
            self.server.stop(0)
            raise
        self.client = provider_pb2_grpc.ResourceProviderStub(self.plugin.channel)

    preview = False  # Construct's dryRun: `pulumi preview`, where values not known yet arrive as unknowns

    def with_fresh_monitor(self, stack: str, preview: bool = False, new_stack: bool = False) -> "ProviderHost":
        """A second deployment against the same plugin process: its own resource monitor and stack name (Construct
        names its monitor per request, as the engine does for each deployment); a preview with `preview`, of a stack
        with nothing created yet with `new_stack` too (each child's create answered as its provider answers a
        preview: ids and computed outputs unknown, so the components' outputs built from them are unknown)."""
        other = object.__new__(ProviderHost)
        other.project, other.stack, other.engine, other.preview = self.project, stack, self.engine, preview
        other.monitor = MonitorStub(self.project, stack, new_stack, preview)
        other.server, other.address = _server((resource_pb2_grpc.add_ResourceMonitorServicer_to_server, other.monitor))
        other.plugin, other.client, other._shared = self.plugin, self.client, True
        return other

    def schema(self) -> dict[str, Any]:
        return json.loads(self.client.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema)

    def schema_of(self, type_: str) -> dict[str, Any]:
        """The schema's resource of a component type ({} where it has none), from the schema read once."""
        if getattr(self, "_schema", None) is None:
            self._schema = self.schema()
        return self._schema["resources"].get(type_) or {}

    def output_names(self, type_: str) -> set[str]:
        """The outputs the schema declares for a component type."""
        return set(self.schema_of(type_).get("properties") or {})

    def construct(self, type_: str, name: str, inputs: dict[str, Any],
                  input_dependencies: Optional[dict[str, list[str]]] = None,
                  providers: Optional[dict[str, str]] = None, parent: str = "",
                  options: Optional[dict[str, Any]] = None) -> Constructed:
        """One component, inputs as the wire carries them (a Struct: numbers are doubles); `options` as a program
        gives them (protect, retainOnDelete, deletedWith, customTimeouts {create, update, delete}), as the engine
        sends them on (`provider_plugin.go` `Construct`)."""
        before = len(self.monitor.registrations)
        given = dict(options or {})
        timeouts = given.pop("customTimeouts", None)
        request = provider_pb2.ConstructRequest(
            project=self.project, stack=self.stack, dryRun=self.preview, parallel=16, monitorEndpoint=self.address,
            type=type_, name=name, parent=parent, inputs=to_struct(_upgraded(_with_dependencies(
                inputs, input_dependencies or {}))), providers=providers or {},
            inputDependencies={k: provider_pb2.ConstructRequest.PropertyDependencies(urns=v)
                               for k, v in (input_dependencies or {}).items()},
            accepts_output_values=True, **given,
            **({"customTimeouts": provider_pb2.ConstructRequest.CustomTimeouts(**timeouts)} if timeouts else {}))
        try:
            response = self.client.Construct(request, timeout=120)
        except grpc.RpcError as error:
            problems = _property_errors(error)
            raise ConstructFailure(error.code(), error.details() or "", problems, engine_message(
                error.details() or "", problems, json_format.MessageToDict(request.inputs))) from None
        wire = json_format.MessageToDict(response.state)
        return Constructed(response.urn, runner._unwrap_secrets(wire), self.monitor.registrations[before:], wire,
                           {k: list(v.urns) for k, v in response.stateDependencies.items()})

    def refusals(self) -> list[str]:
        """What the real engine or the APIs would refuse among everything constructed so far."""
        return runner.refusals(self.monitor.registrations)

    def close(self) -> str:
        """Stop the plugin (unless this host shares another's) and the stand-in servers; the plugin's stderr."""
        err = "" if self._shared else self.plugin.close()
        self.server.stop(0)
        return err


def _with_dependencies(inputs: dict[str, Any], dependencies: dict[str, list[str]]) -> dict[str, Any]:
    """An input unknown as a whole carries its dependencies in its output value, as a program's SDK sends it (pulumi/
    pulumi 1b5949891b `sdk/go/pulumi/rpc.go` `marshalInputImpl`: an output not known is `resource.Output{Known:
    false, Dependencies: ...}`, which the SDK's server reads as an Output depending on them)."""
    return {k: {runner.SIG_KEY: OUTPUT_VALUE_SIG, "dependencies": dependencies[k]}
            if v == _UNKNOWN and dependencies.get(k) else v for k, v in inputs.items()}


def _upgraded(value: Any) -> Any:
    """Inputs as the engine forwards them to a provider that accepts output values (the Python SDK's server answers
    Configure with `acceptOutputs`): the resource monitor reads a program's request with `UpgradeToOutputValues`, so
    each secret and each unknown becomes an output value (`{sig: output, secret: true, value}`, `{sig: output}`),
    which Construct sends as it is (pulumi/pulumi `sdk/go/common/resource/plugin/rpc.go` `UnmarshalPropertyValue`,
    `pkg/resource/deploy/source_eval.go` `RegisterResource`, `provider_plugin.go` `Construct` with
    `KeepOutputValues: protocol.acceptOutputs`)."""
    if isinstance(value, dict):
        if value.get(runner.SIG_KEY) == runner.SECRET_SIG:
            inner = _upgraded(value.get("value"))
            if isinstance(inner, dict) and inner.get(runner.SIG_KEY) == OUTPUT_VALUE_SIG:
                return {**inner, "secret": True}
            return {runner.SIG_KEY: OUTPUT_VALUE_SIG, "secret": True, "value": inner}
        return {k: _upgraded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_upgraded(v) for v in value]
    if value == _UNKNOWN:
        return {runner.SIG_KEY: OUTPUT_VALUE_SIG}
    return value


def _property_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The InputPropertiesError details a provider packs into grpc-status-details-bin, as the engine unpacks them."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            found: list[tuple[str, str]] = []
            for detail in status.details:
                details = errors_pb2.InputPropertiesError()
                if detail.Unpack(details):
                    found.extend((e.property_path, e.reason) for e in details.errors)
            return found
    return []


def engine_message(message: str, problems: list[tuple[str, str]], inputs: dict[str, Any]) -> str:
    """A refused Construct as the engine shows it (pulumi/pulumi `pkg/resource/deploy/source_eval.go`
    `errorToMessage` at 1b5949891b): the status message, then for each property error "property <path> with value
    '<value>' has a problem: <reason>" when the path (`ParsePropertyPath`, loose) leads through plain objects and
    lists of the inputs as sent (`PropertyPath.Get` stops at a secret or an output value) to a value, which Go's
    `%v` prints whole, a secret's plaintext included (`PropertyValue.String`); else "property <path> has a
    problem: <reason>"."""
    for path, reason in problems:
        found = _engine_get(inputs, parse_path(path))
        if found is _MISSING:
            message += f"\n\t\t- property {path} has a problem: {reason}"
        else:
            message += f"\n\t\t- property {path} with value '{_go_string(found)}' has a problem: {reason}"
    return message


_MISSING = object()


def _engine_get(value: Any, path: Optional[list[Any]]) -> Any:
    """`PropertyPath.Get`: only a plain object (no signature: not a secret, output value, resource or asset) or a
    list is walked into."""
    if path is None:
        return _MISSING
    for key in path:
        if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
            value = value[key]
        elif isinstance(value, dict) and runner.SIG_KEY not in value and isinstance(key, str) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def _go_string(value: Any) -> str:
    """Close to `PropertyValue.String` under `%v`: a secret (or a secret output value) as `{&{<its value>}}`, its
    plaintext in it; containers approximately."""
    if isinstance(value, dict):
        sig = value.get(runner.SIG_KEY)
        if sig == runner.SECRET_SIG or (sig == OUTPUT_VALUE_SIG and value.get("secret") and "value" in value):
            return "{&{" + _go_string(value.get("value")) + "}}"
        if sig == OUTPUT_VALUE_SIG:
            return _go_string(value["value"]) if "value" in value else "output{}"
        return "{map[" + " ".join(f"{k}:{_go_string(v)}" for k, v in value.items()) + "]}"
    if isinstance(value, list):
        return "{[" + " ".join(_go_string(v) for v in value) + "]}"
    if value == _UNKNOWN:
        return "output{}"
    return "{" + ("true" if value is True else "false" if value is False else str(value)) + "}"


_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # an unknown on the wire (pulumi `rpc.py` UNKNOWN)


# ---- a Pulumi YAML program through the provider -------------------------------------------------------------

_REFERENCE = re.compile(r"\$\{([A-Za-z0-9_-]+)\.([A-Za-z0-9_.\[\]-]+)\}")


@dataclass
class YamlRun:
    constructed: dict[str, Constructed]
    outputs: dict[str, Any]


# any `${...}`: a resource's output, a variable, a stack reference's `outputs["key"]`, a provider by its name
_ANY_REFERENCE = re.compile(r"\$\{([A-Za-z0-9_-]+)((?:\.[A-Za-z0-9_-]+|\[(?:\"[^\"]*\"|[0-9]+)\])*)\}")
_ACCESSOR = re.compile(r"\.([A-Za-z0-9_-]+)|\[\"([^\"]*)\"\]|\[([0-9]+)\]")


def _accessors(path: str) -> list[Any]:
    return [m.group(1) or m.group(2) if m.group(3) is None else int(m.group(3)) for m in _ACCESSOR.finditer(path)]


def yaml_order(resources: dict[str, Any], variables: Optional[dict[str, Any]] = None) -> list[str]:
    """Resources in an order where each comes after those its `${name.output}` expressions name, directly or through
    the `variables` it names (as Pulumi YAML orders them); a cycle or an unknown name is an error."""
    variables = variables or {}

    def named(spec: Any, seen: frozenset[str] = frozenset()) -> set[str]:
        found: set[str] = set()
        for m in _ANY_REFERENCE.finditer(json.dumps(spec)):
            if m.group(1) in variables and m.group(1) not in seen:
                found |= named(variables[m.group(1)], seen | {m.group(1)})
            elif m.group(1) not in variables:
                found.add(m.group(1))
        return found
    needs = {name: named(spec) for name, spec in resources.items()}
    unknown = {n for deps in needs.values() for n in deps} - set(resources)
    if unknown:
        raise ValueError(f"references to undeclared resources: {sorted(unknown)}")
    order: list[str] = []
    while len(order) < len(resources):
        ready = [n for n in resources if n not in order and needs[n] <= set(order)]
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(set(resources) - set(order))}")
        order.extend(ready)
    return order


def run_yaml_program(host: ProviderHost, program: dict[str, Any],
                     transform: Optional[Callable[[str, str, dict[str, Any]], dict[str, Any]]] = None,
                     stack_outputs: Optional[dict[str, dict[str, Any]]] = None, sdk: Optional[str] = None) -> YamlRun:
    """Construct each resource of a Pulumi YAML program in order, resolving `${res.output}` from earlier Construct
    results and sending each reference's resource as the property's dependency, as Pulumi YAML does. `transform`
    may rewrite a resource's resolved properties (name, type, properties) before it is sent. `variables:` are read
    where they are named; a `pulumi:pulumi:StackReference` reads `stack_outputs[its name]` (the other stack's
    outputs, a secret one as the wire's secret: the engine's StackReference keeps each output's secrecy, pulumi/
    pulumi 1b5949891b `pkg/resource/deploy/builtins.go` `readStackReference`); a `pulumi:providers:<pkg>` resource is
    registered with the monitor and referenced by its name (`${k8s}`).

    In a preview (`host.preview`) a reference reads as Pulumi YAML reads it then (pulumi/pulumi-yaml 36f271cf
    `pkg/pulumiyaml/run.go` `evaluatePropertyAccessTail`): an output the component did not return is unknown, and a
    value that holds an unknown anywhere (a handle with one field not known yet: `${aks.cluster}` of a cluster
    still to be created) is unknown as a whole (`x.ContainsUnknowns()` gives `unknownOutput()`); a field of it
    (`${aks.cluster.networkPolicy}`) is its own value. A provider reference (`${aks.provider}`) stays a reference.

    With `sdk` (one of SDKS), the same program as a program in that language writes it: each `${component.output}`
    (or a field of it) a resource's property names is sent as that language's SDK sends it (`program_sends`); the
    program's `outputs:` are read as Pulumi YAML reads them."""
    done: dict[str, Constructed] = {}
    other: dict[str, tuple[str, Any]] = {}  # a stack reference's or provider's name -> (URN, what it reads as)
    variables = program.get("variables") or {}

    def walk(value: Any, path: str) -> Any:
        secret = False
        for key in _accessors(path):
            if _secret_wire(value):
                secret, value = True, value["value"]
            if value == _UNKNOWN:  # a variable unknown as a whole: Pulumi YAML's access is an apply on it, unknown
                break
            value = value.get(key) if isinstance(value, dict) else value[key] if isinstance(value, list) else None
        if _secret_wire(value):
            secret, value = True, value["value"]
        return {runner.SIG_KEY: runner.SECRET_SIG, "value": value} if secret and value is not None else value

    def reference(name: str, path: str, deps: set[str]) -> Any:
        if name in variables:
            return walk(resolve(variables[name], deps), path)
        if name in other:
            urn, value = other[name]
            deps.add(urn)
            return walk(value, path)
        if sdk is not None and sending:
            output, *accessors = _accessors(path)
            spec = (host.schema_of(resources[name]["type"]).get("properties") or {}).get(output) or {}
            if output not in done[name].wire and not host.preview and output not in host.output_names(
                    resources[name]["type"]):
                raise KeyError(f"{done[name].urn} has no output {path}")
            sent, sent_deps = program_sends(
                sdk, done[name].wire.get(output), _typed_dependencies(done[name], output), spec, host._schema,
                accessors, preview=host.preview, required=output in (host.schema_of(resources[name]["type"]).get(
                    "required") or []))
            deps.update(sent_deps)
            return sent
        deps.add(done[name].urn)  # Pulumi YAML: the component alone (`_typed_dependencies`)
        if host.preview:
            return _previewed_output(done[name], path.lstrip("."), host.output_names(resources[name]["type"]))
        return _output(done[name], path.lstrip("."))

    def resolve(value: Any, deps: set[str]) -> Any:
        if isinstance(value, dict):
            return {k: resolve(v, deps) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v, deps) for v in value]
        if not isinstance(value, str):
            return value
        whole = _ANY_REFERENCE.fullmatch(value)
        if whole:
            return reference(whole.group(1), whole.group(2), deps)
        pieces = {m.group(): reference(m.group(1), m.group(2), deps) for m in _ANY_REFERENCE.finditer(value)}
        plain = {k: v["value"] if _secret_wire(v) else v for k, v in pieces.items()}
        if _UNKNOWN in plain.values():
            return _UNKNOWN  # an interpolation of an unknown is unknown
        text = _ANY_REFERENCE.sub(lambda m: str(plain[m.group()]), value)
        secret = any(_secret_wire(v) for v in pieces.values())
        return {runner.SIG_KEY: runner.SECRET_SIG, "value": text} if secret else text

    resources = program.get("resources") or {}
    sending = True  # a resource's properties; False: the program's outputs, read as Pulumi YAML reads them
    for name in yaml_order(resources, variables):
        spec = resources[name]
        if spec["type"] == "pulumi:pulumi:StackReference":
            urn = host.monitor.monitor.make_urn("", spec["type"], name)
            other[name] = (urn, {"name": spec["properties"]["name"],
                                 "outputs": (stack_outputs or {})[spec["properties"]["name"]]})
            continue
        dependencies: dict[str, list[str]] = {}
        properties = {}
        for key, value in (spec.get("properties") or {}).items():
            deps: set[str] = set()
            properties[key] = resolve(value, deps)
            if deps:
                dependencies[key] = sorted(deps)
        if spec["type"].startswith("pulumi:providers:"):
            registered = host.monitor.RegisterResource(resource_pb2.RegisterResourceRequest(
                type=spec["type"], name=name, custom=True, object=to_struct(properties),
                propertyDependencies={k: resource_pb2.RegisterResourceRequest.PropertyDependencies(urns=v)
                                      for k, v in dependencies.items()}), None)
            other[name] = (registered.urn, {runner.SIG_KEY: RESOURCE_REF_SIG, "urn": registered.urn,
                                            "id": registered.id or _UNKNOWN})
            continue
        if transform is not None:
            properties = transform(name, spec["type"], properties)
        providers = {pkg: _provider_ref(resolve(ref, set()))
                     for pkg, ref in ((spec.get("options") or {}).get("providers") or {}).items()}
        done[name] = host.construct(spec["type"], name, properties, dependencies, providers)
    sending = False
    outputs = runner._unwrap_secrets({key: resolve(value, set())
                                       for key, value in (program.get("outputs") or {}).items()})
    return YamlRun(done, outputs)


def _typed_dependencies(constructed: Constructed, output: str) -> list[str]:
    """The dependencies a typed SDK's program gives a component's output: the component, then those the engine
    answered for that property (Construct's `stateDependencies`, handed on as the registration's property
    dependencies, pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go` `RegisterResource`), which the SDKs
    make the output's own (`sdk/go/pulumi/context.go` `deps[key]`, then dropped again by Go's `expandDependencies`:
    `program_sends`). Pulumi YAML gives the component alone: it reads a resource's raw outputs (pulumi-yaml 36f271cf
    `pkg/pulumiyaml/run.go` `evaluatePropertyAccessTail`, `x.GetRawOutputs()`), whose output state the Go SDK makes
    depending on that resource only (`context.go`: `rawOutputState := ctx.newOutputState(anyType, resourceV)`,
    resolved with no further resources). The engine counts a dependency on a component as one on its children
    registered before the dependent (pkg/resource/graph/dependency_graph.go `DependenciesOf`), which orders a
    destroy."""
    return [constructed.urn, *constructed.state_dependencies.get(output, [])]


def _holds_unknown(value: Any) -> bool:
    """Pulumi's `ContainsUnknowns`: an unknown (the wire's, or an output value without one) anywhere inside; a
    resource reference is not looked into."""
    if value == _UNKNOWN:
        return True
    if isinstance(value, dict):
        if value.get(runner.SIG_KEY) == RESOURCE_REF_SIG:
            return False
        if value.get(runner.SIG_KEY) == OUTPUT_VALUE_SIG and "value" not in value:
            return True
        return any(_holds_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_unknown(v) for v in value)
    return False


def _previewed_output(constructed: Constructed, path: str, outputs: set[str]) -> Any:
    """`${name.path}` as Pulumi YAML reads it in a preview (run_yaml_program)."""
    if re.split(r"\.|\[", path, maxsplit=1)[0] not in constructed.wire and path.split(".")[0] in outputs:
        return _UNKNOWN
    try:
        value = _output(constructed, path)
    except KeyError:
        if _holds_unknown(constructed.wire):
            return _UNKNOWN
        raise
    if isinstance(value, dict) and value.get(runner.SIG_KEY) == RESOURCE_REF_SIG:
        return value
    if _holds_unknown(value):
        secret = _secret_wire(value)
        return {runner.SIG_KEY: runner.SECRET_SIG, "value": _UNKNOWN} if secret else _UNKNOWN
    return value


def _secret_wire(value: Any) -> bool:
    """A secret as the wire carries it (`{sig: secret, value}`)."""
    return isinstance(value, dict) and value.get(runner.SIG_KEY) == runner.SECRET_SIG


def _output(constructed: Constructed, path: str) -> Any:
    value: Any = constructed.wire
    for part in re.split(r"\.|\[", path):
        part = part.rstrip("]")
        if _secret_wire(value):
            value = value["value"]  # a secret's field: Pulumi YAML keeps the secret bit, this stand-in drops it
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise KeyError(f"{constructed.urn} has no output {path}")
    return value


def _provider_ref(value: Any) -> str:
    """A provider resource reference (the engine's resource-reference signature) as Construct's `urn::id`."""
    if not (isinstance(value, dict) and value.get(runner.SIG_KEY) == RESOURCE_REF_SIG):
        raise ValueError(f"not a provider resource: {value!r}")
    return f"{value['urn']}::{value['id']}"


# ---- a Go, TypeScript, .NET or Java program through the provider ---------------------------------------------
# What each SDK sends when a program hands a component's output on to another component's input, as the engine
# forwards it to Construct (its resource monitor upgrades a program's unknowns and secrets to output values, which
# the provider takes as they are: pulumi/pulumi 1b5949891b `pkg/resource/deploy/source_eval.go` `RegisterResource`,
# `UpgradeToOutputValues`; `sdk/go/common/resource/plugin/rpc.go` `MarshalPropertyValue`). The output reaches the
# program as Construct answered it through the engine: a handle with a field not known yet holds the unknown
# sentinel in that field (`MarshalProperties` with `KeepUnknowns`, no output values), its dependencies the component
# and the URNs Construct's `stateDependencies` named for it (`RegisterResourceResponse.propertyDependencies`).
#
# - go (sdk/go/pulumi at 1b5949891b): `context.go` `resourceState.resolve` marks an output unknown only when its
#   top-level value is null, computed or an output value; a handle (an object) is known, so is a secret not known
#   yet (`{sig: secret, value: unknown}`: the secret's zero value, secret), and `rpc.go`
#   `unmarshalOutput` leaves every field holding an unknown at its Go zero value: "" for a required string, 0,
#   false, a nil pointer for an optional scalar and a nil slice or map, which `marshalInputOptionsImpl` leaves out
#   of the object it sends. The handle goes out as an output value (it has dependencies) whose value holds those
#   zeros, secret when a field was (`unmarshalOutput` ORs the fields' secrecy). Its dependencies: the component
#   alone, for `expandDependencies` keeps a resource only when `keepDependency()` (a remote component, a rehydrated
#   one, a `newDependencyResource`), and the `ResourceState`s `registerResource` makes of the response's property
#   dependencies are none of those. Generated structs: `pkg/codegen/go/gen.go` `genPlainType`, `typeStringImpl`
#   (an optional property a pointer, save arrays and maps).
# - nodejs (sdk/nodejs at 1b5949891b): `runtime/rpc.ts` `deserializeProperty` turns a nested unknown into
#   `unknown` in a preview, and `output.ts` `OutputImpl` makes an output holding one unknown as a whole
#   (`containsUnknowns`); `serializeProperty` sends it with `keepOutputValues` (remote components) as an output
#   value without `value`, with `dependencies` the transitively referenced custom resources and remote components
#   (`dependsOn.ts` `getAllTransitivelyReferencedResourceURNs`): the component and the `DependencyResource` of each
#   URN the response named for the output (`runtime/resource.ts`). A nested secret makes the whole output secret.
# - dotnet (pulumi/pulumi-dotnet 5e61d9ad): `Serialization/Deserializer.cs` `DeserializeStruct` combines the fields'
#   IsKnown and secrecy; `Serializer.cs` sends an Output as an output value (`keepOutputValues`), no value when
#   unknown, its dependencies those of the component's outputs (`Deployment_RegisterResource.cs`: the response's
#   property dependencies as `DependencyResource`s, `OutputCompletionSource` adds the component): as nodejs.
# - java (pulumi/pulumi-java, `sdk/java/pulumi/.../serialization/internal/Deserializer.java` at 1b93d7ca,
#   `Serializer.java` at 065fe7ff): the same known-ness and secrecy as .NET, but no output values: an unknown goes
#   out as the unknown sentinel (never secret: `serializeAsync` asks `isKnown` first), a secret as a secret, the
#   dependencies in the request's propertyDependencies alone. The engine upgrades them to output values with no
#   dependencies, which the Python SDK's server takes as they are, leaving inputDependencies aside (pulumi 3.272.0
#   `provider/server.py` `_select_value`).
SDKS = ("go", "nodejs", "dotnet", "java")
_OMITTED = object()


def _type_of(schema: dict[str, Any], spec: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The object type a property spec refers to (`#/types/<token>`), or None."""
    ref = spec.get("$ref", "")
    return schema.get("types", {}).get(ref.split("/")[-1]) if ref.startswith("#/types/") else None


def _go_zero(schema: dict[str, Any], spec: dict[str, Any], required: bool) -> Any:
    """The Go zero value of a property of a generated struct, as `marshalInputOptionsImpl` sends it: a required
    scalar's zero, a struct's fields' zeros; a nil pointer (an optional scalar or object), slice or map: left out."""
    object_type = _type_of(schema, spec)
    kind = str((object_type or {}).get("type", spec.get("type")))
    if kind == "array" or (kind == "object" and object_type is None) or not required:
        return _OMITTED
    if object_type is not None and kind == "object":
        return {k: z for k, p in object_type.get("properties", {}).items()
                if (z := _go_zero(schema, p, k in object_type.get("required", []))) is not _OMITTED}
    return {"string": "", "integer": 0.0, "number": 0.0, "boolean": False}.get(kind, _OMITTED)


def go_received(schema: dict[str, Any], spec: dict[str, Any], value: Any, required: bool = True) -> tuple[Any, bool]:
    """A value the engine handed a Go program (secrets and unknowns as the wire carries them) as the Go SDK holds
    it once `unmarshalOutput` wrote it into the generated type, marshalled again: (the value or _OMITTED, secret)."""
    secret = False
    while _secret_wire(value):
        secret, value = True, value["value"]
    if value == _UNKNOWN or value is None:
        return _go_zero(schema, spec, required), secret
    object_type = _type_of(schema, spec)
    if isinstance(value, dict) and object_type is not None and object_type.get("type") == "object":
        found = {}
        for key, item in value.items():  # a key the struct has no field for is dropped (`unmarshalOutput`)
            if key in object_type.get("properties", {}):
                got, inner = go_received(schema, object_type["properties"][key], item,
                                         key in object_type.get("required", []))
                secret = secret or inner
                if got is not _OMITTED:
                    found[key] = got
        return found, secret
    if isinstance(value, list) and "items" in spec:  # a nil item of a slice is sent as null
        listed = [go_received(schema, spec["items"], item) for item in value]
        return [None if item is _OMITTED else item for item, _ in listed], secret or any(s for _, s in listed)
    if isinstance(value, dict) and isinstance(spec.get("additionalProperties"), dict):
        mapped = {k: go_received(schema, spec["additionalProperties"], item) for k, item in value.items()}
        return ({k: item for k, (item, _) in mapped.items() if item is not _OMITTED},
                secret or any(s for _, s in mapped.values()))
    return value, secret


def _plain_of(value: Any) -> tuple[Any, bool]:
    """A value with every secret inside unwrapped, and whether there was one (nodejs `unwrapSecretValues`, .NET's
    and Java's deserializers push a nested secret up to the whole output)."""
    if _secret_wire(value):
        return _plain_of(value["value"])[0], True
    if isinstance(value, dict) and value.get(runner.SIG_KEY) != RESOURCE_REF_SIG:
        mapped = {k: _plain_of(v) for k, v in value.items()}
        return {k: v for k, (v, _) in mapped.items()}, any(s for _, s in mapped.values())
    if isinstance(value, list):
        listed = [_plain_of(v) for v in value]
        return [v for v, _ in listed], any(s for _, s in listed)
    return value, False


def program_sends(sdk: str, value: Any, dependencies: list[str], spec: dict[str, Any], schema: dict[str, Any],
                  accessors: Optional[list[Any]] = None, *, preview: bool, required: bool = False
                  ) -> tuple[Any, list[str]]:
    """A component's output handed on to another component's input by a program in `sdk` (or the field the
    `accessors` lead to, which the program read from it: `aks.Cluster.ClusterId()` in Go, an apply elsewhere), as
    the engine forwards it to Construct: the value and the input's property dependencies. `value` is the output as
    the engine handed it to the program (`Constructed.wire`; absent: None), `dependencies` the component's URN then
    the URNs Construct answered for the output, `spec` the output's schema property (`required` among the
    component's outputs). An absent output is unknown in a `preview` and known in an `up`: null, or in Go the zero
    value of its type (Go `context.go` `resolve`, `known = !keepUnknowns`; nodejs `runtime/rpc.ts`
    `resolveProperties`, .NET `Deployment_ReadOrRegisterResource.cs` `TrySetDefaultResult(isKnown: !_isDryRun)`).
    In Go a secret not known yet (`{sig: secret, value: unknown}`, the Python SDK's answer for a secret output not
    known yet: pulumi 3.272.0 `runtime/rpc.py` `serialize_property`) is known, its zero value (`resolve` marks an
    output unknown only for null, computed or output values, and `unmarshalOutput` unwraps the secret): a Go
    program's `aks.Kubeconfig` is "" in a new stack's preview. Java sends an unknown as the plain unknown sentinel,
    never secret (`Serializer.java` checks `isKnown` before `isSecret`)."""
    if isinstance(value, dict) and value.get(runner.SIG_KEY) == RESOURCE_REF_SIG:
        return value, dependencies[:1]
    if sdk not in SDKS:
        raise ValueError(f"no such SDK: {sdk}")
    if sdk == "go":
        deps = dependencies[:1]  # the component alone (`expandDependencies`)
        got, secret = go_received(schema, spec, value, required)
        sent: dict[str, Any] = {runner.SIG_KEY: OUTPUT_VALUE_SIG}
        if value != _UNKNOWN and (value is not None or not preview):
            for key in accessors or []:  # Go reads the field from the struct it holds
                got = got.get(key) if isinstance(got, dict) else got[key] if isinstance(got, list) else _OMITTED
            sent["value"] = None if got is _OMITTED else got
        return {**sent, **({"secret": True} if secret else {}), "dependencies": deps}, deps
    deps = sorted(set(dependencies))
    plain, secret = _plain_of(value)
    known = (value is not None or not preview) and not _holds_unknown(plain)
    for key in (accessors or []) if known else []:
        plain = plain.get(key) if isinstance(plain, dict) else plain[key] if isinstance(plain, list) else None
    if sdk == "java":  # no output values: the engine's upgrade of an unknown, a secret; a value as it is
        if not known:
            return {runner.SIG_KEY: OUTPUT_VALUE_SIG}, deps
        return ({runner.SIG_KEY: OUTPUT_VALUE_SIG, "secret": True, "value": plain} if secret else plain), deps
    return {runner.SIG_KEY: OUTPUT_VALUE_SIG, **({"value": plain} if known else {}),
            **({"secret": True} if secret else {}), "dependencies": deps}, deps
