// PathRules: the rule for file paths inside a manifest (DESIGN §3 rule 4).
//
// A path is relative to its version directory, '/'-separated, and may not be empty,
// absolute, contain "." or ".." components, empty components ("a//b"), a backslash,
// NUL or any control character (< 0x20 or 0x7f), or invalid UTF-8; it is bounded by
// limits::max_path_bytes / max_path_component_bytes / max_path_depth.
//
// Reasons: path_empty, path_absolute, path_dotdot, path_dot, path_empty_component,
// path_backslash, path_control_char, path_bad_utf8, path_too_long,
// path_component_too_long, path_too_deep. Pure function, no I/O.
#pragma once

#include <string_view>

#include "fedswarm/protocol/Result.hpp"

namespace fedswarm {

Status validate_relative_path(std::string_view path);

// Free text (reasons, site names): valid UTF-8, no control characters except none,
// at most `max_bytes`. Reasons: text_too_long, text_control_char, text_bad_utf8.
Status validate_text(std::string_view text, std::size_t max_bytes, std::string_view field);

}  // namespace fedswarm
