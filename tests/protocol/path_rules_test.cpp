#include <doctest/doctest.h>

#include <string>

#include "fedswarm/protocol/Limits.hpp"
#include "fedswarm/protocol/PathRules.hpp"

using namespace fedswarm;

namespace {
std::string reason(std::string_view path) {
  auto st = validate_relative_path(path);
  return st.ok() ? "ok" : st.error().reason;
}
}  // namespace

TEST_CASE("good relative paths pass") {
  CHECK(reason("tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc") == "ok");
  CHECK(reason("sub/dir/file.nc") == "ok");
  CHECK(reason("données.nc") == "ok");
  CHECK(reason("..hidden") == "ok");
  CHECK(reason("a..b") == "ok");
}

TEST_CASE("each path rule has its own named error") {
  CHECK(reason("") == "path_empty");
  CHECK(reason("/etc/passwd") == "path_absolute");
  CHECK(reason("../x.nc") == "path_dotdot");
  CHECK(reason("a/../../x.nc") == "path_dotdot");
  CHECK(reason("a/..") == "path_dotdot");
  CHECK(reason("./x.nc") == "path_dot");
  CHECK(reason("a//b") == "path_empty_component");
  CHECK(reason("a/") == "path_empty_component");
  CHECK(reason("a\\b.nc") == "path_backslash");
  CHECK(reason("..\\..\\x") == "path_backslash");
  CHECK(reason(std::string("a\0b", 3)) == "path_control_char");
  CHECK(reason("a\nb") == "path_control_char");
  CHECK(reason("a\x7f") == "path_control_char");
  CHECK(reason("\xff\xfe.nc") == "path_bad_utf8");
  CHECK(reason("\xc0\xaf.nc") == "path_bad_utf8");       // overlong '/'
  CHECK(reason("\xed\xa0\x80.nc") == "path_bad_utf8");   // surrogate
  CHECK(reason(std::string(limits::max_path_bytes + 1, 'a')) == "path_too_long");
  CHECK(reason(std::string(limits::max_path_component_bytes + 1, 'a')) == "path_component_too_long");
  std::string deep;
  for (std::size_t i = 0; i <= limits::max_path_depth; ++i) deep += "d/";
  deep += "f";
  CHECK(reason(deep) == "path_too_deep");
}

TEST_CASE("free text rules") {
  CHECK(validate_text("wrong calendar attribute", 100, "reason").ok());
  CHECK(validate_text("a\tb", 100, "reason").error().reason == "text_control_char");
  CHECK(validate_text(std::string(101, 'x'), 100, "reason").error().reason == "text_too_long");
  CHECK(validate_text("\xff", 100, "reason").error().reason == "text_bad_utf8");
}
