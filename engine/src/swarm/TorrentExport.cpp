#include "fedswarm/engine/TorrentExport.hpp"

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/torrent_info.hpp>

#include <algorithm>
#include <exception>
#include <iterator>
#include <map>

#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/FileHasher.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

Error build_error(const std::string& why) {
  return make_error(Errc::invalid, "export_build", "libtorrent could not build the torrent: " + why);
}

void append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

void append_bencoded_string(Bytes& out, std::string_view s) {
  append(out, std::to_string(s.size()) + ":");
  append(out, s);
}

struct Rebuilt {
  Bytes info;          // libtorrent's own info dict
  Bytes piece_layers;  // bencoded "piece layers" dict
  std::size_t layers = 0;
};

// create_torrent from piece hashes already computed (the same construction as the
// publisher's InfoDictBuilder), so the files are read once.
Result<Rebuilt> rebuild(const InfoDict& info, const Manifest& manifest,
                        const std::map<std::string, std::vector<Sha256>>& roots) {
  try {
    lt::file_storage files;
    files.reserve(static_cast<int>(manifest.files.size()));
    for (const auto& f : manifest.files) files.add_file(info.name + "/" + f.path, static_cast<std::int64_t>(f.size));
    lt::create_torrent ct(files, static_cast<int>(info.piece_length), lt::create_torrent::v2_only);
    ct.set_priv(info.is_private);
    if (ct.piece_length() != info.piece_length)
      return build_error("it chose piece length " + std::to_string(ct.piece_length()) + " instead of the manifest's " +
                         std::to_string(info.piece_length));
    const lt::file_storage& cf = ct.files();
    for (lt::file_index_t i : cf.file_range()) {
      if (cf.pad_file_at(i)) continue;
      std::string path = cf.file_path(i);
      auto it = roots.find(path.substr(std::min(path.size(), info.name.size() + 1)));
      if (it == roots.end()) return build_error("it listed an unknown file \"" + path + "\"");
      for (std::size_t p = 0; p < it->second.size(); ++p)
        ct.set_hash2(i, lt::piece_index_t::diff_type(static_cast<int>(p)),
                     lt::sha256_hash(reinterpret_cast<const char*>(it->second[p].data())));
    }
    lt::entry torrent = ct.generate();
    Rebuilt out;
    lt::bencode(std::back_inserter(out.info), torrent["info"]);
    if (const lt::entry* layers = torrent.find_key("piece layers"); layers && layers->type() == lt::entry::dictionary_t) {
      out.layers = layers->dict().size();
      lt::bencode(std::back_inserter(out.piece_layers), *layers);
    } else {
      append(out.piece_layers, "de");
    }
    return out;
  } catch (const std::exception& e) {
    return build_error(e.what());
  }
}

// Loads the result back as any client would.
Status self_check(const Bytes& torrent, const Manifest& manifest, std::size_t layers) {
  lt::error_code ec;
  lt::torrent_info ti(lt::span<char const>(reinterpret_cast<const char*>(torrent.data()),
                                           static_cast<std::ptrdiff_t>(torrent.size())),
                      ec, lt::from_span);
  if (ec)
    return make_error(Errc::corrupt, "export_self_check", "libtorrent cannot load the exported torrent: " + ec.message());
  const Sha256 want = manifest.info_hash();
  if (!ti.info_hashes().has_v2() ||
      !std::equal(want.bytes.begin(), want.bytes.end(), reinterpret_cast<const std::uint8_t*>(ti.info_hashes().v2.data())))
    return make_error(Errc::corrupt, "export_self_check", "the exported torrent's v2 info-hash is not the manifest's");
  if (layers > 0 && !ti.v2_piece_hashes_verified())
    return make_error(Errc::corrupt, "export_self_check", "the exported piece layers do not verify against the info dict");
  return {};
}

}  // namespace

Result<TorrentExport> export_torrent(const Manifest& manifest, const fs::path& version_dir,
                                     const std::function<void(const TorrentExportProgress&)>& progress) {
  FEDSWARM_ASSIGN_OR_RETURN(InfoDict info, InfoDict::parse(manifest.info_dict));
  FEDSWARM_TRY(info.matches(manifest));

  TorrentExportProgress p;
  p.bytes_total = manifest.total_size();
  FileHasher hasher;
  std::map<std::string, std::vector<Sha256>> roots;
  for (const auto& f : manifest.files) {
    const std::uint64_t base = p.bytes_done;
    p.current = f.path;
    auto digest = hasher.hash(version_dir / f.path, static_cast<std::uint64_t>(info.piece_length), [&](std::uint64_t done) {
      p.bytes_done = base + done;
      if (progress) progress(p);
    });
    if (!digest) return std::move(digest).error();
    if (digest->size != f.size || digest->sha256 != f.sha256)
      return make_error(Errc::corrupt, "export_replica_mismatch",
                        (version_dir / f.path).string() + " does not match the manifest (" +
                            (digest->size != f.size ? "size" : "SHA-256") +
                            "); run `fedswarm verify` on the version, which withdraws a bad replica and fetches it again");
    roots[f.path] = std::move(digest->piece_roots);
    p.bytes_done = base + f.size;
  }
  FEDSWARM_ASSIGN_OR_RETURN(Rebuilt rebuilt, rebuild(info, manifest, roots));

  TorrentExport out;
  out.info_hash = manifest.info_hash();
  out.piece_length = static_cast<std::uint64_t>(info.piece_length);
  out.files = manifest.files.size();
  out.bytes = manifest.total_size();
  out.piece_layers = rebuilt.layers;
  out.rebuilt_identical = rebuilt.info == manifest.info_dict;
  // Keys in bencode order: "created by" < "creation date" < "info" < "piece layers".
  Bytes& t = out.torrent;
  append(t, "d");
  append_bencoded_string(t, "created by");
  append_bencoded_string(t, "fedswarm");
  append_bencoded_string(t, "creation date");
  append(t, "i" + std::to_string(manifest.published_at) + "e");
  append_bencoded_string(t, "info");
  t.insert(t.end(), manifest.info_dict.begin(), manifest.info_dict.end());
  append_bencoded_string(t, "piece layers");
  t.insert(t.end(), rebuilt.piece_layers.begin(), rebuilt.piece_layers.end());
  append(t, "e");
  FEDSWARM_TRY(self_check(t, manifest, rebuilt.layers));
  return out;
}

}  // namespace fedswarm
