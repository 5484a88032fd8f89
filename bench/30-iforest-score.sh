#!/usr/bin/env bash
# iforest-score: ROC AUC on the ODDS sets of the Isolation Forest paper (mean
# of 5 seeds, defaults: 100 trees, 256 samples, trained on the whole set),
# detection on sensor-gen city data, and scoring throughput against
# scikit-learn's IsolationForest.score_samples.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bash "$CITYPIPE_SOURCE/scripts/deps.sh" python3-sklearn
py=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/citypipe-bench-iforest.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ROC AUC (ranks, ties shared), and precision/recall of a boolean verdict.
cat > "$work/auc.py" <<'PY'
import re, sys
from sklearn.metrics import roc_auc_score
label, verdict = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
s_re = re.compile(r'"score":([-0-9.eE]+|null)')
y_re = re.compile(r'"%s":(true|false|1|0)' % re.escape(label))
v_re = re.compile(r'"%s":(true|false)' % re.escape(verdict)) if verdict else None
ys, ss, tp, fp, fn = [], [], 0, 0, 0
for line in sys.stdin:
    y = y_re.search(line).group(1) in ("true", "1")
    ys.append(y)
    ss.append(float(s_re.search(line).group(1)))
    if v_re:
        v = v_re.search(line).group(1) == "true"
        tp += v and y; fp += v and not y; fn += (not v) and y
out = "%.4f" % roc_auc_score(ys, ss)
if v_re:
    out += " %.3f %.3f" % (tp / max(1, tp + fp), tp / max(1, tp + fn))
print(out)
PY

echo "iforest-score: ROC AUC on ODDS, defaults, mean of seeds 1-5 (reference: paper / scikit-learn 1.2)"
odds=""
for d in "$CITYPIPE_SOURCE/../shared/datasets/odds" /work/shared/datasets/odds; do
  [ -d "$d" ] && { odds=$d; break; }
done
if [ -z "$odds" ]; then
  echo "  skipped: no ODDS data sets in \$CITYPIPE_SOURCE/../shared/datasets/odds"
else
  printf '  %-12s %7s %7s %7s %7s  %s\n' "data set" ours paper sklearn floor verdict
  while read -r name paper sk; do
    f="$odds/$name.ndjson.gz"
    [ -f "$f" ] || { printf '  %-12s missing\n' "$name"; continue; }
    zcat "$f" > "$work/data.ndjson"
    sum=0
    for seed in 1 2 3 4 5; do
      a=$(iforest-score --seed "$seed" "$work/data.ndjson" | $py "$work/auc.py" label)
      sum=$(awk -v s="$sum" -v a="$a" 'BEGIN { print s + a }')
    done
    awk -v n="$name" -v s="$sum" -v p="$paper" -v k="$sk" 'BEGIN {
      m = s / 5; floor = (p < k ? p : k) - 0.02
      printf "  %-12s %7.3f %7.2f %7.3f %7.3f  %s\n", n, m, p, k, floor, (m >= floor ? "ok" : "BELOW") }'
  done <<'SETS'
http 1.00 1.000
cover 0.88 0.876
smtp 0.88 0.904
shuttle 1.00 0.997
mammography 0.86 0.859
annthyroid 0.82 0.827
satellite 0.71 0.696
pima 0.67 0.670
breastw 0.99 0.988
ionosphere 0.85 0.844
SETS
fi

echo
echo "iforest-score: sensor-gen city data, 50000 records, --anomaly-rate 0.05, --seed 1"
if command -v sensor-gen >/dev/null; then
  sensor-gen --fast --count 50000 --seed 1 --anomaly-rate 0.05 > "$work/city.ndjson"
  read -r auc p r < <(iforest-score --seed 1 "$work/city.ndjson" | $py "$work/auc.py" injected_anomaly anomaly)
  echo "  forest alone:          AUC $auc, precision $p, recall $r (threshold 0.6)"
  read -r auc p r < <(iforest-score --seed 1 --rules city "$work/city.ndjson" | $py "$work/auc.py" injected_anomaly anomaly)
  echo "  forest + --rules city: precision $p, recall $r"
  read -r auc p r < <(iforest-score --seed 1 --contamination 0.05 --rules city "$work/city.ndjson" | $py "$work/auc.py" injected_anomaly anomaly)
  echo "  --contamination 0.05 + --rules city: precision $p, recall $r"
