// Result<T> and Status: how every fallible call in fedswarm reports an expected failure.
//
// Contract
// - An expected failure (bad input, a refused record, a missing file, a full disk) is a
//   value, never an exception or an assert. Exceptions are reserved for programming
//   errors and out-of-memory.
// - `Errc` is a small closed set: a code exists only because some caller reacts to it
//   differently (the CLI maps each to its own exit status; the gossip layer bans a peer
//   for `invalid`/`unauthorized` but not for `io`).
// - `reason` is a short stable identifier (snake_case, e.g. "path_dotdot",
//   "bad_signature") naming the exact rule that failed. It is what gets counted in
//   `fedswarm status` and asserted in tests. `message` is the human sentence, and should
//   say what to do.
// - Thread-compatible value types; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace fedswarm {

enum class Errc : std::uint8_t {
  invalid,       // input breaks a rule (format, DRS, path, limits); fix the input
  unauthorized,  // signature or roster permission refused
  conflict,      // contradicts what is already stored (immutability, duplicates)
  not_found,     // the named thing does not exist
  io,            // the operating system or the database failed; may succeed on retry
  corrupt,       // stored or received data does not match its hash
  unavailable,   // a needed service (the running node) is not reachable
};

std::string_view to_string(Errc code);

struct [[nodiscard]] Error {
  Errc code = Errc::invalid;
  std::string reason;   // stable identifier of the rule, e.g. "path_absolute"
  std::string message;  // human sentence, says what went wrong and what to do

  // Returns a copy whose message is prefixed with `context: ` (e.g. a file name).
  Error with_context(std::string_view context) const;
};

// Shorthand constructor used throughout the code base.
inline Error make_error(Errc code, std::string reason, std::string message) {
  return Error{code, std::move(reason), std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit on purpose

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : e_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const noexcept { return !e_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& { return *e_; }
  Error&& error() && { return std::move(*e_); }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

inline Status ok_status() { return Status{}; }

}  // namespace fedswarm

// Propagate an error from an expression returning Result/Status.
#define FEDSWARM_TRY(expr)                              \
  do {                                                  \
    auto fedswarm_try_r_ = (expr);                      \
    if (!fedswarm_try_r_.ok())                          \
      return std::move(fedswarm_try_r_).error();        \
  } while (0)

#define FEDSWARM_CONCAT_INNER_(a, b) a##b
#define FEDSWARM_CONCAT_(a, b) FEDSWARM_CONCAT_INNER_(a, b)
// Declare `lhs` from the value of a Result expression, or return its error.
#define FEDSWARM_ASSIGN_OR_RETURN(lhs, expr)                               \
  auto FEDSWARM_CONCAT_(fedswarm_r_, __LINE__) = (expr);                   \
  if (!FEDSWARM_CONCAT_(fedswarm_r_, __LINE__).ok())                       \
    return std::move(FEDSWARM_CONCAT_(fedswarm_r_, __LINE__)).error();     \
  lhs = std::move(FEDSWARM_CONCAT_(fedswarm_r_, __LINE__)).value()
