// WgetScript: the bash download script `/esg-search/wget` answers (the project's own
// text, in the spirit of ESGF's wget scripts). Pure; never throws.
//
// The script starts with `#!/bin/bash`, `# ESG Federation download script` and
// `# Search URL: <url>`; it downloads every listed file into the current directory
// (the manifest path below it, directories created), resuming partial files (curl -C -,
// or wget -c when curl is missing), skips files whose SHA-256 already matches, checks
// each SHA-256 with sha256sum (a mismatch is retried once from scratch), lists what
// failed and exits 1 if anything did. `-k` / `--insecure` or ESGF_INSECURE=1 accepts a
// self-signed certificate (a node's default); `-h` prints the usage.
// Files without an HTTPServer url are listed as failures (no holder serves them over
// HTTP). Names, urls and checksums are written into a quoted here-document, one
// tab-separated line per file: manifest paths hold no tab, newline or control character
// (PathRules), and urls are percent-encoded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fedswarm {

struct WgetFile {
  std::string name;    // relative path to save to (the manifest path)
  std::string url;     // HTTPServer url, empty: none
  std::string sha256;  // lowercase hex
  std::uint64_t size = 0;
};

std::string wget_script(const std::string& search_url, const std::vector<WgetFile>& files, std::uint64_t num_found,
                        const std::string& generated_at);

}  // namespace fedswarm
