#include <doctest/doctest.h>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "Process.hpp"
#include "ReplicaPair.hpp"
#include "fedswarm/engine/TorrentExport.hpp"
#include "fedswarm/protocol/InfoDict.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

Manifest manifest_of(test::ReplicaPair& pair, const std::string& id) {
  auto m = pair.publisher().cat().manifest(id);
  REQUIRE(m.ok());
  return *m;
}

std::shared_ptr<lt::torrent_info> load(const Bytes& torrent) {
  lt::error_code ec;
  auto ti = std::make_shared<lt::torrent_info>(
      lt::span<char const>(reinterpret_cast<const char*>(torrent.data()), static_cast<std::ptrdiff_t>(torrent.size())), ec,
      lt::from_span);
  REQUIRE_MESSAGE(!ec, ec.message());
  return ti;
}

// A session that neither listens nor talks to anyone: it only checks files on disk.
lt::session offline_session() {
  lt::settings_pack s;
  s.set_str(lt::settings_pack::listen_interfaces, "");
  s.set_bool(lt::settings_pack::enable_dht, false);
  s.set_bool(lt::settings_pack::enable_lsd, false);
  s.set_bool(lt::settings_pack::enable_upnp, false);
  s.set_bool(lt::settings_pack::enable_natpmp, false);
  s.set_int(lt::settings_pack::alert_mask, 0);
  return lt::session(lt::session_params(std::move(s)));
}

}  // namespace

TEST_CASE("export_torrent: the manifest's info dict plus verified piece layers, and libtorrent seeds the replica from it") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  Manifest m = manifest_of(pair, v.instance_id());
  std::uint64_t last = 0;
  auto out = export_torrent(m, v.directory, [&](const TorrentExportProgress& p) {
    CHECK(p.bytes_done >= last);
    last = p.bytes_done;
  });
  REQUIRE_MESSAGE(out.ok(), out.error().message);
  CHECK(last == m.total_size());
  CHECK(out->info_hash == m.info_hash());
  CHECK(out->files == v.files.size());
  CHECK(out->piece_layers == v.files.size());  // every file is larger than one piece
  CHECK(out->rebuilt_identical);               // same libtorrent as the publisher's

  auto ti = load(out->torrent);
  REQUIRE(ti->info_hashes().has_v2());
  const Sha256 want = m.info_hash();
  CHECK(std::equal(want.bytes.begin(), want.bytes.end(), reinterpret_cast<const std::uint8_t*>(ti->info_hashes().v2.data())));
  CHECK_FALSE(ti->info_hashes().has_v1());
  CHECK(ti->v2_piece_hashes_verified());
  CHECK(ti->priv());
  CHECK(ti->num_files() >= static_cast<int>(v.files.size()));
  CHECK(ti->creation_date() == m.published_at);
  // The info section is the manifest's, byte for byte.
  auto info = ti->info_section();
  CHECK(Bytes(info.begin(), info.end()) == m.info_dict);

  // It downloads into a folder named after the dataset version, not the bare version.
  CHECK(ti->name() == m.instance_id());

  // A client given only this file finds every piece of the replica valid (in a folder
  // of the torrent's name: here a link to the replica).
  const fs::path client = v.directory.parent_path() / ".client";
  fs::create_directories(client);
  fs::create_directory_symlink(v.directory, client / ti->name());
  lt::session ses = offline_session();
  lt::add_torrent_params atp;
  atp.ti = ti;
  atp.save_path = client.string();
  lt::torrent_handle h = ses.add_torrent(atp);
  bool seeding = test::wait_until([&] { return h.status().state == lt::torrent_status::seeding; }, std::chrono::seconds(60));
  auto st = h.status();
  INFO("state " << static_cast<int>(st.state) << ", pieces " << st.num_pieces);
  CHECK(seeding);
  CHECK(st.num_pieces == ti->num_pieces());
}

TEST_CASE("export_torrent: files too small for a piece layer still give a valid torrent") {
  SampleSpec spec = test::ReplicaPair::small_spec();
  spec.datasets = 1;
  spec.versions_per_dataset = 1;
  spec.file_size = 4 * 1024;  // below one 16 KiB piece
  test::ReplicaPair pair(RetractionAction::keep, RetractionAction::keep, spec);
  const auto& v = pair.sample()[0];
  Manifest m = manifest_of(pair, v.instance_id());
  auto out = export_torrent(m, v.directory);
  REQUIRE_MESSAGE(out.ok(), out.error().message);
  CHECK(out->piece_layers == 0);
  auto ti = load(out->torrent);
  CHECK(ti->info_hashes().has_v2());
}

TEST_CASE("export_torrent: a replica that differs from the manifest is refused") {
  test::ReplicaPair pair;
  const auto& v = pair.sample()[0];
  Manifest m = manifest_of(pair, v.instance_id());
  {
    std::fstream f(v.directory / v.files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.write("X", 1);
  }
  auto out = export_torrent(m, v.directory);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().code == Errc::corrupt);
  CHECK(out.error().reason == "export_replica_mismatch");
  CHECK(out.error().message.find("fedswarm verify") != std::string::npos);

  fs::remove(v.directory / v.files[0]);
  out = export_torrent(m, v.directory);
  REQUIRE_FALSE(out.ok());
  CHECK(out.error().reason == "unreadable_file");
}
