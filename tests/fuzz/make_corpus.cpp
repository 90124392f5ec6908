// make_corpus: writes the seed corpus of the protocol fuzz targets from the project's own
// encoders, so every seed is a real frame, handshake, gossip message, envelope, bundle,
// info dict or dataset id. Usage: make_corpus <corpus dir> (writes <dir>/<target>/seed-*).
// The query targets (fuzz_esg_query, fuzz_solr_query) are seeded by make_query_corpus.py.
//
// Deterministic: keys come from fixed seeds, manifests from a fixed mt19937_64 seed, and
// libsodium's randomness (the handshake's ephemeral keys) from a fixed generator. That
// generator differs from fuzz_handshake's on purpose: a seed recorded here never carries
// an AUTH that completes the fuzz target's handshake (which the target treats as a bug).
#include <sodium.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ManifestFactory.hpp"
#include "fedswarm/protocol/Bencode.hpp"
#include "fedswarm/protocol/Claim.hpp"
#include "fedswarm/protocol/Envelope.hpp"
#include "fedswarm/protocol/FrameCodec.hpp"
#include "fedswarm/protocol/GossipMessage.hpp"
#include "fedswarm/protocol/Handshake.hpp"
#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/RecordBundle.hpp"
#include "fedswarm/protocol/ReplicaRecord.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/SecureChannel.hpp"
#include "publish/InfoDictBuilder.hpp"

namespace fs = std::filesystem;
using namespace fedswarm;

