#include "fedswarm/engine/Publisher.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "publish/InfoDictBuilder.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/PathRules.hpp"
#include "fedswarm/protocol/RecordValidator.hpp"
#include "fedswarm/storage/DrsScanner.hpp"
#include "fedswarm/storage/FileHasher.hpp"
#include "fedswarm/storage/NetcdfReader.hpp"

namespace fedswarm {

namespace {

// A version that passed phase 1, ready to commit.
struct Prepared {
  const ScannedVersion* scanned = nullptr;
  Manifest manifest;
  bool unchanged = false;
  bool ours = true;  // false: identical data already published by another node
};

std::vector<std::string> split_blanks(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string word;
  while (in >> word)
    if (std::find(out.begin(), out.end(), word) == out.end()) out.push_back(word);
  return out;
}

// Collects one descriptive attribute over the netCDF files of a version: kept only if
// every netCDF file carries the same non-empty value, since a facet describes the
// whole dataset and a partial or mixed value would mislead search.
class Agreement {
 public:
  void add(const std::string& value) {
    if (value.empty()) disagree_ = true;
    else if (!value_) value_ = value;
    else if (*value_ != value) disagree_ = true;
  }
  std::optional<std::string> value() const { return disagree_ ? std::nullopt : value_; }

 private:
  std::optional<std::string> value_;
  bool disagree_ = false;
};

struct DescriptiveFacets {
  Agreement frequency, realm, nominal_resolution, source_type, cf_standard_name;
  void add(const NetcdfAttributes& a) {
    frequency.add(a.frequency);
    realm.add(a.realm);
    nominal_resolution.add(a.nominal_resolution);
    source_type.add(a.source_type);
    cf_standard_name.add(a.cf_standard_name);
  }
};

// Appends the agreed descriptive facets after the DRS facets. A name the DRS already
// uses (CMIP5's realm) is left to the DRS; values that break the manifest's text
// limits are dropped with a warning rather than blocking publication.
void add_descriptive_facets(const DescriptiveFacets& d, Manifest& m, const std::string& where,
                            std::vector<std::string>& warnings) {
  const std::pair<const char*, std::optional<std::vector<std::string>>> facets[] = {
      {"frequency", d.frequency.value() ? std::optional(std::vector{*d.frequency.value()}) : std::nullopt},
      {"realm", d.realm.value() ? std::optional(split_blanks(*d.realm.value())) : std::nullopt},
      {"nominal_resolution",
       d.nominal_resolution.value() ? std::optional(std::vector{*d.nominal_resolution.value()}) : std::nullopt},
      {"source_type", d.source_type.value() ? std::optional(split_blanks(*d.source_type.value())) : std::nullopt},
      {"cf_standard_name",
       d.cf_standard_name.value() ? std::optional(std::vector{*d.cf_standard_name.value()}) : std::nullopt},
  };
  for (const auto& [name, values] : facets) {
    if (!values || values->empty() || m.facet(name)) continue;
    bool ok = values->size() <= limits::max_facet_values && m.facets.size() < limits::max_facets;
    for (const auto& v : *values) ok = ok && validate_text(v, limits::max_facet_text_bytes, name).ok();
    if (!ok) {
      warnings.push_back(where + ": netCDF attribute " + name + " is too long or not plain text; not used as a facet");
      continue;
    }
    m.facets.push_back(Facet{name, *values});
  }
}

// What differs between a stored manifest and a re-published one, or empty if they
// describe the same data. The info dict and timestamps are not compared: a newer
// libtorrent may lay out the same files differently.
std::string difference(const Manifest& stored, const Manifest& fresh) {
  if (stored.project != fresh.project || stored.dataset_id != fresh.dataset_id) return "the dataset id differs";
  std::map<std::string, const ManifestFile*> old_files;
  for (const auto& f : stored.files) old_files[f.path] = &f;
  for (const auto& f : fresh.files) {
    auto it = old_files.find(f.path);
    if (it == old_files.end()) return "file " + f.path + " is new";
    if (!(*it->second == f)) return "file " + f.path + " has different contents or tracking_id";
    old_files.erase(it);
  }
  if (!old_files.empty()) return "file " + old_files.begin()->first + " is missing";
  auto sorted = [](std::vector<Facet> v) {
    std::sort(v.begin(), v.end(), [](const Facet& a, const Facet& b) { return a.name < b.name; });
    return v;
  };
  if (sorted(stored.facets) != sorted(fresh.facets)) return "the facets differ";
  return {};
}

class Run {
 public:
  Run(const NodeHome& home, Catalog& catalog, const PublishOptions& options)
      : home_(home), catalog_(catalog), options_(options) {}

