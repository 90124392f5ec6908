// GossipLinks: what a GossipNode needs of the connections to its peers — the daemon's
// LinkTable (real TCP links) or the network of the gossip simulation.
//
// Contract (the implementation's): every call on the gossip node's thread. `dial`
// reports its outcome later (or at once) through GossipNode::link_up or
// GossipNode::dial_failed. `close` ends a link and does *not* report link_down for it:
// the caller already knows (it updates its membership itself). A link the peer or the
// network ends is reported with GossipNode::link_down.
#pragma once

#include <string>

#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Result.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "gossip/Gossip.hpp"

namespace fedswarm {

class GossipLinks {
 public:
  virtual ~GossipLinks() = default;
  // Queues `message` on the link to `to`; nothing if there is none. Returns the bytes
  // queued (0 when nothing was).
  virtual std::size_t send(const PeerId& to, const GossipMessage& message) = 0;
  // Connects to `member` (its endpoints); the outcome comes back as link_up / dial_failed.
  virtual void dial(const PeerId& peer, const RosterMember& member) = 0;
  virtual void close(const PeerId& peer, const Error& why, bool fault) = 0;
  // Stops (true) or resumes reading from every link: backpressure from the catalog
  // writer. Frames already read are still delivered.
  virtual void pause_reading(bool paused) = 0;
};

}  // namespace fedswarm
