#include "fedswarm/protocol/Bencode.hpp"

#include <limits>

#include "fedswarm/protocol/Limits.hpp"

namespace fedswarm {

const BValue* BValue::find(const std::string& key) const {
  if (!is_dict()) return nullptr;
  const auto& d = as_dict();
  auto it = d.find(key);
  return it == d.end() ? nullptr : &it->second;
}

namespace {

class Parser {
 public:
  explicit Parser(ByteView data) : d_(data) {}

  Result<BValue> parse_all() {
    auto v = parse(0);
    if (!v) return v;
    if (pos_ != d_.size()) return fail("trailing bytes after the value");
    return v;
  }

 private:
  Error fail(const std::string& why) const {
    return make_error(Errc::invalid, "bad_bencode", "bencode at byte " + std::to_string(pos_) + ": " + why);
  }

  Result<std::int64_t> parse_int(char terminator) {
    bool negative = false;
    if (pos_ < d_.size() && d_[pos_] == '-') { negative = true; ++pos_; }
    std::size_t digits_start = pos_;
    // Accumulate as a negative number so INT64_MIN fits.
    std::int64_t v = 0;
    while (pos_ < d_.size() && d_[pos_] >= '0' && d_[pos_] <= '9') {
      int digit = d_[pos_] - '0';
      if (v < (std::numeric_limits<std::int64_t>::min() + digit) / 10) return fail("integer does not fit 64 bits");
      v = v * 10 - digit;
      ++pos_;
    }
    std::size_t ndigits = pos_ - digits_start;
    if (ndigits == 0) return fail("expected digits");
    if (ndigits > 1 && d_[digits_start] == '0') return fail("leading zero");
    if (negative && v == 0) return fail("negative zero");
    if (pos_ >= d_.size() || d_[pos_] != terminator) return fail("unterminated integer");
    ++pos_;
    if (!negative) {
      if (v == std::numeric_limits<std::int64_t>::min()) return fail("integer does not fit 64 bits");
      v = -v;
    }
    return v;
  }

  Result<std::string> parse_string() {
    auto len = parse_int(':');
    if (!len) return std::move(len).error();
    if (*len < 0) return fail("negative string length");
    if (static_cast<std::uint64_t>(*len) > d_.size() - pos_) return fail("string runs past the end");
    std::string s(reinterpret_cast<const char*>(d_.data() + pos_), static_cast<std::size_t>(*len));
    pos_ += static_cast<std::size_t>(*len);
    return s;
  }

  Result<BValue> parse(std::size_t depth) {
    if (depth > limits::max_bencode_depth) return fail("nested too deeply");
    if (pos_ >= d_.size()) return fail("unexpected end of input");
    char c = static_cast<char>(d_[pos_]);
    if (c == 'i') {
      ++pos_;
      auto v = parse_int('e');
      if (!v) return std::move(v).error();
      return BValue{*v};
    }
    if (c >= '0' && c <= '9') {
      auto s = parse_string();
      if (!s) return std::move(s).error();
      return BValue{std::move(*s)};
    }
    if (c == 'l') {
      ++pos_;
      BValue::List list;
      while (true) {
        if (pos_ >= d_.size()) return fail("unterminated list");
        if (d_[pos_] == 'e') { ++pos_; break; }
        auto item = parse(depth + 1);
        if (!item) return item;
        list.push_back(std::move(*item));
      }
      return BValue{std::move(list)};
    }
    if (c == 'd') {
      ++pos_;
      BValue::Dict dict;
      const std::string* last = nullptr;
      while (true) {
        if (pos_ >= d_.size()) return fail("unterminated dictionary");
        if (d_[pos_] == 'e') { ++pos_; break; }
        if (d_[pos_] < '0' || d_[pos_] > '9') return fail("dictionary key is not a string");
        auto key = parse_string();
        if (!key) return std::move(key).error();
        // Canonical bencode: keys strictly ascending, so one dict has one encoding.
        if (last && !(*last < *key)) return fail("dictionary keys are not in ascending order");
        auto value = parse(depth + 1);
        if (!value) return value;
        auto [it, inserted] = dict.emplace(std::move(*key), std::move(*value));
        last = &it->first;
      }
      // GCC 12 at -O2 warns that the moved-from temporary's std::string / std::vector
      // alternative "may be used uninitialized" in ~variant: the variant holds a Dict
      // here, and its destructor only touches the active alternative (a known false
      // positive of GCC 12 on inlined std::variant code; clang and -O0 do not warn).
#if defined(__GNUC__) && !defined(__clang__)  // clang knows no -Wmaybe-uninitialized
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
      return BValue{std::move(dict)};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
    }
    return fail("unexpected byte");
  }

  ByteView d_;
  std::size_t pos_ = 0;
};

void encode_into(const BValue& v, Bytes& out) {
  auto put = [&](std::string_view s) { out.insert(out.end(), s.begin(), s.end()); };
  if (v.is_int()) {
    put("i");
    put(std::to_string(v.as_int()));
    put("e");
  } else if (v.is_string()) {
    put(std::to_string(v.as_string().size()));
    put(":");
    put(v.as_string());
  } else if (v.is_list()) {
    put("l");
    for (const auto& item : v.as_list()) encode_into(item, out);
    put("e");
  } else {
    put("d");
    for (const auto& [k, item] : v.as_dict()) {
      put(std::to_string(k.size()));
      put(":");
      put(k);
      encode_into(item, out);
    }
    put("e");
  }
}

}  // namespace

Result<BValue> bdecode(ByteView data) { return Parser(data).parse_all(); }

Bytes bencode(const BValue& value) {
  Bytes out;
  encode_into(value, out);
  return out;
}

}  // namespace fedswarm
