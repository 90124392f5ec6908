#include "VersionText.hpp"

#include <algorithm>

#include "SourceCommit.hpp"
#include "fedswarm/engine/ComponentVersions.hpp"

namespace fedswarm::cli {

std::string version_text() {
  auto components = component_versions();
  std::size_t width = std::string_view("source commit").size();
  for (const auto& c : components) width = std::max(width, c.name.size());
  auto line = [width](std::string_view name, std::string_view value) {
    std::string s(name);
    s.append(width + 2 - name.size(), ' ');
    s.append(value);
    return s;
  };
  std::string text = "fedswarm " + std::string(fedswarm_version()) + "\n";
  text += line("source commit", source_commit());
  for (const auto& c : components)
    text += "\n" + line(c.name, c.version + (c.runtime ? "" : " (built with)"));
  return text;  // CLI11 adds the final newline
}

}  // namespace fedswarm::cli
