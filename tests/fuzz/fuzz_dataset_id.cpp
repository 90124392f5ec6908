// libFuzzer target: arbitrary bytes as a dataset id, a version, a version directory
// and a file name. Every input must be refused or accepted without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fedswarm/protocol/ProjectTemplate.hpp"
#include "fedswarm/protocol/Version.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto& registry = fedswarm::ProjectRegistry::builtin();
  const fedswarm::ProjectTemplate* cmip6 = registry.find("CMIP6");

  auto id = registry.parse_dataset_id(in);
  if (id.ok()) (void)cmip6->version_directory(*id, "v20190308");
  (void)fedswarm::parse_version(in);

  // Split at the first '/' into a dataset id and a file name to check against it.
  const std::size_t slash = in.find('/');
  const std::string_view head = in.substr(0, slash);
  const std::string_view tail = slash == std::string_view::npos ? in : in.substr(slash + 1);
  static const auto known = cmip6->parse_dataset_id("CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr");
  auto parsed = cmip6->parse_dataset_id(head);
  (void)cmip6->validate_filename(parsed.ok() ? *parsed : *known, tail);

  // The input as a directory path below the DRS root.
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (std::size_t s; parts.size() < 16 && (s = in.find('/', pos)) != std::string_view::npos; pos = s + 1)
    parts.emplace_back(in.substr(pos, s - pos));
  parts.emplace_back(in.substr(pos));
  (void)cmip6->parse_version_directory(parts);
  return 0;
}
