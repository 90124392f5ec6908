// Placement and the small pure helpers of the swarm engine (engine-private headers).
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <libtorrent/alert_types.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <sys/stat.h>

#include "swarm/Placement.hpp"
#include "swarm/StagingArea.hpp"
#include "swarm/SwarmSettings.hpp"
#include "swarm/TorrentParams.hpp"
#include "TestFederation.hpp"
#include "TestSupport.hpp"
#include "fedswarm/engine/NodeHome.hpp"
#include "fedswarm/engine/Publisher.hpp"
#include "fedswarm/engine/SampleTree.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/storage/FileHasher.hpp"
#include "publish/InfoDictBuilder.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kNow = test::kTestNow + 3000;

// A publishing node with one sample version, and a staged copy of it.
class Fixture {
 public:
  Fixture() {
    auto h = NodeHome::init(tmp_ / "home", Config::defaults("IPSL", Tier::tier2));
    REQUIRE_MESSAGE(h.ok(), h.error().message);
    home_.emplace(std::move(*h));
    auto c = home_->open_catalog();
    REQUIRE(c.ok());
    catalog_ = std::move(*c);
    REQUIRE(fed_.admit(*catalog_, home_->key(), "IPSL").ok());
    SampleSpec spec;
    spec.datasets = 1;
    spec.files_per_version = 2;
    spec.file_size = 40 * 1024;
    auto tree = write_sample_tree(tmp_ / "archive", 21, spec);
    REQUIRE(tree.ok());
    source_ = tree->front().directory;
    PublishOptions o;
    o.paths = {tmp_ / "archive"};
    o.now = kNow;
    auto r = Publisher(*home_, *catalog_).run(o);
    REQUIRE(r.ok());
    REQUIRE(r->errors.empty());
    auto m = catalog_->manifest(r->versions.front().instance_id);
    REQUIRE(m.ok());
    manifest_ = *m;
    job_.manifest = manifest_;
    job_.staging_root = home_->staging_dir() / manifest_.instance_id();
    job_.final_dir = home_->config().data_root / fs::relative(source_, tmp_ / "archive");
    job_.resume_data = Bytes{1, 2, 3};
    job_.now = kNow;
    fs::create_directories(job_.staging_root);
    fs::copy(source_, job_.staging_root / manifest_.version, fs::copy_options::recursive);
  }

  PlacementOutcome place() { return place_version(job_, *catalog_, home_->key(), cancel_); }
  fs::path staged(std::size_t i) const { return job_.staging_root / manifest_.version / manifest_.files.at(i).path; }
  void corrupt(const fs::path& p) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("!", 1);
  }

  PlacementJob job_;
  Manifest manifest_;
  fs::path source_;
  std::unique_ptr<Catalog> catalog_;

 private:
  test::TempDir tmp_{"fedswarm-placement"};
  std::optional<NodeHome> home_;
  test::TestFederation fed_;
  std::atomic<bool> cancel_{false};
};

}  // namespace

TEST_CASE("Placement: a verified version is renamed into the DRS tree and recorded in one transaction") {
  Fixture fx;
  PlacementOutcome out = fx.place();
  INFO(out.message);
  REQUIRE(out.kind == PlacementOutcome::Kind::placed);
  CHECK(out.record_seq > 0);
  CHECK(out.record_error.empty());
  CHECK_FALSE(fs::exists(fx.job_.staging_root));
  for (const auto& f : fx.manifest_.files)
    CHECK(test::read_file(fx.job_.final_dir / f.path) == test::read_file(fx.source_ / f.path));
  auto local = fx.catalog_->local(fx.manifest_.instance_id());
  REQUIRE(local.ok());
  REQUIRE(local->has_value());
  CHECK((*local)->state == LocalState::complete);
  CHECK((*local)->path == fx.job_.final_dir.string());
  CHECK((*local)->resume_data == Bytes{1, 2, 3});
}

TEST_CASE("Placement: a file that fails SHA-256 is never placed and staging starts over") {
  Fixture fx;
  fx.corrupt(fx.staged(1));
  PlacementOutcome out = fx.place();
  CHECK(out.kind == PlacementOutcome::Kind::verify_failed);
  CHECK(out.reason == "sha256_mismatch");
  CHECK(out.message.find(fx.manifest_.files[1].path) != std::string::npos);
  CHECK_FALSE(fs::exists(fx.job_.final_dir));
  CHECK_FALSE(fs::exists(fx.job_.staging_root));
  auto local = fx.catalog_->local(fx.manifest_.instance_id());
  REQUIRE(local.ok());
  CHECK(((*local)->state == LocalState::complete) == ((*local)->path == fx.source_.string()));  // the publisher's row only
}

