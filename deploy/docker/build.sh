#!/usr/bin/env bash
# Builds the JVM images of the four services with the names and tag kustomize/base/kustomization.yaml
# sets (override with REGISTRY and TAG, then `kustomize edit set image` in your overlay).
#   deploy/docker/build.sh [--native]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REGISTRY=${REGISTRY:-ghcr.io/pgha}
TAG=${TAG:-0.1.0}
KIND=jvm
[ "${1:-}" = --native ] && KIND=native
command -v docker >/dev/null || { echo "build.sh: docker not found" >&2; exit 1; }
cd "$ROOT"
if [ "$KIND" = native ]; then
  ./mvnw -pl provisioner,monitor,router,backup package -Dnative -DskipTests
else
  ./mvnw -pl provisioner,monitor,router,backup package -DskipTests
fi
for svc in provisioner monitor router backup; do
  docker build -f "deploy/docker/$svc/Dockerfile.$KIND" -t "$REGISTRY/$svc:$TAG" "$svc"
done
