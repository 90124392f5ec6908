#include "fedswarm/protocol/BuiltinFiles.hpp"

#include "BuiltinData.hpp"

namespace fedswarm {
std::string_view builtin_file(std::string_view name) { return builtin_data::embedded(name); }
}  // namespace fedswarm
