#!/usr/bin/env bash
# Bounded libFuzzer run over the reply parsers (src/*/*_fuzz.cc). Builds each
# fuzz target with clang from only the sources it needs (fast, and immune to
# other modules that do not compile under clang), seeds it from the golden
# replies in tests/data/replies/, and runs it for FUZZ_SECONDS (default 30).
# Skips (exit 0) when clang or libFuzzer is not installed. Exit 1 on a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS="${FUZZ_SECONDS:-30}"
FUZZ_DIR="${FUZZ_DIR:-build-fuzz}"
CXX_FUZZ="${CXX_FUZZ:-clang++}"
if ! command -v "$CXX_FUZZ" >/dev/null 2>&1; then
  echo "fuzz.sh: $CXX_FUZZ not found, skipping the fuzz run"
  exit 0
fi
mkdir -p "$FUZZ_DIR"
LAUNCHER=""
command -v ccache >/dev/null 2>&1 && LAUNCHER=ccache
FLAGS=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc)

# target -> the sources it needs besides itself
declare -A DEPS=(
  [box_format_fuzz]="src/boxes/box_format.cc src/boxes/box_tags.cc src/boxes/box_json.cc src/boxes/json_repair.cc src/util/text_util.cc src/util/error.cc"
)

status=0
for src in src/*/*_fuzz.cc; do
  name="$(basename "$src" .cc)"
  deps="${DEPS[$name]:-}"
  if [[ -z "$deps" ]]; then
    echo "fuzz.sh: no source list for $name in scripts/fuzz.sh, skipping it"
    continue
  fi
  objs=()
  for f in "$src" $deps; do
    obj="$FUZZ_DIR/$(basename "$f" .cc).o"
    if [[ ! -f "$obj" || "$f" -nt "$obj" || -n "$(find src -name '*.h' -newer "$obj" -print -quit)" ]]; then
      $LAUNCHER "$CXX_FUZZ" "${FLAGS[@]}" -c "$f" -o "$obj"
    fi
    objs+=("$obj")
  done
  "$CXX_FUZZ" "${FLAGS[@]}" "${objs[@]}" -o "$FUZZ_DIR/$name"

  # Seed corpus: each golden reply, prefixed by 3 bytes (format, sizes).
  corpus="$FUZZ_DIR/${name}_corpus"
  mkdir -p "$corpus"
  i=0
  for reply in tests/data/replies/*.txt; do
    printf "\\x$(printf %02x $((i % 13)))\\x8f\\x64" > "$corpus/seed_$i"
    cat "$reply" >> "$corpus/seed_$i"
    i=$((i + 1))
  done
  echo "fuzz.sh: running $name for ${FUZZ_SECONDS}s from $i seeds"
  if ! "$FUZZ_DIR/$name" -max_total_time="$FUZZ_SECONDS" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
      -print_final_stats=1 -artifact_prefix="$FUZZ_DIR/${name}_" "$corpus" > "$FUZZ_DIR/$name.log" 2>&1; then
    echo "fuzz.sh: $name FAILED; see $FUZZ_DIR/$name.log and $FUZZ_DIR/${name}_crash-*"
    tail -40 "$FUZZ_DIR/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$FUZZ_DIR/$name.log" | tail -2 || true
  fi
done
exit $status
