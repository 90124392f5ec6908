#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "TestSupport.hpp"
#include "fedswarm/engine/SubscriptionStore.hpp"

using namespace fedswarm;
namespace fs = std::filesystem;

namespace {

Subscription make(const std::string& name, const std::string& text, std::optional<std::uint64_t> quota = std::nullopt,
                  std::int64_t priority = 0) {
  auto c = parse_constraints(text);
  REQUIRE_MESSAGE(c.ok(), c.error().message);
  return Subscription{name, std::move(*c), quota, priority};
}

const ProjectRegistry& projects() { return ProjectRegistry::builtin(); }

// Loads a file with `text` and returns the error (REQUIREs that it fails).
Error load_error(const test::TempDir& dir, const std::string& text) {
  test::write_file(SubscriptionStore::file_of(dir.path()), text);
  auto s = SubscriptionStore::load(dir.path(), projects());
  REQUIRE_FALSE(s.ok());
  return s.error();
}

}  // namespace

TEST_CASE("SubscriptionStore: add, save, load round trip, unique names, remove") {
  test::TempDir dir("fedswarm-subs");
  auto empty = SubscriptionStore::load(dir.path(), projects());
  REQUIRE(empty.ok());
  CHECK(empty->subscriptions().empty());

  auto store = SubscriptionStore::modify(dir.path(), projects(), [](SubscriptionStore& s) -> Status {
    FEDSWARM_TRY(s.add(make("hist", "experiment_id=historical table_id=Amon variable_id=tas variable_id=pr", 10ull << 30, 5)));
    auto named = s.add(make("", "experiment_id=ssp585 table_id=Omon"));
    if (!named) return std::move(named).error();
    CHECK(named->name == "ssp585-Omon");
    FEDSWARM_TRY(s.add(make("one", "dataset_id=CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr")));
    return {};
  });
  REQUIRE_MESSAGE(store.ok(), store.error().message);
  std::string text = test::read_file(SubscriptionStore::file_of(dir.path()));
  CHECK(text.find("[[subscription]]") != std::string::npos);
  CHECK(text.find("quota = 10737418240  # 10 GiB") != std::string::npos);

  auto loaded = SubscriptionStore::load(dir.path(), projects());
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
  CHECK(loaded->subscriptions() == store->subscriptions());
  REQUIRE(loaded->find("hist"));
  CHECK(loaded->find("hist")->quota == (10ull << 30));
  CHECK(loaded->find("hist")->priority == 5);
  CHECK(loaded->find("ssp585-Omon")->quota == std::nullopt);
  CHECK(loaded->find("one")->constraints[0].facet == "master_id");

  // A taken name is a conflict, and nothing is written.
  auto dup = SubscriptionStore::modify(dir.path(), projects(), [](SubscriptionStore& s) -> Status {
    auto r = s.add(make("hist", "table_id=day"));
    return r ? Status{} : std::move(r).error();
  });
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == Errc::conflict);
  CHECK(dup.error().reason == "subscription_duplicate");
  CHECK(test::read_file(SubscriptionStore::file_of(dir.path())) == text);

  // Invalid constraints are refused by add.
  auto bad = SubscriptionStore::modify(dir.path(), projects(), [](SubscriptionStore& s) -> Status {
    auto r = s.add(make("typo", "experiment_id=histrical"));
    return r ? Status{} : std::move(r).error();
  });
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().reason == "subscription_unknown_value");

  auto removed = SubscriptionStore::modify(dir.path(), projects(), [](SubscriptionStore& s) { return s.remove("hist"); });
  REQUIRE(removed.ok());
  CHECK(removed->subscriptions().size() == 2);
  auto gone = SubscriptionStore::modify(dir.path(), projects(), [](SubscriptionStore& s) { return s.remove("hist"); });
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().code == Errc::not_found);
  CHECK(gone.error().message.find("ssp585-Omon") != std::string::npos);  // lists what exists
}

