// NodeHome: a node's home directory — identity key, config, catalog, data root, logs.
//
//   <home>/config.toml     settings (Config)
//   <home>/node.key        Ed25519 seed, hex, mode 0600
//   <home>/catalog/        LMDB environment (Catalog)
//   <home>/data/           default data root: DRS tree, .staging/, .quarantine/
//   <home>/logs/           node.log
//   <home>/tls/            cert.pem, key.pem: the HTTP face's self-signed pair ([http])
//
// Contract
// - `init` refuses (conflict) to overwrite an existing home; it writes the key with
//   mode 0600 before anything else refers to it and leaves no partial home behind on
//   failure. With [http] enabled and tls on, it creates a self-signed certificate
//   (SelfSignedCertificate) unless the configured files exist.
// - `open` checks the key file's permissions (a group/world-readable key is refused
//   with a message saying to chmod 600) and loads the config and project registry.
// - Not thread-safe; one NodeHome per command or daemon.
#pragma once

#include <filesystem>
#include <memory>

#include "fedswarm/engine/Config.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

class NodeHome {
 public:
  // Creates a new home. `config.site`/`tier` must be set.
  static Result<NodeHome> init(const std::filesystem::path& dir, const Config& config);
  static Result<NodeHome> open(const std::filesystem::path& dir);

  NodeHome(NodeHome&&) noexcept;
  NodeHome& operator=(NodeHome&&) noexcept;
  ~NodeHome();

  const std::filesystem::path& dir() const { return dir_; }
  const Config& config() const { return config_; }
  const SigningKey& key() const { return *key_; }
  const ProjectRegistry& projects() const { return *projects_; }
  std::filesystem::path catalog_dir() const { return dir_ / "catalog"; }
  std::filesystem::path staging_dir() const { return config_.data_root / ".staging"; }
  std::filesystem::path quarantine_dir() const { return config_.data_root / ".quarantine"; }
  std::filesystem::path log_dir() const { return dir_ / "logs"; }

  // Opens this home's catalog (read-only for offline queries).
  Result<std::unique_ptr<Catalog>> open_catalog(bool read_only = false) const;
  // Rewrites config.toml atomically (e.g. after pinning the authority key).
  Status save_config(const Config& config);

 private:
  NodeHome() = default;
  std::filesystem::path dir_;
  Config config_;
  std::unique_ptr<SigningKey> key_;
  std::unique_ptr<ProjectRegistry> projects_;
};

// Writes a 32-byte seed as hex to `path` with mode 0600 (atomic: temp file + rename).
Status write_key_file(const std::filesystem::path& path, const SigningKey& key);
// Reads a key file; refuses a file readable by group or others.
Result<SigningKey> read_key_file(const std::filesystem::path& path);

}  // namespace fedswarm
