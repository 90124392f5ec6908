#include "CatalogIngest.hpp"

#include <algorithm>

namespace fedswarm {

namespace {

IngestResult outcome(IngestOutcome o) {
  IngestResult r;
  r.outcome = o;
  return r;
}

IngestResult refused(Error e) {
  IngestResult r;
  r.outcome = IngestOutcome::refused;
  r.error = std::move(e);
  return r;
}

bool derived_facet(std::string_view name) { return name == "project" || name == "data_node" || name == "version"; }

}  // namespace

Status CatalogIngest::begin() {
  FEDSWARM_ASSIGN_OR_RETURN(authority_, pinned_authority(txn_, t_));
  FEDSWARM_ASSIGN_OR_RETURN(auto entry, rosters_.get(txn_, t_));
  roster_serial_ = entry.serial;
  roster_ = std::move(entry.roster);
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t next, meta_u64(txn_, t_, meta_key::next_doc));
  next_doc_ = first_doc_ = static_cast<std::uint32_t>(next);
  return index_.begin(txn_);
}

Result<std::uint64_t*> CatalogIngest::vv_slot(const PublicKey& author) {
  auto it = vv_.find(author);
  if (it != vv_.end()) return &it->second;
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t seq, CatalogLog::last_seq(txn_, t_, author));
  return &vv_.emplace(author, seq).first->second;
}

Result<CatalogIngest::ParkedCount*> CatalogIngest::parked_slot(const PublicKey& author) {
  auto it = parked_.find(author);
  if (it != parked_.end()) return &it->second;
  ParkedCount c;
  MDB_val v;
  int rc = txn_.get(t_.pending_count, mdb_val(author.view()), &v);
  if (rc == 0) {
    if (v.mv_size != 12) return corrupt_row("pending_count");
    c.records = load<std::uint32_t>(v.mv_data);
    c.bytes = load<std::uint64_t>(static_cast<const char*>(v.mv_data) + 4);
  } else if (rc != MDB_NOTFOUND) {
    return txn_.error(rc, "read pending records");
  }
  return &parked_.emplace(author, c).first->second;
}

Result<std::uint64_t> CatalogIngest::next_seq(const PublicKey& author) {
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t * have, vv_slot(author));
  return *have + 1;
}

CatalogIngest::Holding CatalogIngest::holding(bool publisher, Repl repl) {
  return {repl == Repl::complete || (publisher && repl != Repl::dropped), repl == Repl::complete};
}

void CatalogIngest::count(const PublicKey& node, const Holding& before, std::uint64_t size_before, const Holding& after,
                          std::uint64_t size_after) {
  NodeDelta& d = node_deltas_[node];
  auto step = [](bool b, bool a, std::uint64_t sb, std::uint64_t sa, std::int64_t& versions, std::int64_t& bytes) {
    versions += static_cast<std::int64_t>(a) - static_cast<std::int64_t>(b);
    bytes += (a ? static_cast<std::int64_t>(sa) : 0) - (b ? static_cast<std::int64_t>(sb) : 0);
  };
  step(before.held, after.held, size_before, size_after, d.held_versions, d.held_bytes);
  step(before.complete, after.complete, size_before, size_after, d.complete_versions, d.complete_bytes);
}

Status CatalogIngest::mark_node_version(const PublicKey& node, std::string_view instance_id, std::uint8_t bit) {
  const std::string key = node_version_key(node, instance_id);
  MDB_val v;
  std::uint8_t bits = bit;
  int rc = txn_.get(t_.node_versions, mdb_val(std::string_view(key)), &v);
  if (rc == 0 && v.mv_size == 1) {
    const std::uint8_t old = *static_cast<const std::uint8_t*>(v.mv_data);
    if ((old | bit) == old) return {};
    bits = static_cast<std::uint8_t>(old | bit);
  } else if (rc != 0 && rc != MDB_NOTFOUND) {
    return txn_.error(rc, "read node index");
  }
  return txn_.put(t_.node_versions, mdb_val(std::string_view(key)), mdb_val(ByteView(&bits, 1)));
}

