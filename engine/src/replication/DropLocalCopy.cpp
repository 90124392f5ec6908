#include "replication/DropLocalCopy.hpp"

#include <filesystem>
#include <system_error>

#include "fedswarm/protocol/RecordKind.hpp"
#include "fedswarm/storage/ForEachLocal.hpp"
#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "swarm/MoveAside.hpp"

namespace fedswarm {

namespace fs = std::filesystem;

namespace {

// Steps 2 and 3 (see the header).
Status remove_and_clear(Catalog& catalog, LocalReplica l, std::int64_t now) {
  if (exists_no_follow(l.path)) FEDSWARM_TRY(remove_version_directory(l.path, l.instance_id));
  l.path.clear();
  l.updated_at = now;
  return catalog.put_local(l);
}

}  // namespace

Result<std::uint64_t> drop_local_copy(Catalog& catalog, const SigningKey& key, const LocalReplica& local,
                                      const VersionInfo& version, bool sign_record, const std::string& note,
                                      std::int64_t now) {
  LocalReplica l = local;
  const bool first = l.state != LocalState::dropped;
  l.state = LocalState::dropped;
  l.resume_data.clear();
  l.bytes_done = 0;
  l.last_error = note;
  l.updated_at = now;
  std::uint64_t seq = 0;
  if (first && sign_record) {
    // The record and "dropped, directory <path>" land together; the directory goes next.
    ReplicaRecord r{version.dataset_id, version.version, ReplicaState::dropped, now};
    FEDSWARM_ASSIGN_OR_RETURN(Envelope env, catalog.append_local(key, RecordKind::replica, r.encode(), now, &l));
    seq = env.seq;
  } else {
    FEDSWARM_TRY(catalog.put_local(l));
  }
  FEDSWARM_TRY(remove_and_clear(catalog, l, now));
  return seq;
}

Result<std::vector<std::string>> finish_local_drops(Catalog& catalog, std::int64_t now) {
  // The few to finish are read again whole, since remove_and_clear writes the row back.
  std::vector<std::string> unfinished;
  FEDSWARM_TRY(for_each_local(catalog, [&](const LocalReplica& l) -> Status {
    if (l.state == LocalState::dropped && !l.path.empty()) unfinished.push_back(l.instance_id);
    return {};
  }));
  std::vector<std::string> out;
  for (const auto& id : unfinished) {
    FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> l, catalog.local(id));
    if (!l || l->state != LocalState::dropped || l->path.empty()) continue;
    FEDSWARM_TRY(remove_and_clear(catalog, std::move(*l), now));
    out.push_back(id);
  }
  return out;
}

}  // namespace fedswarm
