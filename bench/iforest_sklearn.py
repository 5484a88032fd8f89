#!/usr/bin/env python3
"""The anchor's scorer for bench/75-pipeline.sh: iforest-score -m MODEL --rules city done with
scikit-learn's IsolationForest and json.loads/json.dumps.

iforest_sklearn.py train MODEL < SAMPLE   fits 100 trees of 256 rows on the five city fields
                                          (random_state 1) and pickles the forest to MODEL.
iforest_sklearn.py score MODEL < IN > OUT adds iforest-score's fields to each record: score
                                          (-score_samples, as iforest-score's 0..1 score),
                                          anomaly (score > 0.6 or a city rule), severity and
                                          reasons, scoring 65536 records per score_samples call.
"""
import itertools
import json
import pickle
import sys

import numpy as np
from sklearn.ensemble import IsolationForest

FIELDS = ["temperature", "humidity", "aqi", "noise_db", "traffic"]
RULES = [  # iforest-score --rules city
    ("temperature<-5", lambda r: r["temperature"] < -5, 2),
    ("temperature>40", lambda r: r["temperature"] > 40, 2),
    ("aqi>300", lambda r: r["aqi"] > 300, 3),
    ("noise_db>100", lambda r: r["noise_db"] > 100, 2),
    ("traffic>500", lambda r: r["traffic"] > 500, 2),
]
SEVERITY = ["none", "low", "medium", "high"]
THRESHOLD = 0.6


def rows(records):
    return np.array([[r[f] for f in FIELDS] for r in records], dtype=float)


def forest_severity(s):
    if not s > THRESHOLD: return 0
    if s <= THRESHOLD + 0.05: return 1
    if s <= THRESHOLD + 0.10: return 2
    return 3


def score(model, inp, out):
    with open(model, "rb") as f:
        forest = pickle.load(f)
    while True:
        chunk = [json.loads(line) for line in itertools.islice(inp, 65536)]
        if not chunk:
            break
        scores = -forest.score_samples(rows(chunk))
        for r, s in zip(chunk, scores):
            s = float(s)
            reasons = ["iforest"] if s > THRESHOLD else []
            sev = forest_severity(s)
            for text, hit, rule_sev in RULES:
                if hit(r):
                    reasons.append(text)
                    sev = max(sev, rule_sev)
            r["score"] = round(s, 4)
            r["anomaly"] = bool(reasons)
            r["severity"] = SEVERITY[sev]
            r["reasons"] = reasons
            out.write(json.dumps(r, separators=(",", ":")) + "\n")


def main():
    mode, model = sys.argv[1], sys.argv[2]
    if mode == "train":
        forest = IsolationForest(n_estimators=100, max_samples=256, random_state=1)
        forest.fit(rows([json.loads(line) for line in sys.stdin]))
        with open(model, "wb") as f:
            pickle.dump(forest, f)
    elif mode == "score":
        score(model, sys.stdin, sys.stdout)
    else:
        sys.exit("usage: iforest_sklearn.py train|score MODEL")


if __name__ == "__main__":
    main()
