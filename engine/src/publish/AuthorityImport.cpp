#include "fedswarm/engine/AuthorityImport.hpp"

namespace fedswarm {

Result<AuthorityImportResult> import_authority_records(NodeHome& home, Catalog& catalog,
                                                       std::span<const Envelope> records, std::int64_t now) {
  if (records.empty()) return make_error(Errc::invalid, "bundle_empty", "the file holds no records");
  AuthorityImportResult out;
  out.authority = records.front().author;
  const Envelope* newest_roster = nullptr;
  for (const auto& r : records) {
    if (r.author != out.authority)
      return make_error(Errc::invalid, "bundle_mixed_authors", "the file mixes records of several keys; it is not an authority log");
    if (r.kind == RecordKind::roster) newest_roster = &r;
  }
  auto pinned = catalog.authority();
  if (!pinned) return std::move(pinned).error();
  if (pinned->is_zero()) {
    if (!newest_roster)
      return make_error(Errc::invalid, "no_roster", "the file holds no roster; the first import must bring one");
    for (const auto& r : records)
      if (!r.verify())
        return make_error(Errc::unauthorized, "bad_signature", "record " + std::to_string(r.seq) + " of the file does not verify");
    FEDSWARM_TRY(catalog.pin_authority(out.authority));
    Config c = home.config();
    c.authority_key = out.authority;
    FEDSWARM_TRY(home.save_config(c));
    out.pinned_now = true;
  } else if (*pinned != out.authority) {
    return make_error(Errc::unauthorized, "not_authority",
                      "the file is signed by " + short_key(out.authority) + ", but this node's federation authority is " +
                          short_key(*pinned) + " (federation.authority_key in config.toml)");
  }
  auto results = catalog.ingest_batch(records, now);
  if (!results) return std::move(results).error();
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    if (r.outcome == IngestOutcome::refused) return r.error->with_context("authority record " + std::to_string(records[i].seq));
    if (r.outcome == IngestOutcome::duplicate) ++out.duplicates;
    else ++out.stored;
  }
  auto current = catalog.roster();
  if (!current) return std::move(current).error();
  out.current = *current;
  if (newest_roster) {
    auto r = Roster::decode(newest_roster->body);
    if (!r) return std::move(r).error();
    if (r->expires_at <= now && (!out.current || out.current->serial < r->serial))
      return make_error(Errc::invalid, "roster_expired",
                        "roster serial " + std::to_string(r->serial) + " has expired; ask the federation authority for a new one");
  }
  return out;
}

}  // namespace fedswarm