TEST_CASE("SubscriptionStore: a hand-written file with single values loads") {
  test::TempDir dir("fedswarm-subs");
  test::write_file(SubscriptionStore::file_of(dir.path()),
                   "# mine\n[[subscription]]\nname = \"a\"\nfacets = { experiment_id = \"historical\" }\n\n"
                   "[[subscription]]\nname = \"b\"\nquota = 0\npriority = -3\n[subscription.facets]\n"
                   "variable_id = [\"tas\", \"pr\"]\nfrequency = \"mon\"\n");
  auto s = SubscriptionStore::load(dir.path(), projects());
  REQUIRE_MESSAGE(s.ok(), s.error().message);
  REQUIRE(s->subscriptions().size() == 2);
  CHECK(s->find("a")->constraints_text() == "experiment_id=historical");
  CHECK(s->find("b")->constraints_text() == "frequency=mon variable_id=pr variable_id=tas");
  CHECK(s->find("b")->quota == 0u);
  CHECK(s->find("b")->priority == -3);
}

TEST_CASE("SubscriptionStore: malformed files are refused with the line and what is accepted") {
  test::TempDir dir("fedswarm-subs");
  const std::string head = "[[subscription]]\nname = \"a\"\n";
  auto e = load_error(dir, head + "facets = { experiment_id = [\"historical\"] \n");
  CHECK(e.reason == "subscriptions_syntax");
  CHECK(e.message.find("subscriptions.toml:") != std::string::npos);

  e = load_error(dir, "[node]\nsite = \"x\"\n");
  CHECK(e.reason == "subscriptions_unknown_key");

  e = load_error(dir, head + "facets = { experiment_id = \"historical\" }\nquotaa = 5\n");
  CHECK(e.reason == "subscriptions_unknown_key");
  CHECK(e.message.find("quotaa") != std::string::npos);
  CHECK(e.message.find(":1:") != std::string::npos);  // the table's line

  e = load_error(dir, head + "facets = { experiment = \"historical\" }\n");
  CHECK(e.reason == "subscription_unknown_facet");
  CHECK(e.message.find("subscription \"a\"") != std::string::npos);

  e = load_error(dir, head + "facets = { experiment_id = \"histrical\" }\n");
  CHECK(e.reason == "subscription_unknown_value");

  e = load_error(dir, head + "facets = { experiment_id = 3 }\n");
  CHECK(e.reason == "subscriptions_bad_value");

  e = load_error(dir, head + "facets = { experiment_id = \"a b\" }\n");
  CHECK(e.reason == "subscription_bad_value");

  e = load_error(dir, head + "facets = { version = \"v20190101\" }\n");
  CHECK(e.reason == "subscription_pinned_version");

  e = load_error(dir, head + "facets = {}\n");
  CHECK(e.reason == "subscription_empty");

  e = load_error(dir, head);
  CHECK(e.reason == "subscriptions_bad_value");

  e = load_error(dir, head + "facets = { table_id = \"Amon\" }\nquota = -1\n");
  CHECK(e.reason == "subscriptions_bad_value");

  e = load_error(dir, head + "facets = { table_id = \"Amon\" }\npriority = \"high\"\n");
  CHECK(e.reason == "subscriptions_bad_value");

  e = load_error(dir, "[[subscription]]\nname = \"bad name\"\nfacets = { table_id = \"Amon\" }\n");
  CHECK(e.reason == "subscription_bad_name");

  e = load_error(dir, head + "facets = { table_id = \"Amon\" }\n" + head + "facets = { table_id = \"Omon\" }\n");
  CHECK(e.reason == "subscription_duplicate");
  CHECK(e.message.find(":4:") != std::string::npos);

  CHECK(SubscriptionStore::load(dir / "no-such-home", projects()).error().code == Errc::not_found);
}

TEST_CASE("SubscriptionStore: concurrent modifications are serialised, none is lost") {
  test::TempDir dir("fedswarm-subs");
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = SubscriptionStore::modify(dir.path(), projects(), [&](SubscriptionStore& s) -> Status {
          auto added = s.add(make("t" + std::to_string(t) + "-" + std::to_string(i), "table_id=Amon"));
          return added ? Status{} : std::move(added).error();
        });
        if (!r) ++failures[t];
      }
    });
  for (auto& th : threads) th.join();
  for (int f : failures) CHECK(f == 0);
  auto s = SubscriptionStore::load(dir.path(), projects());
  REQUIRE(s.ok());
  CHECK(s->subscriptions().size() == kThreads * kEach);
}
