#include <iostream>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/ComplianceReport.hpp"
#include "fedswarm/engine/ControlClient.hpp"
#include "fedswarm/engine/NodeHome.hpp"

namespace fedswarm::cli {

namespace {

std::string cause_text(TierOneCause c) {
  switch (c) {
    case TierOneCause::none: return "";
    case TierOneCause::retracted: return "retracted";
    case TierOneCause::superseded: return "superseded (no copy required)";
    case TierOneCause::unclaimed: return "no Tier-1 copy, not claimed yet";
    case TierOneCause::claim_released: return "claims released";
    case TierOneCause::claim_expired: return "claim expired unfulfilled";
    case TierOneCause::claimant_down: return "claimant down past the grace period";
    case TierOneCause::copy_dropped: return "Tier-1 copy dropped";
    case TierOneCause::holders_down: return "every Tier-1 holder down past the grace period";
  }
  return std::string(to_string(c));
}

std::string blocker_text(TierOneBlocker b) {
  switch (b) {
    case TierOneBlocker::none: return "";
    case TierOneBlocker::no_eligible_tier1: return "no eligible Tier-1 (none alive outside the primary's site with room)";
    case TierOneBlocker::all_passed: return "every eligible Tier-1 passed on it recently";
  }
  return std::string(to_string(b));
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) out += (out.empty() ? "" : ", ") + x;
  return out;
}

std::string detail(const ComplianceEntry& e) {
  switch (e.status) {
    case TierOneStatus::compliant: return "held by " + join(e.holders);
    case TierOneStatus::pending: {
      std::string s = "claimed by " + e.claimant + ", due " + human_time(e.deadline);
      if (e.bytes_done) {
        s += ", " + human_bytes(*e.bytes_done) + " of " + human_bytes(e.size);
        if (e.size > 0) s += " (" + std::to_string(*e.bytes_done * 100 / e.size) + "%)";
      }
      return s;
    }
    case TierOneStatus::violating: {
      std::string s = cause_text(e.cause) + "; violating for " + human_age(e.violating_for) + "; ";
      if (e.blocker != TierOneBlocker::none) return s + "blocked: " + blocker_text(e.blocker);
      return s + "next to claim: " + e.assignee;
    }
    case TierOneStatus::exempt: return "no obligation: " + cause_text(e.cause);
  }
  return "";
}

std::string summary_line(const ComplianceSummary& s) {
  std::string line = std::to_string(s.versions) + " dataset versions: " + std::to_string(s.compliant) + " compliant, " +
                     std::to_string(s.pending) + " pending, " + std::to_string(s.violating) + " violating";
  if (s.violating > 0) {
    line += " (" + human_bytes(s.violating_bytes) + ", longest " + human_age(s.longest_violation);
    if (s.blocked > 0) line += ", " + std::to_string(s.blocked) + " blocked";
    line += ")";
  }
  return line + ", " + std::to_string(s.exempt) + " exempt; " + std::to_string(s.tier1_members) + " Tier-1 members";
}

// Where pages come from: the running node (its liveness), or a tracker rebuilt over the
// catalog offline (every member counted alive).
class PageSource {
 public:
  virtual ~PageSource() = default;
  virtual Result<ComplianceReport> page(std::optional<TierOneStatus> status, std::uint64_t offset, std::uint64_t limit) = 0;
};

class NodePages final : public PageSource {
 public:
  explicit NodePages(std::filesystem::path home) : home_(std::move(home)) {}
  Result<ComplianceReport> page(std::optional<TierOneStatus> status, std::uint64_t offset, std::uint64_t limit) override {
    ControlRequest r;
    r.cmd = ControlCommand::compliance;
    r.status_filter = status;
    r.offset = offset;
    r.limit = limit;
    return control_call<ComplianceReport>(home_, r, std::chrono::seconds(60));
  }

