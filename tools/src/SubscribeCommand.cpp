#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/SubscriptionStore.hpp"

namespace fedswarm::cli {

namespace {

// What a subscription matches in the catalog now: latest, unretracted versions (the
// catalog's search, the same semantics as Subscription::matches) and how many of them
// this node holds complete.
struct MatchStats {
  std::uint64_t versions = 0;
  std::uint64_t bytes = 0;
  std::uint64_t local_versions = 0;
  std::uint64_t local_bytes = 0;
};

Result<MatchStats> match_stats(const Catalog& catalog, const Subscription& s) {
  constexpr std::size_t kPage = 1000;  // bounds the memory of one search answer
  SearchQuery q;
  q.constraints = s.search_constraints();
  q.limit = kPage;
  MatchStats m;
  for (q.offset = 0;; q.offset += kPage) {
    FEDSWARM_ASSIGN_OR_RETURN(SearchResult r, catalog.search(q));
    for (const auto& d : r.docs) {
      ++m.versions;
      m.bytes += d.size;
      FEDSWARM_ASSIGN_OR_RETURN(std::optional<LocalReplica> local, catalog.local(d.instance_id()));
      if (local && local->state == LocalState::complete) {
        ++m.local_versions;
        m.local_bytes += d.size;
      }
    }
    if (r.docs.size() < kPage || q.offset + kPage >= r.num_found) break;
  }
  return m;
}

nlohmann::json subscription_json(const Subscription& s, const MatchStats& m) {
  nlohmann::json facets = nlohmann::json::object();
  for (const auto& c : s.constraints) facets[c.facet] = c.values;
  return {{"name", s.name},
          {"constraints", s.constraints_text()},
          {"facets", facets},
          {"quota", s.quota ? nlohmann::json(*s.quota) : nlohmann::json(nullptr)},
          {"priority", s.priority},
          {"matching_versions", m.versions},
          {"matching_bytes", m.bytes},
          {"local_complete", m.local_versions},
          {"local_bytes", m.local_bytes}};
}

std::string quota_text(const Subscription& s) { return s.quota ? human_bytes(*s.quota) : "-"; }

}  // namespace

int run_subscribe_add(Context& ctx, const SubscribeOptions& o, std::ostream& out) {
  auto constraints = parse_constraints(std::span<const std::string>(o.constraints));
  if (!constraints) return report_error(constraints.error(), ctx.json);
  Subscription s;
  s.name = o.name;
  s.constraints = std::move(*constraints);
  s.priority = o.priority;
  if (!o.quota.empty()) {
    auto q = parse_size(o.quota);
    if (!q) return report_error(make_error(Errc::invalid, "bad_size", "--quota \"" + o.quota + "\" is not a size (e.g. 500G, 2T)"), ctx.json);
    s.quota = *q;
  }
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  Subscription added;
  auto store = SubscriptionStore::modify(home->dir(), home->projects(), [&](SubscriptionStore& st) -> Status {
    FEDSWARM_ASSIGN_OR_RETURN(added, st.add(s));
    return {};
  });
  if (!store) return report_error(store.error(), ctx.json);
  notify_node(*home);

  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto m = match_stats(**catalog, added);
  if (!m) return report_error(m.error(), ctx.json);
  if (ctx.json) {
    out << nlohmann::json{{"added", subscription_json(added, *m)}}.dump(2) << "\n";
    return exit_ok;
  }
  out << "Subscribed \"" << added.name << "\": " << added.constraints_text() << "\n"
      << "  quota " << (added.quota ? human_bytes(*added.quota) : std::string("none")) << ", priority " << added.priority << "\n"
      << "  matches " << m->versions << " latest version" << (m->versions == 1 ? "" : "s") << " now ("
      << human_bytes(m->bytes) << "), " << m->local_versions << " held here; matching versions published later are "
      << "fetched too\n";
  return exit_ok;
}

int run_subscribe_list(Context& ctx, const SubscribeOptions&, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto store = SubscriptionStore::load(home->dir(), home->projects());
  if (!store) return report_error(store.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  std::vector<MatchStats> stats;
  for (const auto& s : store->subscriptions()) {
    auto m = match_stats(**catalog, s);
    if (!m) return report_error(m.error(), ctx.json);
    stats.push_back(*m);
  }
  const auto& subs = store->subscriptions();
  if (ctx.json) {
    nlohmann::json list = nlohmann::json::array();
    for (std::size_t i = 0; i < subs.size(); ++i) list.push_back(subscription_json(subs[i], stats[i]));
    out << nlohmann::json{{"subscriptions", list}}.dump(2) << "\n";
    return exit_ok;
  }
  if (subs.empty()) {
    out << "No subscriptions. Add one with: fedswarm subscribe add 'experiment_id=historical table_id=Amon'\n";
    return exit_ok;
  }
  Table t({"NAME", "CONSTRAINTS", "PRIORITY", "QUOTA", "MATCHING", "SIZE", "LOCAL"});
  for (std::size_t i = 0; i < subs.size(); ++i)
    t.add({subs[i].name, subs[i].constraints_text(), std::to_string(subs[i].priority), quota_text(subs[i]),
           std::to_string(stats[i].versions), human_bytes(stats[i].bytes),
           std::to_string(stats[i].local_versions) + " (" + human_bytes(stats[i].local_bytes) + ")"});
  t.print(out);
  out << "MATCHING: latest, unretracted versions in the catalog; LOCAL: complete replicas held here.\n";
  return exit_ok;
}

int run_subscribe_remove(Context& ctx, const SubscribeOptions& o, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto store = SubscriptionStore::modify(home->dir(), home->projects(),
                                         [&](SubscriptionStore& st) { return st.remove(o.name); });
  if (!store) return report_error(store.error(), ctx.json);
  notify_node(*home);
  if (ctx.json) out << nlohmann::json{{"removed", o.name}}.dump(2) << "\n";
  else out << "Removed subscription \"" << o.name << "\". Replicas already held stay; no new versions are fetched for it.\n";
  return exit_ok;
}

void add_subscribe_commands(CLI::App& app, Context& ctx) {
  auto* sub = app.add_subcommand("subscribe", "subscriptions: facet filters whose matching versions this node fetches");
  sub->require_subcommand(1);
  auto o = std::make_shared<SubscribeOptions>();

  auto* add = sub->add_subcommand("add", "subscribe to the latest versions matching facet=value constraints");
  add->add_option("constraints", o->constraints,
                  "facet=value pairs, one argument or several: 'experiment_id=historical table_id=Amon' "
                  "(AND across facets, OR within a repeated facet)")
      ->required();
  add->add_option("--name", o->name, "a unique name (default: from the values)");
  add->add_option("--quota", o->quota, "most bytes of local replicas it may fill, e.g. 500G (default: no limit)");
  add->add_option("--priority", o->priority, "higher is fetched first and charged first")->capture_default_str();
  add->callback([&ctx, o] { ctx.exit_code = run_subscribe_add(ctx, *o, std::cout); });

  auto* list = sub->add_subcommand("list", "subscriptions with what they match in the catalog and hold here");
  list->callback([&ctx, o] { ctx.exit_code = run_subscribe_list(ctx, *o, std::cout); });

  auto* remove = sub->add_subcommand("remove", "remove a subscription by name");
  remove->add_option("name", o->name, "subscription name")->required();
  remove->callback([&ctx, o] { ctx.exit_code = run_subscribe_remove(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
