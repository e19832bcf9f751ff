#!/usr/bin/env bash
# groundcap set-up: installs every Debian 12 package the build, the tests and
# the benchmarks need, then configures and builds groundcap in Release mode.
#
#   scripts/setup.sh            install packages (needs root or sudo) + build
#   SKIP_APT=1 scripts/setup.sh build only
#   BUILD_DIR=dir               build directory (default: build)
set -euo pipefail

cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ make pkg-config git
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev libexpected-dev libcpp-httplib-dev
  libvips-dev libjpeg62-turbo-dev libopencv-imgproc-dev fonts-dejavu-core
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev python3 python3-pil python3-opencv
  chromium                                # the review report's browser tests
  slurmctld slurmd slurm-client munge     # the single-node Slurm test of shards
)

if [[ "${SKIP_APT:-0}" != "1" ]]; then
  SUDO=""
  if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j"$(nproc)"
