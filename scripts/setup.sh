#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12's archive. Idempotent: when everything
# is already installed it does nothing (no apt-get update, no network).
set -euo pipefail

packages=(
  # build
  g++ make cmake pkg-config
  libasio-dev node-llhttp nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev catch2
  libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev  # Metrics plugin: prometheus-cpp core (Registry, Family, TextSerializer)
  libhiredis-dev  # KV plugin: the Redis driver (hiredis 0.14, synchronous API)
  zlib1g-dev  # http.gzip: deflate for gzip responses, crc32 for static ETags
  librabbitmq-dev  # Jobs plugin: the amqp driver (rabbitmq-c 0.11, on the driver's own thread)
  # PHP workers and their tests
  php8.2-cli php-nyholm-psr7 php-psr-http-message php-psr-http-factory phpunit
  # integration tests
  curl procps coreutils wrk
  iproute2  # tests/chaos and tests/soak: ss counts the server's established client connections
  clang-14 libclang-rt-14-dev  # `make fuzz`: libFuzzer targets of tests/fuzz under ASan + UBSan
  redis-server  # KV plugin: the integration tests start their own redis-server on a free port
  rabbitmq-server  # Jobs plugin: the amqp tests start their own broker (own node, ports, dirs)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Debian's rabbitmq-server package starts a system broker on 5672 where services may start. The
# tests never use it (they run a private node on free ports), so it is stopped to save memory.
for p in "${missing[@]}"; do
  if [ "$p" = rabbitmq-server ]; then
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
      systemctl stop rabbitmq-server || true
      systemctl disable rabbitmq-server >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
      service rabbitmq-server stop >/dev/null 2>&1 || true
    fi
  fi
done
