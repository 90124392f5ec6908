#!/usr/bin/python3
"""Drives the real ESGF search client, pyesgf (tests/clients/esgf-pyclient), against a
running fedswarm node over HTTPS, the way an ESGF user does, and checks every answer
against what the C++ test read from `fedswarm search` / `fedswarm show`.

Usage: esgf_client_check.py SPEC.json
SPEC: {"url": "https://host:port/esg-search", "ca": "<node certificate>",
       "constraints": {facet: value}, "facets": [facet, ...],
       "hit_count": n, "facet_counts": {facet: {value: count}},
       "files": {instance_id: [{"name", "size", "sha256", "tracking_id"}]},
       "workdir": "<empty temp dir>"}
Prints one line per failed check and exits 1 if any failed, 0 otherwise.
"""
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "clients", "esgf-pyclient"))

import requests  # noqa: E402
from pyesgf.search import SearchConnection  # noqa: E402

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAILED: " + what, flush=True)
    return ok


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run(spec, distrib):
    tag = "distrib=%s: " % distrib
    conn = SearchConnection(spec["url"], distrib=distrib, verify=spec["ca"])
    ctx = conn.new_context(project="CMIP6", latest=True, facets=",".join(spec["facets"]),
                           **spec["constraints"])
    check(ctx.hit_count == spec["hit_count"],
          tag + "hit_count %s, fedswarm search says %s" % (ctx.hit_count, spec["hit_count"]))
    counts = {f: dict(v) for f, v in ctx.facet_counts.items() if f in spec["facets"]}
    check(counts == spec["facet_counts"],
          tag + "facet_counts %s, fedswarm search says %s" % (counts, spec["facet_counts"]))

    seen = set()
    downloaded = False
    for ds in ctx.search():
        instance = ds.json["instance_id"]
        seen.add(instance)
        expected = {f["name"]: f for f in spec["files"].get(instance, [])}
        check(bool(expected), tag + "dataset %s is not one fedswarm search found" % instance)
        files = list(ds.file_context().search())
        got = {f.filename: f for f in files}
        check(set(got) == set(expected),
              tag + "%s lists files %s, the manifest has %s" % (instance, sorted(got), sorted(expected)))
        for name, f in got.items():
            e = expected.get(name)
            if not e:
                continue
            check(f.checksum == e["sha256"] and f.checksum_type == "SHA256",
                  tag + "%s: checksum %s %s, manifest %s" % (name, f.checksum_type, f.checksum, e["sha256"]))
            check(int(f.size) == e["size"], tag + "%s: size %s, manifest %s" % (name, f.size, e["size"]))
            check(f.tracking_id == e["tracking_id"],
                  tag + "%s: tracking_id %s, manifest %s" % (name, f.tracking_id, e["tracking_id"]))
            url = f.download_url
            if not check(bool(url) and url.startswith("https://"), tag + "%s: download_url %r" % (name, url)):
                continue
            if not downloaded:
                # One byte-identical download by the record's own url.
                r = requests.get(url, verify=spec["ca"], timeout=60)
                check(r.status_code == 200, tag + "GET %s answered %s" % (url, r.status_code))
                check(hashlib.sha256(r.content).hexdigest() == e["sha256"],
                      tag + "GET %s: bytes differ from the published file" % url)
                downloaded = True
    check(seen == set(spec["files"]), tag + "datasets %s, fedswarm search found %s" % (sorted(seen), sorted(spec["files"])))

    # The wget script: downloads and verifies every file into its own directory.
    script = ctx.get_download_script()
    check(script.startswith("#!") and "# ESG Federation download script" in script,
          tag + "wget script does not look like one: %r" % script[:200])
    check("# Search URL:" in script, tag + "wget script has no '# Search URL:' line")
    out = os.path.join(spec["workdir"], "wget-distrib-%s" % distrib)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "download.sh")
    with open(path, "w") as f:
        f.write(script)
    env = dict(os.environ, CURL_CA_BUNDLE=spec["ca"])
    p = subprocess.run(["bash", path], cwd=out, env=env, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, tag + "wget script exited %s: %s %s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    for instance, files in spec["files"].items():
        for e in files:
            local = os.path.join(out, e["name"])
            check(os.path.exists(local) and sha256_of(local) == e["sha256"],
                  tag + "wget script did not download %s intact" % e["name"])


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    for distrib in (True, False):
        try:
            run(spec, distrib)
        except Exception as e:  # a client exception is a failed check, with its text
            check(False, "distrib=%s: pyesgf raised %s: %s" % (distrib, type(e).__name__, e))
    print("%d failed checks" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
