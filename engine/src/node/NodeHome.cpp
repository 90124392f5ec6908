#include "fedswarm/engine/NodeHome.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "fedswarm/engine/SelfSignedCertificate.hpp"
#include "fedswarm/protocol/BuiltinFiles.hpp"
#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm {

NodeHome::NodeHome(NodeHome&&) noexcept = default;
NodeHome& NodeHome::operator=(NodeHome&&) noexcept = default;
NodeHome::~NodeHome() = default;

Status write_key_file(const std::filesystem::path& path, const SigningKey& key) {
  std::string text = to_hex(key.seed()) + "\n";
  return write_file_atomic(path, text, 0600);
}

Result<SigningKey> read_key_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(Errc::not_found, "no_key", "no key file at " + path.string() + " (create a home with `fedswarm init`)");
  if (st.st_mode & 077)
    return make_error(Errc::unauthorized, "key_permissions",
                      path.string() + " is readable by other users; run `chmod 600 " + path.string() + "` and retry");
  auto bytes = read_whole_file(path);
  if (!bytes) return std::move(bytes).error();
  std::string text(bytes->begin(), bytes->end());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto seed = fixed_from_hex<32>(text);
  if (!seed) return make_error(Errc::invalid, "bad_key_file", path.string() + " does not hold a 64-hex-digit key seed");
  return SigningKey::from_seed(*seed);
}

namespace {

// Builds the project registry a home's config asks for: CMIP6 (built-in CVs or a
// configured CV folder) plus extra templates whose vocabularies sit beside them.
Result<std::unique_ptr<ProjectRegistry>> load_projects(const Config& config) {
  auto base = ProjectRegistry::with_builtin();
  if (!base) return std::move(base).error();
  auto registry = std::make_unique<ProjectRegistry>(std::move(*base));
  auto folder_loader = [](std::filesystem::path dir) {
    return [dir](std::string_view name) -> Result<std::string> {
      auto bytes = read_whole_file(dir / std::string(name));
      if (!bytes) return std::move(bytes).error();
      return std::string(bytes->begin(), bytes->end());
    };
  };
  if (!config.cv_dir.empty()) {
    auto t = ProjectTemplate::from_json(builtin_file("CMIP6.json"), folder_loader(config.cv_dir));
    if (!t) return t.error().with_context("CMIP6 vocabularies in " + config.cv_dir.string());
    registry->add(std::make_shared<const ProjectTemplate>(std::move(*t)));
  }
  for (const auto& file : config.project_templates) {
    auto text = read_whole_file(file);
    if (!text) return std::move(text).error();
    auto t = ProjectTemplate::from_json(std::string(text->begin(), text->end()), folder_loader(file.parent_path()));
    if (!t) return t.error().with_context(file.string());
    registry->add(std::make_shared<const ProjectTemplate>(std::move(*t)));
  }
  return registry;
}

}  // namespace

Result<NodeHome> NodeHome::init(const std::filesystem::path& dir, const Config& config) {
  std::error_code ec;
  bool existed = std::filesystem::exists(dir, ec);
  if (existed && !std::filesystem::is_empty(dir, ec))
    return make_error(Errc::conflict, "home_exists",
                      dir.string() + " already exists and is not empty; choose another --home or remove it");
  if (config.site.empty()) return make_error(Errc::invalid, "no_site", "a node needs a site name (--site)");
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(Errc::io, "io_error", "cannot create " + dir.string() + ": " + ec.message());
  auto abs = std::filesystem::absolute(dir);

  // Undo a half-made home so a retry starts clean.
  auto cleanup = [&](Error e) -> Error {
    std::error_code ignored;
    if (existed) {
      for (const auto& entry : std::filesystem::directory_iterator(abs, ignored))
        std::filesystem::remove_all(entry.path(), ignored);
    } else {
      std::filesystem::remove_all(abs, ignored);
    }
    return e;
  };

  Config c = config;
  if (c.data_root.empty()) c.data_root = "data";
  auto key = SigningKey::generate();
  if (auto st = write_key_file(abs / "node.key", key); !st) return cleanup(st.error());
  if (auto st = write_file_atomic(abs / "config.toml", c.render_toml()); !st) return cleanup(st.error());
  for (const char* sub : {"logs", "catalog"}) {
    std::filesystem::create_directories(abs / sub, ec);
    if (ec) return cleanup(make_error(Errc::io, "io_error", "cannot create " + (abs / sub).string() + ": " + ec.message()));
  }
  auto home = open(abs);
  if (!home) return cleanup(std::move(home).error());
  std::filesystem::create_directories(home->config().data_root, ec);
  if (ec) return cleanup(make_error(Errc::io, "io_error", "cannot create data root " + home->config().data_root.string() + ": " + ec.message()));
  auto catalog = home->open_catalog();
  if (!catalog) return cleanup(std::move(catalog).error());
  if (home->config().http.enabled && home->config().http.tls)
    if (auto made = SelfSignedCertificate::ensure(home->config().http); !made) return cleanup(std::move(made).error());
  return home;
}

Result<NodeHome> NodeHome::open(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return make_error(Errc::not_found, "no_home",
                      dir.string() + " is not a fedswarm home; create one with `fedswarm init --home " + dir.string() + " --site NAME --tier 1|2|dark` or set --home/FEDSWARM_HOME");
  NodeHome home;
  home.dir_ = std::filesystem::absolute(dir);
  auto config = Config::load(home.dir_ / "config.toml", home.dir_);
  if (!config) return std::move(config).error();
  home.config_ = std::move(*config);
  auto key = read_key_file(home.dir_ / "node.key");
  if (!key) return std::move(key).error();
  home.key_ = std::make_unique<SigningKey>(std::move(*key));
  auto projects = load_projects(home.config_);
  if (!projects) return std::move(projects).error();
  home.projects_ = std::move(*projects);
  return home;
}

Result<std::unique_ptr<Catalog>> NodeHome::open_catalog(bool read_only) const {
  CatalogOptions options;
  options.dir = catalog_dir();
  options.read_only = read_only;
  auto catalog = Catalog::open(options, *projects_);
  if (!catalog) return std::move(catalog).error();
  // The config is the operator's record of the pinned authority; the catalog enforces it.
  if (!read_only && !config_.authority_key.is_zero()) {
    auto pinned = (*catalog)->authority();
    if (pinned && pinned->is_zero()) FEDSWARM_TRY((*catalog)->pin_authority(config_.authority_key));
  }
  return catalog;
}

Status NodeHome::save_config(const Config& config) {
  Config to_write = config;
  // Keep the data root as written by the operator when it lives inside the home.
  std::error_code ec;
  auto rel = std::filesystem::relative(config.data_root, dir_, ec);
  if (!ec && !rel.empty() && rel.native().rfind("..", 0) != 0) to_write.data_root = rel;
  FEDSWARM_TRY(write_file_atomic(dir_ / "config.toml", to_write.render_toml()));
  config_ = config;
  return {};
}

}  // namespace fedswarm