Result<IngestResult> CatalogIngest::ingest(const Envelope& env, bool signature_checked) {
  touched_.clear();
  roster_changed_ = false;
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t * have, vv_slot(env.author));
  if (env.seq <= *have) {
    // A replay of the stored record changes nothing. A *different* record at a seq
    // already taken is the author equivocating (or a key used twice): refuse it, so the
    // peer relaying it is disconnected and every node keeps the record it has.
    FEDSWARM_ASSIGN_OR_RETURN(auto stored, CatalogLog::after(txn_, t_, env.author, env.seq - 1, 1, 1));
    if (!stored.empty() && stored.front().seq == env.seq && !(stored.front().signature == env.signature))
      return refused(make_error(Errc::conflict, "seq_conflict",
                                "record " + std::to_string(env.seq) + " of " + short_key(env.author) +
                                    " differs from the record already stored under that seq; the first one is kept"));
    return outcome(IngestOutcome::duplicate);
  }
  if (env.seq > *have + 1) return park(env, signature_checked);
  FEDSWARM_ASSIGN_OR_RETURN(IngestResult r, apply(env, signature_checked));
  if (r.outcome == IngestOutcome::stored) {
    FEDSWARM_ASSIGN_OR_RETURN(r.released, release(env.author));
    r.touched = std::move(touched_);
    r.roster_changed = roster_changed_;
  }
  touched_.clear();
  return r;
}

bool CatalogIngest::known_author(const PublicKey& key) const {
  if (key == authority_) return true;
  if (!roster_) return false;
  if (roster_->member(key)) return true;
  return std::any_of(roster_->grants.begin(), roster_->grants.end(), [&](const PublisherGrant& g) { return g.key == key; });
}

Result<IngestResult> CatalogIngest::park(const Envelope& env, bool signature_checked) {
  // Only roster-listed authors may make us hold records, and only with a valid
  // signature: otherwise anyone could fill the pending table with made-up logs.
  if (!known_author(env.author))
    return refused(make_error(Errc::unauthorized, "author_unknown",
                              "record " + std::to_string(env.seq) + " of " + short_key(env.author) +
                                  " arrived out of order and its author is not in the roster"));
  if (!signature_checked && !env.verify())
    return refused(make_error(Errc::unauthorized, "bad_signature",
                              "signature of record " + std::to_string(env.seq) + " by " + short_key(env.author) +
                                  " does not verify"));
  PendingKey key = pending_key(env.author, env.seq);
  MDB_val v;
  int rc = txn_.get(t_.pending, mdb_val(ByteView(key)), &v);
  if (rc == 0) return outcome(IngestOutcome::parked);  // already waiting (first copy kept)
  if (rc != MDB_NOTFOUND) return txn_.error(rc, "read pending records");
  FEDSWARM_ASSIGN_OR_RETURN(ParkedCount * count, parked_slot(env.author));
  std::size_t size = record_value_size(env);
  if (count->records >= kMaxParkedRecords || count->bytes + size > kMaxParkedBytes)
    return refused(make_error(Errc::conflict, "gap_too_large",
                              "record " + std::to_string(env.seq) + " of " + short_key(env.author) +
                                  " is too far ahead of the records held; it will be fetched again in order"));
  FEDSWARM_ASSIGN_OR_RETURN(std::uint8_t * out, txn_.reserve(t_.pending, mdb_val(ByteView(key)), size));
  write_record_value(out, env);
  count->records += 1;
  count->bytes += size;
  count->changed = true;
  return outcome(IngestOutcome::parked);
}

