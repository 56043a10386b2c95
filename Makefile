# mtrace: a permissioned Hyperledger Fabric ledger for recycled-material provenance.
# `make demo` and `make test` are the two commands a newcomer needs; every
# other target is listed by `make help`.

SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin

# The demo network lives in .mtrace/ (MTRACE_HOME) on ports from 27000
# (MTRACE_BASE_PORT). `make test` runs its own network in .mtrace-test/ on
# ports from 28000, so it never touches a demo network that is running.

.PHONY: help deps fabric build network-up network-down network-purge deploy status logs \
        add-org remove-org demo test test-unit test-e2e fuzz bench bench-reports bench-city lint docs docs-check clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

deps: ## Install what a fresh machine lacks (Debian packages, Go modules)
	@scripts/deps.sh

fabric: ## Build Fabric v3.1.1 and Fabric CA 1.5.15 binaries from the Go module proxy into bin/
	@scripts/build-fabric.sh

# The passport page's proof verifier: the Go verifier built for the browser
# (GOOS=js GOARCH=wasm) and Go's loader for it, both embedded in mtrace and
# never committed (client/internal/cmd/passport/assets/README.md).
PASSPORT_ASSETS := client/internal/cmd/passport/assets

build: ## Build the mtrace CLI (with the passport's wasm verifier), the chaincode binary, the network tools (mtrace-net, mtrace-org) and mtrace-bench into bin/
	GOOS=js GOARCH=wasm $(GO) build -trimpath -buildvcs=false -ldflags='-s -w' -o $(PASSPORT_ASSETS)/verifier.wasm ./client/cmd/mtrace-wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(PASSPORT_ASSETS)/wasm_exec.js
	$(GO) build -trimpath -buildvcs=false -o $(BIN)/mtrace ./client/cmd/mtrace
	$(GO) build -trimpath -buildvcs=false -o $(BIN)/mtrace-bench ./client/cmd/mtrace-bench
	$(GO) build -trimpath -buildvcs=false -o $(BIN)/mtrace-cc ./chaincode/cmd/mtrace-cc
	$(GO) build -trimpath -buildvcs=false -o $(BIN)/mtrace-net ./network/cmd/mtrace-net
	$(GO) build -trimpath -buildvcs=false -o $(BIN)/mtrace-org ./network/cmd/mtrace-org

network-up: deps build ## Start (or restart) the local network and deploy the chaincode
	@scripts/network.sh up

network-down: ## Stop every network process by its recorded PID; keep the ledgers
	@scripts/network.sh down

network-purge: ## Stop the network and delete all its generated state
	@scripts/network.sh down --purge

deploy: ## Build and deploy the chaincode; upgrades in place after a change
	@scripts/network.sh deploy

status: ## Show each process, each peer's block height and the chaincode definition
	@scripts/network.sh status

logs: ## Tail the network's logs
	@scripts/network.sh logs

# make add-org MSP=KaunasMSP ROLE=collector NAME="Kaunas waste services" [NODE=kaunas]
add-org: build ## A new organisation joins the running channel (MSP=, ROLE=, NAME=, optional NODE=)
	@test -n "$(MSP)" -a -n "$(ROLE)" -a -n "$(NAME)" || { echo 'usage: make add-org MSP=KaunasMSP ROLE=collector NAME="Kaunas waste services" [NODE=kaunas]' >&2; exit 2; }
	@scripts/network.sh add-org --msp "$(MSP)" --role "$(ROLE)" --name "$(NAME)" $(if $(NODE),--node "$(NODE)")

remove-org: build ## An organisation leaves the registry and the channel (ORG=node or MSP ID)
	@test -n "$(ORG)" || { echo 'usage: make remove-org ORG=kaunas' >&2; exit 2; }
	@scripts/network.sh remove-org "$(ORG)"

demo: deps build ## Start the network and play the story from collection to verified product
	@scripts/network.sh up
	@scripts/demo.sh

test: deps build ## Run every test: unit tests, then end-to-end tests on a fresh network
	@scripts/test.sh all

test-unit: ## Run the unit tests only (no network)
	@scripts/test.sh unit

test-e2e: deps build ## Run the end-to-end tests on a fresh test network
	@scripts/test.sh e2e

fuzz: ## Run every fuzz target for 60 s each
	@scripts/test.sh fuzz

bench: deps build ## Benchmark a fresh network against Raft and the platform baseline (docs/reference/bench.md)
	@scripts/bench.sh

bench-city: deps build ## A year of a city on a live network: user commands at 250,000 batches against an empty ledger, projection catch-up, reports, disk (BENCH_CITY_N=)
	@scripts/bench-city.sh

bench-reports: ## Time the period statements on a synthetic projection of 250,000 batches, SQLite and PostgreSQL (no network)
	go test -run '^$$' -bench BenchmarkReportsOnAYear -benchtime 5x -benchmem -timeout 60m -v ./client/internal/report

lint: docs-check ## gofmt, go vet, shellcheck, and the CLI reference up to date
	@test -z "$$(gofmt -l chaincode client network internal test)" || { gofmt -l chaincode client network internal test; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/...
	GOOS=js GOARCH=wasm $(GO) vet ./client/cmd/mtrace-wasm
	shellcheck scripts/*.sh network/builder/bin/* .ci/run

docs: ## Write the CLI reference (docs/reference/cli) from the cobra commands
	$(GO) run ./client/cmd/mtrace-docs -dir docs/reference/cli

docs-check: ## Fail if the committed CLI reference differs from the commands (run make docs)
	$(GO) run ./client/cmd/mtrace-docs -dir docs/reference/cli -check

clean: ## Remove build outputs (keeps Fabric binaries and network state)
	rm -f $(BIN)/mtrace $(BIN)/mtrace-bench $(BIN)/mtrace-cc $(BIN)/mtrace-net $(BIN)/mtrace-org $(PASSPORT_ASSETS)/verifier.wasm $(PASSPORT_ASSETS)/wasm_exec.js
