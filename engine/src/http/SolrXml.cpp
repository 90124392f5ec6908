#include "http/SolrXml.hpp"

namespace fedswarm {

namespace {

void escape(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') break;
        out.push_back(c);
    }
  }
}

void open_tag(std::string& out, const char* tag, const std::string* name) {
  out += '<';
  out += tag;
  if (name) {
    out += " name=\"";
    escape(out, *name);
    out += '"';
  }
}

void value(std::string& out, const nlohmann::ordered_json& v, const std::string* name) {
  if (v.is_object()) {
    open_tag(out, "lst", name);
    if (v.empty()) {
      out += "/>";
      return;
    }
    out += '>';
    for (auto it = v.begin(); it != v.end(); ++it) value(out, it.value(), &it.key());
    out += "</lst>";
  } else if (v.is_array()) {
    open_tag(out, "arr", name);
    out += '>';
    for (const auto& e : v) value(out, e, nullptr);
    out += "</arr>";
  } else {
    const char* tag = v.is_string() ? "str" : v.is_boolean() ? "bool" : v.is_number_integer() ? "long" : v.is_null() ? "null" : "float";
    open_tag(out, tag, name);
    out += '>';
    if (v.is_string()) escape(out, v.get_ref<const std::string&>());
    else if (!v.is_null()) out += v.dump();
    out += "</";
    out += tag;
    out += '>';
  }
}

}  // namespace

std::string solr_xml(const nlohmann::ordered_json& answer) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n";
  for (auto it = answer.begin(); it != answer.end(); ++it) {
    const auto& v = it.value();
    if (it.key() == "response" && v.is_object()) {
      out += "<result name=\"response\" numFound=\"" + v.value("numFound", nlohmann::ordered_json(0)).dump() +
             "\" start=\"" + v.value("start", nlohmann::ordered_json(0)).dump() + "\" maxScore=\"" +
             v.value("maxScore", nlohmann::ordered_json(1.0)).dump() + "\">\n";
      if (v.contains("docs"))
        for (const auto& doc : v["docs"]) {
          out += "<doc>";
          for (auto f = doc.begin(); f != doc.end(); ++f) value(out, f.value(), &f.key());
          out += "</doc>\n";
        }
      out += "</result>\n";
    } else if (it.key() == "facet_counts" && v.is_object()) {
      out += "<lst name=\"facet_counts\">";
      for (auto part = v.begin(); part != v.end(); ++part) {
        if (part.key() != "facet_fields") {
          value(out, part.value(), &part.key());
          continue;
        }
        out += "<lst name=\"facet_fields\">";
        for (auto f = part.value().begin(); f != part.value().end(); ++f) {
          open_tag(out, "lst", &f.key());
          out += '>';
          const auto& flat = f.value();
          for (std::size_t i = 0; i + 1 < flat.size(); i += 2) {
            out += "<int name=\"";
            escape(out, flat[i].is_string() ? flat[i].get_ref<const std::string&>() : flat[i].dump());
            out += "\">" + flat[i + 1].dump() + "</int>";
          }
          out += "</lst>";
        }
        out += "</lst>";
      }
      out += "</lst>\n";
    } else {
      value(out, v, &it.key());
      out += '\n';
    }
  }
  out += "</response>\n";
  return out;
}

}  // namespace fedswarm
