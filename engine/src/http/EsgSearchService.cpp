#include "http/EsgSearchService.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "fedswarm/protocol/DrsPath.hpp"
#include "http/EsgQuery.hpp"
#include "http/SolrQuery.hpp"
#include "http/SolrXml.hpp"
#include "http/WgetScript.hpp"

namespace fedswarm {

namespace {

using ojson = nlohmann::ordered_json;

// Storage is read in pages of this many versions while a result is walked.
constexpr std::size_t kWalkPage = 2000;
// The reference server's wget default (and our cap: one answer is built in memory).
constexpr std::size_t kWgetDefaultLimit = 1000;

HttpAnswer error_answer(const Error& e) {
  // The 400 body is the message alone: pyesgf matches `Invalid HTTP query parameter=(\w+)`.
  return HttpAnswer::text(e.code == Errc::invalid ? 400 : 500, e.message);
}

// Fields a record carries that are not indexed facets but may constrain a query.
bool is_record_field(std::string_view n) {
  return n == "id" || n == "instance_id" || n == "master_id" || n == "dataset_id" || n == "drs_id" ||
         n == "tracking_id" || n == "data_node" || n == "index_node" || n == "title" || n == "checksum" ||
         n == "project" || n == "version";
}
// Indexed by the catalog as facets (storage constraints apply directly).
bool is_identity(std::string_view n) {
  return n == "id" || n == "instance_id" || n == "master_id" || n == "dataset_id" || n == "drs_id" ||
         n == "tracking_id" || n == "index_node" || n == "title" || n == "checksum";
}

std::string two(unsigned v) { return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10); }

// Unix seconds -> "YYYY-MM-DDTHH:MM:SSZ" (Howard Hinnant's civil_from_days).
std::string iso_time(std::int64_t t) {
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t secs = t - days * 86400;
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  std::string year = std::to_string(y);
  while (year.size() < 4) year.insert(year.begin(), '0');
  const auto s = static_cast<unsigned>(secs);
  return year + "-" + two(m) + "-" + two(d) + "T" + two(s / 3600) + ":" + two(s / 60 % 60) + ":" + two(s % 60) + "Z";
}

std::string version_digits(std::string_view v) {
  if (!v.empty() && v.front() == 'v') v.remove_prefix(1);
  return std::string(v);
}

// Percent-encodes everything but RFC 3986 unreserved characters and '/'.
std::string url_path(std::string_view p) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : p) {
    auto u = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '/') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// "inst|node" -> "inst"
std::string_view before_bar(std::string_view s) { return s.substr(0, s.find('|')); }

// Every prefix of `s` that ends before a '.': the candidates for a dataset's instance or
// master id inside a file's instance or master id (file names hold dots too).
std::vector<std::string> dot_prefixes(std::string_view s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '.') out.emplace_back(s.substr(0, i));
  return out;
}

// Constraints checked against the records themselves (exact semantics for fields the
// storage index only narrows, or does not know).
struct RecordFilter {
  struct Term {
    std::string field;
    std::set<std::string> values;
    bool negated = false;
  };
  std::vector<Term> terms;

  void add(const std::string& field, std::string value, bool negated) {
    for (auto& t : terms)
      if (t.field == field && t.negated == negated) {
        t.values.insert(std::move(value));
        return;
      }
    terms.push_back({field, {std::move(value)}, negated});
  }
  bool empty() const { return terms.empty(); }

  static void values_of(const ojson& v, std::vector<std::string>& out) {
    if (v.is_string()) out.push_back(v.get<std::string>());
    else if (v.is_boolean()) out.emplace_back(v.get<bool>() ? "true" : "false");
    else if (v.is_number()) out.push_back(v.dump());
    else if (v.is_array())
      for (const auto& e : v) values_of(e, out);
  }
  bool matches(const ojson& rec) const {
    std::vector<std::string> have;
    for (const auto& t : terms) {
      have.clear();
      if (auto it = rec.find(t.field); it != rec.end()) values_of(*it, have);
      bool any = std::any_of(have.begin(), have.end(), [&](const std::string& v) { return t.values.count(v) > 0; });
      if (any == t.negated) return false;
    }
    return true;
  }
};