TEST_CASE("Placement: an existing DRS directory is never replaced and adopt verifies it in place") {
  Fixture fx;
  fs::create_directories(fx.job_.final_dir);
  PlacementOutcome out = fx.place();
  CHECK(out.kind == PlacementOutcome::Kind::error);
  CHECK(out.reason == "destination_exists");
  CHECK(fs::exists(fx.staged(0)));  // staging kept for a retry

  fs::remove(fx.job_.final_dir);
  fs::copy(fx.job_.staging_root / fx.manifest_.version, fx.job_.final_dir, fs::copy_options::recursive);
  fx.corrupt(fx.job_.final_dir / fx.manifest_.files[0].path);
  fx.job_.adopt = true;
  out = fx.place();
  CHECK(out.kind == PlacementOutcome::Kind::error);
  CHECK(out.reason == "destination_mismatch");
  CHECK(fs::exists(fx.job_.final_dir / fx.manifest_.files[0].path));  // left for the operator

  fs::copy_file(fx.staged(0), fx.job_.final_dir / fx.manifest_.files[0].path, fs::copy_options::overwrite_existing);
  out = fx.place();
  CHECK(out.kind == PlacementOutcome::Kind::placed);
  CHECK(out.record_seq > 0);
}

TEST_CASE("SwarmSettings: endpoints and addresses are parsed strictly") {
  auto ep = parse_swarm_endpoint("127.0.0.5:7401");
  REQUIRE(ep.ok());
  CHECK(endpoint_string(*ep) == "127.0.0.5:7401");
  auto v6 = parse_swarm_endpoint("[::1]:80");
  REQUIRE(v6.ok());
  CHECK(endpoint_string(*v6) == "[::1]:80");
  for (const char* bad : {"", "127.0.0.1", ":80", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "host:80",
                          "127.0.0.1:80x", "[::1:80"})
    CHECK_MESSAGE(parse_swarm_endpoint(bad).error().reason == "swarm_bad_endpoint", bad);
  CHECK(parse_swarm_ip("10.0.0.1").ok());
  CHECK(parse_swarm_ip("example.org").error().reason == "swarm_bad_ip");
  auto s = swarm_settings({*parse_swarm_ip("127.0.0.9"), 7401, 0, 0});
  CHECK(s.get_str(lt::settings_pack::listen_interfaces) == "127.0.0.9:7401");
  CHECK(s.get_str(lt::settings_pack::outgoing_interfaces) == "127.0.0.9");
  CHECK_FALSE(s.get_bool(lt::settings_pack::enable_dht));
  CHECK_FALSE(s.get_bool(lt::settings_pack::enable_outgoing_utp));
  CHECK_FALSE(s.get_bool(lt::settings_pack::enable_incoming_utp));
  CHECK(s.get_int(lt::settings_pack::max_retry_port_bind) == 0);
}

TEST_CASE("TorrentParams: the torrent of a manifest and resume data that is not trusted after a crash") {
  Fixture fx;
  auto t = torrent_of(fx.manifest_);
  REQUIRE(t.ok());
  // Named after the dataset version; its files still land in <save_path>/<version>/.
  CHECK(t->ti->name() == fx.manifest_.instance_id());
  CHECK(t->ti->num_files() >= static_cast<int>(fx.manifest_.files.size()));
  {
    lt::add_torrent_params fresh = fresh_params(*t, "/staging");
    std::set<std::string> where;
    for (const auto& [i, path] : fresh.renamed_files) where.insert(path);
    std::set<std::string> want;
    for (const auto& f : fx.manifest_.files) want.insert(fx.manifest_.version + "/" + f.path);
    CHECK(where == want);
  }

  Manifest renamed = fx.manifest_;
  renamed.version = "v20000101";
  CHECK(torrent_of(renamed).error().reason == "info_dict_mismatch");

  lt::add_torrent_params p = fresh_params(*t, "/staging");
  p.info_hashes = t->ti->info_hashes();  // as libtorrent's own resume data carries
  p.have_pieces.resize(t->ti->num_pieces(), true);
  Bytes resume = encode_resume(p);
  auto trusted = resume_params(resume, *t, "/elsewhere", true);
  REQUIRE_MESSAGE(trusted.ok(), trusted.error().message);
  CHECK(trusted->save_path == "/elsewhere");
  CHECK(trusted->have_pieces.all_set());
  CHECK(trusted->renamed_files.size() == fx.manifest_.files.size());
  auto untrusted = resume_params(resume, *t, "/elsewhere", false);
  REQUIRE(untrusted.ok());
  CHECK(untrusted->have_pieces.empty());
  CHECK(untrusted->renamed_files == trusted->renamed_files);
  CHECK_FALSE(seedable_without_check(*trusted, *t->ti));  // no merkle trees
  // Without merkle trees nothing staged is checked (a check without them misleads
  // libtorrent 2.0.8 into failing honest peers' pieces): the staged files are reserved
  // space, and pieces not claimed by trusted resume data are downloaded.
  CHECK(static_cast<bool>(p.flags & lt::torrent_flags::no_verify_files));
  CHECK(static_cast<bool>(trusted->flags & lt::torrent_flags::no_verify_files));
  CHECK(static_cast<bool>(untrusted->flags & lt::torrent_flags::no_verify_files));
  CHECK(resume_params(Bytes{'x'}, *t, "/s", true).error().reason == "resume_data_invalid");
}

