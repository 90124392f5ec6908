#include "replication/RetractionActions.hpp"

#include <filesystem>
#include <system_error>

#include "fedswarm/storage/ForEachLocal.hpp"
#include "replication/DropLocalCopy.hpp"
#include "swarm/MoveAside.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

struct Facts {
  std::optional<LocalReplica> local;
  std::optional<VersionInfo> version;
  bool primary = false;
};

Result<Facts> facts_of(const Catalog& catalog, const PublicKey& self, std::string_view instance_id) {
  Facts f;
  FEDSWARM_ASSIGN_OR_RETURN(f.local, catalog.local(instance_id));
  if (!f.local) return f;
  FEDSWARM_ASSIGN_OR_RETURN(f.version, catalog.version(instance_id));
  f.primary = f.version && f.version->publisher == self;
  return f;
}

std::string retraction_note(const VersionInfo& v, std::string_view what) {
  std::string s = "retracted (" + v.retraction->reason;
  if (!v.retraction->errata_id.empty()) s += ", errata " + v.retraction->errata_id;
  return s + "): " + std::string(what);
}

}  // namespace

RetractionActions::RetractionActions(const NodeHome& home, Catalog& catalog) : home_(home), catalog_(catalog) {}

RetractionHandling RetractionActions::handling(RetractionAction action) {
  switch (action) {
    case RetractionAction::keep: return RetractionHandling::keep;
    case RetractionAction::quarantine: return RetractionHandling::quarantine;
    case RetractionAction::remove: return RetractionHandling::remove;
  }
  return RetractionHandling::keep;
}

Result<std::optional<RetractionDecision>> RetractionActions::decide(std::string_view instance_id) const {
  FEDSWARM_ASSIGN_OR_RETURN(Facts f, facts_of(catalog_, home_.key().public_key(), instance_id));
  if (!f.local) return std::optional<RetractionDecision>{};
  return std::optional(decide_retraction(handling(home_.config().on_retraction), f.version, *f.local, f.primary));
}

Result<std::optional<RetractionOutcome>> RetractionActions::apply(std::string_view instance_id, std::int64_t now) {
  FEDSWARM_ASSIGN_OR_RETURN(Facts f, facts_of(catalog_, home_.key().public_key(), instance_id));
  if (!f.local) return std::optional<RetractionOutcome>{};
  const RetractionDecision d = decide_retraction(handling(home_.config().on_retraction), f.version, *f.local, f.primary);
  RetractionOutcome out;
  out.instance_id = std::string(instance_id);
  out.step = d.step;
  out.state = f.local->state;
  out.path = f.local->path;
  out.why = d.why;
  switch (d.step) {
    case RetractionStep::none:
    case RetractionStep::flag:
      return std::optional(out);
    case RetractionStep::cancel: {
      // Nothing was placed; the swarm engine owns (and cleans) the staging area, so
      // only the wish is withdrawn. The path is cleared: a dropped row with a path
      // means "deletion unfinished" (see RetractionDecision).
      LocalReplica l = *f.local;
      l.state = LocalState::dropped;
      l.path.clear();
      l.resume_data.clear();
      l.bytes_done = 0;
      l.last_error = retraction_note(*f.version, "transfer cancelled");
      l.updated_at = now;
      FEDSWARM_TRY(catalog_.put_local(l));
      out.state = l.state;
      out.path.clear();
      return std::optional(out);
    }
    case RetractionStep::quarantine: {
      const fs::path from = f.local->path;
      fs::path to;
      if (exists_no_follow(from)) {
        FEDSWARM_ASSIGN_OR_RETURN(to, move_aside(from, home_.quarantine_dir(), instance_id));
      } else if (auto found = find_moved_aside(from, home_.quarantine_dir(), instance_id)) {
        to = *found;  // moved before a crash; only the state is missing
      }
      LocalReplica l = *f.local;
      l.state = LocalState::quarantined;
      l.path = to.string();
      l.last_error = retraction_note(*f.version, to.empty() ? "quarantined (the directory was already gone)"
                                                            : "moved to the quarantine");
      l.updated_at = now;
      FEDSWARM_TRY(catalog_.put_local(l));
      out.state = l.state;
      out.path = l.path;
      return std::optional(out);
    }
    case RetractionStep::remove: {
      FEDSWARM_ASSIGN_OR_RETURN(out.dropped_record_seq,
                                drop_local_copy(catalog_, home_.key(), *f.local, *f.version, d.drop_record,
                                                retraction_note(*f.version, "deleted"), now));
      out.state = LocalState::dropped;
      out.path.clear();
      return std::optional(out);
    }
  }
  return std::optional(out);
}

Result<std::vector<std::string>> RetractionActions::retracted_locals() const {
  std::vector<std::string> retracted;
  FEDSWARM_TRY(for_each_local(catalog_, [&](const LocalReplica& l) -> Status {
    FEDSWARM_ASSIGN_OR_RETURN(std::optional<VersionInfo> v, catalog_.version(l.instance_id));
    if (v && v->retraction) retracted.push_back(l.instance_id);
    return {};
  }));
  return retracted;
}

Result<std::vector<RetractionOutcome>> RetractionActions::apply_all(std::int64_t now) {
  FEDSWARM_ASSIGN_OR_RETURN(std::vector<std::string> retracted, retracted_locals());
  std::vector<RetractionOutcome> out;
  for (const auto& id : retracted) {
    FEDSWARM_ASSIGN_OR_RETURN(std::optional<RetractionOutcome> o, apply(id, now));
    if (o && o->step != RetractionStep::none && o->step != RetractionStep::flag) out.push_back(std::move(*o));
  }
  return out;
}

}  // namespace fedswarm
