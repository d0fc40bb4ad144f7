#!/usr/bin/env bash
# Builds a container image of the server and runs it for real, with podman, on a machine
# that has no Docker daemon and reaches no container registry (only Debian's archive and
# the Python package index). Run as root from any folder:
#
#   deploy/docker/smoke.sh          # the CPU image: build, serve, one OpenAI SDK request, SIGTERM
#   deploy/docker/smoke.sh cuda     # the CUDA image: build, CUDAExecutionProvider available
#
# What it does:
#   1. installs podman, runc and mmdebstrap with apt-get when they are missing;
#   2. builds, once, a base image from Debian bookworm's own packages (python3.11,
#      ca-certificates, passwd) with mmdebstrap, kept in podman's storage; and an image
#      holding the uv binary of the version the Dockerfile names, from uv's wheel on the
#      package index (the binary kept in SMOKE_CACHE_DIR); later runs reuse both;
#   3. builds the image with those two as the PYTHON_IMAGE and UV_IMAGE build arguments
#      (the public python and uv images stay the Dockerfiles' defaults); the build reaches
#      the package index with this machine's CA bundle mounted over the build container's;
#   4. cpu: runs the image (the `synthetic` extra is built in, SUPERTONIC_SYNTHETIC=tiny
#      serves a generated bundle: no model download) as its non-root user, with fresh named
#      volumes on /models and /data, on this machine's loopback only; waits for /readyz;
#      runs the image's HEALTHCHECK; creates a custom voice through the Supertone API (its
#      file must land in the /data volume, owned by the server's user); makes one OpenAI
#      SDK request with that voice; sends SIGTERM and checks exit status 0 within the
#      image's SUPERTONIC_SHUTDOWN_GRACE; then runs the Helm chart's Deployment (rendered
#      by Helm's Go SDK) with `podman kube play`: non-root, read-only root filesystem,
#      emptyDir volumes; /readyz, a custom voice, SIGTERM as before;
#      cuda: checks that onnxruntime in the image lists CUDAExecutionProvider and that the
#      libraries of that provider and cuDNN load, all but the driver's (no GPU needed);
#   5. prints the image's size, and the image reference as its last line.
#
# Settings (environment):
#   SMOKE_EXTRAS         the server's extras built in (default "synthetic" for cpu, none for cuda)
#   SMOKE_BUILD_ONLY=1   stop after the build (e.g. SMOKE_EXTRAS= SMOKE_BUILD_ONLY=1 builds
#                        the default CPU image, localhost/supertonic-stack-server:cpu)
#   SMOKE_TAG            the image reference to build (default
#                        localhost/supertonic-stack-server:cpu-synthetic, :cpu, :cuda, ...)
#   SMOKE_PYTHON_IMAGE   use this base instead of the local Debian one (e.g. python:3.12-slim-bookworm
#                        where a registry is reachable); SMOKE_UV_IMAGE likewise for uv
#   SMOKE_REBUILD_BASE=1 rebuild the local base (e.g. for Debian's security updates)
#   SMOKE_CACHE_DIR      where the uv binary is kept (default /var/cache/supertonic-smoke)
#   SMOKE_CA_BUNDLE      the CA bundle the build uses to reach the package index
#                        (default $SSL_CERT_FILE, else /etc/ssl/certs/ca-certificates.crt)
#   SMOKE_DEBIAN_MIRROR  default http://deb.debian.org
#   SMOKE_READY_TIMEOUT  seconds to wait for /readyz (default 180)
#   SMOKE_BUILD_TIMEOUT  seconds the image build may take (default 1800)
set -euo pipefail

TARGET="${1:-cpu}"
case "$TARGET" in
    cpu) DOCKERFILE=Dockerfile; DEFAULT_EXTRAS=synthetic ;;
    cuda) DOCKERFILE=Dockerfile.cuda; DEFAULT_EXTRAS="" ;;
    *) echo "usage: $0 [cpu|cuda]" >&2; exit 2 ;;
esac
EXTRAS="${SMOKE_EXTRAS-$DEFAULT_EXTRAS}"
BUILD_ONLY="${SMOKE_BUILD_ONLY:-0}"
DEFAULT_TAG="localhost/supertonic-stack-server:$TARGET${EXTRAS:+-${EXTRAS// /-}}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TAG="${SMOKE_TAG:-$DEFAULT_TAG}"
MIRROR="${SMOKE_DEBIAN_MIRROR:-http://deb.debian.org}"
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-180}"
CACHE="${SMOKE_CACHE_DIR:-/var/cache/supertonic-smoke}"
CA_BUNDLE="${SMOKE_CA_BUNDLE:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}"
# crun refuses this kernel's hybrid cgroups; ulimits may not exceed the host's.
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000)
START=$(date +%s)

