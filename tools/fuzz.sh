#!/bin/sh
# Fuzzing campaign for the loaders of untrusted bytes (core/src/test/java/org/peft4j/fuzz/LoaderFuzzTest.java).
# Each target runs until 1,000,000 executions or 30 minutes (the @FuzzTest limits), one after the other.
# A finding is written under core/src/test/resources/org/peft4j/fuzz/LoaderFuzzTestInputs/<target>/ (commit it:
# every `mvn test` then replays it) and the run fails. The coverage corpus goes to core/.cifuzz-corpus (ignored).
# Usage: tools/fuzz.sh [target...]   (default: all six)
set -e
cd "$(dirname "$0")/.."
targets="${*:-safetensors vitConfig samConfig adapterConfig image idx}"
for t in $targets; do
  echo "== $t"
  JAZZER_FUZZ=1 mvn -q -B -o test -pl core -Dtest="LoaderFuzzTest#$t" -Dsurefire.failIfNoSpecifiedTests=false \
      -Dpeft4j.buildDir="${PEFT4J_FUZZ_BUILD:-/tmp/peft4j-fuzz-build}" 2>&1 | tee "/tmp/peft4j-fuzz-$t.log" | grep -E "^#[0-9]+.*DONE|Done [0-9]+ runs|FAIL|Crash|crash-" || true
done
