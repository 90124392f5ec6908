#include "Commands.hpp"
#include "fedswarm/engine/ControlClient.hpp"

namespace fedswarm::cli {

void notify_node(const NodeHome& home) {
  // Best effort: the record is committed; a node that misses this finds it next round.
  (void)control_request(home.dir(), {{"cmd", "notify"}}, std::chrono::seconds(5));
}

}  // namespace fedswarm::cli
