#!/usr/bin/env python3
"""The anchor's generator for bench/75-pipeline.sh: sensor-gen's city profile done the
seed systems' way, random plus json.dumps per record.

city_gen.py COUNT SEED > FILE writes COUNT records of sensor-gen --fast's shape and event
times (40 sensors in 8 zones, one reading each per second from 2026-01-01T00:00:00Z, the
sensors 25 ms apart; 5% injected anomalies of the same eight kinds, with anomaly_kind), so
that the same windows come out of both. The values follow the same day shapes, not the
same random stream.
"""
import json
import math
import random
import sys
import time

ZONES = [  # name, temperature offset, traffic, aqi, noise: as lib/gen/emitter.h
    ("Downtown", 1.2, 190, 95, 71), ("University District", 0.2, 95, 45, 58),
    ("Industrial Park", 1.5, 115, 155, 83), ("Residential North", -0.8, 28, 22, 44),
    ("Residential South", -0.4, 40, 38, 47), ("Shopping District", 0.9, 175, 85, 68),
    ("Tech Hub", 0.5, 100, 44, 60), ("Medical Center", 0.1, 80, 40, 55),
]
KINDS = ["heat_spike", "cold_snap", "pollution_spike", "noise_spike", "traffic_jam",
         "decoupled_traffic", "hot_humid", "dirty_quiet"]
SENSORS = 40
EPOCH = 1767225600  # 2026-01-01T00:00:00Z


def day_shapes():
    temp, traffic = [], []
    for m in range(1440):
        h = m / 60.0
        temp.append(math.cos(2 * math.pi * (h - 15) / 24))
        day = 1 / (1 + math.exp(-(h - 6.5) * 2)) - 1 / (1 + math.exp(-(h - 22) * 2))
        rush = 0.9 * math.exp(-0.5 * ((h - 8.0) / 1.1) ** 2) + 0.8 * math.exp(-0.5 * ((h - 17.5) / 1.4) ** 2)
        traffic.append(0.15 + 0.55 * day + rush)
    return temp, traffic


def main():
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    sensors = [(ZONES[i % len(ZONES)], rng.gauss(0, 0.5), rng.gauss(0, 1)) for i in range(SENSORS)]
    tshape, rushes = day_shapes()
    write = sys.stdout.write
    for i in range(n):
        tick, s = divmod(i, SENSORS)
        (zone, toff, ztraffic, zaqi, znoise), bias, bias2 = sensors[s]
        sec = EPOCH + tick
        ms = s * 25
        minute = (tick // 60) % 1440
        t, rush = tshape[minute], rushes[minute]
        temperature = 15 + 8 * t + toff + bias + rng.gauss(0, 0.8)
        humidity = min(100.0, max(5.0, 62 - 14 * t + 4 * bias2 + rng.gauss(0, 3)))
        traffic = max(0.0, ztraffic * rush * (1 + rng.gauss(0, 0.1)))
        noise = min(120.0, max(30.0, znoise + 6 * (rush - 1) + rng.gauss(0, 2)))
        aqi = min(500.0, max(0.0, zaqi * (0.65 + 0.35 * rush) * (1 + rng.gauss(0, 0.08))))
        kind = -1
        if rng.random() < 0.05:
            kind = rng.randrange(5) if rng.random() < 0.6 else 5 + rng.randrange(3)
            if kind == 0: temperature = rng.uniform(41, 50)
            elif kind == 1: temperature = rng.uniform(-10, -5.5)
            elif kind == 2: aqi = rng.uniform(305, 500)
            elif kind == 3: noise = rng.uniform(102, 120)
            elif kind == 4: traffic = rng.uniform(505, 650)
            elif kind == 5: traffic, noise, aqi = rng.uniform(380, 480), rng.uniform(32, 40), rng.uniform(8, 18)
            elif kind == 6: temperature, humidity = rng.uniform(35, 39), rng.uniform(92, 99)
            else: aqi, traffic, noise = rng.uniform(240, 290), rng.uniform(0, 6), rng.uniform(31, 38)
        rec = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%03dZ" % ms,
            "sensor_id": "city-%04d" % (s + 1), "zone": zone,
            "temperature": round(temperature, 1), "humidity": round(humidity, 1),
            "aqi": int(round(aqi)), "noise_db": round(noise, 1), "traffic": int(round(traffic)),
            "injected_anomaly": kind >= 0,
        }
        if kind >= 0:
            rec["anomaly_kind"] = KINDS[kind]
        write(json.dumps(rec, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