Result<IngestResult> CatalogIngest::apply(const Envelope& env, bool signature_checked) {
  RecordValidator::PublisherLookup publisher_of = [this](std::string_view instance) -> std::optional<PublicKey> {
    // An I/O failure here reads as "unknown version": the retraction is refused now
    // and offered again by gossip later.
    auto doc = doc_of_instance(txn_, t_, instance);
    if (!doc || !*doc) return std::nullopt;
    auto row = doc_row(txn_, t_, **doc);
    if (!row) return std::nullopt;
    return row->publisher;
  };
  auto validated = validator_.validate(env, roster_.get(), authority_, now_, publisher_of, signature_checked);
  if (!validated) return refused(std::move(validated).error());
  const RecordBody& body = validated->body;
  if (env.kind == RecordKind::manifest) {
    // Appends to the log itself, after the immutability check that may refuse it.
    FEDSWARM_ASSIGN_OR_RETURN(auto refusal, apply_manifest(env, std::get<Manifest>(body), *validated->dataset));
    if (refusal) return refused(std::move(*refusal));
    return outcome(IngestOutcome::stored);
  }
  switch (env.kind) {
    case RecordKind::retraction: FEDSWARM_TRY(apply_retraction(env, std::get<Retraction>(body))); break;
    case RecordKind::replica: FEDSWARM_TRY(apply_replica(env, std::get<ReplicaRecord>(body))); break;
    case RecordKind::claim: FEDSWARM_TRY(apply_claim(env, std::get<Claim>(body))); break;
    case RecordKind::roster: FEDSWARM_TRY(apply_roster(env, std::get<Roster>(body))); break;
    case RecordKind::manifest: break;
  }
  FEDSWARM_TRY(append_log(env));
  return outcome(IngestOutcome::stored);
}

Result<std::uint32_t> CatalogIngest::release(const PublicKey& author) {
  std::uint32_t released = 0;
  for (;;) {
    FEDSWARM_ASSIGN_OR_RETURN(ParkedCount * count, parked_slot(author));
    if (count->records == 0) break;
    FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t * have, vv_slot(author));
    std::uint64_t seq = *have + 1;
    PendingKey key = pending_key(author, seq);
    MDB_val v;
    int rc = txn_.get(t_.pending, mdb_val(ByteView(key)), &v);
    if (rc == MDB_NOTFOUND) break;
    if (rc != 0) return txn_.error(rc, "read pending records");
    FEDSWARM_ASSIGN_OR_RETURN(Envelope env, read_record_value(author, seq, view(v)));
    FEDSWARM_TRY(txn_.del(t_.pending, mdb_val(ByteView(key))));
    count->records -= 1;
    count->bytes -= std::min<std::uint64_t>(count->bytes, record_value_size(env));
    count->changed = true;
    // Its signature was verified when it was parked. A parked record that now fails a
    // rule is dropped (anti-entropy offers it again); its successors keep waiting.
    FEDSWARM_ASSIGN_OR_RETURN(IngestResult r, apply(env, true));
    if (r.outcome != IngestOutcome::stored) break;
    ++released;
  }
  return released;
}

std::string CatalogIngest::site_of(const PublicKey& key) const {
  if (roster_)
    if (const RosterMember* m = roster_->member(key)) return m->site;
  return short_key(key);
}

Result<std::uint64_t> CatalogIngest::append_log(const Envelope& env) {
  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t position, log_.append(txn_, env));
  vv_[env.author] = env.seq;
  return position;
}

