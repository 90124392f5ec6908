// Output helpers shared by every command: exit codes, error printing, human formatting
// of sizes and times, and parsing of sizes and durations given on the command line.
//
// Exit codes are part of the interface (scripts rely on them; the README lists them).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm::cli {

enum ExitCode : int {
  exit_ok = 0,
  exit_failure = 1,       // anything not listed below
  exit_usage = 2,         // bad arguments or invalid input
  exit_not_found = 3,     // no such dataset, file, home, …
  exit_conflict = 4,      // contradicts stored state (e.g. a second manifest)
  exit_unauthorized = 5,  // signature or permission refused
  exit_io = 6,            // disk, database or OS failure
  exit_corrupt = 7,       // data does not match its hash
  exit_unavailable = 8,   // the node is not running / not reachable
  exit_superseded = 10,   // `check`: a newer version exists
  exit_retracted = 11,    // `check`: the version was retracted
  exit_violation = 12,    // `compliance`: a violation has lasted at least --max-age
};

int exit_code_for(Errc code);

// Prints "fedswarm: error: <message>" (and the reason in brackets) to stderr, or a JSON
// error object to stdout when `json`; returns the exit code for the error.
int report_error(const Error& e, bool json);

std::string human_bytes(std::uint64_t bytes);
std::string human_time(std::int64_t unix_seconds);   // "2024-02-01 13:04 UTC"
std::string human_age(std::int64_t seconds);         // "3d 4h", "12m", "5s"

// "500", "10K", "1.5G", "2TiB" (K = 1024) → bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);
// "90s", "15m", "12h", "365d", "2w" → seconds.
std::optional<std::int64_t> parse_duration(std::string_view text);

std::int64_t now_seconds();
bool stdout_is_terminal();
bool stderr_is_terminal();

}  // namespace fedswarm::cli