 private:
  std::filesystem::path home_;
};

class CatalogPages final : public PageSource {
 public:
  CatalogPages(std::unique_ptr<Catalog> catalog, TierOneTracker tracker, ComplianceInputs in)
      : catalog_(std::move(catalog)), source_(catalog_case_source(*catalog_)), tracker_(std::move(tracker)), in_(std::move(in)) {}
  Result<ComplianceReport> page(std::optional<TierOneStatus> status, std::uint64_t offset, std::uint64_t limit) override {
    return compliance_page(tracker_, *source_, in_, status, offset, limit);
  }

 private:
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<TierOneCaseSource> source_;
  TierOneTracker tracker_;
  ComplianceInputs in_;
};

std::optional<TierOneStatus> status_from(const std::string& s) {
  for (auto st : {TierOneStatus::compliant, TierOneStatus::pending, TierOneStatus::violating, TierOneStatus::exempt})
    if (to_string(st) == s) return st;
  return std::nullopt;
}

// Violations that have lasted at least max_age (they come longest first).
Result<std::uint64_t> count_over(PageSource& pages, std::int64_t max_age, std::uint64_t violating) {
  std::uint64_t over = 0;
  for (std::uint64_t offset = 0; offset < violating; offset += 1000) {
    FEDSWARM_ASSIGN_OR_RETURN(auto r, pages.page(TierOneStatus::violating, offset, 1000));
    for (const auto& e : r.versions) {
      if (e.violating_for < max_age) return over;
      ++over;
    }
    if (r.versions.empty()) break;
  }
  return over;
}

}  // namespace

