#include "fedswarm/protocol/Manifest.hpp"

#include "CapnpCodec.hpp"
#include "fedswarm/protocol/SigningKey.hpp"
#include "records.capnp.h"

namespace fedswarm {

std::uint64_t Manifest::total_size() const {
  std::uint64_t total = 0;
  for (const auto& f : files) total += f.size;
  return total;
}

const std::vector<std::string>* Manifest::facet(std::string_view name) const {
  for (const auto& f : facets)
    if (f.name == name) return &f.values;
  return nullptr;
}

Sha256 Manifest::info_hash() const { return sha256(info_dict); }

Bytes Manifest::encode() const {
  capnp::MallocMessageBuilder message;
  auto b = message.initRoot<schema::Manifest>();
  b.setProject(project);
  b.setDatasetId(dataset_id);
  b.setVersion(version);
  auto fb = b.initFacets(static_cast<unsigned>(facets.size()));
  for (unsigned i = 0; i < facets.size(); ++i) {
    fb[i].setName(facets[i].name);
    auto vb = fb[i].initValues(static_cast<unsigned>(facets[i].values.size()));
    for (unsigned j = 0; j < facets[i].values.size(); ++j) vb.set(j, facets[i].values[j]);
  }
  auto files_b = b.initFiles(static_cast<unsigned>(files.size()));
  for (unsigned i = 0; i < files.size(); ++i) {
    const auto& f = files[i];
    files_b[i].setPath(f.path);
    files_b[i].setSize(f.size);
    files_b[i].setSha256(codec::data(f.sha256.view()));
    files_b[i].setXxh3(codec::data(f.xxh3.view()));
    files_b[i].setTrackingId(f.tracking_id);
  }
  b.setInfoDict(codec::data(info_dict));
  b.setSupersedes(supersedes);
  b.setPublishedAt(published_at);
  return codec::canonical<schema::Manifest>(message);
}

Result<Manifest> Manifest::decode(ByteView body) {
  return codec::decode_canonical<schema::Manifest>(body, "manifest", [](schema::Manifest::Reader r) -> Result<Manifest> {
    Manifest m;
    m.project = codec::text(r.getProject());
    m.dataset_id = codec::text(r.getDatasetId());
    m.version = codec::text(r.getVersion());
    auto facets = r.getFacets();
    if (facets.size() > limits::max_facets)
      return make_error(Errc::invalid, "too_many_facets", "manifest has " + std::to_string(facets.size()) + " facets, the limit is " + std::to_string(limits::max_facets));
    m.facets.reserve(facets.size());
    for (auto f : facets) {
      Facet out;
      out.name = codec::text(f.getName());
      auto values = f.getValues();
      if (values.size() > limits::max_facet_values)
        return make_error(Errc::invalid, "too_many_facet_values", "facet " + out.name + " has too many values");
      for (auto v : values) out.values.push_back(codec::text(v));
      m.facets.push_back(std::move(out));
    }
    auto files = r.getFiles();
    if (files.size() > limits::max_files)
      return make_error(Errc::invalid, "too_many_files", "manifest lists " + std::to_string(files.size()) + " files, the limit is " + std::to_string(limits::max_files));
    m.files.reserve(files.size());
    for (auto f : files) {
      ManifestFile out;
      out.path = codec::text(f.getPath());
      out.size = f.getSize();
      FEDSWARM_ASSIGN_OR_RETURN(out.sha256, codec::fixed<32>(f.getSha256(), "sha256"));
      FEDSWARM_ASSIGN_OR_RETURN(out.xxh3, codec::fixed<16>(f.getXxh3(), "xxh3"));
      out.tracking_id = codec::text(f.getTrackingId());
      m.files.push_back(std::move(out));
    }
    auto info = r.getInfoDict();
    if (info.size() > limits::max_info_dict_bytes)
      return make_error(Errc::invalid, "info_dict_too_large", "info dict exceeds the size limit");
    m.info_dict.assign(info.begin(), info.end());
    m.supersedes = codec::text(r.getSupersedes());
    m.published_at = r.getPublishedAt();
    return m;
  });
}

}  // namespace fedswarm
