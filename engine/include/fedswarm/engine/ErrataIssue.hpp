// ErrataIssue: an ES-DOC errata issue (errata.es-doc.org; the JSON its web service
// returns, `{"issue": {...}}`), reduced to what `fedswarm retract --errata-file` needs:
// the issue's uid and title and the dataset versions it lists.
//
// Contract
// - ES-DOC lists each affected version as "<dataset id>#<YYYYMMDD>"; each becomes
//   the catalog's instance id "<dataset id>.vYYYYMMDD" ("#vYYYYMMDD" is accepted too).
// - The whole file is refused (`invalid`, reason `errata_malformed`) when it is not
//   JSON, has no non-empty string `uid` or `title`, has no `datasets` array, lists no
//   dataset, or any entry is not of that shape; the message says which field or entry
//   (index and text) is wrong. `load` prefixes the message with the file's path and
//   adds `io`/`not_found` for a file it cannot read. No partial result: callers change
//   nothing unless the whole issue parsed.
// - A version listed twice is kept once (first place) and counted in `duplicates`.
// - Pure functions, any thread.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

struct ErrataDataset {
  std::string listed;      // as written in the issue: "CMIP6.….gr#20180605"
  std::string dataset_id;  // "CMIP6.….gr"
  std::string version;     // "v20180605"

  std::string instance_id() const { return dataset_id + "." + version; }
};

struct ErrataIssue {
  std::string uid;       // becomes the retractions' errata id
  std::string title;     // becomes the retractions' reason
  std::string severity;  // "low", "medium", "high", "critical" or empty
  std::string status;    // "new", "onhold", "resolved", "wontfix" or empty
  std::vector<ErrataDataset> datasets;  // file order, duplicates removed
  std::size_t duplicates = 0;

  static Result<ErrataIssue> parse(std::string_view json);
  static Result<ErrataIssue> load(const std::filesystem::path& file);
};

// "ID#YYYYMMDD" (or "ID#vYYYYMMDD") → ErrataDataset; `invalid` (errata_malformed) if
// not of that shape (the id: letters, digits, '.', '-', '_').
Result<ErrataDataset> parse_errata_dataset(std::string_view listed);

}  // namespace fedswarm
