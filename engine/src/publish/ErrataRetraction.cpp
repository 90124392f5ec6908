#include "fedswarm/engine/ErrataRetraction.hpp"

#include <algorithm>

#include "fedswarm/protocol/Retraction.hpp"

namespace fedswarm {

std::string_view to_string(ErrataOutcome o) {
  switch (o) {
    case ErrataOutcome::retract: return "retract";
    case ErrataOutcome::unknown: return "unknown";
    case ErrataOutcome::not_publisher: return "not_publisher";
    case ErrataOutcome::already_retracted: return "already_retracted";
  }
  return "unknown";
}

std::size_t ErrataRetractionReport::count(ErrataOutcome o) const {
  return static_cast<std::size_t>(
      std::count_if(items.begin(), items.end(), [o](const ErrataItem& i) { return i.outcome == o; }));
}

Result<ErrataRetractionReport> retract_errata(Catalog& catalog, const SigningKey& key, const ErrataIssue& issue,
                                              const ErrataRetractionOptions& options) {
  ErrataRetractionReport report;
  report.items.reserve(issue.datasets.size());
  const std::size_t total = issue.datasets.size();
  std::vector<Bytes> bodies;
  std::vector<std::size_t> retracting;  // item index of each body
  for (const auto& d : issue.datasets) {
    ErrataItem item{d, ErrataOutcome::retract, {}, 0};
    FEDSWARM_ASSIGN_OR_RETURN(auto known, catalog.version(d.instance_id()));
    if (!known) {
      item.outcome = ErrataOutcome::unknown;
      item.detail = "not in this catalog";
    } else if (known->retraction) {
      item.outcome = ErrataOutcome::already_retracted;
      item.detail = "already retracted: " + known->retraction->reason +
                    (known->retraction->errata_id.empty() ? "" : " (errata " + known->retraction->errata_id + ")");
    } else if (known->publisher != key.public_key()) {
      item.outcome = ErrataOutcome::not_publisher;
      item.detail = "published by " + (known->data_node.empty() ? short_key(known->publisher) : known->data_node);
    } else {
      Retraction r;
      r.dataset_id = d.dataset_id;
      r.version = d.version;
      r.reason = issue.title;
      r.errata_id = issue.uid;
      r.retracted_at = options.now;
      bodies.push_back(r.encode());
      retracting.push_back(report.items.size());
    }
    report.items.push_back(std::move(item));
    if (options.progress) options.progress(report.items.size(), total);
  }
  if (options.dry_run || bodies.empty()) return report;

  FEDSWARM_ASSIGN_OR_RETURN(auto envs, catalog.append_local_batch(key, RecordKind::retraction, bodies, options.now));
  for (std::size_t i = 0; i < envs.size(); ++i) report.items[retracting[i]].seq = envs[i].seq;
  report.stored = true;
  if (options.progress) options.progress(total, total);
  return report;
}

}  // namespace fedswarm