Result<std::optional<Error>> CatalogIngest::apply_manifest(const Envelope& env, const Manifest& m, const DatasetId& id) {
  FEDSWARM_ASSIGN_OR_RETURN(auto existing, docs_of_dataset(txn_, t_, m.dataset_id));
  const DocVersion* newest = nullptr;
  for (const auto& d : existing) {
    if (d.version == m.version) {
      // Rule 5: the version is immutable. The same manifest again (e.g. re-published
      // under a new seq) is harmless; a different one is a conflict.
      FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn_, t_, d.doc));
      FEDSWARM_ASSIGN_OR_RETURN(Envelope stored, CatalogLog::read(txn_, t_, row.log_position));
      if (stored.body == env.body) {
        FEDSWARM_TRY(append_log(env));
        return std::optional<Error>{};  // nothing changed but the log
      }
      ConflictInfo c;
      c.instance_id = m.instance_id();
      c.author = env.author;
      c.seq = env.seq;
      c.stored_digest = stored.digest();
      c.refused_digest = env.digest();
      c.seen_at = now_;
      std::string ckey = instance_key(c.instance_id, c.refused_digest.view());
      Bytes cval = encode_conflict(c);
      // The same refused record offered again keeps its first sighting.
      MDB_val ck = mdb_val(std::string_view(ckey)), cv = mdb_val(ByteView(cval));
      int prc = mdb_put(txn_.raw(), t_.conflicts, &ck, &cv, MDB_NOOVERWRITE);
      if (prc != 0 && prc != MDB_KEYEXIST) return txn_.error(prc, "record conflict");
      return std::optional<Error>{make_error(Errc::conflict, "manifest_conflict",
                                             c.instance_id + " is already stored with different content (" +
                                                 to_hex(c.stored_digest).substr(0, 16) + "); record " +
                                                 std::to_string(env.seq) + " of " + short_key(env.author) +
                                                 " is refused and listed as a conflict")};
    }
    if (!newest || d.version > newest->version) newest = &d;
  }

  // Indexed facets: the manifest's, the parsed id's (normally the same), and the three
  // the catalog derives.
  const std::string site = site_of(env.author);
  refs_.clear();
  for (const auto& f : m.facets)
    if (!derived_facet(f.name))
      for (const auto& v : f.values) refs_.push_back({f.name, v});
  for (const auto& f : id.facets)
    if (!derived_facet(f.name) && !m.facet(f.name)) refs_.push_back({f.name, f.value});
  refs_.push_back({"project", m.project});
  refs_.push_back({"data_node", site});
  refs_.push_back({"version", m.version});
  FEDSWARM_TRY(index_.resolve(txn_, refs_, pairs_));

  const std::string instance = m.instance_id();
  touched_.push_back(instance);
  if (newest && m.version > newest->version) touched_.push_back(m.dataset_id + "." + newest->version);
  FEDSWARM_ASSIGN_OR_RETURN(auto retraction, retraction_of(txn_, t_, instance));
  const bool retracted = retraction.has_value();
  std::uint8_t flags;
  if (!newest || m.version > newest->version) {
    // The new newest version: latest unless retracted; the previous newest is now
    // superseded and no longer latest.
    flags = retracted ? kRetracted : kLatest;
    if (newest) {
      FEDSWARM_ASSIGN_OR_RETURN(std::uint8_t old, index_.flags(txn_, newest->doc));
      FEDSWARM_ASSIGN_OR_RETURN(DocRow prev, doc_row(txn_, t_, newest->doc));
      FEDSWARM_TRY(index_.change(txn_, newest->doc, prev, old,
                                 static_cast<std::uint8_t>((old & ~kLatest) | kSuperseded)));
    }
  } else {
    flags = static_cast<std::uint8_t>(kSuperseded | (retracted ? kRetracted : 0));
  }

  FEDSWARM_ASSIGN_OR_RETURN(std::uint64_t position, append_log(env));
  const std::uint32_t doc = next_doc_++;
  DocRow row;
  row.publisher = env.author;
  row.seq = env.seq;
  row.log_position = position;
  row.size = m.total_size();
  row.published_at = m.published_at;
  row.number_of_files = static_cast<std::uint32_t>(m.files.size());
  row.dataset_id = m.dataset_id;
  row.version = m.version;
  row.supersedes = m.supersedes;
  row.npairs = static_cast<std::uint16_t>(pairs_.size());
  // Doc ids only grow: the row table is appended to.
  FEDSWARM_ASSIGN_OR_RETURN(std::uint8_t * out, txn_.reserve(t_.docs, mdb_pod(doc), row.encoded_size(), MDB_APPEND));
  row.encode(out, pairs_.data());
  std::uint64_t h = dataset_hash(m.dataset_id);
  FEDSWARM_TRY(txn_.put(t_.versions, mdb_pod(h), mdb_pod(doc)));
  FEDSWARM_TRY(index_.add(txn_, doc, pairs_, flags));
  // Holdings: replica records that came before the manifest counted with size 0 and
  // without knowing the publisher; the publisher holds its primary copy.
  const std::uint64_t size = row.size;
  bool publisher_has_record = false;
  {
    LmdbCursor c(txn_, t_.replicas);
    if (!c.ok()) return txn_.error(c.open_error(), "read replicas");
    std::string prefix = instance;
    prefix.push_back('\0');
    MDB_val k = mdb_val(std::string_view(prefix)), v;
    int rc;
    for (rc = c.get(&k, &v, MDB_SET_RANGE); rc == 0; rc = c.get(&k, &v, MDB_NEXT)) {
      std::string_view key = chars(k);
      if (key.substr(0, prefix.size()) != prefix) break;
      auto node = PublicKey::from(as_bytes(key.substr(prefix.size())));
      if (!node) return corrupt_row("replicas");
      auto loc = decode_replica(*node, view(v));
      if (!loc) return corrupt_row("replicas");
      const Repl repl = loc->state == ReplicaState::complete ? Repl::complete : Repl::dropped;
      const bool is_publisher = *node == env.author;
      publisher_has_record |= is_publisher;
      count(*node, holding(false, repl), 0, holding(is_publisher, repl), size);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return txn_.error(rc, "read replicas");
  }
  if (!publisher_has_record) count(env.author, holding(false, Repl::none), 0, holding(true, Repl::none), size);
  const std::uint32_t generation = doc / kDocsPerGeneration;
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    std::uint64_t ref = static_cast<std::uint64_t>(doc) << 32 | i;
    const auto& f = m.files[i];
    if (!f.tracking_id.empty()) tracking_.push_back({file_key(generation, tracking_hash(f.tracking_id)), ref});
    sha_.push_back({file_key(generation, sha_prefix(f.sha256)), ref});
  }
  return std::optional<Error>{};
}

