#!/usr/bin/env bash
# Runs the whole groundcap test suite (unit, golden, end-to-end, crash and a
# bounded fuzz run). Builds first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Includes must follow the layer table in docs/design.md (fails fast, names
# the file and line).
python3 scripts/check_layers.py
BUILD_DIR="${BUILD_DIR:-build}"
if [[ ! -x "$BUILD_DIR/groundcap_tests" ]]; then
  SKIP_APT=1 bash scripts/setup.sh
fi
cmake --build "$BUILD_DIR" -j"$(nproc)"
# Bounded libFuzzer run over the reply parsers (FUZZ_SECONDS, default 30).
bash scripts/fuzz.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"
