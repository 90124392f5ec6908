// for_each_local: every LocalReplica row of a catalog, read a page at a time with
// Catalog::locals_after and without resume data (resume_size says what is stored), so a
// pass over 10^5 rows holds one page. The one pager of the start-up scans (swarm restore,
// retraction actions, unfinished drops).
//
// Contract: `visit` runs on the calling thread for each row in instance-id order; an
// error it returns stops the pass and is returned; a catalog read error likewise. Each
// page is its own read transaction: rows written during the pass may or may not be seen.
#pragma once

#include <cstddef>
#include <functional>

#include "fedswarm/storage/Catalog.hpp"

namespace fedswarm {

inline constexpr std::size_t kLocalPage = 1024;

Status for_each_local(const Catalog& catalog, const std::function<Status(const LocalReplica&)>& visit);

}  // namespace fedswarm