say() { printf 'smoke [%3ds] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

WORK="$(mktemp -d)"
CONTAINER=""
KUBE_FILE=""
VOLUMES=()
TEMPORARY_IMAGES=()
cleanup() {
    local status=$?
    if [ -n "$CONTAINER" ]; then
        if [ "$status" -ne 0 ]; then
            say "the container's log:"
            "${PODMAN[@]}" logs "$CONTAINER" 2>&1 | tail -n 40 >&2 || true
        fi
        "${PODMAN[@]}" rm --force --time 0 "$CONTAINER" >/dev/null 2>&1 || true
    fi
    if [ -n "$KUBE_FILE" ]; then
        CONTAINERS_CONF="$WORK/containers.conf" podman kube down "$KUBE_FILE" >/dev/null 2>&1 || true
    fi
    for volume in "${VOLUMES[@]}"; do
        "${PODMAN[@]}" volume rm --force "$volume" >/dev/null 2>&1 || true
    done
    for image in "${TEMPORARY_IMAGES[@]}"; do
        "${PODMAN[@]}" rmi --force "$image" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$TARGET" = cpu ] && [ "$BUILD_ONLY" != 1 ] && [[ " $EXTRAS " != *" synthetic "* ]]; then
    fail "the run serves a generated bundle: SMOKE_EXTRAS must include synthetic (or set SMOKE_BUILD_ONLY=1)"
fi

# -- 1. Tools ---------------------------------------------------------------------------
missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "run as root: ${missing[*]} must be installed with apt-get"
    say "installing ${missing[*]} (apt-get)"
    { timeout 600 apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${missing[@]}"; } \
        >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; fail "apt-get install ${missing[*]}"; }
fi
[ "$(id -u)" -eq 0 ] || fail "run as root (rootful podman; this machine has no rootless setup)"

image_exists() { "${PODMAN[@]}" image exists "$1"; }

# -- 2. The local base and the uv image -------------------------------------------------
BASE_RECIPE=(
    --variant=apt --include=python3 --include=ca-certificates --include=passwd
    # merged /usr without the usrmerge package (which would pull in perl, 50 MB)
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    bookworm
)
SOURCES=(
    "deb $MIRROR/debian bookworm main"
    "deb $MIRROR/debian bookworm-updates main"
    "deb $MIRROR/debian-security bookworm-security main"
)
if [ -n "${SMOKE_PYTHON_IMAGE:-}" ]; then
    BASE="$SMOKE_PYTHON_IMAGE"
else
    # The tag names the recipe: a changed recipe builds a new base.
    recipe_hash="$(printf '%s\n' "${BASE_RECIPE[@]}" | sha256sum | cut -c1-12)"
    BASE="localhost/supertonic-base:bookworm-$recipe_hash"
    if [ "${SMOKE_REBUILD_BASE:-0}" = 1 ] || ! image_exists "$BASE"; then
        say "building the base $BASE from Debian's packages (mmdebstrap)"
        timeout 900 mmdebstrap --quiet "${BASE_RECIPE[@]}" "$WORK/base.tar" "${SOURCES[@]}" \
            >"$WORK/mmdebstrap.log" 2>&1 || { cat "$WORK/mmdebstrap.log" >&2; fail "mmdebstrap"; }
        "${PODMAN[@]}" import --quiet --change 'CMD ["python3"]' "$WORK/base.tar" "$BASE" >/dev/null
        rm -f "$WORK/base.tar"
    else
        say "reusing the base $BASE"
    fi
fi

if [ -n "${SMOKE_UV_IMAGE:-}" ]; then
    UV_IMAGE="$SMOKE_UV_IMAGE"
else
    uv_version="$(sed -n 's|^ARG UV_IMAGE=.*/uv:\([0-9.]*\)$|\1|p' "$HERE/$DOCKERFILE")"
    [ -n "$uv_version" ] || fail "no 'ARG UV_IMAGE=...uv:VERSION' in $DOCKERFILE"
    uv_binary="$CACHE/uv-$uv_version"
    if [ ! -x "$uv_binary" ]; then
        say "fetching uv $uv_version from its wheel on the package index"
        timeout 300 python3 -m pip download --quiet --no-deps --only-binary=:all: \
            --platform "manylinux2014_$(uname -m)" --dest "$WORK/uv" "uv==$uv_version" \
            >"$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; fail "pip download uv==$uv_version"; }
        python3 -m zipfile -e "$WORK"/uv/uv-*.whl "$WORK/uv/wheel"
        mkdir -p "$CACHE"
        install -m 755 "$WORK/uv/wheel/uv-$uv_version.data/scripts/uv" "$uv_binary"
    fi
    # A fresh image each run: podman 4.3's build (--layers=false) deletes an image that a
    # stage uses as is (the Dockerfile's `FROM ${UV_IMAGE} AS uv`).
    UV_IMAGE="localhost/supertonic-smoke-uv:$uv_version-$$"
    mkdir -p "$WORK/uv-image"
    cp "$uv_binary" "$WORK/uv-image/uv"
    tar -C "$WORK/uv-image" -c uv | "${PODMAN[@]}" import --quiet - "$UV_IMAGE" >/dev/null
    TEMPORARY_IMAGES+=("$UV_IMAGE")
fi

# -- 3. The image -----------------------------------------------------------------------
BUILD=(--format docker --network host --layers=false "${LIMITS[@]}")
BUILD+=(--build-arg "PYTHON_IMAGE=$BASE" --build-arg "UV_IMAGE=$UV_IMAGE")
BUILD+=(--build-arg "EXTRAS=$EXTRAS")
if [ -f "$CA_BUNDLE" ]; then
    BUILD+=(--volume "$(readlink -f "$CA_BUNDLE"):/etc/ssl/certs/ca-certificates.crt:ro")
fi
previous="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
say "building $TAG (deploy/docker/$DOCKERFILE)"
build_start=$(date +%s)
timeout "${SMOKE_BUILD_TIMEOUT:-1800}" "${PODMAN[@]}" build "${BUILD[@]}" -f "$HERE/$DOCKERFILE" -t "$TAG" "$ROOT" \
    >"$WORK/build.log" 2>&1 || { tail -n 60 "$WORK/build.log" >&2; fail "the build"; }
say "built in $(($(date +%s) - build_start)) s"
current="$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$TAG")"
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
    "${PODMAN[@]}" rmi "$previous" >/dev/null 2>&1 || true  # the last run's, now untagged
fi
size="$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$TAG")"
say "image size: $((size / 1000000)) MB ($size bytes)"

# -- 4. Run it --------------------------------------------------------------------------
if [ "$BUILD_ONLY" = 1 ]; then
    echo "$TAG"
    exit 0
fi
if [ "$TARGET" = cuda ]; then
    say "onnxruntime's providers in the image (no GPU here: only that CUDA's is built in)"
    providers="$("${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" --no-healthcheck "$TAG" \
        python -c 'import onnxruntime; print(onnxruntime.get_available_providers())')"
    say "$providers"
    case "$providers" in
        *"'CUDAExecutionProvider'"*) ;;
        *) fail "CUDAExecutionProvider is not available in $TAG" ;;
    esac
    # The CUDA provider's libraries resolve through the loader cache (the image's ldconfig
    # of NVIDIA's wheels), all but the driver's libcuda.so.1, which the host brings.
    unresolved="$("${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" --no-healthcheck "$TAG" \
        sh -c 'ldd /opt/venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime_providers_cuda.so' \
        | awk '/not found/ {print $1}' | sort | tr '\n' ' ')"
    [ "$unresolved" = "libcuda.so.1 " ] || fail "unresolved libraries of the CUDA provider: $unresolved"
    # cuDNN is opened at run time, by name.
    "${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" --no-healthcheck "$TAG" \
        python -c 'import ctypes; ctypes.CDLL("libcudnn.so.9")' || fail "libcudnn.so.9 does not load"
    say "the CUDA provider's libraries and cuDNN load; only the driver (libcuda.so.1) is missing, as it should be"
    say "passed"
    echo "$TAG"
    exit 0
fi

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
export UV_PYTHON_DOWNLOADS=never
# Python with the project's packages (openai, httpx, helm-python-sdk), on this machine.
project_python() { (cd "$ROOT" && timeout 300 uv run --all-packages --quiet python - "$@"); }
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
GRACE="$("${PODMAN[@]}" image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$TAG" \
    | sed -n 's/^SUPERTONIC_SHUTDOWN_GRACE=//p')"
