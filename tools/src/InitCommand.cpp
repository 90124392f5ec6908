#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "fedswarm/engine/SelfSignedCertificate.hpp"

namespace fedswarm::cli {

int run_init(Context& ctx, const InitOptions& o, std::ostream& out) {
  auto tier = tier_from_string(o.tier);
  if (!tier) return report_error(make_error(Errc::invalid, "bad_tier", "--tier must be 1, 2 or dark"), ctx.json);
  Config c = Config::defaults(o.site, *tier);
  c.listen = o.listen;
  if (o.swarm_port <= 0 || o.swarm_port > 65535)
    return report_error(make_error(Errc::invalid, "bad_port", "--swarm-port must be 1..65535"), ctx.json);
  c.swarm_port = static_cast<std::uint16_t>(o.swarm_port);
  // Each node of a demo or test runs on its own loopback address: its HTTP face follows
  // the gossip listener's host unless told otherwise.
  if (!o.http_listen.empty()) c.http.listen = o.http_listen;
  else if (auto colon = o.listen.rfind(':'); colon != std::string::npos) c.http.listen = o.listen.substr(0, colon) + ":8443";
  if (c.http.listen.rfind(':') == std::string::npos)
    return report_error(make_error(Errc::invalid, "bad_listen", "--http-listen must be host:port"), ctx.json);
  c.http.public_url = o.http_public_url;
  if (!o.data_root.empty()) c.data_root = o.data_root;
  if (!o.capacity.empty()) {
    auto cap = parse_size(o.capacity);
    if (!cap) return report_error(make_error(Errc::invalid, "bad_size", "--capacity must be a size like 500G or 2T"), ctx.json);
    c.capacity = *cap;
  }
  auto home = NodeHome::init(ctx.home, c);
  if (!home) return report_error(home.error(), ctx.json);
  std::string key = to_hex(home->key().public_key());
  if (ctx.json) {
    out << nlohmann::json{{"home", home->dir().string()}, {"node_key", key}, {"site", c.site},
                          {"tier", std::string(to_string(c.tier))}, {"http_url", home->config().http.url()}}
               .dump(2)
        << "\n";
  } else {
    out << "Created node home " << home->dir().string() << "\n"
        << "  site      " << c.site << " (" << to_string(c.tier) << ")\n"
        << "  node key  " << key << "\n"
        << "  config    " << (home->dir() / "config.toml").string() << "\n"
        << "  http      " << home->config().http.url() << " (listening on " << home->config().http.listen << ")\n";
    if (home->config().http.tls)
      out << "The HTTP face uses " << SelfSignedCertificate::replace_hint(home->config().http) << ".\n";
    out
        << "Next: ask the federation authority to add this node and grant it its institutions\n"
        << "  fedswarm federation add-node --dir AUTHDIR --from-home " << home->dir().string() << "\n"
        << "  fedswarm federation grant --dir AUTHDIR --from-home " << home->dir().string() << " --project CMIP6 --institution INST\n"
        << "then import the roster it issues: fedswarm --home " << home->dir().string() << " federation import roster.fsr\n";
  }
  return exit_ok;
}

void add_init_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "create a node home: key, config, empty catalog");
  cmd->add_option("--site", o->site, "site name, as it will appear in the roster")->required();
  cmd->add_option("--tier", o->tier, "1 (Tier-1 centre), 2 (data node) or dark (subscribing mirror)")->required();
  cmd->add_option("--listen", o->listen, "gossip listen address host:port")->capture_default_str();
  cmd->add_option("--swarm-port", o->swarm_port, "libtorrent listen port")->capture_default_str();
  cmd->add_option("--http-listen", o->http_listen, "HTTPS listen address host:port (default: the --listen host, port 8443)");
  cmd->add_option("--http-public-url", o->http_public_url, "URL clients reach the node by (default: https://<http listen>)");
  cmd->add_option("--data-root", o->data_root, "replica DRS tree (default: <home>/data)");
  cmd->add_option("--capacity", o->capacity, "bytes offered for replicas, e.g. 500G (default: free space)");
  cmd->callback([&ctx, o] { ctx.exit_code = run_init(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
