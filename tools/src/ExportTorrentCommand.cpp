#include <iostream>
#include <nlohmann/json.hpp>

#include "Commands.hpp"
#include "Output.hpp"
#include "ProgressBar.hpp"
#include "fedswarm/engine/TorrentExport.hpp"
#include "fedswarm/storage/AtomicFile.hpp"

namespace fedswarm::cli {

int run_export_torrent(Context& ctx, const ExportTorrentOptions& o, std::ostream& out) {
  auto [dataset_id, version] = split_instance_id(o.target);
  if (version.empty())
    return report_error(make_error(Errc::invalid, "no_version", "name the version to export: DATASET.vYYYYMMDD"), ctx.json);
  auto home = ctx.open_home();
  if (!home) return report_error(home.error(), ctx.json);
  auto catalog = home->open_catalog(true);
  if (!catalog) return report_error(catalog.error(), ctx.json);
  auto known = (*catalog)->version(o.target);
  if (!known) return report_error(known.error(), ctx.json);
  if (!*known)
    return report_error(make_error(Errc::not_found, "unknown_version", o.target + " is not in this catalog; try `fedswarm search`"), ctx.json);
  auto manifest = (*catalog)->manifest(o.target);
  if (!manifest) return report_error(manifest.error(), ctx.json);
  auto local = (*catalog)->local(o.target);
  if (!local) return report_error(local.error(), ctx.json);
  if (!*local || (*local)->state != LocalState::complete || (*local)->path.empty())
    return report_error(make_error(Errc::not_found, "export_needs_replica",
                                   "export-torrent needs a complete local replica of " + o.target +
                                       " to compute the piece layers (" +
                                       (*local ? "the local copy is " + std::string(to_string((*local)->state))
                                               : std::string("this node holds none")) +
                                       "); run it on a node that holds the version, or subscribe to it here first"),
                        ctx.json);
  if ((*known)->retraction)
    std::cerr << "fedswarm: warning: " << o.target << " is retracted: " << (*known)->retraction->reason << "\n";

  ProgressBar bar("hashing");
  auto exported = export_torrent(*manifest, (*local)->path,
                                 [&](const TorrentExportProgress& p) { bar.update(p.bytes_done, p.bytes_total, p.current); });
  bar.finish();
  if (!exported) return report_error(exported.error().with_context(o.target), ctx.json);
  if (auto st = write_file_atomic(o.output, ByteView(exported->torrent)); !st) return report_error(st.error(), ctx.json);

  const std::string hash = to_hex(exported->info_hash);
  if (ctx.json) {
    out << nlohmann::json{{"instance_id", o.target},  {"file", o.output},
                          {"info_hash_v2", hash},     {"files", exported->files},
                          {"bytes", exported->bytes}, {"piece_length", exported->piece_length},
                          {"piece_layers", exported->piece_layers}, {"torrent_bytes", exported->torrent.size()},
                          {"rebuilt_identical", exported->rebuilt_identical}}
               .dump(2)
        << "\n";
    return exit_ok;
  }
  out << "Wrote " << o.output << " (" << human_bytes(exported->torrent.size()) << ")\n"
      << "  version       " << o.target << "\n"
      << "  info-hash v2  " << hash << " (the manifest's)\n"
      << "  files         " << exported->files << ", " << human_bytes(exported->bytes) << ", piece length "
      << human_bytes(exported->piece_length) << ", " << exported->piece_layers << " piece layer"
      << (exported->piece_layers == 1 ? "" : "s") << "\n";
  if (!exported->rebuilt_identical)
    out << "  note          this libtorrent lays out the info dict differently from the publisher's; the file carries "
           "the publisher's signed info dict unchanged\n";
  return exit_ok;
}

void add_export_torrent_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ExportTorrentOptions>();
  auto* cmd = app.add_subcommand("export-torrent", "write a standard BitTorrent v2 .torrent of a dataset version held here");
  cmd->add_option("version", o->target, "DATASET.vVERSION")->required();
  cmd->add_option("-o,--output", o->output, ".torrent file to write")->required();
  cmd->callback([&ctx, o] { ctx.exit_code = run_export_torrent(ctx, *o, std::cout); });
}

}  // namespace fedswarm::cli
