#!/usr/bin/env bash
# iforest-score and the checkpoint protocol: control lines pass through in
# input order through the scoring batches (with a model, and during and after
# a warm-up), never counted as records; with --warmup the first checkpoint
# stops it with 64 and nothing after it.
source "$(dirname "$0")/lib/testlib.sh"

sensor-gen --fast --count 3000 --seed 14 > "$T/readings.ndjson"
iforest-score train --seed 1 -o "$T/model.json" "$T/readings.ndjson"

# A control line before every 97th record, and one before the first and after the last.
awk 'NR == 1 { print "{\"_ctl\":\"assign\",\"id\":0}" }
     NR % 97 == 0 { print "{\"_ctl\":\"checkpoint\",\"id\":" NR ",\"parts\":[]}" }
     { print }
     END { print "{\"_ctl\":\"drain\",\"id\":" NR "}" }' "$T/readings.ndjson" > "$T/with-ctl.ndjson"

# The expected order: each output line's kind (R for a record, else the control line itself).
shape() { sed -E 's/^\{"_ctl".*$/&/; /^\{"_ctl"/!s/.*/R/' "$1"; }
shape "$T/with-ctl.ndjson" > "$T/want.shape"

iforest-score -m "$T/model.json" --stats "$T/with-ctl.ndjson" > "$T/scored.ndjson" 2> "$T/scored.err"
shape "$T/scored.ndjson" > "$T/got.shape"
cmp -s "$T/want.shape" "$T/got.shape" || fail "-m: control lines out of order: $(diff "$T/want.shape" "$T/got.shape" | head -5)"
pass "-m: $(grep -c _ctl "$T/scored.ndjson") control lines in input order, unchanged"
assert_contains "$T/scored.err" "in=3000 out=3000 rejected=0" "-m: control lines are not records"

# Through a pipe in small pieces (the batches flush as the input pauses).
{ split -l 500 --filter='cat; sleep 0.05' "$T/with-ctl.ndjson"; } | iforest-score -m "$T/model.json" > "$T/piped.ndjson"
shape "$T/piped.ndjson" > "$T/piped.shape"
cmp -s "$T/want.shape" "$T/piped.shape" || fail "-m, piped: control lines out of order"
pass "-m, piped in pieces: control lines in input order"

# Online with a warm-up: control lines other than checkpoints wait with the buffered records.
grep -v '"checkpoint"' "$T/with-ctl.ndjson" > "$T/no-ckpt.ndjson"
shape "$T/no-ckpt.ndjson" > "$T/want2.shape"
iforest-score --warmup 1000 --seed 1 "$T/no-ckpt.ndjson" > "$T/online.ndjson"
shape "$T/online.ndjson" > "$T/online.shape"
cmp -s "$T/want2.shape" "$T/online.shape" || fail "--warmup: control lines out of order"
pass "--warmup: control lines in input order around the warm-up"

# A checkpoint with --warmup: 64, the protocol's message, nothing after it.
rc=0
iforest-score --warmup 1000 --seed 1 "$T/with-ctl.ndjson" > "$T/stopped.ndjson" 2> "$T/stopped.err" || rc=$?
assert_eq "$rc" 64 "--warmup: the first checkpoint stops it"
assert_contains "$T/stopped.err" "iforest-score: --warmup/--retrain-every keep model state that Kafka checkpoints do not carry; train a model with 'iforest-score train' and score with -m in a checkpointed worker" "--warmup: the protocol's message"
if grep -q '"checkpoint"' "$T/stopped.ndjson"; then fail "--warmup: the checkpoint was passed on"; fi
pass "--warmup: nothing written from the checkpoint on"
