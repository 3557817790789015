# swift-audit — build, test and install.
#
#   make deps        apt packages the build needs (libsystemd-dev, zlib1g-dev, pkg-config)
#   make test-deps   deps + what the tests compare against (Debian's auditd, python3, rsyslog)
#   make build       debug build
#   make release     release build with the Swift runtime linked in (copy one file to a server)
#   make test        lint, then the whole test suite; kernel tests need root and run one at a time
#   make lint        swift format lint --strict (the style is .swift-format's)
#   make bench       throughput/latency benchmark against the real kernel (root)
#   make bench-cpu   instructions per event of the processing path per format (callgrind)
#   make bench-offline  MB/s of `swift-audit parse` against laurel on the same audit.logs
#   make fuzz        libFuzzer targets of Fuzz/, FUZZ_SECONDS (default 60) each; not part of `make test`
#   make fuzz-ci     every libFuzzer target for 20 s (for CI: a crash fails the run)
#   make install     binary, config and unit file under $(DESTDIR)$(PREFIX)

PREFIX    ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR   ?= /lib/systemd/system
SWIFT     ?= swift
APT_GET   ?= apt-get

BUILD_PACKAGES := libsystemd-dev zlib1g-dev libssl-dev pkg-config
TEST_PACKAGES  := auditd python3 rsyslog rsyslog-relp rsyslog-openssl rsyslog-gnutls openssl iproute2 curl python3-prometheus-client

.PHONY: deps test-deps build release test lint bench bench-cpu bench-offline fuzz fuzz-ci install clean

# Installing auditd or rsyslog must not start them: a running auditd would own the audit socket
# the tests need. A temporary policy-rc.d tells Debian's maintainer scripts not to start services.
define apt_install
	@if [ "$$(id -u)" != 0 ]; then echo "make $@: run as root (apt-get install)"; exit 4; fi
	@created=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created=1; fi; \
	missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	status=0; \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(APT_GET) update -qq && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -qq --no-install-recommends $$missing >/dev/null || status=$$?; \
	fi; \
	if [ -n "$$created" ]; then rm -f /usr/sbin/policy-rc.d; fi; \
	exit $$status
endef

deps:
	$(call apt_install,$(BUILD_PACKAGES))

test-deps: deps
	$(call apt_install,$(TEST_PACKAGES))

build:
	$(SWIFT) build

# The release binary is linked with the toolchain's lld so that it can pack its ~40k relative
# relocations (DT_RELR, glibc >= 2.36) and export no symbols: ld.so then reads a few KiB instead of
# ~1 MiB of relocation and symbol tables at every start, and those pages stay resident for the
# daemon's lifetime. Measured on the idle daemon: about 0.7 MiB less RSS than with the default gold.
RELEASE_LINK := -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic

# The Swift runtime needs a few functions of libstdc++. The toolchain links the shared library,
# whose symbol tables and scattered code pages cost the daemon about 0.5 MiB of RSS; linking the
# archive keeps only what is used. The toolchain passes -lstdc++ itself, so a directory searched
# before gcc's holds a linker script named libstdc++.so that points at the archive. Skipped (the
# shared library is used) when gcc has no libstdc++.a.
LIBSTDCXX_ARCHIVE := $(shell gcc -print-file-name=libstdc++.a 2>/dev/null)
STATIC_CXX_DIR := $(CURDIR)/.build/static-libstdc++
ifneq ($(filter /%,$(LIBSTDCXX_ARCHIVE)),)
RELEASE_LINK += -Xswiftc -L$(STATIC_CXX_DIR)
endif

# The commit goes into the binary for `swift_audit_build_info` and `swift-audit stats` (a C define:
# a Swift compilation condition cannot carry a value); "unknown" outside a git checkout.
BUILD_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
ifneq ($(BUILD_COMMIT),)
RELEASE_LINK += -Xcc -DSWIFT_AUDIT_COMMIT='"$(BUILD_COMMIT)"'
endif

release:
ifneq ($(filter /%,$(LIBSTDCXX_ARCHIVE)),)
	mkdir -p $(STATIC_CXX_DIR)
	echo 'INPUT($(LIBSTDCXX_ARCHIVE))' > $(STATIC_CXX_DIR)/libstdc++.so
endif
	$(SWIFT) build -c release --static-swift-stdlib --product swift-audit $(RELEASE_LINK)

# --no-parallel: kernel tests share one audit subsystem; they also take a lock of their own.
# Lint first (about 2 s): CI runs `make test-deps test`, so formatting is checked there too.
test: lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

