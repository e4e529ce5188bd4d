# vaultbridge: plain Makefile naming every source (STYLE.md).
CC ?= cc
PKGS = libmicrohttpd jansson libsodium libpq libcurl
BUILD ?= build

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual
# clang 14 accepts -ftrivial-auto-var-init=zero only behind an extra flag
AUTOINIT := $(shell $(CC) -ftrivial-auto-var-init=zero -x c -c /dev/null \
	-o /dev/null 2>/dev/null && echo -ftrivial-auto-var-init=zero)
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE $(AUTOINIT)
OPT ?= -O2 -g
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) -Iinclude \
	-I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP $(EXTRA_CFLAGS)
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now -pthread $(EXTRA_LDFLAGS)
LIBS = $(PKG_LIBS) -lm

UTIL_SRCS = src/util/errors.c src/util/buf.c src/util/log.c src/util/strutil.c \
	src/util/clock.c
CONFIG_SRCS = src/config/config.c
CRYPTO_SRCS = src/crypto/token.c src/crypto/seal.c
DB_SRCS = src/db/pool.c src/db/migrate.c src/db/scim_store.c \
	src/db/scim_query.c src/db/token_store.c src/db/stmt_cache.c \
	src/db/vault_store.c src/db/outbox.c src/db/audit_store.c \
	src/db/token_watch.c
HTTP_SRCS = src/http/server.c src/http/request.c src/http/auth.c \
	src/http/auth_watch.c
SCIM_SRCS = src/scim/schema.c src/scim/discovery.c src/scim/filter.c \
	src/scim/patch.c src/scim/resource.c src/scim/value.c src/scim/error.c \
	src/scim/handlers.c src/scim/bulk.c
APP_SRCS = src/app/routes.c src/app/health.c src/app/serve.c \
	src/app/vault_api.c src/app/sync_api.c
VAULT_SRCS = src/vault/backend.c src/vault/embedded.c
SYNC_SRCS = src/sync/lifecycle.c src/sync/worker.c src/sync/reconcile.c
POLICY_SRCS = src/policy/policy.c
CLI_SRCS = src/cli/main.c src/cli/token_cmd.c src/cli/key_cmd.c \
	src/cli/reconcile_cmd.c
GEN_SRCS = $(BUILD)/gen/migrations.c $(BUILD)/gen/vault_migrations.c

LIB_SRCS = $(UTIL_SRCS) $(CONFIG_SRCS) $(CRYPTO_SRCS) $(DB_SRCS) \
	$(HTTP_SRCS) $(SCIM_SRCS) $(APP_SRCS) $(POLICY_SRCS) $(VAULT_SRCS) \
	$(SYNC_SRCS)
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o \
	$(BUILD)/gen/vault_migrations.o
CLI_OBJS = $(CLI_SRCS:%.c=$(BUILD)/%.o)

# unit tests: tests/unit/test_<mod>.c, one binary each
UNIT_TESTS = test_util test_config test_crypto test_seal test_schema \
	test_filter test_patch test_resource test_value test_http test_policy \
	test_sync
UNIT_BINS = $(UNIT_TESTS:%=$(BUILD)/tests/%)
# integration tests: tests/integration/it_<area>.c, share itest.c
IT_TESTS = it_db it_service it_scim_users it_scim_groups it_scim_bad_input \
	it_scim_clients it_scim_bulk it_vault it_sync it_reconcile \
	it_accounts it_crash it_auth
IT_BINS = $(IT_TESTS:%=$(BUILD)/tests/%)
IT_HARNESS = tests/integration/itest.c tests/integration/itest_util.c

SQL_FILES = $(sort $(wildcard sql/*.sql))
VAULT_SQL_FILES = $(sort $(wildcard sql/vault/*.sql))

.PHONY: all deps check check-unit check-integration asan bench lint \
	format-check clean fuzz tests

BIN ?= vaultbridge

all: $(BIN)

$(BIN): $(BUILD)/libvb.a $(CLI_OBJS)
	$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJS) $(BUILD)/libvb.a $(LIBS)

$(BUILD)/libvb.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/gen/migrations.c: $(SQL_FILES) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh db_migrations db_nmigrations $(SQL_FILES) \
	    > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/vault_migrations.c: $(VAULT_SQL_FILES) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-sql.sh db_vault_migrations db_nvault_migrations \
	    $(VAULT_SQL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CFLAGS_ALL) -Wno-missing-prototypes -c -o $@ $<

# Unit tests link against the archive, so a test pulls in only the
# modules it uses. While other modules are unfinished, name the objects:
#   make build/tests/test_filter UNIT_LINK="build/src/util/buf.o ..."
UNIT_LINK ?= $(BUILD)/libvb.a

$(BUILD)/tests/test_%: tests/unit/test_%.c $(UNIT_LINK) tests/unit/testlib.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/unit $(LDFLAGS_ALL) -o $@ $< $(UNIT_LINK) $(LIBS)

$(BUILD)/tests/it_%: tests/integration/it_%.c $(IT_HARNESS) \
	    tests/integration/itest.h $(BUILD)/libvb.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Itests/integration -Itests/unit $(LDFLAGS_ALL) -o $@ $< \
	    $(IT_HARNESS) $(BUILD)/libvb.a $(LIBS)

tests: $(BIN) $(UNIT_BINS) $(IT_BINS)

deps:
	sh scripts/deps.sh

# make check: install what is missing, build, run every test; the last
# line is "N passed, N failed".
check: deps
	$(MAKE) tests
	sh scripts/check-banned.sh
	sh scripts/optscan.sh
	VB_BINARY=$(CURDIR)/$(BIN) sh tests/run.sh all $(BUILD)

check-unit: $(BIN) $(UNIT_BINS)
	VB_BINARY=$(CURDIR)/$(BIN) sh tests/run.sh unit $(BUILD)

check-integration: $(BIN) $(IT_BINS)
	VB_BINARY=$(CURDIR)/$(BIN) sh tests/run.sh integration $(BUILD)

ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all
asan: deps
	$(MAKE) BUILD=build-asan BIN=build-asan/vaultbridge \
	    OPT="-O1 -g -fno-omit-frame-pointer" \
	    EXTRA_CFLAGS="$(ASAN_FLAGS) -U_FORTIFY_SOURCE" \
	    EXTRA_LDFLAGS="$(ASAN_FLAGS)" tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    VB_BINARY=$(CURDIR)/build-asan/vaultbridge \
	    sh tests/run.sh all build-asan

bench: $(BIN)
	sh scripts/bench.sh

lint:
	sh scripts/check-banned.sh
	sh scripts/optscan.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -Iinclude src

format-check:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.c' 'include/*.h')

# ---- fuzz: libFuzzer targets of tests/fuzz (clang, ASan+UBSan), built
# into build-fuzz/ by scripts/fuzz.sh with their own flags ----
fuzz:
	sh scripts/fuzz.sh 30
# ---- end fuzz ----

clean:
	rm -rf build build-asan vaultbridge

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
