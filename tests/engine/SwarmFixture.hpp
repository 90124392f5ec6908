// SwarmFixture (test support for the SwarmEngine tests): nodes with a home, a catalog
// and an engine in this process, each on its own loopback address (127.0.N.x, N
// distinct per test case, ports chosen by the kernel), since libtorrent tells peers
// apart — and bans them — by address; a roster admitting them; publishing at node 0.
#pragma once

#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/torrent_info.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>

#include "ManifestFactory.hpp"
#include "Process.hpp"
#include "TestFederation.hpp"
#include "TestSupport.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/Publisher.hpp"
#include "fedswarm/engine/SampleTree.hpp"
#include "swarm/SwarmEngine.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/storage/FileHasher.hpp"
#include "publish/InfoDictBuilder.hpp"

namespace fedswarm::swarm_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr std::int64_t kNow = test::kTestNow + 5000;
inline constexpr auto kDeadline = 90s;

// One federation member: a node home (key, catalog, data root) and its engine.
class Node {
 public:
  Node(const fs::path& dir, std::string site, std::string ip) : ip_(std::move(ip)) {
    auto h = NodeHome::init(dir, Config::defaults(std::move(site), Tier::tier2));
    REQUIRE_MESSAGE(h.ok(), h.error().message);
    home_.emplace(std::move(*h));
    auto c = home_->open_catalog();
    REQUIRE_MESSAGE(c.ok(), c.error().message);
    catalog_ = std::move(*c);
  }

  void start(const std::function<void(SwarmEngineOptions&)>& tweak = {}) {
    SwarmEngineOptions o;
    o.listen_ip = ip_;
    o.port = 0;
    o.data_root = data_root();
    o.catalog = catalog_.get();
    o.key = &home_->key();
    o.projects = &home_->projects();
    o.clock = [] { return kNow; };
    o.resume_save_interval = 100ms;
    o.reconnect_interval = 200ms;
    o.retry_interval = 0ms;
    if (tweak) tweak(o);
    auto e = SwarmEngine::start(std::move(o));
    REQUIRE_MESSAGE(e.ok(), e.error().message);
    engine_ = std::move(*e);
  }
  // Destroys the engine without stop(): what a crash leaves behind.
  void crash() { engine_.reset(); }
  void poll() {
    if (!engine_) return;
    for (auto& e : engine_->poll()) events_.push_back(std::move(e));
  }

  SwarmEngine& engine() { return *engine_; }
  Catalog& catalog() { return *catalog_; }
  NodeHome& home() { return *home_; }
  const SigningKey& key() const { return home_->key(); }
  const std::string& ip() const { return ip_; }
  fs::path data_root() const { return home_->config().data_root; }
  std::string endpoint() const { return engine_->listen_endpoint(); }
  const std::vector<SwarmEvent>& events() const { return events_; }

  std::optional<TransferInfo> transfer(const std::string& id) const {
    for (auto& t : engine_->transfers())
      if (t.instance_id == id) return t;
    return std::nullopt;
  }
  bool placed(const std::string& id) const {
    auto t = transfer(id);
    return t && t->state == LocalState::complete && t->activity == "seeding";
  }
  LocalReplica local(const std::string& id) const {
    auto l = catalog_->local(id);
    REQUIRE(l.ok());
    REQUIRE(l->has_value());
    return **l;
  }

 private:
  std::string ip_;
  std::optional<NodeHome> home_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<SwarmEngine> engine_;
  std::vector<SwarmEvent> events_;
};

// Nodes sharing one roster; node 0 is the publisher.
class Swarm {
 public:
  explicit Swarm(int net) : net_(net) {}

  Node& add(const std::string& site) {
    std::string ip = "127.0." + std::to_string(net_) + "." + std::to_string(nodes_.size() + 1);
    nodes_.push_back(std::make_unique<Node>(tmp_ / site, site, ip));
    return *nodes_.back();
  }
  Node& operator[](std::size_t i) { return *nodes_.at(i); }
  const fs::path& dir() const { return tmp_.path(); }

  // Every node a member; the first may publish CMIP6.
  void admit() {
    std::vector<RosterMember> members;
    for (auto& n : nodes_) members.push_back(test::member(n->key(), n->home().config().site));
    Envelope roster = keys_.roster(1, test::make_roster(1, members, {test::grant(nodes_[0]->key())}));
    for (auto& n : nodes_) {
      REQUIRE(n->catalog().pin_authority(keys_.authority.public_key()).ok());
      auto st = n->catalog().import_roster(roster, kNow);
      REQUIRE_MESSAGE(st.ok(), st.error().message);
    }
  }

