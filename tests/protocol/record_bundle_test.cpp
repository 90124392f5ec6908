#include <doctest/doctest.h>

#include "fedswarm/protocol/RecordBundle.hpp"
#include "fedswarm/protocol/Retraction.hpp"
#include "fedswarm/protocol/SigningKey.hpp"

using namespace fedswarm;

TEST_CASE("a bundle round-trips its envelopes in order, and refuses damage") {
  auto key = SigningKey::generate();
  std::vector<Envelope> records;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    Retraction r;
    r.dataset_id = "CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr";
    r.version = "v2018080" + std::to_string(seq);
    r.reason = "reason";
    records.push_back(Envelope::sign(key, seq, RecordKind::retraction, r.encode()));
  }
  auto bytes = encode_bundle(records);
  auto back = decode_bundle(bytes);
  REQUIRE(back.ok());
  CHECK(*back == records);
  CHECK(decode_bundle(Bytes{}).error().reason == "bundle_bad_magic");
  CHECK(decode_bundle(as_bytes("not a bundle")).error().reason == "bundle_bad_magic");
  auto truncated = bytes;
  truncated.resize(truncated.size() - 1);
  CHECK(decode_bundle(truncated).error().reason == "bundle_truncated");
  auto trailing = bytes;
  trailing.push_back(0);
  CHECK(decode_bundle(trailing).error().reason == "bundle_trailing_bytes");
  auto huge_count = bytes;
  huge_count[4] = 0xff;
  CHECK(decode_bundle(huge_count).error().reason == "bundle_too_large");
  CHECK(encode_bundle({}).size() == 8);
  CHECK(decode_bundle(encode_bundle({}))->empty());
}
