// ControlClient: how CLI commands talk to a running node (`fedswarm node run`).
//
// The control interface is a Unix-domain stream socket, `<home>/control.sock`, mode 0600
// (only the node's owner can use it). One request per connection: the client writes one
// JSON object and a newline, the node answers with one JSON object and a newline, then
// closes. Requests: {"cmd":"status"}, {"cmd":"peers"}, {"cmd":"notify"} (records were
// appended to the catalog by a CLI command: push them now), {"cmd":"transfers"} (swarm
// transfers and counters), {"cmd":"resume", "instance_id": ID or ""} (retry paused
// transfers now: that one, or all). An answer is either the result object or
// {"error": {"code", "reason", "message"}}.
//
// Contract: blocking, any thread; `unavailable` (reason node_not_running) when no node
// runs in the home, `io` on a timeout or a broken answer.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

std::filesystem::path control_socket_path(const std::filesystem::path& home);

Result<nlohmann::json> control_request(const std::filesystem::path& home, const nlohmann::json& request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace fedswarm