# Benchmark against the real kernel (root; stops nothing, refuses to run beside another audit
# daemon). BENCH_ARGS passes options to Benchmarks/bench.py, e.g. BENCH_ARGS="--events 50000 --reps 3".
BENCH_TOOLS := .build/bench
bench: release
	mkdir -p $(BENCH_TOOLS)
	$(CC) -O2 -Wall -o $(BENCH_TOOLS)/loadgen Benchmarks/loadgen.c
	$(CC) -O2 -Wall -o $(BENCH_TOOLS)/barereader Benchmarks/barereader.c
	$(CC) -O2 -Wall -o $(BENCH_TOOLS)/latprobe Benchmarks/latprobe.c
	$(CC) -O2 -Wall -o $(BENCH_TOOLS)/execgen Benchmarks/execgen.c
	$(CC) -O2 -Wall -o $(BENCH_TOOLS)/forkstorm Benchmarks/forkstorm.c
	cp .build/release/swift-audit $(BENCH_TOOLS)/swift-audit
	python3 Benchmarks/bench.py --tools $(BENCH_TOOLS) $(BENCH_ARGS)

bench-cpu: release
	Benchmarks/callgrind.sh .build/release/swift-audit

# Offline throughput (MB/s) of `swift-audit parse` against Debian's laurel on the same audit.logs,
# built from ../shared/corpus/local (no kernel, no root; laurel: apt-get install laurel).
bench-offline: release
	Benchmarks/offline.sh .build/release/swift-audit

# libFuzzer targets (docs/design.md, "Testing against hostile input"). Each Fuzz/<Target>/main.swift
# defines LLVMFuzzerTestOneInput; swiftc builds the library modules it needs as static archives with
# -sanitize=fuzzer,address (SwiftPM would instrument the whole graph and give the executable a main
# of its own), and clang the C code they use, links them with lld, seeds a temporary corpus and runs
# the target for FUZZ_SECONDS. The seeds are the files FUZZ_SEEDS_<Target> lists, one per line of
# them, or what Fuzz/<Target>/seeds.sh makes of them when the target has one. Crashes are kept as
# $(FUZZ_BUILD)/crash-<Target>-*; replay one with `$(FUZZ_BUILD)/fuzz-<Target> FILE`. FUZZ_ARGS
# passes more libFuzzer options (-jobs=4, -runs=N).
FUZZ_SECONDS ?= 60
FUZZ_ARGS    ?=
FUZZ_BUILD   := .build/fuzz
FUZZ_CORPUS  ?= ../shared/corpus
FUZZ_TARGETS := RecordFields AuditLogLines EnrichedEvents FilterConfig ProcessState RELPResponses SpoolSegments \
	RulesParser
FUZZ_SWIFTC  := swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name swift_audit \
	-I $(FUZZ_BUILD) -enable-upcoming-feature ExistentialAny -enable-upcoming-feature MemberImportVisibility \
	-enable-upcoming-feature InternalImportsByDefault
FUZZ_CLANG   := clang -fsanitize=fuzzer-no-link,address -O1 -g -Wall

# Modules in dependency order, and what each target links.
FUZZ_MODULES_RecordFields := AuditSystem AuditNetlink AuditEvents
FUZZ_MODULES_AuditLogLines := AuditSystem AuditNetlink AuditEvents
FUZZ_MODULES_EnrichedEvents := AuditSystem AuditNetlink AuditEvents AuditRules AuditInterpretation AuditProcesses \
	AuditEncoding
FUZZ_MODULES_FilterConfig := AuditSystem AuditNetlink AuditEvents AuditRules AuditInterpretation AuditProcesses \
	AuditEncoding \
	AuditFilters CAuditThreads AuditThreads AuditSpool AuditTLS AuditRELP AuditWriters AuditConfig
