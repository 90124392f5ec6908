#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "Table.hpp"
#include "fedswarm/engine/AuthorityImport.hpp"
#include "fedswarm/engine/FederationAuthority.hpp"
#include "fedswarm/protocol/RecordBundle.hpp"
#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm::cli {

namespace {

// The key named by --from-home or --key.
Result<PublicKey> target_key(const FederationOptions& o, std::optional<NodeHome>* home_out = nullptr) {
  if (!o.node_home.empty()) {
    auto home = NodeHome::open(o.node_home);
    if (!home) return std::move(home).error();
    PublicKey k = home->key().public_key();
    if (home_out) home_out->emplace(std::move(*home));
    return k;
  }
  if (o.key.empty()) return make_error(Errc::invalid, "no_key", "name the node with --from-home HOME or --key HEX");
  auto k = fixed_from_hex<32>(o.key);
  if (!k) return make_error(Errc::invalid, "bad_key", "--key must be 64 hex digits (the node key `fedswarm status` shows)");
  return *k;
}

nlohmann::json roster_json(const Roster& r) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : r.members)
    members.push_back({{"site", m.site}, {"key", to_hex(m.key)}, {"tier", std::string(to_string(m.tier))},
                       {"endpoints", m.endpoints}, {"swarm_port", m.swarm_port}, {"capacity", m.capacity},
                       {"http_url", m.http_url}});
  nlohmann::json grants = nlohmann::json::array();
  for (const auto& g : r.grants)
    grants.push_back({{"key", to_hex(g.key)}, {"projects", g.projects}, {"institutions", g.institutions}});
  return {{"federation", r.federation}, {"serial", r.serial}, {"issued_at", r.issued_at},
          {"expires_at", r.expires_at}, {"members", members}, {"grants", grants}};
}

void print_roster(const Roster& r, std::ostream& out) {
  out << "Federation " << r.federation << ", roster serial " << r.serial << ", issued " << human_time(r.issued_at)
      << ", expires " << human_time(r.expires_at) << "\n\n";
  Table members({"SITE", "TIER", "KEY", "ENDPOINTS", "SWARM", "HTTP", "CAPACITY"});
  for (const auto& m : r.members) {
    std::string eps;
    for (const auto& e : m.endpoints) eps += (eps.empty() ? "" : ",") + e;
    members.add({m.site, std::string(to_string(m.tier)), short_key(m.key), eps.empty() ? "-" : eps,
                 m.swarm_port ? std::to_string(m.swarm_port) : "-", m.http_url.empty() ? "-" : m.http_url,
                 m.capacity ? human_bytes(m.capacity) : "-"});
  }
  members.print(out);
  out << "\n";
  Table grants({"PUBLISHER", "SITE", "PROJECTS", "INSTITUTIONS"});
  for (const auto& g : r.grants) {
    const RosterMember* m = r.member(g.key);
    std::string ps, is;
    for (const auto& p : g.projects) ps += (ps.empty() ? "" : ",") + p;
    for (const auto& i : g.institutions) is += (is.empty() ? "" : ",") + i;
    grants.add({short_key(g.key), m ? m->site : "-", ps, is.empty() ? "(all)" : is});
  }
  grants.print(out);
}

}  // namespace

int run_federation_init(Context& ctx, const FederationOptions& o, std::ostream& out) {
  auto a = FederationAuthority::init(o.dir, o.name);
  if (!a) return report_error(a.error(), ctx.json);
  if (ctx.json) {
    out << nlohmann::json{{"dir", o.dir}, {"federation", o.name}, {"authority_key", to_hex(a->public_key())}}.dump(2) << "\n";
  } else {
    out << "Created federation authority \"" << o.name << "\" in " << o.dir << "\n"
        << "  authority key  " << to_hex(a->public_key()) << "\n"
        << "Keep " << o.dir << "/authority.key offline. Nodes pin this key on their first roster import.\n";
  }
  return exit_ok;
}

