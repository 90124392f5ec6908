// Functional: `subscribe add|list|remove`, `verify` and `export-torrent` through the real
// binary, on a published sample tree.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "FunctionalFixture.hpp"
#include "fedswarm/engine/SampleTree.hpp"
#include "fedswarm/protocol/Bencode.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

std::vector<SampleVersion> publish_sample(CliWorld& w, const std::string& home, std::size_t datasets = 3) {
  SampleSpec spec;
  spec.datasets = datasets;
  spec.versions_per_dataset = 2;
  spec.files_per_version = 2;
  spec.file_size = 40 * 1024;
  auto written = write_sample_tree(w.dir() / "archive", 7, spec);
  REQUIRE(written.ok());
  w.must({"--home", home, "publish", (w.dir() / "archive").string()});
  return *written;
}

// The DRS facet at `index` of a dataset id (CMIP6: 4 = experiment_id, 6 = table_id).
std::string drs_part(const std::string& dataset_id, int index) {
  std::stringstream ss(dataset_id);
  std::string part;
  for (int i = 0; i <= index; ++i) std::getline(ss, part, '.');
  return part;
}

void flip_byte(const std::filesystem::path& file) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  REQUIRE(f);
  f.seekg(0, std::ios::end);
  auto middle = static_cast<std::streamoff>(f.tellg()) / 2;
  char c = 0;
  f.seekg(middle);
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(middle);
  f.write(&c, 1);
}

}  // namespace

TEST_CASE("subscribe add, list and remove round trip through the binary") {
  CliWorld w;
  auto home = w.node("IPSL");
  auto sample = publish_sample(w, home);
  const std::string exp = drs_part(sample[0].dataset_id, 4), table = drs_part(sample[0].dataset_id, 6);
  const std::string constraints = "experiment_id=" + exp + " table_id=" + table;

  auto added = w.json({"--home", home, "subscribe", "add", constraints, "--quota", "10G", "--priority", "2"});
  const std::string name = added["added"]["name"];
  CHECK(name == exp + "-" + table);
  CHECK(added["added"]["quota"] == 10ull << 30);
  w.must({"--home", home, "subscribe", "add", "variable_id=tas", "variable_id=pr", "--name", "vars"});

  auto searched = w.json({"--home", home, "search", "experiment_id=" + exp, "table_id=" + table});
  auto list = w.json({"--home", home, "subscribe", "list"});
  REQUIRE(list["subscriptions"].size() == 2);
  const auto& first = list["subscriptions"][0];
  CHECK(first["name"] == name);
  CHECK(first["constraints"] == constraints);
  CHECK(first["priority"] == 2);
  CHECK(first["matching_versions"] == searched["response"]["numFound"]);
  CHECK(first["matching_versions"].get<int>() >= 1);
  CHECK(first["local_complete"] == first["matching_versions"]);  // the publisher holds its versions
  CHECK(list["subscriptions"][1]["quota"].is_null());
  auto table_out = w.must({"--home", home, "subscribe", "list"}).out;
  CHECK(table_out.find(name) != std::string::npos);
  CHECK(table_out.find("10.0 GiB") != std::string::npos);

  // A taken name, an unknown facet, a typo in a vocabulary value, a version pin.
  auto dup = w.run({"--home", home, "subscribe", "add", "table_id=day", "--name", name});
  CHECK(dup.exit_code == 4);
  CHECK(dup.err.find("exists already") != std::string::npos);
  auto unknown = w.run({"--home", home, "subscribe", "add", "experiment=historical"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("subscription_unknown_facet") != std::string::npos);
  CHECK(w.run({"--home", home, "subscribe", "add", "experiment_id=histrical"}).exit_code == 2);
  CHECK(w.run({"--home", home, "subscribe", "add", "version=v20190101"}).exit_code == 2);
  CHECK(w.run({"--home", home, "subscribe", "add", "table_id=day", "--quota", "lots"}).exit_code == 2);

  w.must({"--home", home, "subscribe", "remove", name});
  list = w.json({"--home", home, "subscribe", "list"});
  REQUIRE(list["subscriptions"].size() == 1);
  CHECK(list["subscriptions"][0]["name"] == "vars");
  CHECK(w.run({"--home", home, "subscribe", "remove", name}).exit_code == 3);
  // The file is the operator's to read.
  auto text = read_file(std::filesystem::path(home) / "subscriptions.toml");
  CHECK(text.find("name = \"vars\"") != std::string::npos);
  CHECK(text.find("variable_id = [\"pr\", \"tas\"]") != std::string::npos);
}

TEST_CASE("verify: a corrupted byte in a published replica is detected, withdrawn and moved aside") {
  CliWorld w;
  auto home = w.node("IPSL");
  auto sample = publish_sample(w, home, 2);
  auto all_ok = w.json({"--home", home, "verify"});
  CHECK(all_ok["failed"] == 0);
  CHECK(all_ok["verified"] == sample.size());
  CHECK(w.run({"--home", home, "verify", "--full"}).exit_code == 0);

  const SampleVersion& bad = sample[1];
  const std::string id = bad.instance_id();
  flip_byte(bad.directory / bad.files[0]);

  // The other dataset alone still verifies.
  CHECK(w.run({"--home", home, "verify", sample[2].dataset_id}).exit_code == 0);

  auto r = w.run({"--json", "--home", home, "verify", bad.dataset_id});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 7);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["failed"] == 1);
  REQUIRE(j["versions"].size() == 2);  // both versions of the dataset
  nlohmann::json failed;
  for (const auto& v : j["versions"])
    if (v["instance_id"] == id) failed = v;
  REQUIRE(failed.is_object());
  CHECK(failed["ok"] == false);
  REQUIRE(failed["problems"].size() == 1);
  CHECK(failed["problems"][0]["file"] == bad.files[0]);
  CHECK(failed["problems"][0]["reason"] == "xxh3_mismatch");
  CHECK(failed["withdrawn"]["state"] == "wanted");
  CHECK(failed["withdrawn"]["dropped_record_seq"].get<int>() > 0);

  // Moved aside into the data root's quarantine (same file system), out of the DRS tree.
  const std::filesystem::path moved = failed["withdrawn"]["moved_to"].get<std::string>();
  CHECK(moved.filename() == id);
  CHECK(moved.parent_path().filename() == ".quarantine");
  CHECK(std::filesystem::exists(moved / bad.files[0]));
  CHECK_FALSE(std::filesystem::exists(bad.directory));

  // The signed "dropped" replica record and the local state.
  auto shown = w.json({"--home", home, "show", id});
  bool dropped = false;
  for (const auto& rep : shown["replicas"]) dropped = dropped || (rep["site"] == "IPSL" && rep["state"] == "dropped");
  CHECK(dropped);
  CHECK(shown["local"]["state"] == "wanted");

  // Human output names the file and the reason; a withdrawn replica is no longer verified;
  // an explicit target that is not held is "not found".
  auto again = w.run({"--home", home, "verify", id});
  CHECK(again.exit_code == 3);
  CHECK(again.out.find("no complete local replica") != std::string::npos);
  CHECK(w.run({"--home", home, "verify"}).exit_code == 0);
}