  // Publishes `paths` at node 0 and hands its records to every other catalog (what
  // gossip does in the daemon). Returns the manifests, oldest first.
  std::vector<Manifest> publish(std::vector<fs::path> paths) {
    Node& pub = *nodes_[0];
    PublishOptions o;
    o.paths = std::move(paths);
    o.now = kNow;
    auto report = Publisher(pub.home(), pub.catalog()).run(o);
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    std::string errors;
    for (const auto& e : report->errors) errors += e.message + "\n";
    REQUIRE_MESSAGE(report->errors.empty(), errors);
    auto records = pub.catalog().records_after(pub.key().public_key(), 0, 100000, std::size_t(1) << 30);
    REQUIRE(records.ok());
    for (std::size_t i = 1; i < nodes_.size(); ++i)
      for (const auto& env : *records) {
        auto r = nodes_[i]->catalog().ingest(env, kNow);
        REQUIRE(r.ok());
        REQUIRE_MESSAGE(r->outcome != IngestOutcome::refused, r->error->message);
      }
    std::vector<Manifest> out;
    for (const auto& v : report->versions) {
      auto m = pub.catalog().manifest(v.instance_id);
      REQUIRE(m.ok());
      out.push_back(*m);
    }
    return out;
  }

  // Polls every engine until `cond` holds; false after the deadline.
  bool run_until(const std::function<bool()>& cond, std::chrono::milliseconds deadline = kDeadline) {
    return test::wait_until(
        [&] {
          for (auto& n : nodes_) n->poll();
          return cond();
        },
        deadline, 20ms);
  }

 private:
  int net_;
  test::TempDir tmp_{"fedswarm-swarm"};
  test::FederationKeys keys_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

inline std::string describe(const std::optional<TransferInfo>& t) {
  if (!t) return "no transfer";
  return t->instance_id + " " + std::string(to_string(t->state)) + "/" + t->activity + " " +
         std::to_string(t->bytes_done) + "/" + std::to_string(t->bytes_total) + " peers " + std::to_string(t->peers) +
         " error: " + t->last_error;
}

// The version directory of `m` in `node`'s DRS tree.
inline fs::path final_dir(Node& node, const Manifest& m) {
  const ProjectTemplate* t = node.home().projects().find(m.project);
  REQUIRE(t);
  auto id = t->parse_dataset_id(m.dataset_id);
  REQUIRE(id.ok());
  return node.data_root() / t->version_directory(*id, m.version);
}

inline fs::path staged_dir(Node& node, const Manifest& m) {
  return node.data_root() / ".staging" / m.instance_id() / m.version;
}

inline void expect_same_files(const Manifest& m, const fs::path& a, const fs::path& b) {
  for (const auto& f : m.files) {
    INFO(f.path);
    REQUIRE(fs::exists(b / f.path));
    CHECK(test::read_file(a / f.path) == test::read_file(b / f.path));
  }
}

inline SampleVersion sample(const fs::path& root, std::uint64_t seed, std::size_t files, std::uint64_t file_size) {
  SampleSpec spec;
  spec.datasets = 1;
  spec.versions_per_dataset = 1;
  spec.files_per_version = files;
  spec.file_size = file_size;
  auto tree = write_sample_tree(root, seed, spec);
  REQUIRE_MESSAGE(tree.ok(), tree.error().message);
  REQUIRE(tree->size() == 1);
  return tree->front();
}

// `m` with the info dict a publisher built before torrents were named after the
// dataset version: the same files and piece length, named after the bare version
// (hashed from `dir`, the version's files). Its info-hash differs from m's.
inline Manifest with_old_torrent_name(const Manifest& m, const fs::path& dir) {
  auto info = InfoDict::parse(m.info_dict);
  REQUIRE(info.ok());
  const auto piece_length = static_cast<std::uint64_t>(info->piece_length);
  std::vector<InfoDictInput> inputs;
  FileHasher hasher;
  for (const auto& f : m.files) {
    auto d = hasher.hash(dir / f.path, piece_length);
    REQUIRE_MESSAGE(d.ok(), d.error().message);
    inputs.push_back({f.path, f.size, d->piece_roots});
  }
  auto bytes = build_info_dict(m.version, piece_length, inputs);
  REQUIRE_MESSAGE(bytes.ok(), bytes.error().message);
  Manifest old = m;
  old.info_dict = *bytes;
  return old;
}

inline std::shared_ptr<lt::torrent_info> torrent_of(const Manifest& m) {
  std::vector<char> file{'d', '4', ':', 'i', 'n', 'f', 'o'};
  file.insert(file.end(), m.info_dict.begin(), m.info_dict.end());
  file.push_back('e');
  return std::make_shared<lt::torrent_info>(lt::span<const char>(file.data(), static_cast<std::ptrdiff_t>(file.size())),
                                            lt::from_span);
}

inline lt::add_torrent_params parse_resume(const Bytes& resume) {
  lt::error_code ec;
  auto p = lt::read_resume_data(
      lt::span<const char>(reinterpret_cast<const char*>(resume.data()), static_cast<std::ptrdiff_t>(resume.size())), ec);
  REQUIRE_MESSAGE(!ec, ec.message());
  return p;
}

inline void overwrite(const fs::path& p, std::uint64_t offset, const std::string& bytes) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// tmpfs mounted over a directory for the life of the guard (root only).
class TmpfsMount {
 public:
  TmpfsMount(const fs::path& dir, const std::string& size) : dir_(dir) {
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  bool resize(const std::string& size) {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  fs::path dir_;
  bool mounted_ = false;
};


}  // namespace fedswarm::swarm_test