  Result<PublishReport> run() {
    ScanReport scan = DrsScanner(home_.projects()).scan(options_.paths);
    report_.errors = std::move(scan.errors);
    report_.warnings = std::move(scan.warnings);
    scan_ = std::move(scan.versions);
    // Oldest first within a dataset, wherever its directories are: supersedes and the
    // commit order both rely on it.
    std::stable_sort(scan_.begin(), scan_.end(), [](const ScannedVersion& a, const ScannedVersion& b) {
      return std::tie(a.id.dataset.id, a.id.version) < std::tie(b.id.dataset.id, b.id.version);
    });
    if (scan_.empty() && report_.errors.empty()) {
      std::string paths;
      for (const auto& p : options_.paths) paths += (paths.empty() ? "" : ", ") + p.string();
      report_.errors.push_back(make_error(Errc::not_found, "no_version_directories",
                                          "no dataset version directories (vYYYYMMDD) under " +
                                              (paths.empty() ? std::string("the given paths") : paths) +
                                              "; name a DRS root, a subtree of it or a version directory"));
    }
    check_duplicates();
    FEDSWARM_TRY(check_grants());
    // Hashing a large tree takes hours: refuse before it when anything is known wrong.
    if (!report_.errors.empty()) return std::move(report_);

    std::uint64_t total = 0;
    for (const auto& v : scan_) {
      total += v.total_size();
      progress_.files_total += v.files.size();
    }
    progress_.bytes_total = total;
    for (const auto& v : scan_) FEDSWARM_TRY(prepare(v));
    if (!report_.errors.empty()) return std::move(report_);
    return commit();
  }

 private:
  void fail(Error e) { report_.errors.push_back(std::move(e)); }

  void check_duplicates() {
    std::map<std::string, const ScannedVersion*> seen;
    for (const auto& v : scan_) {
      auto [it, fresh] = seen.emplace(v.instance_id(), &v);
      if (!fresh)
        fail(make_error(Errc::invalid, "duplicate_version",
                        v.instance_id() + " is in both " + it->second->directory.string() + " and " +
                            v.directory.string() + "; publish one of them"));
    }
  }

  // Fails fast, before hashing, when the roster does not let this node publish.
  // One error per project/institution, not per version: a refused tree may hold
  // thousands of versions of the same institution.
  Status check_grants() {
    FEDSWARM_ASSIGN_OR_RETURN(std::optional<Roster> roster, catalog_.roster());
    const PublicKey& me = home_.key().public_key();
    std::map<std::pair<std::string, std::string>, std::pair<std::size_t, std::string>> refused;
    for (const auto& v : scan_) {
      const ProjectTemplate* t = home_.projects().find(v.id.dataset.project);
      std::string institution = t ? std::string(v.id.dataset.facet(t->institution_facet())) : std::string();
      if (roster && roster->may_publish(me, v.id.dataset.project, institution)) continue;
      auto& entry = refused[{v.id.dataset.project, institution}];
      if (entry.first++ == 0) entry.second = v.instance_id();
    }
    for (const auto& [key, entry] : refused) {
      const auto& [project, institution] = key;
      std::string what = roster ? "the current roster (serial " + std::to_string(roster->serial) +
                                      ") does not grant this node (key " + short_key(me) + ") " + project +
                                      " institution " + institution
                                : "no roster has been imported, so this node (key " + short_key(me) +
                                      ") may not publish " + project + " institution " + institution;
      fail(make_error(Errc::unauthorized, "publisher_not_granted",
                      what + " (" + std::to_string(entry.first) + " dataset version(s), e.g. " + entry.second +
                          "); ask the federation authority for a grant: `fedswarm federation grant --dir <authority> --key " +
                          to_hex(me) + " --project " + project + " --institution " + institution +
                          "`, then `fedswarm federation roster` and `fedswarm federation import <roster>` on this node"));
    }
    return {};
  }

