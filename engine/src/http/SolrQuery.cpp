#include "http/SolrQuery.hpp"

#include <algorithm>
#include <memory>

namespace fedswarm {

namespace {

Error bad(std::string message) { return make_error(Errc::invalid, "solr_query", "Unsupported query: " + std::move(message)); }

struct Node {
  enum class Kind { term, all, all_of, any_of, none_of } kind = Kind::all;
  std::string field, value;
  bool wildcard = false;
  std::vector<Node> children;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<Node> parse() {
    FEDSWARM_ASSIGN_OR_RETURN(Node n, parse_or("", 0));
    skip_space();
    if (pos_ < s_.size()) return bad("unexpected '" + std::string(1, s_[pos_]) + "' at position " + std::to_string(pos_));
    return n;
  }

 private:
  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  // A keyword stands alone: followed by space, '(' or the end.
  bool at_keyword(std::string_view kw) const {
    if (s_.compare(pos_, kw.size(), kw) != 0) return false;
    std::size_t e = pos_ + kw.size();
    return e == s_.size() || is_space(s_[e]) || s_[e] == '(';
  }
  bool at_or() const { return at_keyword("OR") || s_.compare(pos_, 2, "||") == 0; }
  bool at_and() const { return at_keyword("AND") || s_.compare(pos_, 2, "&&") == 0; }
  bool at_end_of_group() const { return pos_ >= s_.size() || s_[pos_] == ')'; }

  Result<Node> parse_or(const std::string& field, std::size_t depth) {
    if (depth > kSolrMaxDepth) return bad("parentheses nested deeper than " + std::to_string(kSolrMaxDepth));
    Node n{Node::Kind::any_of, {}, {}, false, {}};
    for (;;) {
      FEDSWARM_ASSIGN_OR_RETURN(Node c, parse_and(field, depth));
      n.children.push_back(std::move(c));
      skip_space();
      if (at_end_of_group()) break;
      if (at_or()) pos_ += 2;  // "OR" and "||" are both two bytes
      // Otherwise juxtaposition: Solr's default operator, OR.
      skip_space();
      if (at_end_of_group()) return bad("a query may not end with OR");
    }
    if (n.children.size() == 1) return std::move(n.children.front());
    return n;
  }

  Result<Node> parse_and(const std::string& field, std::size_t depth) {
    Node n{Node::Kind::all_of, {}, {}, false, {}};
    for (;;) {
      FEDSWARM_ASSIGN_OR_RETURN(Node c, parse_unary(field, depth));
      n.children.push_back(std::move(c));
      skip_space();
      if (!at_and()) break;
      pos_ += s_[pos_] == 'A' ? 3 : 2;
      skip_space();
    }
    if (n.children.size() == 1) return std::move(n.children.front());
    return n;
  }

  Result<Node> parse_unary(const std::string& field, std::size_t depth) {
    skip_space();
    if (pos_ >= s_.size()) return bad("a term is missing at the end of the query");
    // NOT, - and + recurse here without a parenthesis: bound them as parentheses are,
    // or a 64 KiB request target of '-' overflows the stack (found by fuzz_solr_query).
    if (depth > kSolrMaxDepth) return bad("operators nested deeper than " + std::to_string(kSolrMaxDepth));
    if (at_keyword("NOT") || s_[pos_] == '!' || s_[pos_] == '-') {
      pos_ += s_[pos_] == 'N' ? 3 : 1;
      FEDSWARM_ASSIGN_OR_RETURN(Node c, parse_unary(field, depth + 1));
      Node n{Node::Kind::none_of, {}, {}, false, {}};
      n.children.push_back(std::move(c));
      return n;
    }
    if (s_[pos_] == '+') {
      ++pos_;
      return parse_unary(field, depth + 1);
    }
    if (s_[pos_] == '(') {
      ++pos_;
      FEDSWARM_ASSIGN_OR_RETURN(Node c, parse_or(field, depth + 1));
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ')') return bad("unbalanced parentheses");
      ++pos_;
      return c;
    }
    if (s_[pos_] == ')') return bad("unexpected ')' at position " + std::to_string(pos_));
    return parse_term(field, depth);
  }

  // A word up to space or a parenthesis; with `stop_at_colon`, also up to the first
  // unescaped ':'. Escapes are kept (`\x`) when the word is a wildcard pattern and
  // resolved otherwise.
  Result<std::string> read_word(bool stop_at_colon, bool& wildcard) {
    std::string raw;
    wildcard = false;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (is_space(c) || c == '(' || c == ')') break;
      if (stop_at_colon && c == ':') break;
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return bad("a query may not end with '\\'");
        raw.push_back(c);
        raw.push_back(s_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (c == '"') return bad("a quote inside a word at position " + std::to_string(pos_));
      if (c == '[' || c == '{' || c == ']' || c == '}') return bad("ranges ([a TO b]) are not supported; use facet values");
      if (c == '~' || c == '^') return bad("fuzzy, proximity and boost operators (~, ^) are not supported");
      if (c == '*' || c == '?') wildcard = true;
      raw.push_back(c);
      ++pos_;
    }
    if (wildcard) return raw;
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\') ++i;
      out.push_back(raw[i]);
    }
    return out;
  }

  Result<std::string> read_quoted() {
    ++pos_;  // opening quote
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (pos_ >= s_.size()) return bad("unbalanced quotes");
    ++pos_;
    return out;
  }

  Result<Node> make_term(const std::string& field, std::string value, bool wildcard) {
    if (++terms_ > kSolrMaxTerms) return bad("more than " + std::to_string(kSolrMaxTerms) + " terms");
    if (value.empty()) return bad("empty value for field " + field);
    if (field == "*" || value == "*") return Node{Node::Kind::all, {}, {}, false, {}};
    return Node{Node::Kind::term, field, std::move(value), wildcard, {}};
  }