[ -n "$GRACE" ] || fail "the image sets no SUPERTONIC_SHUTDOWN_GRACE"

# Waits for /readyz on 127.0.0.1:$1 to answer 200 while container $2 runs.
wait_ready() {
    local deadline=$(($(date +%s) + READY_TIMEOUT))
    until python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except OSError:
    sys.exit(1)
PY
    do
        [ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$2")" = true ] \
            || fail "$2 exited before /readyz answered 200"
        [ "$(date +%s)" -lt "$deadline" ] || fail "/readyz did not answer 200 within $READY_TIMEOUT s"
        sleep 1
    done
    say "/readyz answers 200"
}

# Container $1 runs as a user other than root; prints the uid.
check_non_root() {
    local uid
    uid="$("${PODMAN[@]}" exec "$1" id -u)"
    [ "$uid" != 0 ] || fail "the server runs as root"
    say "the server runs as uid $uid"
    echo "$uid"
}

# Creates a custom voice through the Supertone API of the server on port $1 (a style file of
# the served bundle in container $2), checks that its file is in /data/voices, owned by the
# server's uid $3, and, with $4 = openai, makes one OpenAI SDK request with that voice.
check_custom_voice() {
    local voice owner
    "${PODMAN[@]}" exec "$2" sh -c 'cat /models/supertonic-synthetic/*/voice_styles/M2.json' \
        >"$WORK/style.json" || fail "no voice style in the synthetic bundle"
    voice="$(project_python "$1" "$WORK/style.json" "${4:-}" <<'PY'
import sys

import httpx
from openai import OpenAI

port, style, openai = sys.argv[1:4]
base = f"http://127.0.0.1:{port}"
with open(style, "rb") as f:
    r = httpx.post(
        f"{base}/supertone/v1/custom-voices/cloned-voice",
        files={"files": ("smoke.json", f, "application/json")},
        data={"name": "smoke"},
        timeout=30,
    )
r.raise_for_status()
voice = r.json()["voice_id"]
listed = httpx.get(f"{base}/supertone/v1/custom-voices", timeout=30).json()
assert [v["voice_id"] for v in listed["items"]] == [voice], listed
if openai:
    client = OpenAI(base_url=f"{base}/v1", api_key="not-needed", max_retries=0, timeout=60)
    speech = client.audio.speech.create(
        model="supertonic-3", voice=voice, input="Hello from the container.", response_format="wav"
    )
    audio = speech.content
    assert audio[:4] == b"RIFF" and len(audio) > 1000, audio[:64]
    print(f"OpenAI SDK: {len(audio)} bytes of WAV with the custom voice", file=sys.stderr)
print(voice)
PY
)" || fail "the API requests"
    owner="$("${PODMAN[@]}" exec "$2" stat -c %u "/data/voices/$voice.json")" \
        || fail "the custom voice is not in /data/voices"
    [ "$owner" = "$3" ] || fail "the voice file belongs to uid $owner, not the server's $3"
    say "custom voice $voice stored in the /data/voices volume (uid $owner)"
}

