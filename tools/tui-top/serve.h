// tui-top --serve: the dashboard as a live web page (Server-Sent Events),
// /api/state and /metrics, on cpp-httplib. The model is snapshotted under the
// shared lock once per refresh by a publisher thread; pages are rendered and
// sent on the server's threads from that copy, so a slow or vanished browser
// never holds the lock the input thread needs.
#pragma once

#include <memory>
#include <string>

#include "app.h"

namespace tui_top {

// ADDR:PORT, :PORT or PORT (loopback), [IPv6]:PORT. False when unparsable.
struct ServeAddress {
  std::string host;
  int port = 0;
  bool loopback = true;
};
bool parse_serve_address(const std::string& text, ServeAddress& out);

class WebServer {
 public:
  WebServer(citypipe::Tool& tool, const Options& options, Shared& shared);
  ~WebServer();  // stops

  // Binds and starts serving; says where on stderr (and that there is no
  // authentication when the address is not loopback). 64 for a bad address,
  // 69 when it cannot be bound.
  citypipe::Status start(const std::string& address);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tui_top
