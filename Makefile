# Vire: `make run` starts the server on the embedded personal configuration;
# `make test` installs what the tests need and runs every test.

GO        ?= go
BIN       := bin
PLUGINDIR := $(BIN)/plugins
TOOLS     := $(CURDIR)/.tools/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
PLUGINS   := $(notdir $(wildcard cmd/vire-plugin-*))
# Packages whose tests exercise concurrency run again under the race detector.
RACE_PKGS := ./sdk/... ./host/... ./backends/... ./plugins/...
DEV_KEY   := .dev/master.key

export VIRE_TOOLS_BIN := $(TOOLS)

.PHONY: all build run test test-deps test-race vet fmt proto bench clean

all: build

build:
	@mkdir -p $(PLUGINDIR)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/vire-server ./cmd/vire-server
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/vire-mcp ./cmd/vire-mcp
	@for p in $(PLUGINS); do \
		echo "$(GO) build -o $(PLUGINDIR)/$$p ./cmd/$$p"; \
		$(GO) build -ldflags '$(LDFLAGS)' -o $(PLUGINDIR)/$$p ./cmd/$$p || exit 1; \
	done
	@chmod 755 $(BIN)/vire-server $(BIN)/vire-mcp $(PLUGINDIR)/*

# run starts Vire on the embedded personal configuration. Without
# VIRE_MASTER_KEY it creates a development key in $(DEV_KEY) (kept out of git).
run: build
	@if [ -z "$$VIRE_MASTER_KEY" ] && [ ! -s $(DEV_KEY) ]; then \
		mkdir -p $(dir $(DEV_KEY)) && umask 077 && head -c 32 /dev/urandom | base64 > $(DEV_KEY); \
		echo "make run: created a development master key in $(DEV_KEY); set VIRE_MASTER_KEY to use your own"; \
	fi
	@if [ -z "$$VIRE_MASTER_KEY" ]; then echo "make run: using the development master key in $(DEV_KEY)"; fi
	@VIRE_MASTER_KEY="$${VIRE_MASTER_KEY:-$$(cat $(DEV_KEY))}" exec ./$(BIN)/vire-server run $(ARGS)

test-deps:
	@bash scripts/install-test-deps.sh

test: test-deps test-mcp-ts build vet
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -timeout 30m $(RACE_PKGS)

# test-mcp-ts installs the official MCP TypeScript SDK client that the MCP
# tests drive (test/mcp-ts) and fetches the Node.js 22 it runs on.
.PHONY: test-mcp-ts
test-mcp-ts:
	@command -v npm >/dev/null || { echo "test-mcp-ts: npm is missing; install Node.js and npm (apt-get install nodejs npm)"; exit 1; }
	cd test/mcp-ts && npm ci --no-audit --no-fund --loglevel=error
	npx -y -p node@22 node --version

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '\.pb\.go$$')

# proto regenerates the committed gRPC code. protoc comes from Debian's
# protobuf-compiler package; the Go generators are pinned here.
PROTOC_GEN_GO      := v1.36.12
PROTOC_GEN_GO_GRPC := v1.6.0
proto:
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler"; exit 1; }
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)
	PATH=$(TOOLS):$$PATH protoc --proto_path=sdk/proto/pluginv1 \
		--go_out=sdk/proto/pluginv1 --go_opt=paths=source_relative \
		--go-grpc_out=sdk/proto/pluginv1 --go-grpc_opt=paths=source_relative \
		plugin.proto

# bench runs the Go benchmarks quoted in the README.
bench: build
	bash bench/run.sh

clean:
	rm -rf $(BIN)
