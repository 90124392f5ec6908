// EsgSearchService: the esg-search answers over a small federation's catalog — JSON
// shapes, numFound and facet counts against Catalog::search, paging, replica and file
// records, urls, the 400 cases, the query= forms, XML and the wget script — plus the
// query-string and Solr parsers on their own.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "../storage/CatalogWorld.hpp"
#include "fedswarm/protocol/DrsPath.hpp"
#include "http/EsgQuery.hpp"
#include "http/EsgSearchService.hpp"
#include "http/SolrQuery.hpp"
#include "http/WgetScript.hpp"

using namespace fedswarm;
using namespace fedswarm::test;
using json = nlohmann::json;

namespace {

constexpr const char* kJson = "format=application%2Fsolr%2Bjson";

struct EsgWorld : CatalogWorld {
  SigningKey dark = SigningKey::generate();
  SigningKey self = SigningKey::generate();
  Manifest tas_old, tas_new, pr, tos;

  EsgWorld() {
    Roster r = make_roster(2,
                           {member(ipsl, "ipsl"), member(ncar, "ncar"), member(dkrz, "dkrz", Tier::tier1),
                            member(dark, "darkrepo", Tier::dark), member(self, "me")},
                           {grant(ipsl, {"IPSL"}), grant(ncar), grant(dkrz)}, 1'700'000'000, 4'000'000'000);
    r.members[0].http_url = "https://ipsl.example:8443";
    r.members[2].http_url = "https://dkrz.example";
    r.members[3].http_url = "https://dark.example";
    REQUIRE(ingest(roster_record(r)).outcome == IngestOutcome::stored);
    tas_old = manifest(ipsl_tas(), "v20180101", 2);
    tas_new = manifest(ipsl_tas(), "v20190101", 3);
    pr = manifest(ncar_pr(), "v20190101", 2);
    DatasetSpec t = ipsl_tas();
    t.variable = "tos";
    t.table = "Omon";
    tos = manifest(t, "v20190101", 1);
    for (const auto* m : {&tas_old, &tas_new, &tos}) REQUIRE(publish(ipsl, *m).outcome == IngestOutcome::stored);
    REQUIRE(publish(ncar, pr).outcome == IngestOutcome::stored);
    // dkrz holds tas_new; the dark repository holds pr (not an official replica).
    ReplicaRecord held{tas_new.dataset_id, tas_new.version, ReplicaState::complete, kNow - 100};
    REQUIRE(ingest(sign(dkrz, RecordKind::replica, held.encode())).outcome == IngestOutcome::stored);
    ReplicaRecord dark_held{pr.dataset_id, pr.version, ReplicaState::complete, kNow - 100};
    REQUIRE(ingest(sign(dark, RecordKind::replica, dark_held.encode())).outcome == IngestOutcome::stored);
    // tos is retracted by its publisher.
    REQUIRE(ingest(retraction_record(ipsl, tos.dataset_id, tos.version)).outcome == IngestOutcome::stored);
  }

  EsgSearchService service(Tier tier = Tier::tier2) const {
    EsgSearchSite s;
    s.self = self.public_key();
    s.site = "me";
    s.tier = tier;
    s.public_url = "https://me.example:8443";
    s.index_node = "me.example";
    return EsgSearchService(*cat, s);
  }

