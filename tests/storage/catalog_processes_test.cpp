// Catalog shared between processes: a read-only process beside a writer (including a map
// the writer grew), and two writers whose dictionaries must stay in step. LMDB forbids
// opening one environment twice in a process, so the second party is a forked child
// that reports through its exit status.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "CatalogWorld.hpp"

using namespace fedswarm;
using namespace fedswarm::test;

namespace {

// Runs `fn` in a forked child and returns its result (0 = success), or -1 if the child
// died. The child never returns into doctest.
int in_child(const std::function<int()>& fn) {
  std::fflush(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 99;
    try {
      code = fn();
    } catch (...) {
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::unique_ptr<Catalog> open_at(const std::filesystem::path& dir, bool read_only) {
  CatalogOptions o;
  o.dir = dir;
  o.read_only = read_only;
  auto c = Catalog::open(o, ProjectRegistry::builtin());
  return c ? std::move(*c) : nullptr;
}

// Blocks until the other side writes a byte.
void wait_for(int fd) {
  char b;
  while (read(fd, &b, 1) < 0) {
  }
}
void signal(int fd) {
  char b = 1;
  while (write(fd, &b, 1) < 0) {
  }
}

}  // namespace

TEST_CASE("a read-only process sees a writer's commits and cannot write") {
  CatalogWorld w;
  Manifest m = w.manifest(ipsl_tas(), "v20180101");
  REQUIRE(w.publish(w.ipsl, m).outcome == IngestOutcome::stored);
  auto next = w.manifest_record(w.ipsl, w.manifest(ipsl_tas(), "v20190101"));
  const auto dir = w.dir.path() / "catalog";
  int code = in_child([&] {
    auto ro = open_at(dir, true);
    if (!ro) return 1;
    if (ro->stats()->versions != 1 || ro->search(SearchQuery{})->num_found != 1) return 2;
    if (!(*ro->manifest(m.instance_id()) == m)) return 3;
    auto r = ro->ingest(next, CatalogWorld::kNow);
    if (r.ok() || r.error().code != Errc::io) return 4;
    return 0;
  });
  CHECK(code == 0);
  // The refused write in the child changed nothing here.
  CHECK(w.ingest(next).outcome == IngestOutcome::stored);

  CatalogOptions missing;
  missing.dir = w.dir.path() / "nowhere";
  missing.read_only = true;
  CHECK(Catalog::open(missing, ProjectRegistry::builtin()).error().code == Errc::not_found);
}

TEST_CASE("a reader adopts a map the writer grew meanwhile") {
  CatalogWorld w(256u << 10);
  const auto dir = w.dir.path() / "catalog";
  int to_child[2], to_parent[2];
  REQUIRE(pipe(to_child) == 0);
  REQUIRE(pipe(to_parent) == 0);
  std::vector<Envelope> batch;
  for (int i = 0; i < 400; ++i)
    batch.push_back(w.manifest_record(w.ncar, w.manifest(ncar_pr(), version_string(i))));

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int code = 0;
    {
      auto ro = open_at(dir, true);
      signal(to_parent[1]);
      wait_for(to_child[0]);
      if (!ro) code = 1;
      else if (auto s = ro->stats(); !s || s->versions != 400) code = 2;
      else if (auto r = ro->search(SearchQuery{}); !r || r->num_found != 1) code = 3;
      else if (ro->versions_of(ncar_pr().dataset_id())->size() != 400) code = 4;
    }
    _exit(code);
  }
  wait_for(to_parent[0]);
  const auto before = w.cat->stats()->map_bytes;
  auto results = w.cat->ingest_batch(batch, CatalogWorld::kNow);
  REQUIRE(results.ok());
  CHECK(w.cat->stats()->map_bytes > before);
  signal(to_child[1]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) close(fd);
}

TEST_CASE("two writing processes keep one facet dictionary") {
  CatalogWorld w;
  const auto dir = w.dir.path() / "catalog";
  std::vector<Facet> ocean = {{"realm", {"ocean"}}}, ice = {{"realm", {"seaIce"}}}, land = {{"realm", {"land"}}};
  REQUIRE(w.ingest(w.manifest_record(w.ncar, factory().make(ncar_pr(), "v20180101", 2, w.rng, ocean))).outcome ==
          IngestOutcome::stored);
  // The child adds a value (new id) the parent's cached dictionary has not seen.
  auto child_record = w.manifest_record(w.ncar, factory().make(ipsl_tas(), "v20180101", 2, w.rng, ice));
  int code = in_child([&] {
    // The inherited handle belongs to the parent: the child opens its own.
    auto rw = open_at(dir, false);
    if (!rw) return 1;
    auto r = rw->ingest(child_record, CatalogWorld::kNow);
    return r.ok() && r->outcome == IngestOutcome::stored ? 0 : 2;
  });
  REQUIRE(code == 0);
  DatasetSpec third = ncar_pr();
  third.variable = "tas";
  REQUIRE(w.ingest(w.manifest_record(w.ncar, factory().make(third, "v20180101", 2, w.rng, land))).outcome ==
          IngestOutcome::stored);
  SearchQuery q;
  q.facet_fields = {"realm", "variable_id"};
  auto r = w.cat->search(q);
  REQUIRE(r.ok());
  CHECK(r->num_found == 3);
  REQUIRE(r->facet_counts[0].counts.size() == 3);
  CHECK(r->facet_counts[0].counts[0].value == "land");
  CHECK(r->facet_counts[0].counts[1].value == "ocean");
  CHECK(r->facet_counts[0].counts[2].value == "seaIce");
  for (const char* realm : {"land", "ocean", "seaIce"}) {
    SearchQuery one;
    one.constraints = {{"realm", realm}};
    CHECK_MESSAGE(w.cat->search(one)->num_found == 1, realm);
  }
}
