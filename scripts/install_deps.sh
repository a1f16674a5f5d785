#!/usr/bin/env bash
# Installs every Debian 12 package tinynas needs to build, test, run the demo
# and the benchmarks, plus the packages named as arguments (what one script
# alone needs: python3-matplotlib for bench/learning, clang for fuzzing).
# Idempotent: does nothing when all are present.
#
#   scripts/install_deps.sh [PACKAGE...]
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates procps iproute2
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libabsl-dev libtorch-dev libdnnl-dev libpqxx-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev
  libgoogle-glog-dev libssl-dev
  # The exported C libraries are checked with the Arm cross-compiler.
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  postgresql postgresql-client
  dataset-fashion-mnist python3 python3-torch python3-numpy python3-yaml
  curl docker-compose
  # Headless browser of the report tests (ctest -L report).
  chromium
  "$@"
)
# kubectl for the deploy tests (kubectl kustomize deploy/k8s): Debian's
# kubernetes-client, unless a kubectl is already there (one installed by hand
# owns /usr/bin/kubectl, and the package would conflict with it).
if ! command -v kubectl >/dev/null; then
  PACKAGES+=(kubernetes-client)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install_deps: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
