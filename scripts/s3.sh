#!/usr/bin/env bash
# A throw-away S3-compatible server for the tests, so the S3 blob store is tested against a real
# object store and not only a stand-in: SeaweedFS (`weed mini`: master, volume server, filer and
# S3 gateway in one process), built from the Go module proxy.
#
#   scripts/s3.sh        start (or reuse) the server; prints on stdout
#                          TEST_S3_ENDPOINT=http://127.0.0.1:PORT
#                          TEST_S3_BUCKET=…  TEST_S3_ACCESS_KEY_ID=…  TEST_S3_SECRET_ACCESS_KEY=…
#                          S3_STARTED=yes|no   (yes: this call started it)
#   scripts/s3.sh stop   stop the server this script manages
#
# With TEST_S3_ENDPOINT set it starts nothing and passes that endpoint through (with
# TEST_S3_BUCKET and the TEST_S3_* keys, defaulting to the ones below). Otherwise it builds `weed`
# once into .tools/seaweedfs (git-ignored, safe to delete; needs Go 1.26.6 or later), starts it on
# 127.0.0.1 only with one admin identity whose requests must be signed, and creates the bucket.
# The server's data is thrown away at every start. Progress goes to stderr so that stdout stays
# machine-readable.
set -euo pipefail
cd "$(dirname "$0")/.."

# SeaweedFS 4.53. The proxy knows the module only by this pseudo-version (no tagged releases).
module="github.com/seaweedfs/seaweedfs"
version="v0.0.0-20261109003541-7506e5f91cd6"

root="$PWD/.tools/seaweedfs"
bin="$root/bin/weed"
stamp="$root/bin/weed.version"
data="$root/data"
log="$root/server.log"
state="$root/server.env"
bucket="${TEST_S3_BUCKET:-tributary-test}"
access_key="${TEST_S3_ACCESS_KEY_ID:-tributary-test}"
secret_key="${TEST_S3_SECRET_ACCESS_KEY:-tributary-test-secret}"