# Stops container $1 as `docker stop` does (its STOPSIGNAL, SIGTERM; SIGKILL after a
# timeout): it must exit 0 within the grace. (Not kill and wait: under kube play the
# Deployment's restart policy would start it again.)
check_sigterm() {
    local start status took limit=$((${GRACE%.*} + 10))
    say "SIGTERM (grace $GRACE s)"
    start=$(date +%s)
    timeout $((limit + 10)) "${PODMAN[@]}" stop --time "$limit" "$1" >/dev/null 2>&1 \
        || fail "podman stop did not return"
    took=$(($(date +%s) - start))
    status="$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$1")"
    [ "$status" = 0 ] || fail "exit status $status after SIGTERM (137: killed after $limit s)"
    [ "$took" -le "${GRACE%.*}" ] || fail "took $took s to stop, more than the grace ($GRACE s)"
    "${PODMAN[@]}" logs "$1" >"$WORK/stop.log" 2>&1 || true
    grep -q 'supertonic_server.*shutdown complete' "$WORK/stop.log" || fail "the server logged no 'shutdown complete'"
    say "exited 0 in $took s after SIGTERM"
}

# 4a. As `docker run` would: named volumes on /models and /data.
PORT="$(free_port)"
NAME="supertonic-smoke-$$"
VOLUMES=("$NAME-models" "$NAME-data")
say "starting $NAME on 127.0.0.1:$PORT (host network, loopback only; volumes ${VOLUMES[*]})"
# podman's own health-check timers need systemd, absent here: its complaint goes to run.log,
# and the check is run by hand below.
CONTAINER="$("${PODMAN[@]}" run --detach --name "$NAME" --network host "${LIMITS[@]}" \
    --volume "$NAME-models:/models" --volume "$NAME-data:/data" \
    --env SUPERTONIC_HOST=127.0.0.1 --env "SUPERTONIC_PORT=$PORT" --env SUPERTONIC_SYNTHETIC=tiny \
    "$TAG" 2>"$WORK/run.log")" || { cat "$WORK/run.log" >&2; fail "podman run"; }
