#include "dashboard/RecentRetractions.hpp"

#include <algorithm>
#include <vector>

#include "fedswarm/protocol/Retraction.hpp"

namespace fedswarm {

void RecentRetractions::note(const Envelope& record) {
  if (record.kind != RecordKind::retraction) return;
  auto r = Retraction::decode(record.body);
  if (!r) return;
  note_instance(r->instance_id());
}

void RecentRetractions::note_instance(const std::string& instance_id) {
  std::lock_guard lock(mutex_);
  if (auto it = std::find(ids_.begin(), ids_.end(), instance_id); it != ids_.end()) ids_.erase(it);
  ids_.push_front(instance_id);
  if (ids_.size() > kCapacity) ids_.pop_back();
}

Result<nlohmann::json> RecentRetractions::list(std::size_t limit) const {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mutex_);
    ids.assign(ids_.begin(), ids_.end());
  }
  std::vector<VersionInfo> found;
  for (const auto& id : ids) {
    FEDSWARM_ASSIGN_OR_RETURN(auto v, catalog_.version(id));
    // A retraction whose manifest has not arrived has no version row yet: not listed
    // until it does.
    if (v && v->retraction) found.push_back(std::move(*v));
  }
  std::stable_sort(found.begin(), found.end(), [](const VersionInfo& a, const VersionInfo& b) {
    return a.retraction->retracted_at > b.retraction->retracted_at;
  });
  if (found.size() > limit) found.resize(limit);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& v : found)
    rows.push_back({{"instance_id", v.instance_id()},
                    {"dataset_id", v.dataset_id},
                    {"version", v.version},
                    {"reason", v.retraction->reason},
                    {"errata_id", v.retraction->errata_id},
                    {"retracted_at", v.retraction->retracted_at},
                    {"author", to_hex(v.retraction->author)},
                    {"data_node", v.data_node}});
  return nlohmann::json{{"retractions", std::move(rows)}, {"limit", limit}, {"kept", ids.size()}};
}

}  // namespace fedswarm
