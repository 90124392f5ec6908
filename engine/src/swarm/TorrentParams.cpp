#include "swarm/TorrentParams.hpp"

#include <libtorrent/alert_types.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/write_resume_data.hpp>

#include <algorithm>
#include <cstring>
#include <exception>

namespace fedswarm {

namespace {

constexpr lt::torrent_flags_t kOurFlags = lt::torrent_flags::paused | lt::torrent_flags::auto_managed |
                                          lt::torrent_flags::seed_mode | lt::torrent_flags::upload_mode |
                                          lt::torrent_flags::share_mode | lt::torrent_flags::super_seeding |
                                          lt::torrent_flags::stop_when_ready | lt::torrent_flags::sequential_download |
                                          lt::torrent_flags::no_verify_files;

// Without merkle trees libtorrent 2.0.8 cannot verify a staged piece of a file longer
// than one piece, and a check of staged files stores the block hashes of what it read
// (zeros of reserved space, a half-written piece) as if they were known: when a peer
// then sends the piece layers, the pieces downloaded over them fail and the honest peer
// that sent them is banned. The staged files always exist (prepare_staging reserves
// them), so without trees nothing on disk is checked: every piece not claimed by the
// resume data is downloaded.
bool has_trees(const lt::add_torrent_params& p) {
  return std::any_of(p.merkle_trees.begin(), p.merkle_trees.end(), [](const auto& t) { return !t.empty(); });
}

Error refused(const std::string& reason, const std::string& why) {
  return make_error(Errc::invalid, reason, "info dict: " + why);
}

}  // namespace

Result<ManifestTorrent> torrent_of(const Manifest& manifest) {
  FEDSWARM_ASSIGN_OR_RETURN(InfoDict info, InfoDict::parse(manifest.info_dict));
  // The name is the instance id (or, in manifests published before, the version):
  // checked by matches; where the files go does not depend on it (with_version_root).
  FEDSWARM_TRY(info.matches(manifest));
  // libtorrent takes a whole .torrent: wrap the info dict, byte for byte (its SHA-256
  // is the info-hash), in a dictionary with no other key (no trackers, no nodes).
  std::vector<char> file;
  file.reserve(manifest.info_dict.size() + 8);
  const char head[] = "d4:info";
  file.insert(file.end(), head, head + 7);
  file.insert(file.end(), manifest.info_dict.begin(), manifest.info_dict.end());
  file.push_back('e');
  lt::error_code ec;
  std::shared_ptr<const lt::torrent_info> ti;
  try {
    ti = std::make_shared<lt::torrent_info>(lt::span<const char>(file.data(), static_cast<std::ptrdiff_t>(file.size())),
                                            ec, lt::from_span);
  } catch (const std::exception& e) {
    return refused("info_dict_libtorrent", std::string("libtorrent cannot load it: ") + e.what());
  }
  if (ec) return refused("info_dict_libtorrent", "libtorrent cannot load it: " + ec.message());
  const lt::info_hash_t& h = ti->info_hashes();
  Sha256 expected = manifest.info_hash();
  if (!h.has_v2() || std::memcmp(h.v2.data(), expected.data(), expected.size()) != 0)
    return refused("info_dict_libtorrent", "libtorrent does not read it as the v2 torrent of " + manifest.instance_id());
  return ManifestTorrent{std::move(ti), std::move(info), manifest.version};
}

void with_version_root(lt::add_torrent_params& p, const ManifestTorrent& t) {
  p.renamed_files.clear();  // file names come from the signed info dict only
  // libtorrent lays files out as <name>/<path>, except a torrent of one file (BEP 52:
  // a file tree of one entry), which it lays out as <file> with no directory. Both are
  // moved under <version>/, so <save_path> is always the version directory's parent.
  const lt::file_storage& fs = t.ti->files();
  const std::string version_prefix = t.version + "/";
  const std::string name_prefix = t.info.name + "/";
  for (lt::file_index_t i : fs.file_range()) {
    if (fs.pad_file_at(i)) continue;
    std::string path = fs.file_path(i);
    if (path.compare(0, version_prefix.size(), version_prefix) == 0) continue;
    if (path.compare(0, name_prefix.size(), name_prefix) == 0) path = path.substr(name_prefix.size());
    p.renamed_files[i] = version_prefix + path;
  }
}

lt::add_torrent_params fresh_params(const ManifestTorrent& t, const std::filesystem::path& save_path) {
  lt::add_torrent_params p;
  p.ti = std::make_shared<lt::torrent_info>(*t.ti);
  p.save_path = save_path.string();
  p.flags &= ~kOurFlags;
  with_version_root(p, t);
  p.flags |= lt::torrent_flags::no_verify_files;  // see has_trees
  // Full allocation turns a full disk into an error when a file is opened; with sparse
  // memory-mapped files it would be a SIGBUS in the middle of a write (measured).
  p.storage_mode = lt::storage_mode_allocate;
  return p;
}

Result<lt::add_torrent_params> resume_params(ByteView resume, const ManifestTorrent& t,
                                             const std::filesystem::path& save_path, bool trust_pieces) {
  lt::error_code ec;
  lt::add_torrent_params p;
  try {
    p = lt::read_resume_data(
        lt::span<const char>(reinterpret_cast<const char*>(resume.data()), static_cast<std::ptrdiff_t>(resume.size())), ec);
  } catch (const std::exception& e) {
    return make_error(Errc::invalid, "resume_data_invalid", std::string("stored resume data is unreadable: ") + e.what());
  }
  if (ec) return make_error(Errc::invalid, "resume_data_invalid", "stored resume data is unreadable: " + ec.message());
  if (!p.info_hashes.has_v2() || p.info_hashes.v2 != t.ti->info_hashes().v2)
    return make_error(Errc::invalid, "resume_data_invalid", "stored resume data belongs to another torrent");
  p.ti = std::make_shared<lt::torrent_info>(*t.ti);
  p.save_path = save_path.string();
  p.flags &= ~kOurFlags;
  p.storage_mode = lt::storage_mode_allocate;
  p.trackers.clear();
  p.tracker_tiers.clear();
  p.url_seeds.clear();
  p.http_seeds.clear();
  p.dht_nodes.clear();
  with_version_root(p, t);
  p.file_priorities.clear();
  p.piece_priorities.clear();
  // Seeds are checked lazily again after every restart: files may have changed while
  // the node was down.
  p.verified_pieces.clear();
  if (!trust_pieces) {
    p.have_pieces.clear();
    p.unfinished_pieces.clear();
  }
  if (!has_trees(p)) p.flags |= lt::torrent_flags::no_verify_files;
  return p;
}

void hold_until_checked(lt::add_torrent_params& p) {
  p.flags = (p.flags & ~lt::torrent_flags::auto_managed) | lt::torrent_flags::paused;
}

bool ends_hold(const lt::alert& a) {
  if (lt::alert_cast<lt::torrent_checked_alert>(&a)) return true;
  const auto* s = lt::alert_cast<lt::state_changed_alert>(&a);
  return s && s->state != lt::torrent_status::checking_resume_data;
}

bool seedable_without_check(const lt::add_torrent_params& p, const lt::torrent_info& ti) {
  if (p.merkle_trees.empty()) return false;
  if (p.have_pieces.size() < ti.num_pieces()) return false;
  for (lt::piece_index_t i(0); i < lt::piece_index_t(ti.num_pieces()); ++i)
    if (!p.have_pieces[i]) return false;
  return true;
}

Result<lt::add_torrent_params> layered_seed_params(const Manifest& manifest, const ManifestTorrent& t,
                                                   const std::map<Sha256, std::vector<Sha256>>& layers,
                                                   const std::filesystem::path& save_path) {
  // d 4:info <signed info dict> 12:piece layers d <root>:<hashes>... e e — keys of a
  // bencoded dict in byte order, as std::map orders Sha256 (byte-wise compare).
  std::vector<char> file;
  auto put = [&](std::string_view s) { file.insert(file.end(), s.begin(), s.end()); };
  put("d4:info");
  file.insert(file.end(), manifest.info_dict.begin(), manifest.info_dict.end());
  put("12:piece layersd");
  for (const auto& [root, hashes] : layers) {
    if (hashes.size() <= 1) continue;
    put("32:");
    file.insert(file.end(), root.data(), root.data() + root.size());
    put(std::to_string(hashes.size() * 32) + ":");
    for (const auto& h : hashes) file.insert(file.end(), h.data(), h.data() + h.size());
  }
  put("ee");
  lt::error_code ec;
  std::shared_ptr<lt::torrent_info> ti;
  try {
    ti = std::make_shared<lt::torrent_info>(lt::span<const char>(file.data(), static_cast<std::ptrdiff_t>(file.size())),
                                            ec, lt::from_span);
  } catch (const std::exception& e) {
    return refused("info_dict_libtorrent", std::string("libtorrent cannot load it with its piece layers: ") + e.what());
  }
  if (ec) return refused("info_dict_libtorrent", "libtorrent cannot load it with its piece layers: " + ec.message());
  Sha256 expected = manifest.info_hash();
  if (!ti->info_hashes().has_v2() || std::memcmp(ti->info_hashes().v2.data(), expected.data(), expected.size()) != 0)
    return refused("info_dict_libtorrent", "libtorrent does not read it as the v2 torrent of " + manifest.instance_id());
  lt::add_torrent_params p;
  p.ti = std::move(ti);
  p.save_path = save_path.string();
  p.flags &= ~kOurFlags;
  p.flags |= lt::torrent_flags::seed_mode | lt::torrent_flags::upload_mode;
  p.storage_mode = lt::storage_mode_allocate;
  with_version_root(p, t);
  return p;
}

Bytes encode_resume(const lt::add_torrent_params& p) {
  std::vector<char> buf = lt::write_resume_data_buf(p);
  return Bytes(buf.begin(), buf.end());
}

}  // namespace fedswarm