else
  echo "  skipped: sensor-gen not built"
fi

echo
echo "iforest-score: scoring throughput, 100 trees, 5 fields, NDJSON in and out"
echo "  (IFOREST_BENCH_ROUNDS, default 5, alternating rounds: scikit-learn, then ours, each the best of 3; median, min, max)"
if command -v sensor-gen >/dev/null; then
  n=1000000
  rounds=${IFOREST_BENCH_ROUNDS:-5}
  sensor-gen --fast --count "$n" --seed 2 > "$work/big.ndjson"
  head -20000 "$work/big.ndjson" | iforest-score train --seed 1 -o "$work/model.json"
  # The anchor: one round is a fresh process, best of 3 calls (wall and CPU each).
  cat > "$work/sk.py" <<'PY'
import time, numpy as np
from sklearn.ensemble import IsolationForest
rng = np.random.default_rng(1)
X = rng.normal(size=(200000, 5))
f = IsolationForest(n_estimators=100, max_samples=256, random_state=1).fit(X[:20000])
best, cpu = 1e9, 1e9
for _ in range(3):
    t, c = time.perf_counter(), time.process_time()
    f.score_samples(X)
    best, cpu = min(best, time.perf_counter() - t), min(cpu, time.process_time() - c)
print("%.0f %.0f" % (len(X) / best, len(X) / cpu))
PY
  ours_wall=() ours_cpu=() sk_wall=() sk_cpu=() ratios=()
  for r in $(seq 1 "$rounds"); do
    read -r sw sc < <($py "$work/sk.py")
    # Ours the same way: best of 3 runs (wall and CPU each), as the anchor's
    # best of 3 calls; a single run against a best of 3 biased the ratio.
    : > "$work/times"
    for _ in 1 2 3; do
      /usr/bin/time -f '%e %U %S' -a -o "$work/times" iforest-score -m "$work/model.json" "$work/big.ndjson" > /dev/null
    done
    read -r ow oc < <(awk -v n="$n" '{ w = (NR == 1 || $1 < w) ? $1 : w; c = $2 + $3; b = (NR == 1 || c < b) ? c : b }
      END { printf "%.0f %.0f\n", n / w, n / b }' "$work/times")
    ours_wall+=("$ow") ours_cpu+=("$oc") sk_wall+=("$sw") sk_cpu+=("$sc")
    ratios+=("$(awk -v a="$oc" -v b="$sc" 'BEGIN { printf "%.1f", a / b }')")
    echo "  round $r: scikit-learn $sc/CPU s ($sw/s wall); iforest-score $oc/CPU s ($ow/s wall); ${ratios[-1]}x per CPU second"
  done
  # stats N...: "median min max"
  stats() { echo "$(median "$@") $(printf '%s\n' "$@" | sort -g | head -1) $(printf '%s\n' "$@" | sort -g | tail -1)"; }
  read -r cpu cpu_min cpu_max < <(stats "${ours_cpu[@]}")
  read -r ours _ _ < <(stats "${ours_wall[@]}")
  read -r sk_cpu sk_min sk_max < <(stats "${sk_cpu[@]}")
  read -r sk _ _ < <(stats "${sk_wall[@]}")
  read -r ratio r_min r_max < <(stats "${ratios[@]}")
  echo "  iforest-score (best of 3 runs per round): $cpu records per CPU second (min $cpu_min, max $cpu_max), $ours/s wall; $n city records"
  echo "  scikit-learn score_samples (numpy, 200000x5, best of 3 per round): $sk_cpu per CPU second (min $sk_min, max $sk_max), $sk rows/s wall"
  echo "  ratio per CPU second: ${ratio}x (min ${r_min}x, max ${r_max}x); wall: $(awk -v a="$ours" -v b="$sk" 'BEGIN { printf "%.1f", a / b }')x"
  echo "  target, at least 2500000 records per CPU second and 40x: $(awk -v c="$cpu" -v r="$ratio" 'BEGIN { print (c >= 2500000 && r >= 40) ? "met" : "NOT met" }')"
  table_row "iforest-score, 100 trees, 5 fields: records per CPU s (median of $rounds)" "$cpu" "scikit-learn score_samples: $sk_cpu" \
    "${ratio}x" ">= 2500000/s, >= 40x"
else
  echo "  skipped: sensor-gen not built"
fi
