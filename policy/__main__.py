"""The policy pack's entry point: constructing PolicyPack serves the pack over gRPC, so it happens only here; the
offline runner and the tests import the policies from policies.py and call their validate functions directly."""
from pulumi_policy import PolicyPack

from policies import POLICIES

PolicyPack(name="llm-platform-guardrails", policies=POLICIES)
