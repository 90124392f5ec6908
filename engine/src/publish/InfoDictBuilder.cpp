#include "publish/InfoDictBuilder.hpp"

#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/entry.hpp>
#include <libtorrent/file_storage.hpp>

#include <exception>
#include <iterator>
#include <map>

namespace fedswarm {

namespace {

Error build_error(const std::string& why) {
  return make_error(Errc::invalid, "info_dict_build", "cannot build the torrent info dict: " + why);
}

Status check_inputs(std::string_view name, std::span<const InfoDictInput> files) {
  if (name.empty() || name.find('/') != std::string_view::npos)
    return build_error("name \"" + std::string(name) + "\" must be one path component");
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  if (files.empty() || total == 0)
    return make_error(Errc::invalid, "empty_dataset",
                      std::string(name) + ": the files hold no bytes; a torrent cannot describe an empty dataset");
  return {};
}

// create_torrent keeps a reference to its file_storage: both live together here.
lt::file_storage make_storage(std::string_view name, std::span<const InfoDictInput> files) {
  lt::file_storage fs;
  fs.reserve(static_cast<int>(files.size()));
  for (const auto& f : files)
    fs.add_file(std::string(name) + "/" + f.path, static_cast<std::int64_t>(f.size));
  return fs;
}

}  // namespace

Result<std::uint64_t> auto_piece_length(std::string_view name, std::span<const InfoDictInput> files) {
  FEDSWARM_TRY(check_inputs(name, files));
  try {
    lt::file_storage fs = make_storage(name, files);
    // Asking libtorrent itself keeps us right if its size table changes between versions.
    lt::create_torrent ct(fs, 0, lt::create_torrent::v2_only);
    return static_cast<std::uint64_t>(ct.piece_length());
  } catch (const std::exception& e) {
    return build_error(e.what());
  }
}

Result<Bytes> build_info_dict(std::string_view name, std::uint64_t piece_length,
                              std::span<const InfoDictInput> files) {
  FEDSWARM_TRY(check_inputs(name, files));
  if (piece_length < 16384 || (piece_length & (piece_length - 1)) != 0 || piece_length > (1u << 30))
    return build_error("piece length " + std::to_string(piece_length) + " is not a power of two >= 16 KiB");
  std::map<std::string, const InfoDictInput*> by_path;
  for (const auto& f : files) {
    if (!by_path.emplace(std::string(name) + "/" + f.path, &f).second)
      return build_error("path \"" + f.path + "\" is listed twice");
    std::uint64_t pieces = (f.size + piece_length - 1) / piece_length;
    if (f.piece_roots.size() != pieces)
      return build_error("file \"" + f.path + "\" has " + std::to_string(f.piece_roots.size()) + " piece hashes, expected " +
                         std::to_string(pieces) + " for piece length " + std::to_string(piece_length));
  }
  try {
    lt::file_storage fs = make_storage(name, files);
    lt::create_torrent ct(fs, static_cast<int>(piece_length), lt::create_torrent::v2_only);
    ct.set_priv(true);
    if (static_cast<std::uint64_t>(ct.piece_length()) != piece_length)
      return build_error("libtorrent chose piece length " + std::to_string(ct.piece_length()) + " instead of " +
                         std::to_string(piece_length));
    // v2 creation canonicalizes the file list (sorted, pad files added), so file
    // indices of ct.files() differ from our input order: map them back by path.
    const lt::file_storage& cf = ct.files();
    for (lt::file_index_t i : cf.file_range()) {
      if (cf.pad_file_at(i)) continue;
      auto it = by_path.find(cf.file_path(i));
      if (it == by_path.end()) return build_error("libtorrent listed an unknown file \"" + cf.file_path(i) + "\"");
      const InfoDictInput& in = *it->second;
      for (std::size_t p = 0; p < in.piece_roots.size(); ++p) {
        lt::sha256_hash h(reinterpret_cast<const char*>(in.piece_roots[p].data()));
        ct.set_hash2(i, lt::piece_index_t::diff_type(static_cast<int>(p)), h);
      }
    }
    lt::entry torrent = ct.generate();
    Bytes out;
    lt::bencode(std::back_inserter(out), torrent["info"]);
    return out;
  } catch (const std::exception& e) {
    return build_error(e.what());
  }
}

}  // namespace fedswarm
