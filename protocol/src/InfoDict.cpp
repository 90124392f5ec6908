#include "fedswarm/protocol/InfoDict.hpp"

#include <algorithm>
#include <cstring>

#include "fedswarm/protocol/Bencode.hpp"
#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/Manifest.hpp"
#include "fedswarm/protocol/PathRules.hpp"

namespace fedswarm {

namespace {

Error bad(std::string reason, const std::string& why) {
  return make_error(Errc::invalid, std::move(reason), "info dict: " + why);
}

// Walks a BEP 52 "file tree": directories are dicts of components; a file is a dict
// whose only key is "" mapping to {length, pieces root}.
Status walk(const BValue& node, const std::string& prefix, std::size_t depth, std::vector<InfoDictFile>& out) {
  if (!node.is_dict()) return bad("info_dict_bad_file_tree", "file tree node under \"" + prefix + "\" is not a dictionary");
  if (depth > limits::max_path_depth) return bad("info_dict_bad_file_tree", "file tree is nested too deeply");
  for (const auto& [name, child] : node.as_dict()) {
    if (name.empty()) return bad("info_dict_bad_file_tree", "empty path component under \"" + prefix + "\"");
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    const BValue* leaf = child.find("");
    if (leaf) {
      if (child.as_dict().size() != 1) return bad("info_dict_bad_file_tree", "\"" + path + "\" is both a file and a directory");
      if (!leaf->is_dict()) return bad("info_dict_bad_file_tree", "file entry of \"" + path + "\" is not a dictionary");
      const BValue* length = leaf->find("length");
      if (!length || !length->is_int() || length->as_int() < 0 ||
          static_cast<std::uint64_t>(length->as_int()) > limits::max_file_size)
        return bad("info_dict_bad_file_tree", "file \"" + path + "\" has no valid length");
      InfoDictFile f;
      f.path = path;
      f.size = static_cast<std::uint64_t>(length->as_int());
      const BValue* root = leaf->find("pieces root");
      if (f.size > 0) {
        if (!root || !root->is_string() || root->as_string().size() != 32)
          return bad("info_dict_bad_file_tree", "file \"" + path + "\" has no 32-byte pieces root");
        std::memcpy(f.pieces_root.data(), root->as_string().data(), 32);
      } else if (root) {
        return bad("info_dict_bad_file_tree", "empty file \"" + path + "\" has a pieces root");
      }
      if (auto st = validate_relative_path(f.path); !st) return bad("info_dict_bad_path", st.error().message);
      if (out.size() >= limits::max_files) return bad("info_dict_too_many_files", "more than " + std::to_string(limits::max_files) + " files");
      out.push_back(std::move(f));
    } else {
      FEDSWARM_TRY(walk(child, path, depth + 1, out));
    }
  }
  return {};
}

}  // namespace

Result<InfoDict> InfoDict::parse(ByteView bencoded) {
  if (bencoded.size() > limits::max_info_dict_bytes) return bad("info_dict_too_large", "larger than the limit");
  auto root = bdecode(bencoded);
  if (!root) return std::move(root).error();
  if (!root->is_dict()) return bad("info_dict_not_v2", "not a dictionary");
  const BValue* meta = root->find("meta version");
  if (!meta || !meta->is_int() || meta->as_int() != 2) return bad("info_dict_not_v2", "\"meta version\" is not 2");
  // v2 only: hybrid torrents carry v1 piece hashes, which fedswarm never trusts.
  if (root->find("pieces") || root->find("files") || root->find("length"))
    return bad("info_dict_not_v2", "has v1 keys (pieces/files/length); fedswarm uses v2-only torrents");
  InfoDict out;
  const BValue* name = root->find("name");
  if (!name || !name->is_string() || name->as_string().empty() || name->as_string().find('/') != std::string::npos)
    return bad("info_dict_bad_file_tree", "\"name\" is missing or not a single path component");
  out.name = name->as_string();
  if (auto st = validate_relative_path(out.name); !st) return bad("info_dict_bad_path", st.error().message);
  const BValue* pl = root->find("piece length");
  if (!pl || !pl->is_int() || pl->as_int() < 16384 || pl->as_int() > (1ll << 30) || (pl->as_int() & (pl->as_int() - 1)) != 0)
    return bad("info_dict_bad_piece_length", "\"piece length\" must be a power of two of at least 16 KiB");
  out.piece_length = pl->as_int();
  if (const BValue* priv = root->find("private")) out.is_private = priv->is_int() && priv->as_int() == 1;
  const BValue* tree = root->find("file tree");
  if (!tree) return bad("info_dict_bad_file_tree", "no \"file tree\"");
  FEDSWARM_TRY(walk(*tree, "", 0, out.files));
  if (out.files.empty()) return bad("info_dict_bad_file_tree", "lists no files");
  return out;
}

std::string torrent_name(const Manifest& manifest) { return manifest.instance_id(); }

Status InfoDict::matches(const Manifest& manifest) const {
  if (name != torrent_name(manifest) && name != manifest.version)
    return bad("info_dict_mismatch", "torrent name \"" + name + "\" is neither the instance id \"" +
                                         torrent_name(manifest) + "\" nor the version \"" + manifest.version + "\"");
  if (!is_private) return bad("info_dict_mismatch", "torrent is not private");
  if (files.size() != manifest.files.size())
    return bad("info_dict_mismatch", "lists " + std::to_string(files.size()) + " files, the manifest " +
                                         std::to_string(manifest.files.size()));
  std::vector<std::pair<std::string_view, std::uint64_t>> a, b;
  for (const auto& f : files) a.emplace_back(f.path, f.size);
  for (const auto& f : manifest.files) b.emplace_back(f.path, f.size);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i])
      return bad("info_dict_mismatch", "file \"" + std::string(b[i].first) + "\" (" + std::to_string(b[i].second) +
                                           " bytes) of the manifest is not in the info dict as listed");
  return {};
}

}  // namespace fedswarm
