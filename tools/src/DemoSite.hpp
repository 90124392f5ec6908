// DemoSite: one node of `fedswarm demo` — its site name, role and home — and what the
// demo asks it while it runs: its live status and transfers over the control socket,
// and its catalog (opened read-only for each question, as the offline commands do).
//
// Contract: questions never fail; an unanswered one (node not running, catalog busy or
// unreadable) gives nullopt or an empty string, and the demo waits or reports it.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm::cli {

struct DemoSite {
  std::string site;
  std::string tier;
  std::string role;
  std::string home;
  std::string listen;

  std::string node_log() const { return home + "/logs/node.log"; }
  // host:port of its HTTPS face: the gossip listener's host, `port`.
  std::string http_listen(int port) const { return listen.substr(0, listen.rfind(':')) + ":" + std::to_string(port); }
  std::string data_root() const { return home + "/data"; }

  // Control-socket answers of the running node.
  std::optional<nlohmann::json> status() const;
  std::optional<nlohmann::json> transfers() const;
  // The row of `transfers --json --all` for a dataset version, if the engine has it.
  std::optional<nlohmann::json> transfer(const std::string& instance_id) const;

  // Catalog: the version's status ("published", "retracted", "superseded"), "not known",
  // or "?" when the catalog cannot be read; and this node's local replicas by dataset
  // version (empty when the catalog cannot be read).
  std::string version_status(const std::string& instance_id) const;
  std::map<std::string, LocalReplica> locals() const;
};

}  // namespace fedswarm::cli