struct Plan {
  SearchQuery q;
  RecordFilter filter;  // on the records returned (dataset or file records)
  bool nothing = false; // a constraint names nothing the catalog holds
  bool walk = false;    // the whole result must be expanded into records
  std::vector<std::string> fq;  // echoed in responseHeader.params
};

struct Holder {
  std::string node;
  std::string base_url;  // empty: no HTTP face known
  bool replica = false;
};

struct SortKey {
  std::string text;
  std::uint64_t number = 0;
  bool numeric = false;
};

// One request against the catalog: plans it, walks or pages the storage result, builds
// the records. Lives for one call on one worker thread.
class Answer {
 public:
  Answer(const Catalog& catalog, const EsgSearchSite& site)
      : catalog_(catalog), site_(site), projects_(site.projects ? *site.projects : ProjectRegistry::builtin()) {}

  // Errors: `invalid` is the client's (400, the message is the body); anything else
  // is the catalog's (500).
  Result<EsgRequest> parse(std::string_view qs, std::size_t default_limit) {
    auto names = catalog_.facet_names();
    if (!names.ok()) return names.error();
    facet_names_ = std::set<std::string>(names->begin(), names->end());
    known_names_ = facet_names_;
    for (const auto& p : projects_.names())
      if (const ProjectTemplate* t = projects_.find(p)) known_names_.insert(t->all_facets().begin(), t->all_facets().end());
    return EsgQuery::parse(qs, [&](std::string_view n) { return is_record_field(n) || known_names_.count(std::string(n)) > 0; },
                           default_limit);
  }

  Result<Plan> plan(const EsgRequest& r) {
    Plan p;
    SearchQuery& q = p.q;
    q.all_versions = !(r.latest && *r.latest);
    q.include_retracted = !(r.retracted && !*r.retracted);
    q.not_latest = r.latest && !*r.latest;
    q.only_retracted = r.retracted && *r.retracted;
    q.min_version = r.min_version;
    q.max_version = r.max_version;
    q.published_from = r.from;
    q.published_to = r.to;
    replica_ = r.replica && *r.replica;
    replica_given_ = r.replica.has_value();
    type_ = r.type;
    p.fq.push_back(std::string("type:") + (type_ == EsgType::file ? "File" : "Dataset"));

    std::vector<std::pair<std::string, std::string>> includes = r.constraints, excludes = r.exclusions;
    std::set<std::string> url_names;
    for (const auto& c : r.constraints) url_names.insert(c.first);
    if (!r.query.empty()) {
      FEDSWARM_ASSIGN_OR_RETURN(SolrConjunction conj, SolrQuery::parse(r.query));
      for (auto& c : conj.clauses) {
        if (c.field == "type" || c.field == "latest" || c.field == "replica" || c.field == "retracted" ||
            c.field == "distrib") {
          FEDSWARM_TRY(apply_flag_clause(c, q));
          continue;
        }
        if (!is_record_field(c.field) && !known_names_.count(c.field))
          return bad("Unsupported query: unknown field " + c.field + " in query=");
        if (!c.negated && url_names.count(c.field))
          return bad("Unsupported query: field " + c.field +
                     " is constrained both by a parameter and by query=; use one of them");
        std::vector<std::string> values;
        if (c.wildcard) {
          FEDSWARM_ASSIGN_OR_RETURN(values, expand(c));
          if (values.empty() && !c.negated) p.nothing = true;
        } else {
          values = c.values;
        }
        for (auto& v : values) (c.negated ? excludes : includes).emplace_back(c.field, std::move(v));
      }
    }
    // A record id naming its holder (pyesgf's file_context() of a replica record sends
    // dataset_id=<instance>|<replica's node> without replica=) finds the primary and
    // the replica records alike.
    if (!replica_given_)
      for (const auto& [name, value] : includes)
        if ((name == "id" || name == "dataset_id") && value.find('|') != std::string::npos) both_ = true;
    for (const auto& [name, value] : includes) {
      p.fq.push_back(name + ":\"" + value + "\"");
      FEDSWARM_TRY(route_include(p, name, value));
    }
    for (const auto& [name, value] : excludes) {
      p.fq.push_back("-" + name + ":\"" + value + "\"");
      route_exclude(p, name, value);
    }
    // tracking_id / checksum narrow the storage query with instance ids OR-ed into the
    // instance_id group; the other identity constraints of Dataset records are then
    // checked on the records so the AND stays exact.
    if (!dataset_sets_.empty())
      for (const auto& [field, value] : dataset_identity_) p.filter.add(field, value, false);
    if (nothing_type_) p.nothing = true;
    const bool sorted = !r.sort.field.empty() && r.sort.field != "score";
    p.walk = replica_ || type_ == EsgType::file || !p.filter.empty() || !dataset_sets_.empty() || sorted;
    return p;
  }

