#include "fedswarm/engine/ComponentVersions.hpp"

#include <libtorrent/version.hpp>

#include "fedswarm/storage/StorageVersions.hpp"

namespace fedswarm {

std::vector<ComponentVersion> engine_component_versions() { return {{"libtorrent", lt::version(), true}}; }

std::vector<ComponentVersion> component_versions() {
  auto all = engine_component_versions();
  for (auto* layer : {&storage_component_versions, &protocol_component_versions})
    for (auto& c : (*layer)()) all.push_back(std::move(c));
  return all;
}

}  // namespace fedswarm