int run_federation_add_node(Context& ctx, const FederationOptions& o, std::ostream& out) {
  auto a = FederationAuthority::open(o.dir);
  if (!a) return report_error(a.error(), ctx.json);
  std::optional<NodeHome> home;
  auto key = target_key(o, &home);
  if (!key) return report_error(key.error(), ctx.json);
  RosterMember m;
  m.key = *key;
  if (home) {
    m.site = home->config().site;
    m.tier = home->config().tier;
    m.endpoints = {home->config().listen};
    m.swarm_port = home->config().swarm_port;
    m.capacity = home->config().capacity;
    if (home->config().http.enabled) m.http_url = home->config().http.url();
  }
  if (!o.site.empty()) m.site = o.site;
  if (!o.tier.empty()) {
    auto t = tier_from_string(o.tier);
    if (!t) return report_error(make_error(Errc::invalid, "bad_tier", "--tier must be 1, 2 or dark"), ctx.json);
    m.tier = *t;
  }
  if (!o.endpoints.empty()) m.endpoints = o.endpoints;
  if (o.swarm_port > 0) m.swarm_port = static_cast<std::uint16_t>(o.swarm_port);
  if (!o.http_url.empty()) m.http_url = o.http_url;
  if (!o.capacity.empty()) {
    auto cap = parse_size(o.capacity);
    if (!cap) return report_error(make_error(Errc::invalid, "bad_size", "--capacity must be a size like 500G"), ctx.json);
    m.capacity = *cap;
  }
  if (auto st = a->add_member(m); !st) return report_error(st.error(), ctx.json);
  if (ctx.json) out << nlohmann::json{{"site", m.site}, {"key", to_hex(m.key)}, {"tier", std::string(to_string(m.tier))}}.dump(2) << "\n";
  else out << "Added " << m.site << " (" << to_string(m.tier) << ", key " << short_key(m.key) << ") to the draft roster; issue it with `fedswarm federation roster`\n";
  return exit_ok;
}

int run_federation_grant(Context& ctx, const FederationOptions& o, std::ostream& out) {
  auto a = FederationAuthority::open(o.dir);
  if (!a) return report_error(a.error(), ctx.json);
  auto key = target_key(o);
  if (!key) return report_error(key.error(), ctx.json);
  if (auto st = a->grant(*key, o.projects, o.institutions); !st) return report_error(st.error(), ctx.json);
  if (ctx.json) out << nlohmann::json{{"key", to_hex(*key)}, {"projects", o.projects}, {"institutions", o.institutions}}.dump(2) << "\n";
  else {
    out << "Granted " << short_key(*key) << " publishing of";
    for (const auto& p : o.projects) out << " " << p;
    if (o.institutions.empty()) out << " (all institutions)";
    else {
      out << " for";
      for (const auto& i : o.institutions) out << " " << i;
    }
    out << "\n";
  }
  return exit_ok;
}

int run_federation_roster(Context& ctx, const FederationOptions& o, std::ostream& out) {
  auto a = FederationAuthority::open(o.dir);
  if (!a) return report_error(a.error(), ctx.json);
  auto valid = parse_duration(o.valid);
  if (!valid || *valid <= 0) return report_error(make_error(Errc::invalid, "bad_duration", "--valid must be a duration like 365d"), ctx.json);
  auto env = a->issue_roster(now_seconds(), *valid);
  if (!env) return report_error(env.error(), ctx.json);
  // The file carries the authority's whole log, so an importing node never has a gap.
  auto log = a->log();
  if (!log) return report_error(log.error(), ctx.json);
  if (auto st = write_file_atomic(o.output, encode_bundle(*log)); !st) return report_error(st.error(), ctx.json);
  auto roster = Roster::decode(env->body);
  if (ctx.json) out << nlohmann::json{{"file", o.output}, {"serial", roster->serial}, {"expires_at", roster->expires_at}, {"records", log->size()}}.dump(2) << "\n";
  else out << "Wrote roster serial " << roster->serial << " (" << roster->members.size() << " members, " << roster->grants.size()
           << " grants, expires " << human_time(roster->expires_at) << ") to " << o.output << "\n";
  return exit_ok;
}

int run_federation_import(Context& ctx, const FederationOptions& o, std::ostream& out) {
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto bytes = read_whole_file(o.file);
  if (!bytes) return report_error(bytes.error(), ctx.json);
  auto records = decode_bundle(*bytes);
  if (!records) return report_error(records.error().with_context(o.file), ctx.json);
  auto catalog = home->open_catalog();
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto result = import_authority_records(*home, **catalog, *records, now_seconds());
  if (!result) return report_error(result.error().with_context(o.file), ctx.json);
  const auto& current = result->current;
  if (ctx.json) {
    out << nlohmann::json{{"serial", current ? current->serial : 0}, {"authority_key", to_hex(result->authority)},
                          {"pinned", result->pinned_now}, {"stored", result->stored}, {"already_known", result->duplicates}}
               .dump(2)
        << "\n";
  } else {
    if (result->pinned_now)
      out << "Pinned federation authority key " << to_hex(result->authority) << "\n"
          << "  (compare it with the key the authority published; later rosters must be signed by it)\n";
    if (current)
      out << "Roster serial " << current->serial << " of federation " << current->federation << " is in force: "
          << current->members.size() << " members, " << current->grants.size() << " publisher grants ("
          << result->stored << " new authority records)\n";
  }
  return exit_ok;
}

