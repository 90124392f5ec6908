#include <doctest/doctest.h>

#include "fedswarm/protocol/Bencode.hpp"
#include "fedswarm/protocol/InfoDict.hpp"
#include "fedswarm/protocol/Manifest.hpp"

using namespace fedswarm;

namespace {

BValue file_entry(std::int64_t length, char root_byte) {
  BValue::Dict leaf{{"length", BValue{length}}};
  if (length > 0) leaf.emplace("pieces root", BValue{std::string(32, root_byte)});
  return BValue{BValue::Dict{{"", BValue{std::move(leaf)}}}};
}

BValue info(BValue::Dict tree, std::string name = "v20190101") {
  return BValue{BValue::Dict{{"file tree", BValue{std::move(tree)}},
                             {"meta version", BValue{std::int64_t{2}}},
                             {"name", BValue{std::move(name)}},
                             {"piece length", BValue{std::int64_t{16384}}},
                             {"private", BValue{std::int64_t{1}}}}};
}

Manifest manifest_for(std::vector<std::pair<std::string, std::uint64_t>> files, Bytes info_dict) {
  Manifest m;
  m.version = "v20190101";
  for (auto& [p, s] : files) m.files.push_back(ManifestFile{p, s, {}, {}, ""});
  m.info_dict = std::move(info_dict);
  return m;
}

}  // namespace

TEST_CASE("a v2 info dict with nested directories parses and matches its manifest") {
  BValue::Dict sub{{"b.nc", file_entry(20000, 'b')}};
  BValue::Dict tree{{"a.nc", file_entry(100, 'a')}, {"empty.nc", file_entry(0, 0)}, {"sub", BValue{sub}}};
  auto bytes = bencode(info(tree));
  auto parsed = InfoDict::parse(bytes);
  REQUIRE(parsed.ok());
  CHECK(parsed->name == "v20190101");
  CHECK(parsed->is_private);
  REQUIRE(parsed->files.size() == 3);
  CHECK(parsed->files[2].path == "sub/b.nc");
  CHECK(parsed->files[2].pieces_root.bytes[0] == 'b');
  CHECK(parsed->files[1].pieces_root.is_zero());

  auto m = manifest_for({{"sub/b.nc", 20000}, {"a.nc", 100}, {"empty.nc", 0}}, bytes);
  CHECK(parsed->matches(m).ok());

  auto wrong_size = manifest_for({{"sub/b.nc", 20001}, {"a.nc", 100}, {"empty.nc", 0}}, bytes);
  CHECK(parsed->matches(wrong_size).error().reason == "info_dict_mismatch");
  auto extra = manifest_for({{"sub/b.nc", 20000}, {"a.nc", 100}, {"empty.nc", 0}, {"c.nc", 1}}, bytes);
  CHECK(parsed->matches(extra).error().reason == "info_dict_mismatch");
  auto renamed = manifest_for({{"sub/B.nc", 20000}, {"a.nc", 100}, {"empty.nc", 0}}, bytes);
  CHECK(parsed->matches(renamed).error().reason == "info_dict_mismatch");
  auto other_version = m;
  other_version.version = "v20200101";
  CHECK(parsed->matches(other_version).error().reason == "info_dict_mismatch");
}

TEST_CASE("the torrent name: the instance id for new manifests, the bare version still valid") {
  BValue::Dict tree{{"a.nc", file_entry(100, 'a')}};
  Manifest m = manifest_for({{"a.nc", 100}}, {});
  m.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
  CHECK(torrent_name(m) == "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20190101");
  CHECK(torrent_name(m) == m.instance_id());

  auto named = InfoDict::parse(bencode(info(tree, torrent_name(m))));
  REQUIRE(named.ok());
  CHECK(named->name == m.instance_id());
  CHECK(named->matches(m).ok());
  auto old_style = InfoDict::parse(bencode(info(tree, "v20190101")));
  REQUIRE(old_style.ok());
  CHECK(old_style->matches(m).ok());

  // Another dataset's or version's name is refused.
  Manifest other = m;
  other.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r2i1p1f1.Amon.tas.gr";
  CHECK(named->matches(other).error().reason == "info_dict_mismatch");
  Manifest newer = m;
  newer.version = "v20200101";
  CHECK(named->matches(newer).error().reason == "info_dict_mismatch");
  CHECK(old_style->matches(newer).error().reason == "info_dict_mismatch");
  auto foreign = InfoDict::parse(bencode(info(tree, "my-download")));
  REQUIRE(foreign.ok());
  CHECK(foreign->matches(m).error().reason == "info_dict_mismatch");
}

TEST_CASE("hostile info dicts are refused with named reasons") {
  auto reason = [](const BValue& v) {
    auto r = InfoDict::parse(bencode(v));
    return r.ok() ? std::string("ok") : r.error().reason;
  };
  CHECK(reason(info({{"..", file_entry(1, 'x')}})) == "info_dict_bad_path");
  CHECK(reason(info({{"a\\b", file_entry(1, 'x')}})) == "info_dict_bad_path");
  CHECK(reason(info({{"a.nc", file_entry(1, 'x')}}, "..")) == "info_dict_bad_path");
  CHECK(reason(info({{"a.nc", file_entry(1, 'x')}}, "a/b")) == "info_dict_bad_file_tree");
  CHECK(reason(info({})) == "info_dict_bad_file_tree");
  BValue::Dict no_root{{"", BValue{BValue::Dict{{"length", BValue{std::int64_t{5}}}}}}};
  CHECK(reason(info({{"a.nc", BValue{no_root}}})) == "info_dict_bad_file_tree");
  BValue::Dict negative{{"", BValue{BValue::Dict{{"length", BValue{std::int64_t{-5}}}}}}};
  CHECK(reason(info({{"a.nc", BValue{negative}}})) == "info_dict_bad_file_tree");
  BValue::Dict both{{"", BValue{BValue::Dict{{"length", BValue{std::int64_t{0}}}}}}, {"x", file_entry(1, 'x')}};
  CHECK(reason(info({{"a", BValue{both}}})) == "info_dict_bad_file_tree");

  auto v1 = info({{"a.nc", file_entry(1, 'x')}});
  std::get<BValue::Dict>(v1.v).emplace("pieces", BValue{std::string(20, 'p')});
  CHECK(reason(v1) == "info_dict_not_v2");
  auto bad_pl = info({{"a.nc", file_entry(1, 'x')}});
  std::get<BValue::Dict>(bad_pl.v)["piece length"] = BValue{std::int64_t{20000}};
  CHECK(reason(bad_pl) == "info_dict_bad_piece_length");
  CHECK(InfoDict::parse(as_bytes("garbage")).error().reason == "bad_bencode");
}
