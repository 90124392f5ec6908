// Clock: where policy/ reads time. policy/ never reads the system clock itself, so a
// decision can be replayed with any time (simulations, tests).
//
// Contract: `now()` returns unix seconds; implementations must be safe to call from the
// thread that owns the policy object. The system clock implementation lives in engine/.
// `add_time` is the one way policy/ adds seconds to a time: record times are network
// data, so the sum saturates at kMaxTime ("never") instead of overflowing.
#pragma once

#include <cstdint>
#include <limits>

namespace fedswarm {

inline constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();

constexpr std::int64_t add_time(std::int64_t a, std::int64_t b) {
  if (b > 0 && a > kMaxTime - b) return kMaxTime;
  return a + b;
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now() const = 0;
};

// A clock that returns whatever the test or simulation set.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t t = 0) : t_(t) {}
  std::int64_t now() const override { return t_; }
  void set(std::int64_t t) { t_ = t; }
  void advance(std::int64_t seconds) { t_ += seconds; }

 private:
  std::int64_t t_;
};

}  // namespace fedswarm
