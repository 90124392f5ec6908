#include "DemoSite.hpp"

#include <chrono>

#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/NodeHome.hpp"

namespace fedswarm::cli {

namespace {

std::optional<nlohmann::json> ask(const std::string& home, const char* cmd) {
  auto r = control_request(home, {{"cmd", cmd}}, std::chrono::seconds(5));
  if (!r || r->contains("error")) return std::nullopt;
  return std::move(*r);
}

}  // namespace

std::optional<nlohmann::json> DemoSite::status() const { return ask(home, "status"); }

std::optional<nlohmann::json> DemoSite::transfers() const { return ask(home, "transfers"); }

std::optional<nlohmann::json> DemoSite::transfer(const std::string& instance_id) const {
  auto all = transfers();
  if (!all) return std::nullopt;
  for (const auto& t : (*all)["transfers"])
    if (t.value("instance_id", "") == instance_id) return t;
  return std::nullopt;
}

std::string DemoSite::version_status(const std::string& instance_id) const {
  auto h = NodeHome::open(home);
  if (!h) return "?";
  auto catalog = h->open_catalog(true);
  if (!catalog) return "?";
  auto v = (*catalog)->version(instance_id);
  if (!v) return "?";
  if (!v->has_value()) return "not known";
  return std::string(to_string((*v)->status));
}

std::map<std::string, LocalReplica> DemoSite::locals() const {
  std::map<std::string, LocalReplica> out;
  auto h = NodeHome::open(home);
  if (!h) return out;
  auto catalog = h->open_catalog(true);
  if (!catalog) return out;
  auto all = (*catalog)->locals();
  if (!all) return out;
  for (auto& l : *all) out.emplace(l.instance_id, std::move(l));
  return out;
}

}  // namespace fedswarm::cli
