#!/usr/bin/python3
"""Writes the seed corpus of the esg-search fuzz targets: the query strings the real ESGF
client pyesgf (tests/clients/esgf-pyclient) sends, recorded offline (its HTTP call is
replaced by one that answers with the real esg-search responses of tests/fixtures), plus
the queries of tests/functional/esgf_http_test.cpp and the README; and for the Solr
target, the `query=` values among them and the filter queries of the real responses'
responseHeader.

Usage: make_query_corpus.py <corpus dir>  (writes <dir>/fuzz_esg_query, fuzz_solr_query)
"""
import json
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "esgf_search")
sys.path.insert(0, os.path.join(ROOT, "tests", "clients", "esgf-pyclient"))

import pyesgf.search.connection as connection  # noqa: E402
from pyesgf.search import SearchConnection  # noqa: E402
from pyesgf.util import urlencode  # noqa: E402


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


DATASETS = fixture("cmip6_datasets_latest_with_facets.json")
FILES = fixture("cmip6_one_file.json")
sent = []


class Answer:
    """What requests would return: the real response of the record type asked for."""

    status_code = 200

    def __init__(self, body, wget):
        self.body, self.text = body, "#!/bin/bash\n" if wget else json.dumps(body)

    def json(self):
        return self.body

    def close(self):
        pass


def record(self, endpoint, full_query):
    sent.append(urlencode(full_query))
    files = full_query.get("type") == "File"
    body = json.loads(json.dumps(FILES if files else DATASETS))
    offset = int(full_query.get("offset") or 0)
    if offset:  # the fixture's records fill the first page only
        body["response"]["docs"] = []
    return Answer(body, endpoint == "wget")


connection.SearchConnection._send_query = record
os.environ["ESGF_PYCLIENT_NO_FACETS_STAR_WARNING"] = "1"


def pyesgf_queries():
    url = "https://127.0.0.1:8443/esg-search"
    for distrib in (True, False):
        conn = SearchConnection(url, distrib=distrib)
        # tests/functional/esgf_client_check.py and the README's example.
        ctx = conn.new_context(project="CMIP6", latest=True, facets="source_id,variable_id,experiment_id")
        ctx.hit_count
        for n, ds in enumerate(ctx.search(batch_size=2)):
            fc = ds.file_context()
            list(fc.search())
            if n == 1:
                break
    conn = SearchConnection(url, distrib=False)
    ctx = conn.new_context(project="CMIP6", source_id="IPSL-CM6A-LR", variable_id=["tas", "pr"],
                           experiment_id="historical", replica=False, latest=True,
                           from_timestamp="2019-01-01T00:00:00Z", to_timestamp="2020-12-31T23:59:59Z",
                           facets="institution_id,member_id")
    ctx.hit_count
    ctx.constrain(query="variable_id:(tas OR pr) AND NOT source_id:CESM2").hit_count
    ctx.constrain(query="*").hit_count
    conn.new_context(project="CMIP6", facets="*").facet_counts
    conn.new_context(project="CMIP6", table_id="Amon", fields="id,instance_id,size", facets="table_id").hit_count
    ctx.get_download_script()
    # Shards as the real response's header lists them.
    conn = SearchConnection(url, distrib=True)
    conn.new_context(project="CMIP6", variable_id="tas", shards=["esgf-data-node-solr-query"],
                     facets="variable_id").get_download_script()


# tests/functional/esgf_http_test.cpp and README.md (curl); the id is a real CMIP6 one.
ID = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803"
PROJECT_QUERIES = [
    "format=application%2Fsolr%2Bjson&project=CMIP6&latest=true&facets=source_id,experiment_id&limit=10",
    "format=application%2Fsolr%2Bjson&replica=true&instance_id=" + ID,
    "format=application%2Fsolr%2Bjson&replica=False&instance_id=" + ID,
    "format=application%2Fsolr%2Bjson&type=File&dataset_id=" + ID + "%7CDKRZ",
    "format=application%2Fsolr%2Bjson&projetc=CMIP6",
    "format=application%2Fsolr%2Bjson&limit=10001",
    "format=application%2Fsolr%2Bjson&experiment_id=",
    "variable_id!=tas&variable_id!=pr&sort=_timestamp+desc&min_version=20180101&max_version=v20191231",
    "bbox=%5B-10,-10,10,10%5D",
    "type=Dataset&from=2019-01-01T00%3A00%3A00Z&to=2020-12-31&retracted=false&latest=false&offset=20",
    "latest=true&query=project:CMIP6+AND+experiment_id:(historical+ssp585)+AND+NOT+(variable_id:tas)",
    "latest=true&query=variable_id:tas+%26%26+institution_id:IPSL",
]


def solr_filters():
    out = []
    for name in sorted(os.listdir(FIXTURES)):
        params = fixture(name).get("responseHeader", {}).get("params", {})
        if "fq" in params:
            out.append(" AND ".join(params["fq"]))
        if "q" in params:
            out.append(params["q"])
    return out


def main():
    out = sys.argv[1]
    pyesgf_queries()
    esg = list(dict.fromkeys(sent + PROJECT_QUERIES))
    solr = []
    for q in esg:
        for k, v in urllib.parse.parse_qsl(q, keep_blank_values=True):
            if k == "query":
                solr.append(v)
    solr = list(dict.fromkeys(solr + solr_filters() + [
        "-variable_id:(tas OR pr) && source_id:\"IPSL-CM6A-LR\" && tracking_id:hdl\\:21.14100/x",
        "variable_id:t?s AND institution_id:IPSL*",
    ]))
    for target, seeds in (("fuzz_esg_query", esg), ("fuzz_solr_query", solr)):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for i, s in enumerate(seeds, 1):
            with open(os.path.join(d, "seed-%02d" % i), "w") as f:
                f.write(s)
        print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