  // The records of the page, numFound and the facet counts.
  struct Page {
    std::uint64_t num_found = 0;
    std::vector<ojson> docs;
    std::vector<FacetCounts> counts;
  };

  Result<Page> run(const EsgRequest& r, Plan& p) {
    FEDSWARM_ASSIGN_OR_RETURN(auto roster, catalog_.roster());
    if (roster) roster_ = std::move(*roster);
    std::vector<std::string> facets;
    for (const auto& f : r.facets) {
      if (f == "*") facets.insert(facets.end(), facet_names_.begin(), facet_names_.end());
      else facets.push_back(f);
    }
    Page page;
    if (p.nothing) {
      for (const auto& f : facets) page.counts.push_back({f, {}});
      return page;
    }
    if (!p.walk) {
      p.q.limit = r.limit;
      p.q.offset = r.offset;
      p.q.facet_fields = facets;
      FEDSWARM_ASSIGN_OR_RETURN(SearchResult res, catalog_.search(p.q));
      page.num_found = res.num_found;
      for (const auto& d : res.docs) page.docs.push_back(dataset_record(d, primary(d)));
      page.counts = std::move(res.facet_counts);
      for (auto& fc : page.counts)
        if (fc.facet == "version")
          for (auto& c : fc.counts) c.value = version_digits(c.value);
      return page;
    }
    return walk(r, p, facets);
  }

  Result<HttpAnswer> search(std::string_view qs) {
    const auto t0 = std::chrono::steady_clock::now();
    FEDSWARM_ASSIGN_OR_RETURN(EsgRequest r, parse(qs, 10));
    FEDSWARM_ASSIGN_OR_RETURN(Plan p, plan(r));
    FEDSWARM_ASSIGN_OR_RETURN(Page page, run(r, p));
    if (!r.fields.empty() && std::find(r.fields.begin(), r.fields.end(), "*") == r.fields.end())
      for (auto& d : page.docs) {
        ojson kept = ojson::object();
        for (const auto& f : r.fields)
          if (auto it = d.find(f); it != d.end()) kept[f] = *it;
        d = std::move(kept);
      }
    const auto qtime = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    ojson out = ojson::object();
    out["responseHeader"] = header(r, p, qtime);
    ojson docs = ojson::array();
    for (auto& d : page.docs) docs.push_back(std::move(d));
    out["response"] = ojson{{"numFound", page.num_found}, {"start", r.offset}, {"maxScore", 1.0}, {"docs", std::move(docs)}};
    ojson fields = ojson::object();
    for (const auto& fc : page.counts) {
      ojson flat = ojson::array();
      for (const auto& c : fc.counts)
        if (c.count > 0) {
          flat.push_back(c.value);
          flat.push_back(c.count);
        }
      fields[fc.facet] = std::move(flat);
    }
    out["facet_counts"] = ojson{{"facet_queries", ojson::object()}, {"facet_fields", std::move(fields)},
                                {"facet_dates", ojson::object()},   {"facet_ranges", ojson::object()},
                                {"facet_intervals", ojson::object()}, {"facet_heatmaps", ojson::object()}};
    HttpAnswer a;
    if (r.format == EsgFormat::json) {
      a.content_type = "application/json;charset=UTF-8";
      a.body = out.dump(-1, ' ', false, ojson::error_handler_t::replace);
    } else {
      a.content_type = "application/xml;charset=UTF-8";
      a.body = solr_xml(out);
    }
    return a;
  }

