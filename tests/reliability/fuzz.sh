#!/usr/bin/env bash
# A short libFuzzer run of every target in tests/fuzz (20 s each); `make fuzz`
# runs them longer. Skipped in the sanitizer build: the fuzz build already has
# ASan and UBSan.
source "$(dirname "$0")/../cli/lib/testlib.sh"
[ "${CITYPIPE_SANITIZED:-0}" = 1 ] && { echo "skipped: fuzzing runs in the Release pass only"; exit 77; }
FUZZ_BUILD="$CITYPIPE_SOURCE/build-fuzz" bash "$CITYPIPE_SOURCE/scripts/fuzz.sh" "${CITYPIPE_FUZZ_SECONDS:-20}"