TEST_CASE("TorrentParams: a fetch is held paused until its check is over, then resumed to dial at once") {
  Fixture fx;
  auto t = torrent_of(fx.manifest_);
  REQUIRE(t.ok());
  lt::add_torrent_params p = fresh_params(*t, "/staging");
  p.flags |= lt::torrent_flags::auto_managed;
  hold_until_checked(p);
  CHECK(static_cast<bool>(p.flags & lt::torrent_flags::paused));
  CHECK_FALSE(static_cast<bool>(p.flags & lt::torrent_flags::auto_managed));  // would be resumed by the queue
  CHECK(static_cast<bool>(p.flags & lt::torrent_flags::no_verify_files));

  // A session without network: the hold ends with the check, not before.
  lt::settings_pack s;
  s.set_str(lt::settings_pack::listen_interfaces, "");
  s.set_int(lt::settings_pack::alert_mask, static_cast<int>(static_cast<std::uint32_t>(lt::alert_category::status)));
  lt::session ses(lt::session_params{s});
  const fs::path dir = fx.job_.staging_root.parent_path() / "held";
  lt::add_torrent_params q = fresh_params(*t, dir);
  hold_until_checked(q);
  lt::error_code ec;
  lt::torrent_handle h = ses.add_torrent(std::move(q), ec);
  REQUIRE_FALSE(ec);
  std::vector<std::string> ended;  // what the alerts that end the hold say
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ended.empty() && std::chrono::steady_clock::now() < until) {
    ses.wait_for_alert(std::chrono::milliseconds(100));
    std::vector<lt::alert*> alerts;
    ses.pop_alerts(&alerts);
    for (lt::alert* a : alerts)
      if (ends_hold(*a)) ended.push_back(a->what());
  }
  REQUIRE_FALSE(ended.empty());
  CHECK(ended.front() == std::string("state_changed"));  // downloading: checked, still paused
  CHECK(static_cast<bool>(h.flags() & lt::torrent_flags::paused));
  CHECK(h.status({}).state == lt::torrent_status::downloading);
}

TEST_CASE("StagingArea: every file to download is reserved in full before libtorrent has the torrent") {
  Fixture fx;
  auto info = InfoDict::parse(fx.manifest_.info_dict);
  REQUIRE(info.ok());
  const fs::path root = fx.job_.staging_root.parent_path();
  const fs::path staged = root / "fresh" / fx.manifest_.version;
  auto linked = prepare_staging(root, staged, *fx.catalog_, fx.manifest_, *info);
  REQUIRE_MESSAGE(linked.ok(), linked.error().message);
  CHECK(linked->list.empty());  // no earlier local version
  for (const auto& f : info->files) {
    const fs::path p = staged / f.path;
    REQUIRE(fs::exists(p));
    CHECK(fs::file_size(p) == f.size);
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    // Allocated, not sparse: no hole for a mapped read to fault on.
    CHECK(static_cast<std::uint64_t>(st.st_blocks) * 512 >= f.size);
  }
  // Again over what is there (a resumed fetch): the content stays.
  {
    std::fstream f(staged / info->files.front().path, std::ios::in | std::ios::out | std::ios::binary);
    f.write("kept", 4);
  }
  REQUIRE(prepare_staging(root, staged, *fx.catalog_, fx.manifest_, *info).ok());
  CHECK(test::read_file(staged / info->files.front().path).substr(0, 4) == "kept");
}