int run_federation_show(Context& ctx, const FederationOptions& o, std::ostream& out) {
  Roster r;
  if (!o.dir.empty()) {
    auto a = FederationAuthority::open(o.dir);
    if (!a) return report_error(a.error(), ctx.json);
    r.federation = a->name() + " (draft)";
    r.serial = a->last_serial();
    r.members = a->members();
    r.grants = a->grants();
  } else {
    auto home = ctx.open_home();
    if (!home) return report_error(home.error(), ctx.json);
    auto catalog = home->open_catalog(true);
    if (!catalog) return report_error(catalog.error(), ctx.json);
    auto roster = (*catalog)->roster();
    if (!roster) return report_error(roster.error(), ctx.json);
    if (!*roster)
      return report_error(make_error(Errc::not_found, "no_roster", "no roster imported yet; run `fedswarm federation import ROSTER.fsr`"), ctx.json);
    r = **roster;
  }
  if (ctx.json) out << roster_json(r).dump(2) << "\n";
  else print_roster(r, out);
  return exit_ok;
}

void add_federation_commands(CLI::App& app, Context& ctx) {
  auto* fed = app.add_subcommand("federation", "federation authority: members, publisher grants, signed rosters");
  fed->require_subcommand(1);
  auto o = std::make_shared<FederationOptions>();

  auto* init = fed->add_subcommand("init", "create a federation authority key and draft roster in --dir");
  init->add_option("--dir", o->dir, "authority folder (keep it offline)")->required();
  init->add_option("--name", o->name, "federation name")->required();
  init->callback([&ctx, o] { ctx.exit_code = run_federation_init(ctx, *o, std::cout); });

  auto node_target = [o](CLI::App* c) {
    c->add_option("--from-home", o->node_home, "read the node's key, site, tier and endpoints from its home");
    c->add_option("--key", o->key, "the node's public key (hex)");
  };

  auto* add = fed->add_subcommand("add-node", "add or update a member node in the draft roster");
  add->add_option("--dir", o->dir, "authority folder")->required();
  node_target(add);
  add->add_option("--site", o->site, "site name");
  add->add_option("--tier", o->tier, "1, 2 or dark");
  add->add_option("--endpoint", o->endpoints, "gossip endpoint host:port (repeatable)");
  add->add_option("--swarm-port", o->swarm_port, "libtorrent port");
  add->add_option("--capacity", o->capacity, "bytes offered for replicas, e.g. 500T");
  add->add_option("--http-url", o->http_url,
                  "the node's HTTP face, e.g. https://esgf.example.org:8443 (default: its [http] public_url)");
  add->callback([&ctx, o] { ctx.exit_code = run_federation_add_node(ctx, *o, std::cout); });

  auto* grant = fed->add_subcommand("grant", "allow a key to publish projects/institutions");
  grant->add_option("--dir", o->dir, "authority folder")->required();
  node_target(grant);
  grant->add_option("--project", o->projects, "project (repeatable), e.g. CMIP6")->required();
  grant->add_option("--institution", o->institutions, "institution_id (repeatable; none = all)");
  grant->callback([&ctx, o] { ctx.exit_code = run_federation_grant(ctx, *o, std::cout); });

  auto* roster = fed->add_subcommand("roster", "sign the draft as the next roster serial");
  roster->add_option("--dir", o->dir, "authority folder")->required();
  roster->add_option("-o,--output", o->output, "roster file to write (.fsr)")->required();
  roster->add_option("--valid", o->valid, "validity, e.g. 365d")->capture_default_str();
  roster->callback([&ctx, o] { ctx.exit_code = run_federation_roster(ctx, *o, std::cout); });

  auto* import = fed->add_subcommand("import", "import a signed roster into this node (pins the authority key the first time)");
  import->add_option("file", o->file, "roster file")->required();
  import->callback([&ctx, o] { ctx.exit_code = run_federation_import(ctx, *o, std::cout); });

  auto* show = fed->add_subcommand("show", "show this node's current roster (or an authority's draft with --dir)");
  show->add_option("--dir", o->dir, "show the draft in this authority folder instead");
  show->callback([&ctx, o] { ctx.exit_code = run_federation_show(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
