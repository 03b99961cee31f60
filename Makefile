# evbus: the two commands that matter are `make` and `make test`.
# Every target first makes sure the Debian packages are there.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build demo test test-sanitize fuzz fuzz-smoke bench bench-data clean format

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The fraud-detection reference application, end to end (demo/fraud/run.sh;
# DEMO_ARGS="--duration 120 --rate 50" and so on).
DEMO_ARGS ?=
demo: build
	@bash demo/fraud/run.sh $(DEMO_ARGS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer.
test-sanitize: deps
	@CC=clang cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DEVB_SANITIZE=ON >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	@cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer builds; `make fuzz-smoke FUZZ_SECONDS=60` runs each target.
FUZZ_SECONDS ?= 60
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVB_FUZZ=ON -DEVB_SANITIZE=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

fuzz-smoke: fuzz
	@bash scripts/fuzz-smoke.sh build-fuzz/fuzz $(FUZZ_SECONDS)

# Pattern-matching benchmark: generates the data set on first use.
BENCH_DATA ?= $(BUILD)/bench-data/citylots2.json.gz
bench-data: deps
	@mkdir -p $(dir $(BENCH_DATA))
	@test -s $(BENCH_DATA) || python3 bench/gen_citylots.py --n 213068 --seed 20240601 --out $(BENCH_DATA)

bench: build bench-data
	@$(BUILD)/bench/pattern --data $(BENCH_DATA) --rules bench/rules --expected bench/expected $(BENCH_ARGS)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-sanitize build-fuzz
