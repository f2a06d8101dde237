"""The offline plan machinery: the program under the Pulumi SDK's mocks (runner), the plan CLI and diff, the deploy
model, cost and capacity, the policy runner and plugin host. Run from the repository: `make plan` or `.venv/bin/python -m offline.plan`."""
