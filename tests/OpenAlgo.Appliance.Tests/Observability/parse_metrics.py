"""Parses a Prometheus text exposition from stdin with the real parser (Debian's
python3-prometheus-client) and prints one JSON object per sample:
{"family": ..., "type": ..., "name": ..., "labels": {...}, "value": ...}.
A malformed exposition raises, so the caller sees the parser's error."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        print(json.dumps({"family": family.name, "type": family.type, "name": sample.name,
                          "labels": sample.labels, "value": sample.value}))