  // Phase 1 for one version: hash every file once, read its attributes, build and
  // check the manifest. Problems go to the report; only catalog failures abort.
  Status prepare(const ScannedVersion& v) {
    const std::string dir = v.directory.string();
    std::vector<InfoDictInput> inputs;
    for (const auto& f : v.files) inputs.push_back({f.path, f.size, {}});
    // The torrent is named after the dataset version (torrent_name): an exported
    // torrent downloads into a folder that says what it holds.
    const std::string name = v.id.dataset.id + "." + v.id.version;
    auto piece_length = auto_piece_length(name, inputs);
    if (!piece_length) {
      fail(piece_length.error().with_context(dir));
      for (const auto& f : v.files) skip_progress(f.size);
      return {};
    }

    Manifest m;
    m.project = v.id.dataset.project;
    m.dataset_id = v.id.dataset.id;
    m.version = v.id.version;
    m.published_at = options_.now;
    for (const auto& f : v.id.dataset.facets) m.facets.push_back(Facet{f.name, {f.value}});

    const std::string variable(v.id.dataset.facet("variable_id"));
    DescriptiveFacets descriptive;
    std::size_t errors_before = report_.errors.size();
    for (std::size_t i = 0; i < v.files.size(); ++i) {
      const ScannedFile& f = v.files[i];
      progress_.current = f.source.string();
      const std::uint64_t done_before = progress_.bytes_done;
      auto digest = hasher_.hash(f.source, *piece_length, [&](std::uint64_t done) {
        progress_.bytes_done = done_before + done;
        if (options_.progress) options_.progress(progress_);
      });
      progress_.bytes_done = done_before + f.size;  // keep the total right if the size moved
      ++progress_.files_done;
      if (!digest) {
        fail(std::move(digest).error());
        continue;
      }
      ManifestFile mf{f.path, digest->size, digest->sha256, digest->xxh3, ""};
      inputs[i].size = digest->size;
      inputs[i].piece_roots = std::move(digest->piece_roots);
      if (auto attrs = read_netcdf_attributes(f.source, variable)) {
        if (auto st = validate_text(attrs->tracking_id, limits::max_short_text_bytes, "tracking_id"); !st) {
          fail(st.error().with_context(f.source.string()));
          continue;
        }
        mf.tracking_id = attrs->tracking_id;
        descriptive.add(*attrs);
      }
      m.files.push_back(std::move(mf));
    }
    if (report_.errors.size() != errors_before) return {};
    add_descriptive_facets(descriptive, m, dir, report_.warnings);

    auto info = build_info_dict(torrent_name(m), *piece_length, inputs);
    if (!info) {
      fail(info.error().with_context(dir));
      return {};
    }
    m.info_dict = std::move(*info);
    FEDSWARM_TRY(resolve_supersedes(m));
    // The catalog applies the same receipt rules; checking here keeps phase 2 from
    // refusing a version after others were stored.
    if (auto id = validate_manifest(m, home_.projects()); !id) {
      fail(id.error().with_context(dir));
      return {};
    }

    Prepared p{&v, std::move(m), false, true};
    FEDSWARM_ASSIGN_OR_RETURN(std::optional<VersionInfo> stored, catalog_.version(p.manifest.instance_id()));
    if (stored) {
      FEDSWARM_ASSIGN_OR_RETURN(Manifest old, catalog_.manifest(p.manifest.instance_id()));
      std::string diff = difference(old, p.manifest);
      if (!diff.empty()) {
        fail(make_error(Errc::conflict, "conflict",
                        p.manifest.instance_id() + " is already published (by " + short_key(stored->publisher) +
                            ") and " + diff + " in " + dir +
                            "; a published version is immutable: put the changed data in a new version directory "
                            "(a later vYYYYMMDD) and publish that"));
        return {};
      }
      p.unchanged = true;
      p.ours = stored->publisher == home_.key().public_key();
      p.manifest.supersedes = stored->supersedes;
    }
    prepared_.push_back(std::move(p));
    return {};
  }