  Result<Node> parse_term(const std::string& field, std::size_t depth) {
    if (!field.empty()) {
      // Inside field:( ... ): every word is a value of `field`.
      if (s_[pos_] == '"') {
        FEDSWARM_ASSIGN_OR_RETURN(std::string v, read_quoted());
        return make_term(field, std::move(v), false);
      }
      bool wc = false;
      FEDSWARM_ASSIGN_OR_RETURN(std::string v, read_word(false, wc));
      return make_term(field, std::move(v), wc);
    }
    if (s_[pos_] == '"') return bad("free text (\"...\") is not supported: name a field, as field:\"value\"");
    bool wc = false;
    // Assigned into a declared string: GCC 12 at -O2 misreads the moved-from Result and
    // warns (maybe-uninitialized) on the macro's form.
    std::string name;
    if (auto word = read_word(true, wc); word.ok()) name = std::move(word).value();
    else return std::move(word).error();
    if (pos_ >= s_.size() || s_[pos_] != ':') {
      if (name == "*") return Node{Node::Kind::all, {}, {}, false, {}};
      return bad("free text (" + name.substr(0, 100) +
                 ") is not supported: this node has no full-text index; use field:value or facet parameters");
    }
    ++pos_;  // ':'
    if (name.empty() || (wc && name != "*")) return bad("a field name is missing or holds a wildcard");
    if (pos_ >= s_.size() || is_space(s_[pos_])) return bad("a value is missing after " + name + ":");
    if (s_[pos_] == '(') {
      if (name == "*") return bad("*:( ... ) is not supported");
      ++pos_;
      FEDSWARM_ASSIGN_OR_RETURN(Node c, parse_or(name, depth + 1));
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ')') return bad("unbalanced parentheses");
      ++pos_;
      return c;
    }
    if (s_[pos_] == '"') {
      FEDSWARM_ASSIGN_OR_RETURN(std::string v, read_quoted());
      return make_term(name, std::move(v), false);
    }
    FEDSWARM_ASSIGN_OR_RETURN(std::string v, read_word(false, wc));
    return make_term(name, std::move(v), wc);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t terms_ = 0;
};

using Clauses = std::vector<SolrClause>;  // AND; empty = everything

Result<Clauses> translate(const Node& n) {
  switch (n.kind) {
    case Node::Kind::all: return Clauses{};
    case Node::Kind::term: return Clauses{SolrClause{n.field, {n.value}, false, n.wildcard}};
    case Node::Kind::all_of: {
      Clauses out;
      for (const auto& c : n.children) {
        FEDSWARM_ASSIGN_OR_RETURN(Clauses part, translate(c));
        out.insert(out.end(), part.begin(), part.end());
      }
      return out;
    }
    case Node::Kind::any_of: {
      SolrClause merged;
      for (const auto& c : n.children) {
        FEDSWARM_ASSIGN_OR_RETURN(Clauses part, translate(c));
        if (part.empty()) return Clauses{};  // x OR everything = everything
        if (part.size() != 1 || part[0].negated || (!merged.field.empty() && part[0].field != merged.field))
          return bad("OR is supported only between values of one field, as field:(a OR b); "
                     "use facet parameters (k=a,b) for the rest");
        merged.field = part[0].field;
        merged.wildcard = merged.wildcard || part[0].wildcard;
        for (auto& v : part[0].values)
          if (std::find(merged.values.begin(), merged.values.end(), v) == merged.values.end()) merged.values.push_back(v);
      }
      return Clauses{std::move(merged)};
    }
    case Node::Kind::none_of: {
      FEDSWARM_ASSIGN_OR_RETURN(Clauses part, translate(n.children.front()));
      if (part.empty()) return bad("NOT * matches nothing");
      if (part.size() != 1 || part[0].negated)
        return bad("NOT is supported only before values of one field, as NOT field:(a b)");
      part[0].negated = true;
      return part;
    }
  }
  return bad("internal: unknown node");
}

}  // namespace

Result<SolrConjunction> SolrQuery::parse(std::string_view query) {
  Parser p(query);
  std::size_t first = 0;
  while (first < query.size() && is_space(query[first])) ++first;
  if (first == query.size()) return SolrConjunction{};
  FEDSWARM_ASSIGN_OR_RETURN(Node root, p.parse());
  FEDSWARM_ASSIGN_OR_RETURN(Clauses clauses, translate(root));
  SolrConjunction out;
  for (auto& c : clauses) {
    auto same = std::find_if(out.clauses.begin(), out.clauses.end(),
                             [&](const SolrClause& o) { return o.field == c.field && o.negated == c.negated; });
    if (same == out.clauses.end()) {
      out.clauses.push_back(std::move(c));
    } else if (c.negated) {
      // NOT a AND NOT b = none of {a, b}.
      same->wildcard = same->wildcard || c.wildcard;
      for (auto& v : c.values)
        if (std::find(same->values.begin(), same->values.end(), v) == same->values.end()) same->values.push_back(v);
    } else if (same->values != c.values) {
      return bad("field " + c.field + " appears in two AND-ed terms; write field:(a OR b) for either value");
    }
  }
  return out;
}

bool SolrQuery::glob_match(std::string_view p, std::string_view t) {
  // Iterative matcher with one backtrack point for the last '*'.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '\\' && pi + 1 < p.size() && p[pi + 1] == t[ti]) {
      pi += 2;
      ++ti;
    } else if (pi < p.size() && (p[pi] == '?' || (p[pi] != '*' && p[pi] != '\\' && p[pi] == t[ti]))) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace fedswarm