FUZZ_MODULES_ProcessState := AuditSystem AuditNetlink AuditEvents AuditRules AuditInterpretation AuditProcesses
FUZZ_MODULES_RELPResponses := AuditSystem AuditRELP
FUZZ_MODULES_SpoolSegments := AuditSystem AuditSpool
FUZZ_MODULES_RulesParser := AuditSystem AuditNetlink AuditRules
# The archives carry no autolink entries for the linker: the system libraries their modules import.
FUZZ_LIBS_FilterConfig := -lz -lssl -lcrypto -lswiftSynchronization
# Seeds: one file per record line of the corpus's text logs.
FUZZ_SEEDS_RecordFields := find $(FUZZ_CORPUS) -type f \( -name '*.log' -o -name '*.txt' -o -name '*.yaml' \)
# Runs of 8 lines of the corpus's audit.log files (*.audit.log and the other *.log) and *.txt lines.
FUZZ_SEEDS_AuditLogLines := find $(FUZZ_CORPUS) -type f \( -name '*.log' -o -name '*.txt' \)
# The events of the corpus's audit.log files, as a line of type letters and one record body per line.
FUZZ_SEEDS_EnrichedEvents := find $(FUZZ_CORPUS) -type f -name '*.log'
# The example configuration (whole, defaults and filter section switched on) and the documented blocks.
FUZZ_SEEDS_FilterConfig := printf '%s\n' config/swift-audit.conf docs/configuration.md
# Made by Fuzz/ProcessState/seeds.sh (state files and cgroup lines); the list is not used.
FUZZ_SEEDS_ProcessState := printf '%s\n' README.md
# Made by Fuzz/RELPResponses/seeds.sh (imrelp's answers recorded on loopback); the list is not used.
FUZZ_SEEDS_RELPResponses := printf '%s\n' README.md
# Made by Fuzz/SpoolSegments/seeds.sh (segment entries); the list is not used.
FUZZ_SEEDS_SpoolSegments := printf '%s\n' README.md
# Made by Fuzz/RulesParser/seeds.sh (the corpus's and Debian's rule files, whole and line by line).
FUZZ_SEEDS_RulesParser := printf '%s\n' README.md

$(FUZZ_BUILD)/module.modulemap: Makefile
	mkdir -p $(FUZZ_BUILD)
	printf 'module CAuditNetlink {\n    umbrella header "%s"\n    export *\n}\n' \
		"$(CURDIR)/Sources/CAuditNetlink/include/CAuditNetlink.h" > $@
	printf 'module CAuditThreads {\n    umbrella header "%s"\n    export *\n}\n' \
		"$(CURDIR)/Sources/CAuditThreads/include/CAuditThreads.h" >> $@
	printf 'module CZlib [system] {\n    header "%s"\n    link "z"\n    export *\n}\n' \
		"$(CURDIR)/Sources/CZlib/shim.h" >> $@
	printf 'module COpenSSL [system] {\n    header "%s"\n    link "ssl"\n    link "crypto"\n    export *\n}\n' \
		"$(CURDIR)/Sources/COpenSSL/shim.h" >> $@

