#!/usr/bin/env bash
# Microbenchmark of the router's statement classifier: prints ns per statement on realistic SQL.
# Usage: router/bench/classifier.sh [iterations]
# The classifier is pure Java with no dependencies, so the compiled classes are the whole classpath.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here/.."
./mvnw -o -q -pl router test-compile
exec java -XX:+UseParallelGC -cp "$here/target/test-classes:$here/target/classes" io.pgha.router.routing.ClassifierBenchmark "${1:-2000000}"
