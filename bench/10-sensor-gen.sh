#!/usr/bin/env bash
# sensor-gen --fast into /dev/null: records per CPU second on one core (target:
# 3 million), next to a Python producer of the seed systems' kind (random +
# json.dumps per record) on the same machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=10000000
rates=()
for run in 1 2 3; do
  s=$(cpu_seconds_of sensor-gen --fast --count $n --seed $run)
  rates+=("$(awk -v n=$n -v s="$s" 'BEGIN{printf "%.0f", n/s}')")
done
ours=$(median "${rates[@]}")

py_n=300000
py=$(python3 - "$py_n" <<'PY'
import json, random, sys, time
n = int(sys.argv[1]); zones = ["Downtown", "University District", "Industrial Park", "Residential North",
    "Residential South", "Shopping District", "Tech Hub", "Medical Center"]
out = open("/dev/null", "w"); t0 = time.process_time()
for i in range(n):
    out.write(json.dumps({"ts": "2026-01-01T00:00:00.000Z", "sensor_id": "city-%04d" % (i % 40),
        "zone": zones[i % 8], "temperature": round(random.gauss(20, 3), 1), "humidity": round(random.gauss(60, 5), 1),
        "aqi": int(random.gauss(60, 10)), "noise_db": round(random.gauss(60, 5), 1),
        "traffic": int(random.gauss(100, 20)), "injected_anomaly": False}) + "\n")
print("%.0f" % (n / (time.process_time() - t0)))
PY
)
row "sensor-gen --fast (city, records/s, median of 3)" "$ours" "python json.dumps producer" "$py" \
  "$(awk -v a="$ours" -v b="$py" 'BEGIN{printf "%.1fx", a/b}')" "target >= 3000000: $( [ "$ours" -ge 3000000 ] && echo met || echo NOT met)"
