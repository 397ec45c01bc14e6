"""Whether promoting the most used Sigma fields to columns of their own pays (BENCHMARKS.md).

Usage: python promoted_columns.py EXPORT_DIR WORK_DIR   (a Python with duckdb, e.g. the one
.ci/run makes: ~/.cache/huntbench-tests/pyenv/bin/python)

Rewrites the export with DuckDB, once as it is and once with the fields below copied out of
`event_data` into columns, both zstd, and times the same searches on each (best of 5).
"""
import os
import sys
import time

import duckdb

FIELDS = ["Image", "CommandLine", "ParentImage", "ParentCommandLine", "TargetFilename",
          "TargetObject"]
QUERIES = {
    "CommandLine contains 'powershell'": "{CommandLine} ILIKE '%powershell%'",
    "Image ends with '\\cmd.exe'": "{Image} ILIKE '%\\cmd.exe'",
    "TargetObject contains '\\Run\\'": "{TargetObject} ILIKE '%\\Run\\%'",
}


def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def best(con, sql):
    times = []
    for _ in range(5):
        t = time.perf_counter()
        n = con.execute(sql).fetchone()[0]
        times.append(time.perf_counter() - t)
    return n, min(times)


def main():
    export, work = sys.argv[1], sys.argv[2]
    con = duckdb.connect()
    source = f"read_parquet('{export}/**/*.parquet', hive_partitioning=true)"
    plain, promoted = os.path.join(work, "plain.parquet"), os.path.join(work, "promoted.parquet")
    extra = ", ".join(f"event_data['{f}'] AS \"{f}\"" for f in FIELDS)
    con.execute(f"COPY (SELECT * FROM {source}) TO '{plain}' (FORMAT parquet, COMPRESSION zstd)")
    con.execute(f"COPY (SELECT *, {extra} FROM {source}) TO '{promoted}' "
                f"(FORMAT parquet, COMPRESSION zstd)")
    a, b = size(plain), size(promoted)
    print(f"size: {a / 1e6:.1f} MB as exported, {b / 1e6:.1f} MB with {len(FIELDS)} fields "
          f"promoted (+{100 * (b - a) / a:.1f} %)")
    for title, condition in QUERIES.items():
        in_map = condition.format(**{f: f"event_data['{f}']" for f in FIELDS})
        as_col = condition.format(**{f: f'"{f}"' for f in FIELDS})
        n1, t1 = best(con, f"SELECT count(*) FROM '{plain}' WHERE {in_map}")
        n2, t2 = best(con, f"SELECT count(*) FROM '{promoted}' WHERE {as_col}")
        assert n1 == n2, (title, n1, n2)
        print(f"{title}: {n1} rows; from the map {t1 * 1e3:.0f} ms, from the column "
              f"{t2 * 1e3:.0f} ms ({t1 / t2:.1f} x)")


main()
