#include "fedswarm/protocol/PathRules.hpp"

#include <string>

#include "fedswarm/protocol/Limits.hpp"

namespace fedswarm {

namespace {

Error path_error(std::string reason, std::string_view path, std::string_view why) {
  std::string shown(path.substr(0, 200));
  for (auto& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return make_error(Errc::invalid, std::move(reason),
                    "file path \"" + shown + "\" " + std::string(why));
}

// Returns the length of the UTF-8 sequence at s[i], or 0 if it is not well formed
// (overlong forms, surrogates and code points above U+10FFFF are refused).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr std::uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

Status validate_relative_path(std::string_view path) {
  if (path.empty()) return path_error("path_empty", path, "is empty");
  if (path.size() > limits::max_path_bytes)
    return path_error("path_too_long", path, "is longer than " + std::to_string(limits::max_path_bytes) + " bytes");
  if (path.front() == '/') return path_error("path_absolute", path, "is absolute; paths must be relative to the version directory");
  for (std::size_t i = 0; i < path.size();) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == 0) return path_error("path_control_char", path, "contains a NUL byte");
    if (c < 0x20 || c == 0x7f) return path_error("path_control_char", path, "contains a control character");
    if (c == '\\') return path_error("path_backslash", path, "contains a backslash; use '/' as separator");
    std::size_t n = utf8_sequence(path, i);
    if (n == 0) return path_error("path_bad_utf8", path, "is not valid UTF-8");
    i += n;
  }
  std::size_t depth = 0;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view comp = path.substr(start, end - start);
    if (comp.empty()) return path_error("path_empty_component", path, "has an empty component (\"//\" or a trailing '/')");
    if (comp == "..") return path_error("path_dotdot", path, "contains \"..\"");
    if (comp == ".") return path_error("path_dot", path, "contains a \".\" component");
    if (comp.size() > limits::max_path_component_bytes)
      return path_error("path_component_too_long", path, "has a component longer than " + std::to_string(limits::max_path_component_bytes) + " bytes");
    if (++depth > limits::max_path_depth)
      return path_error("path_too_deep", path, "is nested deeper than " + std::to_string(limits::max_path_depth) + " directories");
    start = end + 1;
  }
  return {};
}

Status validate_text(std::string_view text, std::size_t max_bytes, std::string_view field) {
  if (text.size() > max_bytes)
    return make_error(Errc::invalid, "text_too_long",
                      std::string(field) + " is longer than " + std::to_string(max_bytes) + " bytes");
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f)
      return make_error(Errc::invalid, "text_control_char", std::string(field) + " contains a control character");
    std::size_t n = utf8_sequence(text, i);
    if (n == 0) return make_error(Errc::invalid, "text_bad_utf8", std::string(field) + " is not valid UTF-8");
    i += n;
  }
  return {};
}

}  // namespace fedswarm
