// EsgSearchService: the ESGF search API (`/esg-search/search`, `/esg-search/wget`) over
// the local catalog (DESIGN §9). Answers are built whole in memory (a page is at most
// 10,000 records).
//
// Contract
// - Thread-safe: every call reads the catalog in its own read transaction; called on the
//   HTTP worker threads, never on the io thread.
// - `query_string` is the raw, still percent-encoded part after '?'. Bad input is an
//   answer, never an exception: 400 with `Invalid HTTP query parameter=<name>` for an
//   unknown parameter, 400 with a message for an empty value, a limit over 10,000 or an
//   unparsable `query=`; 500 with the catalog's message for an I/O error.
// - `catalog` must outlive the service.
#pragma once

#include <string>
#include <string_view>

#include "fedswarm/protocol/Bytes.hpp"
#include "fedswarm/protocol/Roster.hpp"
#include "fedswarm/storage/Catalog.hpp"
#include "http/HttpAnswer.hpp"

namespace fedswarm {

struct EsgSearchSite {
  PublicKey self;            // this node's key
  std::string site;          // this node's site
  Tier tier = Tier::tier2;   // a dark repository lists its own local copies
  std::string public_url;    // "https://host:port" of this node ([http] public_url)
  std::string index_node;    // `index_node` of every record (this node's host)
};

class EsgSearchService {
 public:
  EsgSearchService(const Catalog& catalog, EsgSearchSite site);
  HttpAnswer search(std::string_view query_string) const;
  HttpAnswer wget(std::string_view query_string) const;

 private:
  const Catalog& catalog_;
  EsgSearchSite site_;
};

}  // namespace fedswarm