uid="$(check_non_root "$CONTAINER")"
wait_ready "$PORT" "$CONTAINER"
"${PODMAN[@]}" healthcheck run "$CONTAINER" >/dev/null 2>&1 || fail "the image's HEALTHCHECK failed"
say "the image's HEALTHCHECK passes"
check_custom_voice "$PORT" "$CONTAINER" "$uid" openai
check_sigterm "$CONTAINER"
"${PODMAN[@]}" rm --force --time 0 "$CONTAINER" >/dev/null 2>&1
CONTAINER=""

# 4b. The Helm chart's pod: its Deployment rendered by Helm's Go SDK (the project's
# helm-python-sdk) and run by `podman kube play`. Not Kubernetes (no probes, preStop,
# Service or scheduler): what runs is the pod spec, with its environment, non-root user,
# read-only root filesystem, dropped capabilities and emptyDir volumes.
PORT="$(free_port)"
RELEASE="smoke$$"
say "the Helm chart's Deployment under podman kube play, on 127.0.0.1:$PORT"
project_python "$ROOT/deploy/helm/supertonic" "$TAG" "$PORT" "$RELEASE" >"$WORK/pod.yaml" <<'PY' \
    || fail "rendering the chart"
import sys

import helm_python as helm
import yaml

chart, image, port, release = sys.argv[1:5]
repository, tag = image.rsplit(":", 1)
values = {"image": {"repository": repository, "tag": tag}, "env": {"SUPERTONIC_SYNTHETIC": "tiny"}}
with helm.Chart.load(chart) as loaded:
    files = loaded.render(values, name=release, namespace="smoke")
docs = [d for n, text in files.items() if n.endswith(".yaml") for d in yaml.safe_load_all(text) if d]
(deployment,) = [d for d in docs if d["kind"] == "Deployment"]
(server,) = deployment["spec"]["template"]["spec"]["containers"]
# Loopback only, on this machine's network: the address and the port change, nothing else.
for env in server["env"]:
    if env["name"] == "SUPERTONIC_HOST":
        env["value"] = "127.0.0.1"
    if env["name"] == "SUPERTONIC_PORT":
        env["value"] = port
server.pop("ports")  # host network: no port mappings
# podman 4.3 plays an emptyDir as a named volume of the same name, kept after the pod: give
# this run's their own names (smoke.sh removes them).
for volume in deployment["spec"]["template"]["spec"]["volumes"]:
    volume["name"] = f"{release}-{volume['name']}"
for mount in server["volumeMounts"]:
    mount["name"] = f"{release}-{mount['name']}"
for probe in ("readinessProbe", "livenessProbe"):
    server[probe]["httpGet"]["port"] = int(port)
yaml.safe_dump(deployment, sys.stdout)
PY
# kube play takes no --ulimit: the host's limits come from a containers.conf of its own.
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]\n[engine]\nruntime = "runc"\n' \
    >"$WORK/containers.conf"
KUBE_FILE="$WORK/pod.yaml"
CONTAINERS_CONF="$WORK/containers.conf" podman kube play --network host "$KUBE_FILE" \
    >"$WORK/kube.log" 2>&1 || { cat "$WORK/kube.log" >&2; fail "podman kube play"; }
CONTAINER="$RELEASE-supertonic-pod-0-server"
"${PODMAN[@]}" container exists "$CONTAINER" || { cat "$WORK/kube.log" >&2; fail "no container $CONTAINER"; }
# Its volumes (the emptyDirs, and an anonymous one for the image's /data) outlive the pod.
read -r -a mounted <<<"$("${PODMAN[@]}" inspect --format '{{range .Mounts}}{{.Name}} {{end}}' "$CONTAINER")"
VOLUMES+=("${mounted[@]}")
uid="$(check_non_root "$CONTAINER")"
if "${PODMAN[@]}" exec "$CONTAINER" touch /smoke 2>/dev/null; then fail "the root filesystem is writable"; fi
say "the root filesystem is read-only"
wait_ready "$PORT" "$CONTAINER"
check_custom_voice "$PORT" "$CONTAINER" "$uid"
check_sigterm "$CONTAINER"
say "passed"
echo "$TAG"
