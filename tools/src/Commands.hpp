// Every `fedswarm` subcommand: an options struct, a run function (also called in-process
// by `fedswarm demo`), and the CLI11 registration. Run functions write human or JSON
// output to `out` and return an ExitCode (Output.hpp).
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "fedswarm/engine/NodeHome.hpp"

namespace fedswarm::cli {

// Options every command shares.
struct Context {
  std::string home;   // --home, or $FEDSWARM_HOME, or ~/.fedswarm
  bool json = false;  // --json
  int exit_code = 0;  // set by the command that ran

  Result<NodeHome> open_home() const;
};

struct InitOptions {
  std::string site;
  std::string tier = "2";
  std::string listen = "127.0.0.1:7400";
  int swarm_port = 7401;
  std::string http_listen;  // empty: the --listen host, port 8443
  std::string http_public_url;
  std::string data_root;
  std::string capacity;
};
int run_init(Context& ctx, const InitOptions& o, std::ostream& out);

struct FederationOptions {
  std::string dir;         // authority folder
  std::string name;        // federation init
  std::string node_home;   // add-node/grant: read key, site, tier, endpoints from a node home
  std::string key;         // or give the key in hex
  std::string site;
  std::string tier;
  std::vector<std::string> endpoints;
  int swarm_port = 0;
  std::string capacity;
  std::string http_url;    // add-node: the member's HTTP face
  std::vector<std::string> projects;
  std::vector<std::string> institutions;
  std::string output;      // roster file
  std::string valid = "365d";
  std::string file;        // import
};
int run_federation_init(Context& ctx, const FederationOptions& o, std::ostream& out);
int run_federation_add_node(Context& ctx, const FederationOptions& o, std::ostream& out);
int run_federation_grant(Context& ctx, const FederationOptions& o, std::ostream& out);
int run_federation_roster(Context& ctx, const FederationOptions& o, std::ostream& out);
int run_federation_import(Context& ctx, const FederationOptions& o, std::ostream& out);
int run_federation_show(Context& ctx, const FederationOptions& o, std::ostream& out);

struct PublishOptionsCli {
  std::vector<std::string> paths;
  bool dry_run = false;
};
int run_publish(Context& ctx, const PublishOptionsCli& o, std::ostream& out);

struct SearchOptions {
  std::vector<std::string> constraints;  // facet=value
  std::string facets;                    // "f1,f2" or "all"
  bool all_versions = false;
  bool include_retracted = false;
  std::size_t limit = 10;
  std::size_t offset = 0;
};
int run_search(Context& ctx, const SearchOptions& o, std::ostream& out);

struct ShowOptions {
  std::string target;  // DATASET or DATASET.vVERSION
  bool files = true;
};
int run_show(Context& ctx, const ShowOptions& o, std::ostream& out);

struct RetractOptions {
  std::string target;  // DATASET.vVERSION
  std::string reason;
  std::string errata;
  std::string as_authority;  // authority folder: sign as the federation authority
  // --errata-file: an ES-DOC errata issue (JSON) instead of target/reason/errata: every
  // listed version this node published is retracted, all in one transaction.
  std::string errata_file;
  bool dry_run = false;  // with --errata-file: report only, sign nothing
};
int run_retract(Context& ctx, const RetractOptions& o, std::ostream& out);

struct CheckOptions {
  std::vector<std::string> targets;  // files or tracking ids
};
int run_check(Context& ctx, const CheckOptions& o, std::ostream& out);

struct StatusOptions {};
int run_status(Context& ctx, const StatusOptions& o, std::ostream& out);

struct NodeRunOptionsCli {
  std::string log_level = "info";
};
int run_node_run(Context& ctx, const NodeRunOptionsCli& o, std::ostream& out);

struct TransfersOptions {
  bool all = false;  // include seeds
  // --resume [ID]: retry paused transfers now (all, or the one named) instead of at the
  // next automatic retry; then list as usual.
  std::optional<std::string> resume;
};
int run_transfers(Context& ctx, const TransfersOptions& o, std::ostream& out);

struct PeersOptions {};
int run_peers(Context& ctx, const PeersOptions& o, std::ostream& out);

struct ComplianceOptions {
  std::string max_age = "24h";  // --max-age: exit 12 if a violation has lasted this long
  std::string status;           // --status: only this status
  std::optional<std::uint64_t> limit;  // --limit
  std::uint64_t offset = 0;     // --offset
};
int run_compliance(Context& ctx, const ComplianceOptions& o, std::ostream& out);

struct HealthOptions {};
int run_health(Context& ctx, const HealthOptions& o, std::ostream& out);

// After a command appended records to the catalog: asks a running node to push them
// now. Silent when no node runs (the node finds them at its next round when started).
void notify_node(const NodeHome& home);

struct DemoOptions {
  bool keep = false;
  std::string dir;
  std::uint64_t seed = 0;
  std::string file_size;  // --file-size, e.g. 2.5M; empty = the default
};
int run_demo(Context& ctx, const DemoOptions& o, std::ostream& out);

struct SubscribeOptions {
  std::vector<std::string> constraints;  // add: facet=value pairs (several per argument allowed)
  std::string name;                      // add: --name; remove: the name
  std::string quota;                     // add: --quota SIZE
  std::int64_t priority = 0;             // add: --priority
};
int run_subscribe_add(Context& ctx, const SubscribeOptions& o, std::ostream& out);
int run_subscribe_list(Context& ctx, const SubscribeOptions& o, std::ostream& out);
int run_subscribe_remove(Context& ctx, const SubscribeOptions& o, std::ostream& out);

struct VerifyOptions {
  std::vector<std::string> targets;  // DATASET or DATASET.vVERSION; none = every complete local replica
  bool full = false;                 // SHA-256 instead of xxh3-128
};
int run_verify(Context& ctx, const VerifyOptions& o, std::ostream& out);

struct ExportTorrentOptions {
  std::string target;  // DATASET.vVERSION
  std::string output;  // .torrent file
};
int run_export_torrent(Context& ctx, const ExportTorrentOptions& o, std::ostream& out);

void add_init_command(CLI::App& app, Context& ctx);
void add_federation_commands(CLI::App& app, Context& ctx);
void add_publish_command(CLI::App& app, Context& ctx);
void add_search_command(CLI::App& app, Context& ctx);
void add_show_command(CLI::App& app, Context& ctx);
void add_retract_command(CLI::App& app, Context& ctx);
void add_check_command(CLI::App& app, Context& ctx);
void add_status_command(CLI::App& app, Context& ctx);
void add_demo_command(CLI::App& app, Context& ctx);
void add_node_commands(CLI::App& app, Context& ctx);
void add_peers_command(CLI::App& app, Context& ctx);
void add_transfers_command(CLI::App& app, Context& ctx);
void add_compliance_command(CLI::App& app, Context& ctx);
void add_health_command(CLI::App& app, Context& ctx);
void add_subscribe_commands(CLI::App& app, Context& ctx);
void add_verify_command(CLI::App& app, Context& ctx);
void add_export_torrent_command(CLI::App& app, Context& ctx);

// Splits "CMIP6.….gr.v20190101" into dataset id and version; version empty if the
// last component is not vYYYYMMDD-shaped.
std::pair<std::string, std::string> split_instance_id(const std::string& s);

}  // namespace fedswarm::cli