int run_compliance(Context& ctx, const ComplianceOptions& o, std::ostream& out) {
  auto max_age = parse_duration(o.max_age);
  if (!max_age)
    return report_error(make_error(Errc::invalid, "bad_duration", "--max-age must be a duration like 24h, 90m or 0s"),
                        ctx.json);
  std::optional<TierOneStatus> status;
  if (!o.status.empty()) {
    status = status_from(o.status);
    if (!status)
      return report_error(make_error(Errc::invalid, "bad_status",
                                     "--status must be one of violating, pending, compliant, exempt (not '" + o.status + "')"),
                          ctx.json);
  }

  // The running node knows who is alive; without it the verdicts come from the catalog
  // alone (a tracker rebuilt over it: time linear in the catalog, memory small).
  std::unique_ptr<PageSource> pages;
  std::string note;
  bool running = true;
  ControlRequest probe;
  probe.cmd = ControlCommand::compliance;
  probe.limit = 0;
  auto live = control_call<ComplianceReport>(ctx.home, probe, std::chrono::seconds(60));
  if (live) {
    pages = std::make_unique<NodePages>(ctx.home);
  } else if (live.error().reason == "node_not_running") {
    running = false;
    note = "node not running: liveness unknown, every member counted alive";
    auto home = ctx.open_home();
    if (!home) return report_error(home.error(), ctx.json);
    auto catalog = home->open_catalog(true);
    if (!catalog) return report_error(catalog.error(), ctx.json);
    ComplianceInputs in;
    in.now = now_seconds();
    in.local = home->key().public_key();
    in.config = home->config().tier_one;
    auto locals = (*catalog)->locals();
    if (!locals) return report_error(locals.error(), ctx.json);
    in.local_progress.emplace();
    for (const auto& l : *locals)
      if (l.state != LocalState::complete && l.state != LocalState::dropped && l.state != LocalState::quarantined)
        (*in.local_progress)[l.instance_id] = l.bytes_done;
    auto tracker = offline_tracker(**catalog, in);
    if (!tracker) return report_error(tracker.error(), ctx.json);
    pages = std::make_unique<CatalogPages>(std::move(*catalog), std::move(*tracker), in);
  } else {
    return report_error(live.error(), ctx.json);
  }

  // The summary (and how many entries match) first.
  auto head = pages->page(status, o.offset, 0);
  if (!head) return report_error(head.error(), ctx.json);
  const ComplianceSummary& sum = head->summary;
  auto over = sum.violating > 0 && sum.longest_violation >= *max_age ? count_over(*pages, *max_age, sum.violating)
                                                                   : Result<std::uint64_t>(std::uint64_t{0});
  if (!over) return report_error(over.error(), ctx.json);
  const int code = *over == 0 ? exit_ok : exit_violation;

  if (ctx.json) {
    // Streamed: the header, then the entries page by page (all of them unless --limit).
    nlohmann::json j = head->to_json();
    j.erase("versions");
    j["running"] = running;
    if (!note.empty()) j["note"] = note;
    j["max_age_s"] = *max_age;
    j["over_max_age"] = *over;
    std::string text = j.dump(2);
    text.erase(text.find_last_of('}'));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    out << text << ",\n  \"versions\": [";
    const std::uint64_t want = o.limit ? *o.limit : head->matching;
    bool first = true;
    for (std::uint64_t done = 0; done < want;) {
      const std::uint64_t n = std::min<std::uint64_t>(1000, want - done);
      auto page = pages->page(status, o.offset + done, n);
      if (!page) {
        out << "\n  ]\n}\n";
        return report_error(page.error(), ctx.json);
      }
      const nlohmann::json rows = page->to_json()["versions"];
      for (const auto& e : rows) {
        out << (first ? "\n    " : ",\n    ") << e.dump();
        first = false;
      }
      if (page->versions.size() < n) break;
      done += n;
    }
    out << (first ? "]\n}\n" : "\n  ]\n}\n");
    return code;
  }

  const std::uint64_t limit = o.limit ? *o.limit : 50;
  auto page = pages->page(status, o.offset, limit);
  if (!page) return report_error(page.error(), ctx.json);
  if (page->versions.empty()) {
    out << (head->matching == 0 ? "no dataset versions" + (status ? " " + o.status : std::string()) + " in the catalog\n"
                                : "no entries at offset " + std::to_string(o.offset) + "\n");
  } else {
    Table t({"DATASET VERSION", "STATUS", "SIZE", "AGE", "PRIMARY", "DETAIL"});
    for (const auto& e : page->versions)
      t.add({e.instance_id, std::string(to_string(e.status)), human_bytes(e.size), human_age(e.age), e.primary_site,
             detail(e)});
    t.print(out);
    const std::uint64_t last = o.offset + page->versions.size();
    if (o.offset > 0 || last < head->matching)
      out << "entries " << o.offset + 1 << "-" << last << " of " << head->matching
          << (last < head->matching ? " (--offset " + std::to_string(last) + " for the next, --limit for more)" : "")
          << "\n";
  }
  out << summary_line(sum) << "\n";
  if (head->rebuilding)
    out << "the node is still judging every version (" << head->judged << " of " << head->total
        << "): the summary covers those so far\n";
  if (!note.empty()) out << note << "\n";
  if (*over > 0)
    out << *over << (*over == 1 ? " violation has" : " violations have") << " lasted at least " << human_age(*max_age)
        << " (--max-age " << o.max_age << "): exit status " << exit_violation << "\n";
  return code;
}

void add_compliance_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ComplianceOptions>();
  auto* cmd = app.add_subcommand(
      "compliance", "the one-Tier-1-copy rule: every dataset version compliant, pending or violating (why, since when)");
  cmd->add_option("--max-age", o->max_age,
                  "exit with status 12 if a violation has lasted at least this long (default 24h; 0s: any violation)");
  cmd->add_option("--status", o->status, "only versions with this status: violating, pending, compliant or exempt");
  cmd->add_option("--limit", o->limit, "at most this many entries (default: 50 in the table, all with --json)");
  cmd->add_option("--offset", o->offset, "skip this many entries (report order: violating longest first, pending, "
                                         "compliant, exempt)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_compliance(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
