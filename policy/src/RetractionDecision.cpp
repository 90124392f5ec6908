#include "fedswarm/policy/RetractionDecision.hpp"

namespace fedswarm {

std::string_view to_string(RetractionHandling h) {
  switch (h) {
    case RetractionHandling::keep: return "keep";
    case RetractionHandling::quarantine: return "quarantine";
    case RetractionHandling::remove: return "delete";
  }
  return "keep";
}

std::string_view to_string(RetractionStep s) {
  switch (s) {
    case RetractionStep::none: return "none";
    case RetractionStep::flag: return "flag";
    case RetractionStep::quarantine: return "quarantine";
    case RetractionStep::remove: return "delete";
    case RetractionStep::cancel: return "cancel";
  }
  return "none";
}

RetractionDecision decide_retraction(RetractionHandling handling, const std::optional<VersionInfo>& version,
                                     const LocalReplica& local, bool primary) {
  RetractionDecision d;
  d.new_state = local.state;
  if (!version || !version->retraction) {
    d.why = "not retracted";
    return d;
  }
  d.stop_offering = true;
  switch (local.state) {
    case LocalState::quarantined:
      d.why = "already quarantined";
      return d;
    case LocalState::dropped:
      // A deletion interrupted after its record was signed still names the directory.
      if (!local.path.empty()) {
        d.step = RetractionStep::remove;
        d.why = "finishing the deletion of the retracted copy";
      } else {
        d.why = "already dropped";
      }
      return d;
    case LocalState::wanted:
    case LocalState::transferring:
    case LocalState::verifying:
    case LocalState::paused:
      d.step = RetractionStep::cancel;
      d.new_state = LocalState::dropped;
      d.why = "retracted before the transfer finished: no longer wanted";
      return d;
    case LocalState::complete: break;
  }
  switch (handling) {
    case RetractionHandling::keep:
      d.step = RetractionStep::flag;
      d.why = "kept and flagged (retraction.action = keep)";
      return d;
    case RetractionHandling::quarantine:
      if (primary) {
        d.step = RetractionStep::flag;
        d.why = "this node's own published tree is kept in place (retraction.action = quarantine applies to replicas)";
        return d;
      }
      d.step = RetractionStep::quarantine;
      d.new_state = LocalState::quarantined;
      d.why = "moved to the quarantine (retraction.action = quarantine)";
      return d;
    case RetractionHandling::remove:
      d.step = RetractionStep::remove;
      d.new_state = LocalState::dropped;
      d.drop_record = true;
      d.why = primary ? "this node's own published copy is deleted (retraction.action = delete)"
                      : "deleted (retraction.action = delete)";
      return d;
  }
  return d;
}

}  // namespace fedswarm
