"""Reads a huntbench Parquet export with readers huntbench did not write (pyarrow, DuckDB) and
compares it with what the case holds.

Usage: check_readers.py EXPORT_DIR SAMPLE.jsonl EVENTS EVENTS_4688
SAMPLE.jsonl: events of the case, one per line: {"ingest_id", "source_file", "time_us",
"event_id", "record_id", "event_json": the normalised event as the case stores it}.
Prints one line; exits 1 on any difference.
"""
import datetime
import json
import sys

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq

PROMOTED = ["Image", "CommandLine", "ParentImage", "ParentCommandLine", "TargetFilename",
            "TargetObject"]
SYSTEM = {"Provider", "EventID", "Version", "Level", "Task", "Opcode", "Keywords", "TimeCreated",
          "EventRecordID", "Correlation", "Execution", "Channel", "Computer", "Security"}


def first(value):
    """A typed column holds a field's first value (a repeated element is a list)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def text(value):
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def main():
    out, sample_path, want, want_4688 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    bad = []
    dataset = ds.dataset(out, format="parquet", partitioning="hive")
    if dataset.count_rows() != want:
        bad.append(f"pyarrow: {dataset.count_rows()} rows, case {want}")
    for fragment in dataset.get_fragments():
        meta = pq.ParquetFile(fragment.path).metadata.metadata or {}
        if meta.get(b"huntbench.schema_version") != b"2":
            bad.append(f"{fragment.path}: schema version {meta.get(b'huntbench.schema_version')}")
            break
    con = duckdb.connect()
    scan = f"read_parquet('{out}/**/*.parquet', hive_partitioning=true)"
    rows = con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0]
    if rows != want:
        bad.append(f"duckdb: {rows} rows, case {want}")
    n4688 = con.execute(f"SELECT count(*) FROM {scan} WHERE event_id = 4688").fetchone()[0]
    if n4688 != want_4688:
        bad.append(f"duckdb: {n4688} rows of EventID 4688, search finds {want_4688}")
    keys, distinct = con.execute(f"SELECT count(event_key), count(DISTINCT event_key) FROM {scan}").fetchone()
    if keys != want or distinct != want:
        bad.append(f"duckdb: {keys} event keys, {distinct} distinct, case {want} events")
    by_key = {}
    every = con.execute(
        f"SELECT ingest_id, event, epoch_us(time), event_id, channel, provider, computer, record_id, "
        f"source_file, map_entries(system), map_entries(event_data), CAST(day AS VARCHAR), "
        + ", ".join(f'"{name}"' for name in PROMOTED) + f" FROM {scan}"
    ).fetchall()
    for row in every:
        by_key.setdefault((row[0], row[1]), []).append(row[2:])
    checked = 0
    with open(sample_path, encoding="utf-8") as f:
        for line in f:
            want_row = json.loads(line)
            whole = want_row["event_json"]
            event = json.loads(whole)
            found = by_key.get((want_row["ingest_id"], whole), [])
            if len(found) != 1:
                bad.append(f"{len(found)} rows for sample event {want_row['ingest_id']}/{event.get('EventRecordID')}")
                continue
            (time_us, event_id, channel, provider, computer, record_id, source_file, system, data,
             day) = found[0][:10]
            promoted = dict(zip(PROMOTED, found[0][10:]))
            expect = {
                "time": (time_us, want_row["time_us"]),
                "event_id": (event_id, want_row["event_id"]),
                "channel": (channel, first(event.get("Channel"))),
                "provider": (provider, first(event.get("Provider_Name"))),
                "computer": (computer, first(event.get("Computer"))),
                "record_id": (record_id, want_row["record_id"]),
                "source_file": (source_file, want_row["source_file"]),
                "system": ({e["key"]: e["value"] for e in system},
                           {k: text(v) for k, v in event.items() if k.split("_")[0] in SYSTEM}),
                "event_data": ({e["key"]: e["value"] for e in data},
                               {k: text(v) for k, v in event.items() if k.split("_")[0] not in SYSTEM}),
            }
            for name in PROMOTED:
                expect[name] = (promoted[name], text(event.get(name)))
            if want_row["time_us"] is not None:
                epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
                d = (epoch + datetime.timedelta(microseconds=want_row["time_us"])).date()
                expect["day"] = (day, d.isoformat())
            for name, (got, expected) in expect.items():
                if got != expected:
                    bad.append(f"event {want_row['ingest_id']}/{event.get('EventRecordID')}: {name} is {got!r}, case {expected!r}")
            checked += 1
    if bad:
        print("; ".join(bad[:10]))
        sys.exit(1)
    print(f"pyarrow and duckdb: {rows} rows (= case), {n4688} of EventID 4688 (= search), "
          f"{checked} sampled events equal field by field, schema version 2")


main()