say() { echo "[s3] $*" >&2; }
fail() { echo "[s3] error: $*" >&2; exit 1; }

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The recorded server, if its process is still the one we started.
server_pid() {
  [ -f "$state" ] || return 1
  local pid
  pid=$(sed -n 's/^pid=//p' "$state")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q weed "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

print_env() {
  echo "TEST_S3_ENDPOINT=$1"
  echo "TEST_S3_BUCKET=$bucket"
  echo "TEST_S3_ACCESS_KEY_ID=$access_key"
  echo "TEST_S3_SECRET_ACCESS_KEY=$secret_key"
  echo "S3_STARTED=$2"
}

if [ "${1:-start}" = "stop" ]; then
  if pid=$(server_pid); then
    say "stopping the server (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      say "the server did not stop within 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    say "no server running from $root"
  fi
  rm -f "$state"
  exit 0
fi
[ "${1:-start}" = "start" ] || fail "unknown command '$1' (expected start or stop)"

if [ -n "${TEST_S3_ENDPOINT:-}" ]; then
  say "using the S3 endpoint given in the environment"
  print_env "$TEST_S3_ENDPOINT" no
  exit 0
fi

build() {
  command -v go >/dev/null 2>&1 ||
    fail "Go is needed to build SeaweedFS (1.26.6 or later: https://go.dev/doc/install), or set TEST_S3_ENDPOINT"
  say "building SeaweedFS ($module@$version) with $(go version | cut -d' ' -f3) (first time: several minutes)"
  local t0 src
  t0=$(date +%s)
  mkdir -p "$root/bin"
  # `go install module/weed@version` refuses modules whose go.mod has replace directives, which
  # SeaweedFS's has; building inside a copy of the module makes it the main module, replaces and all.
  src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] && [ -f "$src/go.mod" ] || fail "could not download $module@$version from the Go module proxy"
  rm -rf "$root/src"
  cp -r "$src" "$root/src"
  chmod -R u+w "$root/src"
  (
    while sleep 30; do say "building: $(( $(date +%s) - t0 )) s"; done
  ) &
  local ticker=$!
  local ok=yes
  (cd "$root/src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags='-s -w' -o "$bin.partial" ./weed) \
    >"$root/build.log" 2>&1 || ok=no
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  rm -rf "$root/src"
  [ "$ok" = yes ] || { tail -n 20 "$root/build.log" >&2; fail "go build failed; see $root/build.log"; }
  mv "$bin.partial" "$bin"
  echo "$version" >"$stamp"
  say "SeaweedFS built in $(( $(date +%s) - t0 )) s"
}

if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$version" ]; then
  build
fi

# Ready once the bucket exists: a signed HEAD of the bucket answers 200 (mini creates it after all
# its services are up). The AWS SDK signs it; it is one of the project's own dependencies.
wait_ready() {
  local t0
  t0=$(date +%s)
  until S3_PROBE_ENDPOINT="http://127.0.0.1:$port" S3_PROBE_BUCKET="$bucket" \
    S3_PROBE_KEY="$access_key" S3_PROBE_SECRET="$secret_key" node -e '
      const { S3Client, HeadBucketCommand } = require("@aws-sdk/client-s3");
      const e = process.env;
      const c = new S3Client({ endpoint: e.S3_PROBE_ENDPOINT, region: "us-east-1", forcePathStyle: true,
        credentials: { accessKeyId: e.S3_PROBE_KEY, secretAccessKey: e.S3_PROBE_SECRET } });
      c.send(new HeadBucketCommand({ Bucket: e.S3_PROBE_BUCKET })).then(() => process.exit(0), () => process.exit(1));
    ' 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$state"
      tail -n 20 "$log" >&2
      fail "the server exited during start-up; see $log"
    fi
    if [ $(( $(date +%s) - t0 )) -ge 90 ]; then
      bash "$0" stop
      fail "the server did not serve the bucket within 90 s; see $log"
    fi
    sleep 0.5
  done
  say "ready in $(( $(date +%s) - t0 )) s"
}

if pid=$(server_pid); then
  port=$(sed -n 's/^port=//p' "$state")
  say "reusing the running server on 127.0.0.1:$port (pid $pid)"
  # It may be another run's, still starting.
  wait_ready
  print_env "http://127.0.0.1:$port" no
  exit 0
fi

# weed mini listens on five ports (S3, master, volume server, filer, and the admin server its
# maintenance worker talks to), each also on its port + 10000 for gRPC. All are given explicitly,
# so a port taken meanwhile fails the start instead of moving; pick a block where all are free.
base=""
for p in $(seq "${TRIBUTARY_TEST_S3_PORT:-18333}" 10 18833); do
  busy=no
  for q in $(seq "$p" $((p + 4))) $(seq $((p + 10000)) $((p + 10004))); do
    if port_in_use "$q"; then busy=yes; break; fi
  done
  if [ "$busy" = no ]; then base=$p; break; fi
done
[ -n "$base" ] || fail "no free block of ports from ${TRIBUTARY_TEST_S3_PORT:-18333} to 18833 on 127.0.0.1"
port=$base

rm -rf "$data"
mkdir -p "$data"
say "starting SeaweedFS on 127.0.0.1:$port (data in $data)"
# The environment credentials become the only identity, an admin: unsigned or wrongly signed
# requests are refused; a put to a missing bucket fails as on AWS instead of creating it. What the
# tests do not need is off: WebDAV, the admin UI, the Iceberg and Lance catalogs, telemetry (the
# admin server itself always runs, for mini's maintenance worker).
AWS_ACCESS_KEY_ID="$access_key" AWS_SECRET_ACCESS_KEY="$secret_key" setsid "$bin" -logtostderr=true mini \
  -dir="$data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -s3.port="$port" -master.port=$((port + 1)) -volume.port=$((port + 2)) -filer.port=$((port + 3)) \
  -admin.port=$((port + 4)) -admin.port.legacy=0 \
  -s3.port.iceberg=0 -s3.port.lance=0 -webdav=false -admin.ui=false -master.telemetry=false \
  -s3.autoCreateBucket=false -bucket="$bucket" </dev/null >"$log" 2>&1 &
pid=$!
printf 'pid=%s\nport=%s\n' "$pid" "$port" >"$state"

wait_ready
print_env "http://127.0.0.1:$port" yes
