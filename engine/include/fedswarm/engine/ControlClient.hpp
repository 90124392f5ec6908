// ControlClient: how CLI commands talk to a running node (`fedswarm node run`).
//
// The control interface is a Unix-domain stream socket, `<home>/control.sock`, mode 0600
// (only the node's owner can use it). One request per connection: the client writes one
// JSON object and a newline, the node answers with one JSON object and a newline, then
// closes. The requests and answers are ControlApi.hpp's (typed, one to_json/from_json
// each); `control_call` sends one and reads the typed answer. An answer is either the
// result object or {"error": {"code", "reason", "message"}}, which control_call
// returns as the Error.
//
// Contract: blocking, any thread; `unavailable` (reason node_not_running) when no node
// runs in the home, `io` on a timeout or a broken answer.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fedswarm/engine/ControlApi.hpp"
#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

std::filesystem::path control_socket_path(const std::filesystem::path& home);

Result<nlohmann::json> control_request(const std::filesystem::path& home, const nlohmann::json& request,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

// `request` to the node, its answer read as T (T::from_json), or the node's error.
template <class T>
Result<T> control_call(const std::filesystem::path& home, const ControlRequest& request,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  FEDSWARM_ASSIGN_OR_RETURN(nlohmann::json answer, control_request(home, request.to_json(), timeout));
  if (auto e = error_from_json(answer)) return *e;
  return T::from_json(answer);
}

}  // namespace fedswarm