  Result<HttpAnswer> wget(std::string_view qs) {
    FEDSWARM_ASSIGN_OR_RETURN(EsgRequest r, parse(qs, kWgetDefaultLimit));
    r.type = EsgType::file;
    r.facets.clear();
    FEDSWARM_ASSIGN_OR_RETURN(Plan p, plan(r));
    FEDSWARM_ASSIGN_OR_RETURN(Page page, run(r, p));
    std::vector<WgetFile> files;
    for (const auto& d : page.docs) {
      WgetFile f;
      f.name = d.value("title", std::string());
      f.size = d.value("size", std::uint64_t{0});
      if (auto it = d.find("checksum"); it != d.end() && it->is_array() && !it->empty()) f.sha256 = (*it)[0].get<std::string>();
      if (auto it = d.find("url"); it != d.end() && it->is_array() && !it->empty()) {
        std::string u = (*it)[0].get<std::string>();
        f.url = u.substr(0, u.find('|'));
      }
      files.push_back(std::move(f));
    }
    std::string url = site_.public_url + "/esg-search/wget";
    if (!qs.empty()) url += "?" + std::string(qs);
    HttpAnswer a;
    a.content_type = "text/x-sh; charset=utf-8";
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    a.body = wget_script(url, files, page.num_found, iso_time(now));
    std::string stamp = iso_time(now);
    stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
    a.headers.emplace_back("Content-Disposition", "attachment; filename=\"wget-" + stamp + ".sh\"");
    return a;
  }

 private:
  static Error bad(std::string message) { return make_error(Errc::invalid, "esg_query", std::move(message)); }

