#include "fedswarm/engine/ControlClient.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fedswarm {

std::filesystem::path control_socket_path(const std::filesystem::path& home) { return home / "control.sock"; }

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Error not_running(const std::filesystem::path& home) {
  return make_error(Errc::unavailable, "node_not_running",
                    "no node is running in " + home.string() + "; start one with `fedswarm --home " + home.string() +
                        " node run`");
}

}  // namespace

Result<nlohmann::json> control_request(const std::filesystem::path& home, const nlohmann::json& request,
                                       std::chrono::milliseconds timeout) {
  const std::string path = control_socket_path(home).string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path))
    return make_error(Errc::invalid, "home_path_too_long",
                      "the control socket path " + path + " is longer than the " + std::to_string(sizeof(addr.sun_path) - 1) +
                          " bytes a Unix socket allows; use a shorter --home");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return make_error(Errc::io, "control_socket", std::string("socket: ") + std::strerror(errno));
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) return not_running(home);
    return make_error(Errc::io, "control_socket", "cannot reach the node at " + path + ": " + std::strerror(errno));
  }
  const std::string line = request.dump() + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(s.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::io, "control_socket", std::string("sending to the node: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return make_error(Errc::io, "control_timeout", "the node did not answer within " + std::to_string(timeout.count()) + " ms");
    pollfd p{s.fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::recv(s.fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::io, "control_socket", std::string("reading the node's answer: ") + std::strerror(errno));
    if (n == 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
    if (answer.size() > (64u << 20)) return make_error(Errc::io, "control_answer", "the node's answer is too large");
    if (answer.back() == '\n') break;
  }
  auto j = nlohmann::json::parse(answer, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(Errc::io, "control_answer", "the node sent a malformed answer");
  if (auto e = j.find("error"); e != j.end() && e->is_object()) {
    static const std::pair<const char*, Errc> codes[] = {
        {"invalid", Errc::invalid},   {"unauthorized", Errc::unauthorized}, {"conflict", Errc::conflict},
        {"not_found", Errc::not_found}, {"io", Errc::io},                   {"corrupt", Errc::corrupt},
        {"unavailable", Errc::unavailable}};
    Errc code = Errc::io;
    for (const auto& [name, c] : codes)
      if (e->value("code", "") == name) code = c;
    return make_error(code, e->value("reason", "node_error"), e->value("message", "the node refused the request"));
  }
  return j;
}

}  // namespace fedswarm