TEST_CASE("export-torrent writes a standard v2 .torrent whose info-hash is the manifest's") {
  CliWorld w;
  auto home = w.node("IPSL");
  auto sample = publish_sample(w, home, 1);
  const std::string id = sample[0].instance_id();
  const std::string file = (w.dir() / "out.torrent").string();
  auto out = w.json({"--home", home, "export-torrent", id, "-o", file});
  auto shown = w.json({"--home", home, "show", id});
  CHECK(out["info_hash_v2"] == shown["info_hash"]);
  CHECK(out["piece_layers"] == 2);

  std::string raw = read_file(file);
  auto torrent = bdecode(as_bytes(raw));
  REQUIRE(torrent.ok());
  const BValue* info = torrent->find("info");
  REQUIRE(info);
  Bytes info_bytes = bencode(*info);
  CHECK(to_hex(sha256(info_bytes)) == shown["info_hash"].get<std::string>());
  const BValue* layers = torrent->find("piece layers");
  REQUIRE(layers);
  REQUIRE(layers->is_dict());
  CHECK(layers->as_dict().size() == 2);
  for (const auto& [root, hashes] : layers->as_dict()) {
    CHECK(root.size() == 32);
    CHECK(hashes.as_string().size() % 32 == 0);
  }
  // Named after the dataset version: a client downloads it into a folder that says what it is.
  CHECK(info->find("name")->as_string() == id);
  CHECK(info->find("meta version")->as_int() == 2);
  CHECK(info->find("private")->as_int() == 1);

  CHECK(w.run({"--home", home, "export-torrent", sample[0].dataset_id, "-o", file}).exit_code == 2);
  CHECK(w.run({"--home", home, "export-torrent", sample[0].dataset_id + ".v20000101", "-o", file}).exit_code == 3);
  // Without a complete local replica there are no piece layers to compute.
  flip_byte(sample[0].directory / sample[0].files[0]);
  CHECK(w.run({"--home", home, "export-torrent", id, "-o", file}).exit_code == 7);
  CHECK(w.run({"--home", home, "verify", id}).exit_code == 7);
  auto missing = w.run({"--home", home, "export-torrent", id, "-o", file});
  CHECK(missing.exit_code == 3);
  CHECK(missing.err.find("needs a complete local replica") != std::string::npos);
}