  Status apply_flag_clause(const SolrClause& c, SearchQuery& q) {
    if (c.negated || c.wildcard || c.values.size() != 1)
      return bad("Unsupported query: " + c.field + " in query= takes one value; use the " + c.field + " parameter");
    std::string v = c.values[0];
    for (char& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (c.field == "type") {
      if (v != (type_ == EsgType::file ? "file" : "dataset")) nothing_type_ = true;
      return {};
    }
    if (c.field == "distrib") return {};
    if (v != "true" && v != "false") return bad("Unsupported query: " + c.field + ":" + c.values[0] + " is not a boolean");
    const bool b = v == "true";
    if (c.field == "latest") {
      q.all_versions = !b;
      q.not_latest = !b;
      if (!b) q.include_retracted = true;
    } else if (c.field == "retracted") {
      q.include_retracted = b;
      q.only_retracted = b;
    } else {
      replica_ = b;
      replica_given_ = true;
    }
    return {};
  }

  // Values of an indexed facet matching a wildcard clause.
  Result<std::vector<std::string>> expand(const SolrClause& c) {
    if (is_identity(c.field) || (c.field == "data_node" && (replica_ || both_)))
      return bad("Unsupported query: wildcards in " + c.field + " are not supported; give exact values");
    if (!facet_names_.count(c.field)) return std::vector<std::string>{};
    SearchQuery all;
    all.all_versions = true;
    all.include_retracted = true;
    all.limit = 0;
    all.facet_fields = {c.field};
    auto res = catalog_.search(all);
    if (!res.ok()) return res.error();
    std::vector<std::string> out;
    for (const auto& fc : res->facet_counts)
      for (const auto& v : fc.counts) {
        const std::string shown = c.field == "version" ? version_digits(v.value) : v.value;
        for (const auto& pattern : c.values)
          if (SolrQuery::glob_match(pattern, shown) || SolrQuery::glob_match(pattern, v.value)) {
            out.push_back(shown);
            break;
          }
      }
    return out;
  }

  Status route_include(Plan& p, const std::string& name, const std::string& value) {
    SearchQuery& q = p.q;
    const bool file = type_ == EsgType::file;
    if (name == "data_node") {
      if (replica_ || both_) p.filter.add("data_node", value, false);
      else q.constraints.emplace_back(name, value);
      return {};
    }
    if (name == "index_node") {
      p.filter.add("index_node", value, false);
      return {};
    }
    if (name == "version") {
      auto v = EsgQuery::normalize_version(value);
      q.constraints.emplace_back(name, v ? *v : value);
      return {};
    }
    if (name == "drs_id" || (name == "title" && !file)) {
      q.constraints.emplace_back("master_id", value);
      dataset_identity_.emplace_back("master_id", value);
      return {};
    }
    if (name == "id" || name == "instance_id" || name == "master_id" || name == "dataset_id" || name == "title") {
      if (!file) {
        // Dataset records: storage resolves ids exactly; the node part of `id` is the
        // holder, checked on the record.
        q.constraints.emplace_back(name, std::string(name == "id" ? before_bar(value) : std::string_view(value)));
        if (name == "id" && value.find('|') != std::string::npos) p.filter.add("id", value, false);
        else dataset_identity_.emplace_back(name == "dataset_id" ? "master_id" : name == "id" ? "instance_id" : name, value);
        return {};
      }
      // File records: the storage query is narrowed to the versions that may hold the
      // file; the record's own field decides.
      p.filter.add(name, value, false);
      if (name == "dataset_id") {
        q.constraints.emplace_back("instance_id", std::string(before_bar(value)));
      } else if (name == "id" || name == "instance_id") {
        for (auto& c : dot_prefixes(before_bar(value))) q.constraints.emplace_back("instance_id", std::move(c));
      } else if (name == "master_id") {
        for (auto& c : dot_prefixes(value)) q.constraints.emplace_back("master_id", std::move(c));
      }
      return {};
    }
    if (name == "tracking_id" || name == "checksum") {
      Result<std::vector<FileRef>> refs = std::vector<FileRef>{};
      if (name == "tracking_id") {
        refs = catalog_.find_tracking_id(value);
      } else if (auto digest = fixed_from_hex<32>(value); digest.ok()) {
        refs = catalog_.find_sha256(*digest);
      }
      if (!refs.ok()) return refs.error();
      if (file) {
        p.filter.add(name, value, false);
      } else {
        std::set<std::string> inst;
        for (const auto& r : *refs) inst.insert(r.instance_id);
        if (inst.empty()) p.nothing = true;
        dataset_sets_.push_back(std::move(inst));
      }
      std::set<std::string> seen;
      for (const auto& r : *refs)
        if (seen.insert(r.instance_id).second) q.constraints.emplace_back("instance_id", r.instance_id);
      if (refs->empty()) p.nothing = true;
      return {};
    }
    q.constraints.emplace_back(name, value);
    return {};
  }

  void route_exclude(Plan& p, const std::string& name, const std::string& value) {
    if (name == "version") {
      auto v = EsgQuery::normalize_version(value);
      p.q.exclusions.emplace_back(name, v ? *v : value);
    } else if (name == "drs_id") {
      p.filter.add("master_id", value, true);
    } else if (is_identity(name) || (name == "data_node" && (replica_ || both_))) {
      p.filter.add(name, value, true);
    } else {
      p.q.exclusions.emplace_back(name, value);
    }
  }

  std::string url_of(const PublicKey& key) const {
    if (key == site_.self) return site_.public_url;
    if (const RosterMember* m = roster_.member(key)) return m->http_url;
    return {};
  }

  Holder primary(const SearchDoc& d) const { return Holder{d.data_node, url_of(d.publisher), false}; }

  Result<std::vector<Holder>> holders(const SearchDoc& d) {
    if (!replica_ && !both_) return std::vector<Holder>{primary(d)};
    std::vector<Holder> out;
    if (both_) out.push_back(primary(d));
    FEDSWARM_ASSIGN_OR_RETURN(auto locations, catalog_.replicas(d.instance_id()));
    bool self_listed = false;
    for (const auto& loc : locations) {
      if (loc.state != ReplicaState::complete || loc.node == d.publisher) continue;
      const RosterMember* m = roster_.member(loc.node);
      if (!m || m->tier == Tier::dark) continue;  // dark repositories are not official replicas
      out.push_back(Holder{m->site.empty() ? loc.site : m->site, url_of(loc.node), true});
      self_listed = self_listed || loc.node == site_.self;
    }
    if (site_.tier == Tier::dark && !self_listed && d.publisher != site_.self) {
      FEDSWARM_ASSIGN_OR_RETURN(auto local, catalog_.local(d.instance_id()));
      if (local && local->state == LocalState::complete) out.push_back(Holder{site_.site, site_.public_url, true});
    }
    return out;
  }

  struct Templates {
    std::string dataset, directory;
  };
  const Templates& templates(const std::string& project) {
    auto [it, inserted] = templates_.try_emplace(project);
    if (inserted)
      if (const ProjectTemplate* t = projects_.find(project)) {
        for (const auto& f : t->id_facets()) it->second.dataset += (it->second.dataset.empty() ? "" : ".") + ("%(" + f + ")s");
        it->second.directory = "%(root)s";
        for (const auto& f : t->id_facets()) it->second.directory += "/%(" + f + ")s";
        it->second.directory += "/%(version)s";
      }
    return it->second;
  }

  static std::string project_of(const SearchDoc& d) {
    for (const auto& f : d.facets)
      if (f.name == "project" && !f.values.empty()) return f.values.front();
    return d.dataset_id.substr(0, d.dataset_id.find('.'));
  }

  void common_fields(ojson& rec, const SearchDoc& d, const Holder& h) {
    const Templates& t = templates(project_of(d));
    if (!t.dataset.empty()) rec["dataset_id_template_"] = ojson::array({t.dataset});
    if (!t.directory.empty()) rec["directory_format_template_"] = ojson::array({t.directory});
    rec["data_node"] = h.node;
    rec["index_node"] = site_.index_node;
    rec["latest"] = d.latest;
    rec["replica"] = h.replica;
    rec["retracted"] = d.retracted;
    for (const auto& f : d.facets) {
      if (f.name == "data_node" || f.name == "version" || rec.contains(f.name)) continue;
      rec[f.name] = f.values;
    }
  }

  ojson dataset_record(const SearchDoc& d, const Holder& h) {
    ojson rec = ojson::object();
    const std::string instance = d.instance_id();
    rec["id"] = instance + "|" + h.node;
    rec["version"] = version_digits(d.version);
    rec["access"] = ojson::array({"HTTPServer"});
    rec["instance_id"] = instance;
    rec["master_id"] = d.dataset_id;
    rec["title"] = d.dataset_id;
    rec["number_of_files"] = d.number_of_files;
    rec["size"] = d.size;
    rec["type"] = "Dataset";
    common_fields(rec, d, h);
    rec["_timestamp"] = iso_time(d.published_at);
    rec["timestamp"] = iso_time(d.published_at);
    rec["score"] = 1.0;
    return rec;
  }

  ojson file_record(const SearchDoc& d, const Holder& h, const ManifestFile& f, const std::string& drs_dir) {
    ojson rec = ojson::object();
    const std::string instance = d.instance_id();
    rec["id"] = instance + "." + f.path + "|" + h.node;
    rec["version"] = "1";
    rec["checksum"] = ojson::array({to_hex(f.sha256)});
    rec["checksum_type"] = ojson::array({"SHA256"});
    rec["dataset_id"] = instance + "|" + h.node;
    rec["instance_id"] = instance + "." + f.path;
    rec["master_id"] = d.dataset_id + "." + f.path;
    rec["size"] = f.size;
    rec["title"] = f.path;
    if (!f.tracking_id.empty()) rec["tracking_id"] = ojson::array({f.tracking_id});
    rec["type"] = "File";
    ojson urls = ojson::array();
    if (!h.base_url.empty() && !drs_dir.empty())
      urls.push_back(h.base_url + "/thredds/fileServer/" + url_path(drs_dir + "/" + f.path) + "|application/netcdf|HTTPServer");
    rec["url"] = std::move(urls);
    common_fields(rec, d, h);
    rec["_timestamp"] = iso_time(d.published_at);
    rec["timestamp"] = iso_time(d.published_at);
    rec["score"] = 1.0;
    return rec;
  }

  static SortKey sort_key(const ojson& rec, const std::string& field) {
    SortKey k;
    auto it = rec.find(field);
    if (it == rec.end()) return k;
    const ojson& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    if (v.is_number_unsigned()) {
      k.numeric = true;
      k.number = v.get<std::uint64_t>();
    } else if (v.is_string()) {
      k.text = v.get<std::string>();
    } else {
      k.text = v.dump();
    }
    return k;
  }

  // Expands the whole storage result into records: exact numFound and counts over the
  // records, the page cut from the walk (or from the sorted records).
  Result<Page> walk(const EsgRequest& r, Plan& p, const std::vector<std::string>& facets) {
    Page page;
    const bool sorted = !r.sort.field.empty() && r.sort.field != "score";
    std::vector<std::map<std::string, std::uint64_t>> counts(facets.size());
    std::vector<std::pair<SortKey, ojson>> collected;
    std::uint64_t index = 0;  // records matched so far
    const std::uint64_t first = r.offset, last = r.offset + r.limit;
    auto take = [&](ojson rec, const SearchDoc& d, const std::string& node, std::uint64_t weight) -> Status {
      for (std::size_t i = 0; i < facets.size(); ++i) {
        if (facets[i] == "data_node") {
          counts[i][node] += weight;
          continue;
        }
        for (const auto& f : d.facets)
          if (f.name == facets[i])
            for (const auto& v : f.values) counts[i][f.name == "version" ? version_digits(v) : v] += weight;
      }
      if (sorted) {
        if (collected.size() >= kEsgSortLimit)
          return bad("sort over more than " + std::to_string(kEsgSortLimit) + " records is not supported; narrow the query");
        SortKey k = sort_key(rec, r.sort.field);
        collected.emplace_back(std::move(k), std::move(rec));
      } else if (index >= first && index < last) {
        page.docs.push_back(std::move(rec));
      }
      ++index;
      return {};
    };

    SearchQuery q = p.q;
    q.limit = kWalkPage;
    q.facet_fields.clear();
    for (q.offset = 0;; q.offset += kWalkPage) {
      FEDSWARM_ASSIGN_OR_RETURN(SearchResult res, catalog_.search(q));
      for (const SearchDoc& d : res.docs) {
        if (!in_dataset_sets(d)) continue;
        FEDSWARM_ASSIGN_OR_RETURN(std::vector<Holder> hs, holders(d));
        if (hs.empty()) continue;
        if (type_ == EsgType::dataset) {
          for (const auto& h : hs) {
            ojson rec = dataset_record(d, h);
            if (!p.filter.matches(rec)) continue;
            FEDSWARM_TRY(take(std::move(rec), d, h.node, 1));
          }
          continue;
        }
        // File records. Without a filter on file fields a holder's files are counted
        // from the version's number_of_files and its manifest read only for the page.
        const bool need_files = !p.filter.empty() || sorted;
        std::optional<Manifest> manifest;
        std::string drs_dir;
        auto load = [&]() -> Status {
          if (manifest) return {};
          FEDSWARM_ASSIGN_OR_RETURN(Manifest m, catalog_.manifest(d.instance_id()));
          auto dir = drs_version_directory(projects_, m.project, m.dataset_id, m.version);
          drs_dir = dir.ok() ? *dir : std::string();
          manifest = std::move(m);
          return {};
        };
        for (const auto& h : hs) {
          if (!need_files && (index + d.number_of_files <= first || index >= last)) {
            for (std::size_t i = 0; i < facets.size(); ++i) {
              if (facets[i] == "data_node") {
                counts[i][h.node] += d.number_of_files;
                continue;
              }
              for (const auto& f : d.facets)
                if (f.name == facets[i])
                  for (const auto& v : f.values)
                    counts[i][f.name == "version" ? version_digits(v) : v] += d.number_of_files;
            }
            index += d.number_of_files;
            continue;
          }
          FEDSWARM_TRY(load());
          for (const auto& f : manifest->files) {
            ojson rec = file_record(d, h, f, drs_dir);
            if (!p.filter.matches(rec)) continue;
            FEDSWARM_TRY(take(std::move(rec), d, h.node, 1));
          }
        }
      }
      if (res.docs.size() < kWalkPage) break;
    }
    page.num_found = index;
    if (sorted) {
      const bool desc = r.sort.descending;
      std::stable_sort(collected.begin(), collected.end(), [desc](const auto& a, const auto& b) {
        const SortKey &x = desc ? b.first : a.first, &y = desc ? a.first : b.first;
        if (x.numeric && y.numeric) return x.number < y.number;
        return x.text < y.text;
      });
      for (std::uint64_t i = first; i < collected.size() && i < last; ++i) page.docs.push_back(std::move(collected[i].second));
    }
    for (std::size_t i = 0; i < facets.size(); ++i) {
      FacetCounts fc{facets[i], {}};
      for (const auto& [v, n] : counts[i]) fc.counts.push_back({v, n});
      page.counts.push_back(std::move(fc));
    }
    return page;
  }

  bool in_dataset_sets(const SearchDoc& d) const {
    if (dataset_sets_.empty()) return true;
    const std::string id = d.instance_id();
    return std::all_of(dataset_sets_.begin(), dataset_sets_.end(), [&](const std::set<std::string>& s) { return s.count(id) > 0; });
  }

  ojson header(const EsgRequest& r, const Plan& p, long long qtime) const {
    ojson params = ojson::object();
    params["df"] = "text";
    params["q.alt"] = "*:*";
    params["indent"] = "true";
    params["echoParams"] = "all";
    params["fl"] = r.fields.empty() ? std::string("*,score") : [&] {
      std::string s;
      for (const auto& f : r.fields) s += (s.empty() ? "" : ",") + f;
      return s;
    }();
    params["start"] = std::to_string(r.offset);
    params["fq"] = p.fq;
    if (!r.sort.field.empty()) params["sort"] = r.sort.field + (r.sort.descending ? " desc" : " asc");
    params["rows"] = std::to_string(r.limit);
    params["q"] = r.query.empty() ? std::string("*:*") : r.query;
    // pyesgf (distrib=True) reads the shard list before file queries and maps localhost
    // to the host it connected to; one shard: this node answers for the federation.
    params["shards"] = std::string("localhost:8983/solr/") + (r.type == EsgType::file ? "files" : "datasets");
    params["tie"] = "0.01";
    params["facet.limit"] = "-1";
    params["qf"] = "text";
    params["facet.method"] = "enum";
    params["facet.mincount"] = "1";
    params["wt"] = r.format == EsgFormat::json ? "json" : "xml";
    params["facet"] = r.facets.empty() ? "false" : "true";
    params["facet.sort"] = "lex";
    if (!r.facets.empty()) {
      if (r.facets.size() == 1) params["facet.field"] = r.facets.front();
      else params["facet.field"] = r.facets;
    }
    return ojson{{"status", 0}, {"QTime", qtime}, {"params", std::move(params)}};
  }

  const Catalog& catalog_;
  const EsgSearchSite& site_;
  const ProjectRegistry& projects_;
  std::set<std::string> facet_names_, known_names_;
  Roster roster_;
  bool replica_ = false;        // replica records only
  bool replica_given_ = false;
  bool both_ = false;           // primary and replica records
  bool nothing_type_ = false;
  EsgType type_ = EsgType::dataset;
  std::vector<std::set<std::string>> dataset_sets_;
  std::vector<std::pair<std::string, std::string>> dataset_identity_;
  std::map<std::string, Templates> templates_;
};

}  // namespace

EsgSearchService::EsgSearchService(const Catalog& catalog, EsgSearchSite site) : catalog_(catalog), site_(std::move(site)) {}

HttpAnswer EsgSearchService::search(std::string_view query_string) const {
  Answer a(catalog_, site_);
  auto r = a.search(query_string);
  return r.ok() ? std::move(*r) : error_answer(r.error());
}

HttpAnswer EsgSearchService::wget(std::string_view query_string) const {
  Answer a(catalog_, site_);
  auto r = a.wget(query_string);
  return r.ok() ? std::move(*r) : error_answer(r.error());
}

}  // namespace fedswarm
