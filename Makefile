# depot — build, run, test, bench.
#   make            build/depot
#   make SAN=1      the same with ASan + UBSan (into build/san/)
#   make run        install what is missing, build, serve on http://127.0.0.1:4000
#   make test       install what is missing, build, run every suite
#   make bench      depot beside nginx under wrk, one table
.DEFAULT_GOAL := all

CC ?= cc
PKGS := libmicrohttpd jansson sqlite3 libsodium libcrypto zlib libarchive libcurl
SAN ?= 0

ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1 -g
else
BUILD := build
SANFLAGS :=
OPT := -O2 -g
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
        -Wmissing-prototypes -Wno-unused-parameter
CFLAGS_ALL = -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) $(SANFLAGS) -MMD -MP \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL = $(SANFLAGS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm $(LDLIBS)

SRC := $(wildcard src/lib/*.c src/store/*.c src/blob/*.c src/core/*.c src/http/*.c \
                  src/native/*.c src/cli/*.c)
MIGRATIONS := $(sort $(wildcard src/store/migrations/*.sql))
GEN := $(BUILD)/gen/migrations.c
OBJ := $(SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/migrations.o $(BUILD)/gen/openapi_json.o
LIBOBJ := $(filter-out $(BUILD)/src/main.o,$(OBJ))

UNIT_SRC := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test-deps bench-deps run test unit api clients openapi bench clean format check-banned

all: deps $(BUILD)/depot

deps:
	@scripts/install-deps build
test-deps:
	@scripts/install-deps test
bench-deps:
	@scripts/install-deps bench

$(BUILD)/depot: $(BUILD)/src/main.o $(BUILD)/libdepot.a
	$(CC) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/libdepot.a: $(LIBOBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/src/main.o: src/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

# Migrations are numbered .sql files compiled into the binary as a table.
$(GEN): $(MIGRATIONS) scripts/embed-migrations
	@mkdir -p $(dir $@)
	scripts/embed-migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/migrations.o: $(GEN)
	$(CC) $(CFLAGS_ALL) -Isrc -c -o $@ $<

# The native API's OpenAPI document is compiled in as bytes (const char
# openapi_json[], const size_t openapi_json_len); src/native/openapi.c serves it.
$(BUILD)/gen/openapi_json.c: src/native/openapi.json scripts/embed-file
	@mkdir -p $(dir $@)
	scripts/embed-file openapi_json $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/openapi_json.o: $(BUILD)/gen/openapi_json.c
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdepot.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Isrc -Wno-missing-prototypes -o $@ $< $(BUILD)/libdepot.a \
	    $(LDLIBS_ALL) -lcmocka

run: all
	$(BUILD)/depot serve --listen 127.0.0.1:4000 --data ./data --base-url http://127.0.0.1:4000

unit: deps test-deps $(BUILD)/depot $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

api: deps test-deps $(BUILD)/depot
	@DEPOT_BIN=$(abspath $(BUILD)/depot) python3 tests/api/run.py

clients: deps test-deps $(BUILD)/depot
	@DEPOT_BIN=$(abspath $(BUILD)/depot) python3 tests/clients/run.py

openapi: deps $(BUILD)/depot
	@DEPOT_BIN=$(abspath $(BUILD)/depot) tests/api/test_openapi_validate.sh

test: check-banned unit api clients openapi

bench: deps bench-deps $(BUILD)/depot
	@DEPOT_BIN=$(abspath $(BUILD)/depot) bench/run

check-banned:
	@scripts/check-banned

format:
	clang-format -i $$(find src tests/unit -name '*.[ch]')

clean:
	rm -rf build

-include $(OBJ:.o=.d)
