// SwarmKit: helpers shared by the swarm functional tests (real `fedswarm node run`
// processes): a sample CMIP6 version of random files, what a node's DRS tree holds,
// a node's row of `fedswarm transfers --json`, tmpfs mounts for full-disk cases.
//
// Contract: test thread only; every wait has a deadline; nothing here sleeps.
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <random>

#include "GossipCluster.hpp"

namespace fedswarm::test::swarmkit {

inline const std::string kRel = "CMIP6/CMIP/IPSL/IPSL-CM6A-LR/historical/r1i1p1f1/Amon/tas/gr/v20190101";
inline const std::string kInstance = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20190101";

// Writes one version of `files` files of `size` (+ up to 64 KiB) random bytes under
// `root`/kRel; returns the file names.
inline std::vector<std::string> write_version(const std::filesystem::path& root, std::uint64_t seed, int files,
                                              std::size_t size) {
  std::filesystem::create_directories(root / kRel);
  std::mt19937_64 rng(seed);
  std::vector<std::string> names;
  for (int i = 0; i < files; ++i) {
    const int y = 1850 + 50 * i;
    std::string name = "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_" + std::to_string(y) + "01-" +
                       std::to_string(y + 49) + "12.nc";
    std::string bytes(size + static_cast<std::size_t>(rng() % 65536), '\0');
    for (auto& c : bytes) c = static_cast<char>(rng());
    write_file(root / kRel / name, bytes);
    names.push_back(name);
  }
  return names;
}

inline std::filesystem::path version_dir(const std::string& home) { return std::filesystem::path(home) / "data" / kRel; }

// What the DRS tree of `home` holds of the version: "absent", "complete" (exactly the
// files of `archive`/kRel, byte for byte), or what differs.
inline std::string drs_state(const std::string& home, const std::filesystem::path& archive) {
  namespace fs = std::filesystem;
  const fs::path dir = version_dir(home);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return "absent";
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    ++n;
    const fs::path rel = fs::relative(e.path(), dir);
    if (!fs::exists(archive / kRel / rel)) return "unexpected file " + rel.string();
    if (read_file(e.path()) != read_file(archive / kRel / rel)) return rel.string() + " differs from the published file";
  }
  std::size_t expected = 0;
  for (const auto& e : fs::directory_iterator(archive / kRel, ec))
    if (e.is_regular_file()) ++expected;
  if (n != expected) return std::to_string(n) + " of " + std::to_string(expected) + " files";
  return "complete";
}

// `fedswarm transfers --json` of a running node; nullopt if it does not answer.
inline std::optional<nlohmann::json> transfers(CliWorld& w, const std::string& home) {
  auto r = w.run({"--json", "--home", home, "transfers"});
  if (r.exit_code != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("transfers")) return std::nullopt;  // offline answer
  return j;
}

// The row of kInstance in a `transfers --json` answer, or nullopt.
inline std::optional<nlohmann::json> row_of(const nlohmann::json& answer, const std::string& id = kInstance) {
  for (const auto& t : answer["transfers"])
    if (t.value("instance_id", "") == id) return t;
  return std::nullopt;
}

inline std::optional<nlohmann::json> transfer(CliWorld& w, const std::string& home, const std::string& id = kInstance) {
  auto t = transfers(w, home);
  return t ? row_of(*t, id) : std::nullopt;
}

// A fetch that became a seed: placed, recorded and served.
// Whether the node serves kInstance: a loaded seed, or (seeding on demand) a complete
// copy it holds without a torrent loaded — no transfer row, the DRS directory present
// and counted in `status` swarm.held.
inline bool seeding(CliWorld& w, const std::string& home) {
  auto t = transfer(w, home);
  if (t) return (*t)["kind"] == "seed" && (*t)["activity"] == "seeding";
  auto r = w.run({"--json", "--home", home, "status"});
  if (r.exit_code != 0) return false;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("swarm")) return false;
  return j["swarm"].value("held", 0) >= 1 && std::filesystem::is_directory(version_dir(home));
}

inline std::string describe(const std::optional<nlohmann::json>& t) { return t ? t->dump() : "no transfer"; }

// What a node said last: the tail of its log (`<home>/logs/node.log`), for failure output.
inline std::string log_tail(const std::string& home, std::size_t lines = 40) {
  std::ifstream f(std::filesystem::path(home) / "logs" / "node.log");
  std::deque<std::string> tail;
  for (std::string line; std::getline(f, line);) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += l + "\n";
  return out;
}

inline bool contains(const nlohmann::json& list, const std::string& s) {
  for (const auto& x : list)
    if (x.is_string() && x.get<std::string>() == s) return true;
  return false;
}

// Overwrites `bytes` at `offset` of an existing file, in place (same inode).
inline void overwrite(const std::filesystem::path& p, std::uint64_t offset, const std::string& bytes) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f.good());
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.flush();
  REQUIRE(f.good());
}

// The "piece length" of a bencoded .torrent (0 if not found).
inline std::uint64_t piece_length_of(const std::filesystem::path& torrent) {
  const std::string text = read_file(torrent);
  const std::string key = "12:piece lengthi";
  auto pos = text.find(key);
  if (pos == std::string::npos) return 0;
  return std::stoull(text.substr(pos + key.size(), text.find('e', pos + key.size()) - pos - key.size()));
}

// A tmpfs mounted over an existing directory for the life of the guard (needs root);
// unmounted (lazily, so open files cannot keep it) on destruction.
class TmpfsMount {
 public:
  TmpfsMount(const std::filesystem::path& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  bool resize(const std::string& size) {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace fedswarm::test::swarmkit