  json search(const std::string& qs, Tier tier = Tier::tier2) const {
    HttpAnswer a = service(tier).search(std::string(kJson) + "&" + qs);
    REQUIRE_MESSAGE(a.status == 200, qs << ": " << a.body);
    return json::parse(a.body);
  }
};

std::map<std::string, std::uint64_t> counts_of(const json& flat) {
  std::map<std::string, std::uint64_t> out;
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out[flat[i].get<std::string>()] = flat[i + 1].get<std::uint64_t>();
  return out;
}

std::vector<std::string> ids_of(const json& answer) {
  std::vector<std::string> out;
  for (const auto& d : answer["response"]["docs"]) out.push_back(d["id"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("esg-search: the answer's shape, numFound and facet counts equal Catalog::search's") {
  EsgWorld w;
  json a = w.search("latest=true&facets=*&limit=10");
  SearchQuery q;
  q.facet_fields = {"*"};
  auto want = w.cat->search(q);
  REQUIRE(want.ok());
  CHECK(a["responseHeader"]["status"] == 0);
  CHECK(a["responseHeader"]["QTime"].is_number_integer());
  CHECK(a["responseHeader"]["params"]["shards"].get<std::string>() == "localhost:8983/solr/datasets");
  CHECK(a["response"]["numFound"] == want->num_found);
  CHECK(a["response"]["numFound"] == 2);
  CHECK(a["response"]["start"] == 0);
  for (const char* k : {"facet_queries", "facet_fields", "facet_ranges", "facet_intervals", "facet_heatmaps"})
    CHECK(a["facet_counts"].contains(k));
  for (const auto& fc : want->facet_counts) {
    INFO(fc.facet);
    std::map<std::string, std::uint64_t> expect;
    for (const auto& c : fc.counts) expect[fc.facet == "version" ? c.value.substr(1) : c.value] = c.count;
    CHECK(counts_of(a["facet_counts"]["facet_fields"][fc.facet]) == expect);
  }
  // Flat [value, count, ...] sorted by value.
  const json& nodes = a["facet_counts"]["facet_fields"]["data_node"];
  CHECK(nodes == json::array({"ipsl", 1, "ncar", 1}));

  // A dataset record.
  json doc;
  for (const auto& d : a["response"]["docs"])
    if (d["master_id"] == w.tas_new.dataset_id) doc = d;
  REQUIRE(doc.is_object());
  CHECK(doc["id"] == w.tas_new.instance_id() + "|ipsl");
  CHECK(doc["instance_id"] == w.tas_new.instance_id());
  CHECK(doc["title"] == w.tas_new.dataset_id);
  CHECK(doc["version"] == "20190101");
  CHECK(doc["data_node"] == "ipsl");
  CHECK(doc["index_node"] == "me.example");
  CHECK(doc["number_of_files"] == 3);
  CHECK(doc["size"].is_number_integer());
  CHECK(doc["size"] == w.tas_new.total_size());
  CHECK(doc["latest"] == true);
  CHECK(doc["replica"] == false);
  CHECK(doc["retracted"] == false);
  CHECK(doc["type"] == "Dataset");
  CHECK(doc["project"] == json::array({"CMIP6"}));
  CHECK(doc["variable_id"] == json::array({"tas"}));
  CHECK(doc["_timestamp"].get<std::string>().size() == 20);
  CHECK(doc["access"] == json::array({"HTTPServer"}));
  CHECK(doc["directory_format_template_"][0].get<std::string>().rfind("%(root)s/%(mip_era)s/", 0) == 0);

  // limit=0 still counts; fields filters the keys.
  json z = w.search("latest=true&limit=0&facets=variable_id, data_node");
  CHECK(z["response"]["numFound"] == 2);
  CHECK(z["response"]["docs"].empty());
  CHECK(counts_of(z["facet_counts"]["facet_fields"]["variable_id"]) == std::map<std::string, std::uint64_t>{{"pr", 1}, {"tas", 1}});
  json f = w.search("latest=true&fields=id,size");
  for (const auto& d : f["response"]["docs"]) CHECK(d.size() == 2);
}

TEST_CASE("esg-search: versions, retraction, booleans in any case, paging") {
  EsgWorld w;
  CHECK(w.search("")["response"]["numFound"] == 4);  // latest unset: every version
  CHECK(w.search("latest=True")["response"]["numFound"] == 2);
  CHECK(w.search("latest=TRUE")["response"]["numFound"] == 2);
  CHECK(w.search("latest=false")["response"]["numFound"] == 2);  // the old tas and the retracted tos
  CHECK(w.search("retracted=false")["response"]["numFound"] == 3);
  json r = w.search("retracted=true");
  REQUIRE(r["response"]["numFound"] == 1);
  CHECK(r["response"]["docs"][0]["retracted"] == true);
  CHECK(w.search("min_version=20190101")["response"]["numFound"] == 3);
  CHECK(w.search("max_version=v20180101")["response"]["numFound"] == 1);
  CHECK(w.search("version=20190101")["response"]["numFound"] == 3);
  CHECK(w.search("from=2100-01-01T00:00:00Z")["response"]["numFound"] == 0);
  CHECK(w.search("to=2100-01-01T00:00:00Z")["response"]["numFound"] == 4);
  CHECK(w.search("start=1850-01-01T00:00:00Z&end=2014-12-31T00:00:00Z")["response"]["numFound"] == 4);

  // Pages of one cover the result exactly once, in catalog order.
  std::vector<std::string> all = ids_of(w.search("limit=10"));
  REQUIRE(all.size() == 4);
  for (std::size_t i = 0; i < all.size(); ++i) {
    json p = w.search("limit=1&offset=" + std::to_string(i));
    CHECK(p["response"]["start"] == i);
    CHECK(ids_of(p) == std::vector<std::string>{all[i]});
  }
  CHECK(w.search("offset=4")["response"]["docs"].empty());

  // sort
  json s = w.search("sort=id+desc&limit=10");
  std::vector<std::string> sorted = all;
  std::sort(sorted.rbegin(), sorted.rend());
  CHECK(ids_of(s) == sorted);
  CHECK(w.search("sort=_timestamp+asc")["response"]["numFound"] == 4);
}

TEST_CASE("esg-search: constraints, OR lists, exclusions and query=") {
  EsgWorld w;
  CHECK(w.search("latest=true&variable_id=tas,pr")["response"]["numFound"] == 2);
  CHECK(w.search("latest=true&variable_id=tas&variable_id=pr")["response"]["numFound"] == 2);
  CHECK(w.search("latest=true&variable_id!=tas")["response"]["numFound"] == 1);
  CHECK(w.search("variable_id!=tas&variable_id!=pr")["response"]["numFound"] == 1);  // tos
  CHECK(w.search("latest=true&institution_id=NCAR&variable_id=tas")["response"]["numFound"] == 0);
  CHECK(w.search("data_node=ncar")["response"]["numFound"] == 1);
  CHECK(w.search("data_node!=ncar")["response"]["numFound"] == 3);
  CHECK(w.search("master_id=" + w.tas_old.dataset_id)["response"]["numFound"] == 2);
  CHECK(w.search("instance_id=" + w.tas_old.instance_id())["response"]["numFound"] == 1);
  CHECK(w.search("id=" + w.tas_old.instance_id() + "%7Cipsl")["response"]["numFound"] == 1);
  CHECK(w.search("id=" + w.tas_old.instance_id() + "%7Cdkrz")["response"]["numFound"] == 0);
  // A holder named by the record id is found without replica= (pyesgf's file_context()).
  CHECK(w.search("id=" + w.tas_new.instance_id() + "%7Cdkrz")["response"]["numFound"] == 1);
  CHECK(w.search("index_node=me.example")["response"]["numFound"] == 4);
  CHECK(w.search("index_node=elsewhere")["response"]["numFound"] == 0);
  CHECK(w.search("tracking_id=" + w.pr.files[0].tracking_id)["response"]["numFound"] == 1);
  CHECK(w.search("checksum=" + to_hex(w.tas_old.files[0].sha256))["response"]["numFound"] == 1);
}

TEST_CASE("esg-search: query= in the Solr forms clients send") {
  EsgWorld w;
  auto n = [&](const std::string& q) { return w.search("latest=true&query=" + q)["response"]["numFound"].get<int>(); };
  CHECK(n("*") == 2);
  CHECK(n("*:*") == 2);
  CHECK(n("project:CMIP6+AND+experiment_id:(historical+ssp585)+AND+NOT+(variable_id:tas)") == 1);
  CHECK(n("variable_id:(tas+OR+pr)") == 2);
  CHECK(n("variable_id:%22tas%22") == 1);
  CHECK(n("variable_id:t*") == 1);
  CHECK(n("variable_id:t?s") == 1);
  CHECK(n("variable_id:zz*") == 0);
  CHECK(n("-variable_id:tas") == 1);
  CHECK(n("variable_id:tas+%26%26+institution_id:IPSL") == 1);
  CHECK(n("institution_id:IPSL+AND+variable_id:*") == 1);
}

TEST_CASE("esg-search: 400 answers") {
  EsgWorld w;
  auto svc = w.service();
  auto status = [&](const std::string& qs) { return svc.search(qs).status; };
  HttpAnswer a = svc.search("project=CMIP6&foo=bar");
  CHECK(a.status == 400);
  CHECK(a.body == "Invalid HTTP query parameter=foo");
  CHECK(svc.search("variable_idx=tas").body == "Invalid HTTP query parameter=variable_idx");
  CHECK(status("project=") == 400);
  CHECK(status("limit=") == 400);
  CHECK(status("limit=10001") == 400);
  CHECK(status("limit=10000") == 200);
  CHECK(status("limit=-1") == 400);
  CHECK(status("latest=yes") == 400);
  CHECK(status("type=Aggregation") == 400);
  CHECK(status("format=text/html") == 400);
  CHECK(status("bbox=%5B-10,-10,10,10%5D") == 400);
  CHECK(status("from=yesterday") == 400);
  CHECK(status("query=variable_id:tas+OR+institution_id:IPSL") == 400);
  CHECK(status("query=hello") == 400);
  CHECK(status("query=variable_id:(tas") == 400);
  CHECK(status("query=instance_id:CMIP6*") == 400);
  CHECK(status("project=CMIP6&query=project:CMIP5") == 400);
  CHECK(status("variable_id=%zz") == 400);
  // What pyesgf sends by default is accepted.
  CHECK(status("format=application%2Fsolr%2Bjson&limit=0&distrib=true&type=Dataset&facets=%2A&latest=True&replica=False") == 200);
  CHECK(status("format=application%2Fsolr%2Bjson&distrib=false&shards=localhost%3A8983%2Fsolr&type=File&dataset_id=x%7Cy") == 200);
  // A facet of the project template is known even before any manifest carries it.
  CHECK(status("sub_experiment_id=none") == 200);
}

TEST_CASE("esg-search: replica records and dark repositories") {
  EsgWorld w;
  json r = w.search("replica=true&facets=data_node");
  REQUIRE(r["response"]["numFound"] == 1);  // dkrz's copy of tas_new; the dark copy is not listed
  const json& d = r["response"]["docs"][0];
  CHECK(d["id"] == w.tas_new.instance_id() + "|dkrz");
  CHECK(d["data_node"] == "dkrz");
  CHECK(d["replica"] == true);
  CHECK(r["facet_counts"]["facet_fields"]["data_node"] == json::array({"dkrz", 1}));
  CHECK(w.search("replica=true&data_node=dkrz")["response"]["numFound"] == 1);
  CHECK(w.search("replica=true&data_node=ipsl")["response"]["numFound"] == 0);
  CHECK(w.search("replica=false")["response"]["numFound"] == 4);

  // On a dark repository's own node its complete local copies are listed too.
  LocalReplica local;
  local.instance_id = w.tas_old.instance_id();
  local.state = LocalState::complete;
  local.path = "/data/x";
  REQUIRE(w.cat->put_local(local).ok());
  CHECK(w.search("replica=true")["response"]["numFound"] == 1);
  json dark = w.search("replica=true", Tier::dark);
  REQUIRE(dark["response"]["numFound"] == 2);
  CHECK(ids_of(dark) == std::vector<std::string>{w.tas_old.instance_id() + "|me", w.tas_new.instance_id() + "|dkrz"});
}

TEST_CASE("esg-search: file records") {
  EsgWorld w;
  const std::string dataset = w.tas_new.instance_id() + "|ipsl";
  json r = w.search("type=File&dataset_id=" + dataset + "&facets=variable_id");
  REQUIRE(r["response"]["numFound"] == 3);
  CHECK(r["responseHeader"]["params"]["shards"].get<std::string>() == "localhost:8983/solr/files");
  auto dir = drs_version_directory(ProjectRegistry::builtin(), "CMIP6", w.tas_new.dataset_id, w.tas_new.version);
  REQUIRE(dir.ok());
  CHECK(*dir == "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20190101");
  for (std::size_t i = 0; i < 3; ++i) {
    const json& f = r["response"]["docs"][i];
    const ManifestFile& mf = w.tas_new.files[i];
    CHECK(f["id"] == w.tas_new.instance_id() + "." + mf.path + "|ipsl");
    CHECK(f["dataset_id"] == dataset);
    CHECK(f["instance_id"] == w.tas_new.instance_id() + "." + mf.path);
    CHECK(f["master_id"] == w.tas_new.dataset_id + "." + mf.path);
    CHECK(f["title"] == mf.path);
    CHECK(f["size"] == mf.size);
    CHECK(f["checksum"] == json::array({to_hex(mf.sha256)}));
    CHECK(f["checksum_type"] == json::array({"SHA256"}));
    CHECK(f["tracking_id"] == json::array({mf.tracking_id}));
    CHECK(f["type"] == "File");
    CHECK(f["latest"] == true);
    CHECK(f["replica"] == false);
    CHECK(f["url"] == json::array({"https://ipsl.example:8443/thredds/fileServer/" + *dir + "/" + mf.path +
                                   "|application/netcdf|HTTPServer"}));
  }
  CHECK(counts_of(r["facet_counts"]["facet_fields"]["variable_id"]) == std::map<std::string, std::uint64_t>{{"tas", 3}});
  // Paging over files; the replica's files point at its holder; a holder without an
  // HTTP face gives no url.
  json p = w.search("type=File&dataset_id=" + dataset + "&limit=1&offset=2");
  CHECK(ids_of(p) == std::vector<std::string>{w.tas_new.instance_id() + "." + w.tas_new.files[2].path + "|ipsl"});
  json rep = w.search("type=File&replica=true&dataset_id=" + w.tas_new.instance_id() + "%7Cdkrz");
  REQUIRE(rep["response"]["numFound"] == 3);
  CHECK(rep["response"]["docs"][0]["url"][0].get<std::string>().rfind("https://dkrz.example/thredds/fileServer/CMIP6/", 0) == 0);
  CHECK(w.search("type=File&dataset_id=" + w.tas_new.instance_id() + "%7Cdkrz")["response"]["numFound"] == 3);
  CHECK(w.search("type=File&replica=false&dataset_id=" + w.tas_new.instance_id() + "%7Cdkrz")["response"]["numFound"] == 0);
  json ncar = w.search("type=File&dataset_id=" + w.pr.instance_id() + "%7Cncar");
  REQUIRE(ncar["response"]["numFound"] == 2);
  CHECK(ncar["response"]["docs"][0]["url"].empty());
  // Other file constraints.
  CHECK(w.search("type=File&latest=true")["response"]["numFound"] == 5);
  CHECK(w.search("type=File&tracking_id=" + w.tas_new.files[1].tracking_id)["response"]["numFound"] == 1);
  CHECK(w.search("type=File&latest=true&title=" + w.tas_new.files[1].path)["response"]["numFound"] == 1);
  CHECK(w.search("type=File&instance_id=" + w.tas_new.instance_id() + "." + w.tas_new.files[0].path)["response"]["numFound"] == 1);
  CHECK(w.search("type=File&id=" + w.tas_new.instance_id() + "." + w.tas_new.files[0].path + "%7Cipsl")["response"]["numFound"] == 1);
  CHECK(w.search("type=File&sort=id+asc&dataset_id=" + dataset)["response"]["numFound"] == 3);
}

TEST_CASE("esg-search: Solr XML without format") {
  EsgWorld w;
  HttpAnswer a = w.service().search("latest=true&facets=variable_id");
  REQUIRE(a.status == 200);
  CHECK(a.content_type.find("xml") != std::string::npos);
  CHECK(a.body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>", 0) == 0);
  CHECK(a.body.find("<result name=\"response\" numFound=\"2\" start=\"0\"") != std::string::npos);
  CHECK(a.body.find("<lst name=\"variable_id\"><int name=\"pr\">1</int><int name=\"tas\">1</int></lst>") != std::string::npos);
  CHECK(a.body.find("<bool name=\"latest\">true</bool>") != std::string::npos);
  CHECK(a.body.find("<arr name=\"project\"><str>CMIP6</str></arr>") != std::string::npos);
  CHECK(a.body.find("</response>") != std::string::npos);
  CHECK(std::count(a.body.begin(), a.body.end(), '<') == std::count(a.body.begin(), a.body.end(), '>'));
}

TEST_CASE("esg-search: wget script") {
  EsgWorld w;
  HttpAnswer a = w.service().wget("dataset_id=" + w.tas_new.instance_id() + "%7Cipsl");
  REQUIRE(a.status == 200);
  CHECK(a.body.rfind("#!/bin/bash\n# ESG Federation download script\n", 0) == 0);
  CHECK(a.body.find("# Search URL: https://me.example:8443/esg-search/wget?dataset_id=") != std::string::npos);
  for (const auto& f : w.tas_new.files) {
    CHECK(a.body.find(f.path + "\thttps://ipsl.example:8443/thredds/fileServer/CMIP6/CMIP/IPSL/") != std::string::npos);
    CHECK(a.body.find("\tSHA256\t" + to_hex(f.sha256) + "\n") != std::string::npos);
  }
  CHECK(a.body.find("sha256sum") != std::string::npos);
  CHECK(w.service().wget("foo=1").status == 400);
  // The script is valid bash.
  TempDir dir("fedswarm-wget");
  write_file(dir.path() / "wget.sh", a.body);
  CHECK(std::system(("bash -n " + (dir.path() / "wget.sh").string()).c_str()) == 0);
}

TEST_CASE("EsgQuery parses the query string") {
  auto facet = [](std::string_view n) { return n == "project" || n == "variable_id"; };
  auto r = EsgQuery::parse("type=File&format=application/solr+json&limit=5&offset=3&facets=project,+variable_id&"
                           "variable_id=tas,pr&project!=CMIP5&latest=FALSE&replica=True&sort=id+desc&"
                           "from=2019-01-01T00:00:00Z&min_version=20190101",
                           facet);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  CHECK(r->type == EsgType::file);
  CHECK(r->format == EsgFormat::json);
  CHECK(r->limit == 5);
  CHECK(r->offset == 3);
  CHECK(r->facets == std::vector<std::string>{"project", "variable_id"});
  CHECK(r->constraints == std::vector<std::pair<std::string, std::string>>{{"variable_id", "tas"}, {"variable_id", "pr"}});
  CHECK(r->exclusions == std::vector<std::pair<std::string, std::string>>{{"project", "CMIP5"}});
  CHECK(r->latest == false);
  CHECK(r->replica == true);
  CHECK(r->sort.field == "id");
  CHECK(r->sort.descending);
  CHECK(r->from == 1546300800);
  CHECK(r->min_version == "v20190101");
  CHECK(EsgQuery::parse_time("2019-01-01") == 1546300800);
  CHECK(EsgQuery::parse_time("2019-01-01T00:00:01.5Z") == 1546300801);
  CHECK(!EsgQuery::parse_time("NOW-1DAY"));
  CHECK(EsgQuery::decode("a%2Bb+c") == "a+b c");
  CHECK(!EsgQuery::decode("%4"));
  CHECK(!EsgQuery::parse("zz=1", facet).ok());
  CHECK(EsgQuery::parse("zz=1", facet).error().message == "Invalid HTTP query parameter=zz");
}

TEST_CASE("SolrQuery translates the supported forms and refuses the rest") {
  auto p = SolrQuery::parse("project:CMIP6 AND experiment_id:(historical ssp585) AND NOT (variable_id:tas)");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  REQUIRE(p->clauses.size() == 3);
  CHECK(p->clauses[0] == SolrClause{"project", {"CMIP6"}, false, false});
  CHECK(p->clauses[1] == SolrClause{"experiment_id", {"historical", "ssp585"}, false, false});
  CHECK(p->clauses[2] == SolrClause{"variable_id", {"tas"}, true, false});
  auto q = SolrQuery::parse("-variable_id:(tas OR pr) && source_id:\"IPSL-CM6A-LR\" && tracking_id:hdl\\:21.1/x");
  REQUIRE_MESSAGE(q.ok(), q.error().message);
  CHECK(q->clauses[0] == SolrClause{"variable_id", {"tas", "pr"}, true, false});
  CHECK(q->clauses[1] == SolrClause{"source_id", {"IPSL-CM6A-LR"}, false, false});
  CHECK(q->clauses[2] == SolrClause{"tracking_id", {"hdl:21.1/x"}, false, false});
  CHECK(SolrQuery::parse("*:*")->clauses.empty());
  CHECK(SolrQuery::parse("a:x OR *")->clauses.empty());
  CHECK(SolrQuery::parse("variable_id:ta*")->clauses[0].wildcard);
  CHECK(SolrQuery::parse("a:x a:y")->clauses[0].values.size() == 2);  // juxtaposed: OR
  for (const char* bad : {"a:x OR b:y", "a:x AND a:y", "free text", "a:[1 TO 2]", "a:x~2", "(a:x", "a:\"x", "a:", "NOT *",
                          "NOT (a:x AND b:y)", "a:x AND", "\"quoted\""})
    CHECK_MESSAGE(!SolrQuery::parse(bad).ok(), bad);
  std::string deep(100, '(');
  CHECK(!SolrQuery::parse(deep + "a:x" + std::string(100, ')')).ok());
  CHECK(SolrQuery::glob_match("ta*", "tas"));
  CHECK(SolrQuery::glob_match("*s", "tas"));
  CHECK(SolrQuery::glob_match("t?s", "tas"));
  CHECK(!SolrQuery::glob_match("t?s", "taas"));
  CHECK(SolrQuery::glob_match("a\\*", "a*"));
  CHECK(!SolrQuery::glob_match("a\\*", "ab"));
}

TEST_CASE("esg-search answers equal Catalog::search on a random catalog") {
  CatalogWorld w;
  const std::uint64_t seed = test_seed();
  MESSAGE("seed " << seed << " (rerun with FEDSWARM_SEED=" << seed << ")");
  std::mt19937_64 rng(seed);
  for (int d = 0; d < 60; ++d) {
    DatasetSpec spec = factory().random_dataset(rng);
    for (int v = 0, n = 1 + static_cast<int>(rng() % 3); v < n; ++v) {
      auto r = w.cat->ingest(w.manifest_record(w.ncar, factory().make(spec, version_string(100 * v + static_cast<int>(rng() % 90)), 1, rng)),
                             CatalogWorld::kNow);
      REQUIRE(r.ok());
    }
  }
  EsgSearchSite site;
  site.public_url = "https://me.example";
  site.index_node = "me.example";
  EsgSearchService svc(*w.cat, site);
  SearchQuery all;
  all.all_versions = true;
  all.include_retracted = true;
  all.limit = 0;
  all.facet_fields = {"*"};
  auto universe = w.cat->search(all);
  REQUIRE(universe.ok());
  std::vector<const FacetCounts*> facets;
  for (const auto& fc : universe->facet_counts)
    if (!fc.counts.empty() && fc.facet != "version") facets.push_back(&fc);
  for (int i = 0; i < 150; ++i) {
    SearchQuery q;
    q.all_versions = rng() % 2;
    q.include_retracted = true;
    q.facet_fields = {"*"};
    q.limit = 1 + rng() % 20;
    q.offset = rng() % 3 == 0 ? rng() % 30 : 0;
    std::string qs = std::string(kJson) + "&facets=*&limit=" + std::to_string(q.limit) + "&offset=" + std::to_string(q.offset);
    if (!q.all_versions) qs += "&latest=true";
    for (std::size_t k = rng() % 3, j = 0; j < k; ++j) {
      const FacetCounts& fc = *facets[rng() % facets.size()];
      const std::string& v = fc.counts[rng() % fc.counts.size()].value;
      if (rng() % 4 == 0) {
        q.exclusions.emplace_back(fc.facet, v);
        qs += "&" + fc.facet + "!=" + v;
      } else {
        q.constraints.emplace_back(fc.facet, v);
        qs += "&" + fc.facet + "=" + v;
      }
    }
    INFO(qs);
    auto want = w.cat->search(q);
    REQUIRE(want.ok());
    HttpAnswer a = svc.search(qs);
    REQUIRE_MESSAGE(a.status == 200, a.body);
    json got = json::parse(a.body);
    CHECK(got["response"]["numFound"] == want->num_found);
    REQUIRE(got["response"]["docs"].size() == want->docs.size());
    for (std::size_t j = 0; j < want->docs.size(); ++j)
      CHECK(got["response"]["docs"][j]["instance_id"] == want->docs[j].instance_id());
    for (const auto& fc : want->facet_counts) {
      std::map<std::string, std::uint64_t> expect;
      for (const auto& c : fc.counts) expect[fc.facet == "version" ? c.value.substr(1) : c.value] = c.count;
      CHECK(counts_of(got["facet_counts"]["facet_fields"][fc.facet]) == expect);
    }
  }
}

TEST_CASE("the wget script downloads, resumes and verifies, and reports failures") {
  if (std::system("command -v curl >/dev/null 2>&1 && command -v sha256sum >/dev/null 2>&1") != 0) {
    MESSAGE("curl or sha256sum missing; skipped");
    return;
  }
  REQUIRE(crypto_init());
  TempDir dir("fedswarm-wget-run");
  const std::string good = "hello, climate\n", other = "something else\n";
  std::filesystem::create_directories(dir.path() / "src");
  std::filesystem::create_directories(dir.path() / "out");
  write_file(dir.path() / "src" / "a.nc", good);
  write_file(dir.path() / "src" / "b.nc", other);
  auto hex_of = [](const std::string& s) { return to_hex(sha256(ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()))); };
  const std::string src = "file://" + (dir.path() / "src").string();
  // A partial download of a.nc is resumed.
  write_file(dir.path() / "out" / "a.nc", good.substr(0, 5));
  std::vector<WgetFile> ok = {{"a.nc", src + "/a.nc", hex_of(good), good.size()},
                              {"sub/b.nc", src + "/b.nc", hex_of(other), other.size()}};
  write_file(dir.path() / "ok.sh", wget_script("https://x/esg-search/wget", ok, 2, "now"));
  const std::string run = "cd " + (dir.path() / "out").string() + " && bash ../";
  CHECK(std::system((run + "ok.sh > ../ok.log 2>&1").c_str()) == 0);
  CHECK(read_file(dir.path() / "out" / "a.nc") == good);
  CHECK(read_file(dir.path() / "out" / "sub" / "b.nc") == other);
  // A wrong checksum and a file no holder serves: exit status 1, both named.
  std::vector<WgetFile> bad = {{"c.nc", src + "/b.nc", hex_of(good), other.size()}, {"d.nc", "", hex_of(good), 1}};
  write_file(dir.path() / "bad.sh", wget_script("https://x/esg-search/wget", bad, 2, "now"));
  CHECK(std::system((run + "bad.sh > ../bad.log 2>&1").c_str()) != 0);
  const std::string log = read_file(dir.path() / "bad.log");
  CHECK(log.find("FAILED c.nc") != std::string::npos);
  CHECK(log.find("FAILED d.nc") != std::string::npos);
}