Status CatalogIngest::apply_retraction(const Envelope& env, const Retraction& r) {
  const std::string instance = r.instance_id();
  touched_.push_back(instance);
  FEDSWARM_ASSIGN_OR_RETURN(auto existing, retraction_of(txn_, t_, instance));
  if (!existing) {
    // Kept by instance id, so a manifest arriving later is born retracted.
    RetractionInfo info{env.author, r.reason, r.errata_id, r.retracted_at};
    Bytes row = encode_retraction(info, env.seq);
    FEDSWARM_TRY(txn_.put(t_.retractions, mdb_val(instance), mdb_val(ByteView(row))));
  }
  FEDSWARM_ASSIGN_OR_RETURN(auto doc, doc_of_instance(txn_, t_, instance));
  if (!doc) return {};
  FEDSWARM_ASSIGN_OR_RETURN(std::uint8_t old, index_.flags(txn_, *doc));
  if (old & kRetracted) return {};
  // A retracted version is never latest, and no older version takes its place.
  FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn_, t_, *doc));
  return index_.change(txn_, *doc, row, old, static_cast<std::uint8_t>((old | kRetracted) & ~kLatest));
}

Status CatalogIngest::apply_replica(const Envelope& env, const ReplicaRecord& r) {
  ReplicaLocation loc;
  loc.node = env.author;
  if (roster_)
    if (const RosterMember* m = roster_->member(env.author)) loc.site = m->site;
  loc.state = r.state;
  loc.at = r.at;
  const std::string instance = r.instance_id();
  touched_.push_back(instance);
  const std::string key = instance_key(instance, env.author.view());
  // The node's previous record of the version and the version itself say what changes
  // in its holdings.
  Repl before = Repl::none;
  {
    MDB_val v;
    int rc = txn_.get(t_.replicas, mdb_val(std::string_view(key)), &v);
    if (rc == 0) {
      auto old = decode_replica(env.author, view(v));
      if (!old) return corrupt_row("replicas");
      before = old->state == ReplicaState::complete ? Repl::complete : Repl::dropped;
    } else if (rc != MDB_NOTFOUND) {
      return txn_.error(rc, "read replicas");
    }
  }
  bool publisher = false;
  std::uint64_t size = 0;
  FEDSWARM_ASSIGN_OR_RETURN(auto doc, doc_of_instance(txn_, t_, instance));
  if (doc) {
    FEDSWARM_ASSIGN_OR_RETURN(DocRow row, doc_row(txn_, t_, *doc));
    publisher = row.publisher == env.author;
    size = row.size;
  }
  const Repl after = r.state == ReplicaState::complete ? Repl::complete : Repl::dropped;
  count(env.author, holding(publisher, before), size, holding(publisher, after), size);
  FEDSWARM_TRY(mark_node_version(env.author, instance, kNodeHasReplica));
  Bytes row = encode_replica(loc);
  return txn_.put(t_.replicas, mdb_val(std::string_view(key)), mdb_val(ByteView(row)));
}

