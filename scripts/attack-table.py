#!/usr/bin/env python3
"""Writes rules/mappings/attack-enterprise.tsv, huntbench's ATT&CK id -> name table, from MITRE's
Enterprise ATT&CK STIX bundle (enterprise-attack.json from github.com/mitre-attack/attack-stix-data
or github.com/mitre/cti).

    curl -LO https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json
    scripts/attack-table.py enterprise-attack.json > rules/mappings/attack-enterprise.tsv

Columns: id, tactic short name (tactics only; rule tags name tactics by it), name. Sub-techniques
are named "Parent: Sub" as ATT&CK's pages name them. Revoked and deprecated objects are left out.
"""
import json
import sys


def attack_id(obj):
    for ref in obj.get("external_references", []):
        if ref.get("source_name") == "mitre-attack":
            return ref.get("external_id")
    return None


def main(path):
    with open(path, encoding="utf-8") as f:
        objects = json.load(f)["objects"]
    live = [o for o in objects if not o.get("revoked") and not o.get("x_mitre_deprecated")]
    version = next(
        (o.get("x_mitre_version") for o in objects if o.get("type") == "x-mitre-collection"),
        "unknown",
    )
    tactics = sorted(
        (attack_id(o), o["x_mitre_shortname"].replace("-", "_"), o["name"])
        for o in live
        if o.get("type") == "x-mitre-tactic"
    )
    techniques = {
        attack_id(o): o["name"] for o in live if o.get("type") == "attack-pattern" and attack_id(o)
    }
    out = sys.stdout
    out.write("# MITRE ATT&CK Enterprise: id, tactic short name (tactics only), name.\n")
    out.write(f"# attack-version\t{version}\n")
    out.write("# Written by scripts/attack-table.py from MITRE's enterprise-attack.json.\n")
    for tid, short, name in tactics:
        out.write(f"{tid}\t{short}\t{name}\n")
    for tid in sorted(techniques):
        name = techniques[tid]
        parent = tid.split(".")[0]
        if "." in tid and parent in techniques:
            name = f"{techniques[parent]}: {name}"
        out.write(f"{tid}\t\t{name}\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