  void skip_progress(std::uint64_t bytes) {
    progress_.bytes_done += bytes;
    ++progress_.files_done;
  }

  // supersedes = the newest earlier version of the dataset, in the catalog or earlier
  // in this run (versions are prepared oldest first within a dataset).
  Status resolve_supersedes(Manifest& m) {
    FEDSWARM_ASSIGN_OR_RETURN(std::vector<VersionInfo> known, catalog_.versions_of(m.dataset_id));
    std::string best;
    for (const auto& k : known)
      if (k.version < m.version && k.version > best) best = k.version;
    for (const auto& p : prepared_)
      if (p.manifest.dataset_id == m.dataset_id && p.manifest.version < m.version && p.manifest.version > best)
        best = p.manifest.version;
    m.supersedes = best;
    return {};
  }

  // Phase 2: one catalog transaction per version, then its local state.
  Result<PublishReport> commit() {
    std::vector<std::string> stored;
    auto partial = [&](const Error& e) {
      std::string msg = e.message;
      if (!stored.empty())
        msg += " (" + std::to_string(stored.size()) + " version(s) were stored before this failure, e.g. " + stored.front() +
               "; run publish again: stored versions are reported unchanged)";
      return Error{e.code, e.reason, msg};
    };
    for (auto& p : prepared_) {
      const ScannedVersion& v = *p.scanned;
      PublishedVersion out;
      out.instance_id = p.manifest.instance_id();
      out.directory = v.directory;
      out.files = p.manifest.files.size();
      out.bytes = p.manifest.total_size();
      out.supersedes = p.manifest.supersedes;
      out.unchanged = p.unchanged;
      if (!options_.dry_run) {
        if (!p.unchanged) {
          LocalReplica local = primary_replica(p, v);
          auto env = catalog_.append_local(home_.key(), RecordKind::manifest, p.manifest.encode(), options_.now, &local);
          if (!env) return partial(env.error().with_context(out.instance_id));
          out.seq = env->seq;
          stored.push_back(out.instance_id);
        } else if (auto st = record_local(p, v); !st) {
          return partial(st.error().with_context(out.instance_id));
        }
      }
      report_.versions.push_back(std::move(out));
    }
    return std::move(report_);
  }

  // The publisher's copy is its primary replica: complete, at the version directory.
  LocalReplica primary_replica(const Prepared& p, const ScannedVersion& v) const {
    LocalReplica r;
    r.instance_id = p.manifest.instance_id();
    r.state = LocalState::complete;
    r.path = v.directory.string();
    r.bytes_done = p.manifest.total_size();
    r.updated_at = options_.now;
    return r;
  }

  // An unchanged re-publish only fills in a missing or moved local entry.
  Status record_local(const Prepared& p, const ScannedVersion& v) {
    // Someone else's identical version is theirs to hold; replicas are recorded by the
    // transfer path, not by publish.
    if (!p.ours) return {};
    LocalReplica r = primary_replica(p, v);
    FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, catalog_.local(r.instance_id));
    if (local && local->state == LocalState::complete && local->path == r.path) return {};
    return catalog_.put_local(r);
  }

  const NodeHome& home_;
  Catalog& catalog_;
  const PublishOptions& options_;
  PublishReport report_;
  std::vector<ScannedVersion> scan_;
  std::vector<Prepared> prepared_;
  PublishProgress progress_;
  FileHasher hasher_;
};

}  // namespace

Result<PublishReport> Publisher::run(const PublishOptions& options) {
  Run run(home_, catalog_, options);
  return run.run();
}

}  // namespace fedswarm