$(FUZZ_BUILD)/libAuditSystem.a: $(wildcard Sources/AuditSystem/*.swift) | $(FUZZ_BUILD)/module.modulemap
$(FUZZ_BUILD)/libAuditNetlink.a: $(wildcard Sources/AuditNetlink/*.swift) $(FUZZ_BUILD)/libAuditSystem.a
$(FUZZ_BUILD)/libAuditEvents.a: $(shell find Sources/AuditEvents -name '*.swift') $(FUZZ_BUILD)/libAuditNetlink.a
$(FUZZ_BUILD)/libAuditRules.a: $(shell find Sources/AuditRules -name '*.swift') $(FUZZ_BUILD)/libAuditNetlink.a
$(FUZZ_BUILD)/libAuditInterpretation.a: $(shell find Sources/AuditInterpretation -name '*.swift') \
	$(FUZZ_BUILD)/libAuditEvents.a $(FUZZ_BUILD)/libAuditRules.a
$(FUZZ_BUILD)/libAuditProcesses.a: $(shell find Sources/AuditProcesses -name '*.swift') \
	$(FUZZ_BUILD)/libAuditInterpretation.a
$(FUZZ_BUILD)/libAuditEncoding.a: $(shell find Sources/AuditEncoding -name '*.swift') \
	$(FUZZ_BUILD)/libAuditInterpretation.a $(FUZZ_BUILD)/libAuditProcesses.a
$(FUZZ_BUILD)/libAuditFilters.a: $(shell find Sources/AuditFilters -name '*.swift') \
	$(FUZZ_BUILD)/libAuditInterpretation.a
$(FUZZ_BUILD)/libAuditThreads.a: $(shell find Sources/AuditThreads -name '*.swift') $(FUZZ_BUILD)/libAuditSystem.a
$(FUZZ_BUILD)/libAuditRELP.a: $(shell find Sources/AuditRELP -name '*.swift') $(FUZZ_BUILD)/libAuditSystem.a
$(FUZZ_BUILD)/libAuditSpool.a: $(shell find Sources/AuditSpool -name '*.swift') $(FUZZ_BUILD)/libAuditSystem.a
$(FUZZ_BUILD)/libAuditTLS.a: $(shell find Sources/AuditTLS -name '*.swift') $(FUZZ_BUILD)/libAuditSystem.a
$(FUZZ_BUILD)/libAuditWriters.a: $(shell find Sources/AuditWriters -name '*.swift') \
	$(FUZZ_BUILD)/libAuditEncoding.a $(FUZZ_BUILD)/libAuditThreads.a $(FUZZ_BUILD)/libAuditSpool.a \
	$(FUZZ_BUILD)/libAuditTLS.a $(FUZZ_BUILD)/libAuditRELP.a
$(FUZZ_BUILD)/libAuditConfig.a: $(shell find Sources/AuditConfig -name '*.swift') \
	$(FUZZ_BUILD)/libAuditFilters.a $(FUZZ_BUILD)/libAuditWriters.a
$(FUZZ_BUILD)/libCAuditThreads.a: $(wildcard Sources/CAuditThreads/*.c Sources/CAuditThreads/include/*.h) \
	| $(FUZZ_BUILD)/module.modulemap
	for f in Sources/CAuditThreads/*.c; do \
		$(FUZZ_CLANG) -I Sources/CAuditThreads/include -c $$f -o $(FUZZ_BUILD)/CAuditThreads-$$(basename $$f .c).o \
		|| exit 1; done
	rm -f $@ && ar rcs $@ $(FUZZ_BUILD)/CAuditThreads-*.o
$(FUZZ_BUILD)/lib%.a:
	$(FUZZ_SWIFTC) -emit-library -static -emit-module -module-name $* \
		-emit-module-path $(FUZZ_BUILD)/$*.swiftmodule -o $@ $(shell find Sources/$* -name '*.swift')

.SECONDEXPANSION:
$(FUZZ_BUILD)/fuzz-%: Fuzz/%/main.swift $$(addprefix $(FUZZ_BUILD)/lib,$$(addsuffix .a,$$(FUZZ_MODULES_$$*)))
	$(FUZZ_SWIFTC) -use-ld=lld -module-name Fuzz$* $< -L $(FUZZ_BUILD) \
		$(patsubst %,-l%,$(call reverse,$(FUZZ_MODULES_$*))) -lswiftGlibc $(FUZZ_LIBS_$*) -o $@

reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))

.PRECIOUS: $(FUZZ_BUILD)/fuzz-% $(FUZZ_BUILD)/lib%.a

fuzz: $(patsubst %,fuzz-run-%,$(FUZZ_TARGETS))

# What CI runs: every target briefly, so that a crash a commit brings fails the build.
fuzz-ci:
	$(MAKE) fuzz FUZZ_SECONDS=20

fuzz-run-%: $(FUZZ_BUILD)/fuzz-%
	@test -d $(FUZZ_CORPUS) || { echo "make fuzz: no corpus at $(FUZZ_CORPUS)"; exit 4; }
	@seeds=$$(mktemp -d /tmp/swift-audit-fuzz-$*-XXXXXX) || exit 1; \
	if [ -f Fuzz/$*/seeds.sh ]; then $(FUZZ_SEEDS_$*) | sh Fuzz/$*/seeds.sh "$$seeds" || { rm -rf $$seeds; exit 1; }; \
	else n=0; for f in $$($(FUZZ_SEEDS_$*)); do n=$$((n+1)); split -l 1 -a 5 "$$f" "$$seeds/$$n-"; done; fi; \
	dict=; if [ -f Fuzz/$*/dictionary.txt ]; then dict=-dict=Fuzz/$*/dictionary.txt; fi; \
	echo "fuzz $*: $$(ls $$seeds | wc -l) seeds, $(FUZZ_SECONDS) s"; \
	SWIFT_BACKTRACE=enable=no $(FUZZ_BUILD)/fuzz-$* -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=$(FUZZ_BUILD)/crash-$*- $$dict $(FUZZ_ARGS) $$seeds; status=$$?; \
	rm -rf $$seeds; exit $$status

# An existing configuration is never overwritten; the example goes beside it as .dist.
install: release
	install -D -m 0755 .build/release/swift-audit $(DESTDIR)$(PREFIX)/sbin/swift-audit
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/swift-audit
	if [ -e $(DESTDIR)$(SYSCONFDIR)/swift-audit/swift-audit.conf ]; then \
		install -m 0640 config/swift-audit.conf $(DESTDIR)$(SYSCONFDIR)/swift-audit/swift-audit.conf.dist; \
	else \
		install -m 0640 config/swift-audit.conf $(DESTDIR)$(SYSCONFDIR)/swift-audit/swift-audit.conf; \
	fi
	sed 's|/usr/local/sbin/swift-audit|$(PREFIX)/sbin/swift-audit|' contrib/swift-audit.service > swift-audit.service.tmp
	install -D -m 0644 swift-audit.service.tmp $(DESTDIR)$(UNITDIR)/swift-audit.service
	rm -f swift-audit.service.tmp
	install -D -m 0644 contrib/logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/swift-audit

clean:
	rm -rf .build
