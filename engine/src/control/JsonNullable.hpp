// JsonNullable (engine-private): the control answers' convention for a figure the node
// does not know — JSON null, never 0 or a missing key — written and read back the same
// way by ControlApi and HealthReport.
//
// Contract: pure functions. `read_nullable` returns nullopt for a missing or null key and
// throws nlohmann::json::exception for a value of the wrong type (callers turn that into
// their own malformed-answer error).
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

namespace fedswarm {

template <class T>
nlohmann::json nullable(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <class T>
std::optional<T> read_nullable(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

}  // namespace fedswarm
