// VersionVerdict: the answer to "is the data I hold still good?" (`fedswarm check`,
// DESIGN §7) for one dataset version, decided from catalog views only.
//
// Contract: pure function of its inputs (no I/O, no clock); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

enum class Verdict : std::uint8_t {
  current,     // published and the latest version of its dataset
  superseded,  // a newer version exists (which, and which is latest)
  retracted,   // withdrawn by its publisher or the federation authority
  unknown,     // the catalog has no manifest for it
};
std::string_view to_string(Verdict v);

struct VersionVerdict {
  Verdict verdict = Verdict::unknown;
  std::string instance_id;
  std::string superseded_by;       // next newer version, if superseded
  std::string latest_version;      // newest usable (not retracted) version, if any
  std::optional<RetractionInfo> retraction;
  // One line for humans, e.g. "retracted on 2024-02-01: <reason> (errata <id>)".
  std::string summary;
};

// `version` is the catalog's view of the version (nullopt if unknown); `all_versions`
// are every version of its dataset, oldest first.
VersionVerdict decide_verdict(std::string_view instance_id, const std::optional<VersionInfo>& version,
                              const std::vector<VersionInfo>& all_versions);

}  // namespace fedswarm
