#!/usr/bin/env bash
# Builds the test binary with a sanitizer in its own build directory and runs
# it (a developer tool; CI does not run it: the builds take long on 2 cores).
#
#   scripts/sanitize.sh address [gtest filter]   # ASan + UBSan, leaks on
#   scripts/sanitize.sh thread  [gtest filter]   # TSan
#
# TSan cannot see the locks of libvips' worker threads (glib is not built with
# it), so races whose stack passes through libvips, glib or the codecs it
# runs are suppressed; races in groundcap's own threads (network, pool,
# queues, journal) are reported and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-}"
filter="${2:-*}"
case "$kind" in
  address) flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;;
  thread) flags="-fsanitize=thread" ;;
  *) echo "usage: scripts/sanitize.sh address|thread [gtest filter]" >&2; exit 2 ;;
esac
dir="build-$kind"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$dir" -j"$(nproc)" --target groundcap_tests groundcap
supp="$(mktemp)"
trap 'rm -f "$supp"' EXIT
for lib in libvips.so libglib-2.0.so libgobject-2.0.so libjpeg.so libpng16.so libwebp libexif; do
  echo "race:$lib"
done >"$supp"
# libstdc++ fills ctype<char>'s narrow() cache lazily from any thread; the
# writes all store the same bytes (a known benign race, GCC bug 77704).
echo 'race:std::ctype<char>::narrow' >>"$supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$supp:ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_stack=1:die_after_fork=0"
"$dir/groundcap_tests" --gtest_filter="$filter"