Status CatalogIngest::apply_claim(const Envelope& env, const Claim& c) {
  ClaimInfo info{env.author, c.action, c.deadline, c.made_at};
  Bytes row = encode_claim(info);
  const std::string instance = c.instance_id();
  touched_.push_back(instance);
  FEDSWARM_TRY(mark_node_version(env.author, instance, kNodeHasClaim));
  return txn_.put(t_.claims, mdb_val(instance_key(instance, env.author.view())), mdb_val(ByteView(row)));
}

Status CatalogIngest::apply_roster(const Envelope& env, const Roster& r) {
  // Stale or expired rosters stay in the authority's log, inert, so the log never
  // stalls on them.
  if (r.serial <= roster_serial_ || r.expired(now_)) return {};
  Bytes value = encode_roster_envelope(env);
  FEDSWARM_TRY(txn_.put(t_.meta, mdb_val(meta_key::roster), mdb_val(ByteView(value))));
  FEDSWARM_TRY(txn_.put(t_.meta, mdb_val(meta_key::roster_serial), mdb_pod(r.serial)));
  roster_serial_ = r.serial;
  roster_ = std::make_shared<const Roster>(r);
  roster_changed_ = true;
  return {};
}

Status CatalogIngest::finish() {
  for (auto& [node, d] : node_deltas_) {
    std::uint64_t totals[4] = {0, 0, 0, 0};
    MDB_val v;
    int rc = txn_.get(t_.nodes, mdb_val(node.view()), &v);
    if (rc == 0) {
      if (v.mv_size != sizeof(totals)) return corrupt_row("nodes");
      std::memcpy(totals, v.mv_data, sizeof(totals));
    } else if (rc != MDB_NOTFOUND) {
      return txn_.error(rc, "read node totals");
    }
    const std::int64_t deltas[4] = {d.held_versions, d.held_bytes, d.complete_versions, d.complete_bytes};
    for (int i = 0; i < 4; ++i) totals[i] = static_cast<std::uint64_t>(static_cast<std::int64_t>(totals[i]) + deltas[i]);
    FEDSWARM_TRY(txn_.put(t_.nodes, mdb_val(node.view()), mdb_val(ByteView(reinterpret_cast<const std::uint8_t*>(totals), sizeof(totals)))));
  }
  node_deltas_.clear();
  for (auto& [author, count] : parked_) {
    if (!count.changed) continue;
    if (count.records == 0) {
      FEDSWARM_TRY(txn_.del(t_.pending_count, mdb_val(author.view())));
    } else {
      std::uint8_t buf[12];
      std::memcpy(buf, &count.records, 4);
      std::memcpy(buf + 4, &count.bytes, 8);
      FEDSWARM_TRY(txn_.put(t_.pending_count, mdb_val(author.view()), mdb_val(ByteView(buf, 12))));
    }
    count.changed = false;
  }
  // File indexes: sorted, so consecutive puts walk neighbouring pages.
  auto by_key = [](const FileEntry& a, const FileEntry& b) { return a.key != b.key ? a.key < b.key : a.value < b.value; };
  for (auto* entries : {&tracking_, &sha_}) {
    std::sort(entries->begin(), entries->end(), by_key);
    MDB_dbi dbi = entries == &tracking_ ? t_.tracking : t_.sha;
    LmdbCursor c(txn_, dbi);
    if (!c.ok()) return txn_.error(c.open_error(), "index files");
    for (const auto& e : *entries) FEDSWARM_TRY(c.put(mdb_pod(e.key), mdb_pod(e.value)));
    entries->clear();
  }
  if (next_doc_ != first_doc_) {
    FEDSWARM_TRY(txn_.put(t_.meta, mdb_val(meta_key::next_doc), mdb_pod(next_doc_)));
    first_doc_ = next_doc_;
  }
  return index_.flush(txn_);
}

}  // namespace fedswarm