namespace {

std::uint64_t g_rng = 0xfeed5eed;  // not fuzz_handshake's 1, see the header comment

std::uint64_t next_u64() {
  std::uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
const char* rng_name() { return "make-corpus"; }
std::uint32_t rng_random() { return static_cast<std::uint32_t>(next_u64()); }
void rng_buf(void* const buf, const std::size_t size) {
  auto* p = static_cast<unsigned char*>(buf);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<unsigned char>(next_u64());
}
randombytes_implementation g_impl = {rng_name, rng_random, nullptr, nullptr, rng_buf, nullptr};

fs::path g_out;
std::size_t g_written = 0;

void write(const std::string& target, const std::string& name, ByteView bytes) {
  fs::create_directories(g_out / target);
  std::ofstream f(g_out / target / ("seed-" + name), std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + (g_out / target / name).string());
  ++g_written;
}
void write(const std::string& target, const std::string& name, std::string_view text) {
  write(target, name, as_bytes(text));
}

Bytes cat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

SigningKey key_from(std::uint8_t fill) {
  SigningKey::Seed s;
  s.bytes.fill(fill);
  return SigningKey::from_seed(s);
}

nlohmann::json load_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

// One federation's worth of real records: the authority's rosters, a publisher's
// manifests (a new version superseding an old one), a retraction, replica records and
// Tier-1 claims.
struct Records {
  std::vector<Manifest> manifests;
  std::vector<Envelope> authority_log;  // rosters, serial 1..n
  std::vector<Envelope> publisher_log;  // manifests and the retraction
  std::vector<Envelope> node_log;       // replica records and claims
  std::vector<Bytes> bodies;            // one raw body of each kind
};

Records make_records(const test::ManifestFactory& factory, const SigningKey& authority, const SigningKey& publisher,
                     const SigningKey& node, const SigningKey& other) {
  Records r;
  std::mt19937_64 rng(20190308);
  test::DatasetSpec ipsl;
  ipsl.activity = "CMIP";
  ipsl.institution = "IPSL";
  ipsl.source = "IPSL-CM6A-LR";
  ipsl.experiment = "historical";
  ipsl.grid = "gr";
  const Manifest old_v = factory.make(ipsl, "v20180803", 3, rng);
  const Manifest new_v = factory.make(ipsl, "v20190308", 3, rng, {Facet{"frequency", {"mon"}}}, old_v.version);
  test::DatasetSpec fx = ipsl;
  fx.table = "fx";
  fx.variable = "areacella";
  r.manifests = {old_v, new_v, factory.make(fx, "v20180803", 1, rng), factory.make(factory.random_dataset(rng), test::version_string(1500), 6, rng)};

  auto m1 = test::member(node, "DKRZ", Tier::tier1);
  m1.http_url = "https://dkrz.example:8443";
  auto m2 = test::member(other, "CEDA", Tier::tier2);
  auto m3 = test::member(publisher, "IPSL", Tier::tier1);
  std::vector<Roster> rosters = {test::make_roster(1, {m3}, {test::grant(publisher)}),
                                 test::make_roster(2, {m3, m1}, {test::grant(publisher, {"IPSL"})}),
                                 test::make_roster(3, {m3, m1, m2}, {test::grant(publisher, {"IPSL", "CNRM-CERFACS"})})};
  for (std::size_t i = 0; i < rosters.size(); ++i)
    r.authority_log.push_back(Envelope::sign(authority, i + 1, RecordKind::roster, rosters[i].encode()));

  std::uint64_t seq = 0;
  for (const auto& m : r.manifests) r.publisher_log.push_back(Envelope::sign(publisher, ++seq, RecordKind::manifest, m.encode()));
  Retraction ret;
  ret.dataset_id = old_v.dataset_id;
  ret.version = old_v.version;
  ret.reason = "Versioning errors for 1pctCO2 and abrupt-4xCO2";  // the IPSL errata issue's title
  ret.errata_id = "6838a44b-48eb-89a3-8090-c9315a79f3de";
  ret.retracted_at = 1'532'680'317;
  r.publisher_log.push_back(Envelope::sign(publisher, ++seq, RecordKind::retraction, ret.encode()));

  seq = 0;
  ReplicaRecord rep{new_v.dataset_id, new_v.version, ReplicaState::complete, 1'700'000'100};
  Claim take{new_v.dataset_id, new_v.version, ClaimAction::take, 1'700'086'400, 1'700'000'000};
  Claim release{new_v.dataset_id, new_v.version, ClaimAction::release, 0, 1'700'050'000};
  ReplicaRecord drop{old_v.dataset_id, old_v.version, ReplicaState::dropped, 1'700'000'200};
  r.node_log.push_back(Envelope::sign(node, ++seq, RecordKind::claim, take.encode()));
  r.node_log.push_back(Envelope::sign(node, ++seq, RecordKind::replica, rep.encode()));
  r.node_log.push_back(Envelope::sign(node, ++seq, RecordKind::replica, drop.encode()));
  r.node_log.push_back(Envelope::sign(node, ++seq, RecordKind::claim, release.encode()));

  r.bodies = {new_v.encode(), ret.encode(), rep.encode(), take.encode(), rosters.back().encode()};
  return r;
}

void envelopes(const Records& r) {
  const char* kinds[] = {"manifest", "retraction", "replica", "claim", "roster"};
  int i = 0;
  for (const auto& e : r.publisher_log) write("fuzz_envelope", "publisher-" + std::to_string(++i), e.encode());
  i = 0;
  for (const auto& e : r.node_log) write("fuzz_envelope", "node-" + std::to_string(++i), e.encode());
  write("fuzz_envelope", "roster", r.authority_log.back().encode());
  for (std::size_t k = 0; k < r.bodies.size(); ++k) write("fuzz_envelope", std::string("body-") + kinds[k], r.bodies[k]);
}

// fuzz_record_validator's roster knows one member, the all-zero key (granted CMIP6), and
// the authority key 01 00…; signatures count as checked. Real bodies under those keys
// reach the receipt rules.
void validator(const Records& r) {
  PublicKey member;
  PublicKey authority;
  authority.bytes[0] = 1;
  auto as = [](const Envelope& src, const PublicKey& author, std::uint64_t seq) {
    Envelope e = src;
    e.author = author;
    e.seq = seq;
    return e.encode();
  };
  std::uint64_t seq = 0;
  int i = 0;
  for (const auto& e : r.publisher_log) write("fuzz_record_validator", "publisher-" + std::to_string(++i), as(e, member, ++seq));
  i = 0;
  for (const auto& e : r.node_log) write("fuzz_record_validator", "node-" + std::to_string(++i), as(e, member, ++seq));
  write("fuzz_record_validator", "roster", as(r.authority_log.back(), authority, 2));
}

void bundles(const Records& r) {
  write("fuzz_record_bundle", "authority-log", encode_bundle(r.authority_log));
  write("fuzz_record_bundle", "first-roster", encode_bundle(std::span(r.authority_log).first(1)));
  write("fuzz_record_bundle", "empty", encode_bundle({}));
  std::vector<Envelope> mixed = r.authority_log;
  mixed.insert(mixed.end(), r.publisher_log.begin(), r.publisher_log.end());
  mixed.insert(mixed.end(), r.node_log.begin(), r.node_log.end());
  write("fuzz_record_bundle", "mixed", encode_bundle(mixed));
}

std::vector<GossipMessage> gossip(const Records& r, const SigningKey& authority, const SigningKey& publisher,
                                  const SigningKey& node) {
  std::vector<GossipMessage> out;
  Heartbeat h;
  h.free_capacity = 7ull << 40;
  h.transfer_load = 3;
  h.software_version = "fedswarm 0.1.0 (66c1521)";
  h.uptime_s = 86'400;
  h.roster_serial = 3;
  h.records_known = r.authority_log.size() + r.publisher_log.size() + r.node_log.size();
  out.push_back({h});
  Digest d;
  d.entries = {DigestEntry{authority.public_key(), r.authority_log.size()},
               DigestEntry{publisher.public_key(), r.publisher_log.size()}, DigestEntry{node.public_key(), 2}};
  out.push_back({d});
  d.reply = true;
  d.entries.back().seq = r.node_log.size();
  out.push_back({d});
  out.push_back({RecordBatch{r.authority_log}});
  out.push_back({RecordBatch{r.publisher_log}});
  out.push_back({RecordBatch{std::vector<Envelope>(r.node_log.begin() + 2, r.node_log.end())}});
  out.push_back({RecordBatch{}});
  return out;
}

void gossip_seeds(const std::vector<GossipMessage>& msgs) {
  const char* names[] = {"heartbeat", "digest", "digest-reply", "batch-rosters", "batch-publisher", "batch-node", "batch-empty"};
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const Bytes m = msgs[i].encode();
    const Bytes mode = {0};  // even first byte: decode the rest as is
    write("fuzz_gossip_message", names[i], cat({mode, m}));
  }
}

Bytes frame16(ByteView f) {
  Bytes out = {static_cast<std::uint8_t>(f.size() >> 8), static_cast<std::uint8_t>(f.size())};
  out.insert(out.end(), f.begin(), f.end());
  return out;
}

// A real handshake between `a` (initiator) and `b` (responder), then the gossip messages
// sealed both ways: the frames a peer link carries, in order.
void handshake_and_link(const SigningKey& a, const SigningKey& b, const std::vector<GossipMessage>& msgs) {
  auto all = [](const PublicKey&) { return true; };
  Handshake ini(Handshake::Role::initiator, a, b.public_key(), all);
  Handshake resp(Handshake::Role::responder, b, std::nullopt, all);
  (void)resp.start();
  const Bytes hello_i = ini.start().at(0);
  auto r1 = resp.on_frame(hello_i);
  if (!r1 || r1->size() != 2) throw std::runtime_error("responder did not answer HELLO");
  const Bytes hello_r = r1->at(0), auth_r = r1->at(1);
  auto i1 = ini.on_frame(hello_r);
  auto i2 = ini.on_frame(auth_r);
  if (!i1 || !i2) throw std::runtime_error("initiator refused the responder");
  std::vector<Bytes> from_i = *i1;
  from_i.insert(from_i.end(), i2->begin(), i2->end());
  if (from_i.size() != 1) throw std::runtime_error("initiator sent no AUTH");
  const Bytes auth_i = from_i[0];
  if (!resp.on_frame(auth_i) || !ini.done() || !resp.done()) throw std::runtime_error("handshake did not complete");

  // fuzz_handshake: mode 0 = a responder fed the initiator's frames, mode 1 = an
  // initiator fed the responder's; opts bit 0 admits, bit 1 names the key dialled. The
  // fuzz target's own ephemeral keys differ from these, so AUTH stops at its check.
  write("fuzz_handshake", "responder-hello-auth", cat({Bytes{0, 1}, frame16(hello_i), frame16(auth_i)}));
  write("fuzz_handshake", "responder-refuses", cat({Bytes{0, 0}, frame16(hello_i)}));
  write("fuzz_handshake", "initiator-hello-auth", cat({Bytes{1, 3}, frame16(hello_r), frame16(auth_r)}));
  write("fuzz_handshake", "initiator-any-key", cat({Bytes{1, 1}, frame16(hello_r), frame16(auth_r)}));
  // Mode 2: both sides real; per step a direction byte and an action byte (0 deliver,
  // 2 flip, 3 truncate, 4 extend, 5 replace, 6 drop, 7 duplicate) and their operands.
  // Mode 2: both sides real. Each step (while only one side has frames in flight) takes
  // an action byte: 0 deliver, 2 flip a byte, 3 truncate, 4 extend, 5 replace, 6 drop,
  // 7 duplicate, then its operands. Steps: 0 HELLO_i, 1 HELLO_r, 2 AUTH_r, 3 AUTH_i.
  write("fuzz_handshake", "mitm-clean", Bytes{2, 0, 0, 0, 0, 0});
  write("fuzz_handshake", "mitm-flip-auth-r", Bytes{2, 0, 0, 0, 2, 40, 0x80});
  write("fuzz_handshake", "mitm-truncate-hello-i", Bytes{2, 0, 3, 50});
  write("fuzz_handshake", "mitm-extend-auth-i", Bytes{2, 0, 0, 0, 0, 4, 3, 1, 2, 3, 4});
  write("fuzz_handshake", "mitm-reflect-hello", cat({Bytes{2, 0, 5}, frame16(hello_r)}));
  write("fuzz_handshake", "mitm-drop-auth-r", Bytes{2, 0, 0, 0, 6});
  write("fuzz_handshake", "mitm-duplicate-hello-i", Bytes{2, 0, 7});

  // The link's byte stream: handshake frames, then sealed gossip both ways.
  auto ci = ini.take_channel();
  auto cr = resp.take_channel();
  Bytes stream;
  for (const Bytes& f : {hello_i, hello_r, auth_r, auth_i}) {
    auto framed = encode_frame(f);
    stream.insert(stream.end(), framed.begin(), framed.end());
  }
  Bytes plain;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const Bytes m = msgs[i].encode();
    auto framed = encode_frame((i % 2 ? cr : ci)->seal(m));
    stream.insert(stream.end(), framed.begin(), framed.end());
    auto p = encode_frame(m);
    plain.insert(plain.end(), p.begin(), p.end());
  }
  // First byte: the chunking seed of fuzz_frame_decoder.
  write("fuzz_frame_decoder", "link", cat({Bytes{0}, stream}));
  write("fuzz_frame_decoder", "link-chunked", cat({Bytes{0x5a}, stream}));
  write("fuzz_frame_decoder", "handshake-only", cat({Bytes{7}, ByteView(stream).first(encode_frame(hello_i).size() * 2 + 8 + auth_r.size())}));
  write("fuzz_frame_decoder", "gossip-plain", cat({Bytes{0x13}, plain}));
  write("fuzz_frame_decoder", "one-heartbeat", cat({Bytes{1}, encode_frame(msgs[0].encode())}));
}

void info_dicts(const Records& r) {
  int i = 0;
  for (const auto& m : r.manifests) write("fuzz_info_dict", "manifest-" + std::to_string(++i), m.info_dict);
  // libtorrent's own encoder (what `fedswarm publish` stores), with nested paths and an
  // empty file, at its automatic piece length.
  std::vector<InfoDictInput> files;
  const std::uint64_t sizes[] = {3 * 16384 + 17, 1 << 20, 0, 5000};
  const char* paths[] = {"tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-194912.nc",
                         "tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_195001-201412.nc", "README", "extra/notes.txt"};
  for (int k = 0; k < 4; ++k) files.push_back(InfoDictInput{paths[k], sizes[k], {}});
  auto piece = auto_piece_length("v20180803", files);
  if (!piece) throw std::runtime_error("auto_piece_length: " + piece.error().message);
  // One hash per piece of each file (FileHasher's piece layer), here of the path.
  for (auto& f : files)
    for (std::uint64_t at = 0; at < f.size; at += *piece)
      f.piece_roots.push_back(sha256(as_bytes(f.path + "#" + std::to_string(at))));
  auto built = build_info_dict("v20180803", *piece, files);
  if (built) write("fuzz_info_dict", "libtorrent", *built);
  else std::fprintf(stderr, "note: no libtorrent info dict (%s)\n", built.error().message.c_str());
}

void dataset_ids(const Records& r, const fs::path& fixtures) {
  std::set<std::string> ids;
  for (const char* name : {"cmip6_datasets_latest_with_facets.json", "cmip6_datasets_all_versions.json", "ceda_replica_dataset.json", "cmip6_one_file.json"}) {
    auto j = load_json(fixtures / "esgf_search" / name);
    for (const auto& d : j["response"]["docs"]) {
      for (const char* k : {"master_id", "instance_id"})
        if (d.contains(k)) ids.insert(d[k].get<std::string>());
      if (d.contains("title") && d.contains("master_id") && d.value("type", "") == "File") {
        const std::string inst = d["dataset_id"].get<std::string>();
        ids.insert(inst.substr(0, inst.find('|')) + "/" + d["title"].get<std::string>());
      }
    }
  }
  auto mapfile = load_json(fixtures / "publisher" / "e3sm_mapfile_parsed.json");
  for (std::size_t k = 0; k < mapfile.size() && k < 2; ++k) {
    const std::string id = mapfile[k][0].get<std::string>();
    ids.insert(id);
    std::string path = mapfile[k][1].get<std::string>();
    ids.insert(path.substr(std::string("/data/").size()));  // DRS path below the root
  }
  auto errata = load_json(fixtures / "errata" / "ipsl_versioning_errata.json");
  for (std::size_t k = 0; k < 3; ++k) ids.insert(errata["issue"]["datasets"][k * 900].get<std::string>());
  const auto* cmip6 = ProjectRegistry::builtin().find("CMIP6");
  for (const auto& m : r.manifests) {
    ids.insert(m.instance_id());
    ids.insert(m.dataset_id + "/" + m.files.front().path);
    auto id = cmip6->parse_dataset_id(m.dataset_id);
    if (id) ids.insert(cmip6->version_directory(*id, m.version) + "/" + m.files.back().path);
  }
  ids.insert("v20190308");
  ids.insert("20190308");
  int i = 0;
  for (const auto& id : ids) {
    char name[8];
    std::snprintf(name, sizeof name, "%02d", ++i);
    write("fuzz_dataset_id", name, id);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  randombytes_set_implementation(&g_impl);  // before sodium_init (crypto_init)
  if (!crypto_init()) return 1;
  try {
    test::ManifestFactory factory(FEDSWARM_CV_DIR);
    const SigningKey authority = key_from(0x0a), publisher = key_from(0x1b), node = key_from(0x2c), other = key_from(0x3d);
    const Records r = make_records(factory, authority, publisher, node, other);
    envelopes(r);
    validator(r);
    bundles(r);
    const auto msgs = gossip(r, authority, publisher, node);
    gossip_seeds(msgs);
    handshake_and_link(key_from(0xa1), key_from(0xb2), msgs);  // fuzz_handshake's own member keys
    info_dicts(r);
    dataset_ids(r, FEDSWARM_FIXTURES_DIR);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_corpus: %s\n", e.what());
    return 1;
  }
  std::printf("make_corpus: %zu seeds written under %s\n", g_written, g_out.c_str());
  return 0;
}