TEST_CASE("Placement: with keep_staging_on_mismatch a failing copy stays staged for a re-check") {
  Fixture fx;
  fx.corrupt(fx.staged(1));
  fx.job_.keep_staging_on_mismatch = true;
  PlacementOutcome out = fx.place();
  CHECK(out.kind == PlacementOutcome::Kind::verify_failed);
  CHECK(out.file == fx.manifest_.files[1].path);
  CHECK_FALSE(out.linked);
  CHECK_FALSE(fs::exists(fx.job_.final_dir));
  CHECK(fs::exists(fx.staged(0)));  // libtorrent re-checks these against the merkle roots
  CHECK(fs::exists(fx.staged(1)));
}

TEST_CASE("TorrentParams: a manifest published before, whose torrent is named after the version, needs no renames") {
  Fixture fx;
  Manifest old = fx.manifest_;
  auto info = InfoDict::parse(old.info_dict);
  REQUIRE(info.ok());
  std::vector<InfoDictInput> inputs;
  FileHasher hasher;
  for (const auto& f : old.files) {
    auto d = hasher.hash(fx.source_ / f.path, static_cast<std::uint64_t>(info->piece_length));
    REQUIRE(d.ok());
    inputs.push_back({f.path, f.size, d->piece_roots});
  }
  auto bytes = build_info_dict(old.version, static_cast<std::uint64_t>(info->piece_length), inputs);
  REQUIRE(bytes.ok());
  old.info_dict = *bytes;
  auto t = torrent_of(old);
  REQUIRE_MESSAGE(t.ok(), t.error().message);
  CHECK(t->ti->name() == old.version);
  CHECK(fresh_params(*t, "/staging").renamed_files.empty());
  // Any other name is refused.
  auto other = build_info_dict("somewhere", static_cast<std::uint64_t>(info->piece_length), inputs);
  REQUIRE(other.ok());
  old.info_dict = *other;
  CHECK(torrent_of(old).error().reason == "info_dict_mismatch");
}

TEST_CASE("Placement: files verified in this run are checked by size only, the others read again") {
  Fixture fx;
  const std::uint64_t size0 = fx.manifest_.files[0].size, size1 = fx.manifest_.files[1].size;
  SUBCASE("all trusted: nothing is read again") {
    for (const auto& f : fx.manifest_.files) fx.job_.trusted.insert(f.path);
    PlacementOutcome out = fx.place();
    REQUIRE_MESSAGE(out.kind == PlacementOutcome::Kind::placed, out.message);
    CHECK(out.bytes_rehashed == 0);
    CHECK(out.bytes_trusted == size0 + size1);
  }
  SUBCASE("one trusted: the other is read") {
    fx.job_.trusted.insert(fx.manifest_.files[0].path);
    PlacementOutcome out = fx.place();
    REQUIRE_MESSAGE(out.kind == PlacementOutcome::Kind::placed, out.message);
    CHECK(out.bytes_rehashed == size1);
    CHECK(out.bytes_trusted == size0);
  }
  SUBCASE("a trusted file of the wrong size is still refused") {
    fx.job_.trusted.insert(fx.manifest_.files[1].path);
    fs::resize_file(fx.staged(1), size1 - 1);
    PlacementOutcome out = fx.place();
    CHECK(out.kind == PlacementOutcome::Kind::verify_failed);
    CHECK(out.reason == "size_mismatch");
    CHECK(out.file == fx.manifest_.files[1].path);
  }
  SUBCASE("a linked file is read again even if named trusted") {
    const fs::path linked_from = fx.source_ / fx.manifest_.files[1].path;
    fs::remove(fx.staged(1));
    fx.job_.links.push_back({fx.manifest_.files[1].path, {}, linked_from, size1});
    for (const auto& f : fx.manifest_.files) fx.job_.trusted.insert(f.path);
    PlacementOutcome out = fx.place();
    REQUIRE_MESSAGE(out.kind == PlacementOutcome::Kind::placed, out.message);
    CHECK(out.bytes_rehashed == size1);
    CHECK(out.bytes_trusted == size0);
  }
  SUBCASE("an adopted directory is read in full") {
    for (const auto& f : fx.manifest_.files) fx.job_.trusted.insert(f.path);
    fs::create_directories(fx.job_.final_dir.parent_path());
    fs::rename(fx.job_.staging_root / fx.manifest_.version, fx.job_.final_dir);
    fx.job_.adopt = true;
    PlacementOutcome out = fx.place();
    REQUIRE_MESSAGE(out.kind == PlacementOutcome::Kind::placed, out.message);
    CHECK(out.bytes_rehashed == size0 + size1);
    CHECK(out.bytes_trusted == 0);
  }
}
