#!/usr/bin/env bash
# Install the Debian packages evbus needs to build, test, fuzz and benchmark.
# Idempotent: packages already present are not touched, and apt is only
# consulted when something is missing.  Runs as root (or through sudo).
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config python3
  clang libclang-rt-14-dev     # libFuzzer and the sanitizer runtimes
  libjansson-dev               # JSON for the API layers and tests
  libcmocka-dev                # unit-test framework
  libmicrohttpd-dev            # HTTP server for the APIs
  libsqlite3-dev               # the embedded store
  libcurl4-openssl-dev         # HTTP(S) client for API destinations
  libssl-dev                   # TLS for libcurl (and the openssl command in tests)
  librdkafka-dev               # Kafka client (and its mock cluster)
  libavro-dev                  # Avro schemas and encoding (avro-c)
  libyaml-dev                  # YAML for `evbus apply`
  zlib1g-dev                   # AWS Glue wire format (zlib compression)
  openssl                      # certificates for the demo and the TLS tests
  curl                         # HTTP client used by the server tests
  awscli python3-boto3         # the real AWS CLI (v2) and SDK, for tests
)
# Node.js and npm for the JavaScript-client tests (tests/node). Asked for
# only when the commands are missing: a machine may have a Node.js of its
# own (e.g. a nodejs package that bundles npm and conflicts with Debian's).
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
