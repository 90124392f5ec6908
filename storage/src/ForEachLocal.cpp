#include "fedswarm/storage/ForEachLocal.hpp"

namespace fedswarm {

Status for_each_local(const Catalog& catalog, const std::function<Status(const LocalReplica&)>& visit) {
  std::string after;
  for (;;) {
    FEDSWARM_ASSIGN_OR_RETURN(std::vector<LocalReplica> page, catalog.locals_after(after, kLocalPage, false));
    for (const auto& l : page) FEDSWARM_TRY(visit(l));
    if (page.size() < kLocalPage) return {};
    after = page.back().instance_id;
  }
}

}  // namespace fedswarm
