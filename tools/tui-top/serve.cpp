#include "serve.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cerrno>
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include <httplib.h>
#include <sys/socket.h>

#include "citypipe/core/metrics.h"
#include "citypipe/core/signals.h"
#include "citypipe/screen/web.h"

namespace tui_top {

namespace {

constexpr std::size_t max_streams = 16;               // live pages open at once
constexpr std::size_t pool_threads = max_streams + 4;  // the rest serve short requests
constexpr std::size_t max_queued = 64;                 // accepted, waiting for a thread
constexpr std::size_t max_target_bytes = 2048;         // path and query of a request
constexpr std::size_t max_body_bytes = 1024;           // a read-only server takes no bodies
constexpr auto keepalive_every = std::chrono::seconds(15);  // SSE comment to find dead peers
constexpr std::size_t no_field = static_cast<std::size_t>(-1);

// Worker threads with a bounded queue: when it is full the accepting thread
// waits, so a flood of connections waits in the kernel's backlog, not in memory.
class BoundedPool : public httplib::TaskQueue {
 public:
  explicit BoundedPool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    room_.wait(lock, [this] { return jobs_.size() < max_queued || shutdown_; });
    if (shutdown_) return;
    jobs_.push_back(std::move(fn));
    ready_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    room_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [this] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // shut down
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        room_.notify_one();
      }
      fn();
    }
  }
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool shutdown_ = false;
};

// What the publisher copied out of the model at one refresh.
struct Published {
  citypipe::DashboardSnapshot snapshot;
  citypipe::ScreenInfo info;
  citypipe::Stats stats;
  std::uint64_t version = 0;
};

using Params = std::vector<std::pair<std::string, std::string>>;

Params params_of(const httplib::Request& req) {
  return Params(req.params.begin(), req.params.end());
}

// Each line of the fragment as one data: line of a Server-Sent Event.
std::string sse_event(const std::string& html) {
  std::string out;
  out.reserve(html.size() + 64);
  std::size_t start = 0;
  while (start <= html.size()) {
    std::size_t end = html.find('\n', start);
    if (end == std::string::npos) end = html.size();
    out += "data: ";
    out.append(html, start, end - start);
    out += '\n';
    start = end + 1;
  }
  out += '\n';
  return out;
}

}  // namespace

bool parse_serve_address(const std::string& text, ServeAddress& out) {
  std::string host, port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return false;  // IPv6 needs brackets
  } else {
    port = text;
  }
  if (host.empty()) host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out.port = std::stoi(port);
  if (out.port > 65535) return false;
  out.host = host;
  out.loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  return true;
}

struct WebServer::Impl {
  Impl(citypipe::Tool& t, const Options& o, Shared& s) : tool(t), options(o), shared(s) {}

  citypipe::Tool& tool;
  const Options& options;
  Shared& shared;
  httplib::Server server;
  std::thread listener, publisher;
  std::mutex mu;  // guards latest and stopping
  std::condition_variable published;
  std::shared_ptr<const Published> latest;
  bool stopping = false;
  std::atomic<std::size_t> streams{0};
  // Rendered events of the latest snapshot by view: live pages that show the
  // same view share one rendering per refresh.
  std::mutex cache_mu;
  std::uint64_t cache_version = 0;  // guarded by cache_mu
  std::vector<std::pair<std::string, std::shared_ptr<const std::string>>> cache;  // guarded by cache_mu

  std::shared_ptr<const std::string> event_for(const Published& p, const Params& params) {
    const auto view = view_for(p.snapshot, params);
    const std::string key = citypipe::web_view_query(view, p.snapshot.fields);
    // Rendered under the lock: pages woken together by one snapshot wait for
    // one rendering instead of each making its own. The input never takes it.
    std::lock_guard lock(cache_mu);
    if (cache_version != p.version) {
      cache.clear();
      cache_version = p.version;
    }
    for (const auto& [k, event] : cache)
      if (k == key) return event;
    auto event = std::make_shared<const std::string>(
        sse_event(citypipe::render_dashboard_html(p.snapshot, view, p.info, page_options())));
    if (cache.size() < max_streams) cache.emplace_back(key, event);
    return event;
  }

  std::shared_ptr<const Published> current() {
    std::lock_guard lock(mu);
    return latest;
  }

  // The view a request asks for, over the defaults given on the command line.
  citypipe::WebView view_for(const citypipe::DashboardSnapshot& s, const Params& params) const {
    citypipe::WebView base;
    base.view.sort_column = sort_column_for(s, options.sort).value_or(0);
    base.view.reverse = options.reverse;
    base.view.refresh = options.refresh;
    base.chart_field = field_index_for(s.fields, options.spark_field);
    return citypipe::web_view_from_query(params, s.fields, base);
  }

  citypipe::PageOptions page_options() const {
    citypipe::PageOptions p;
    p.kind = citypipe::PageKind::live;
    p.alerts = std::max<std::size_t>(options.alerts, 1);
    return p;
  }

  void publish_loop() {
    citypipe::RateMeter meter;
    meter.sample(citypipe::wall_clock_ms(), 0, 0);
    std::uint64_t version = 0;
    bool final_sent = false;
    std::unique_lock lock(mu);
    while (!stopping) {
      lock.unlock();
      auto p = std::make_shared<Published>();
      bool ended;
      {
        std::lock_guard model_lock(shared.mu);  // held only for the copy
        p->snapshot = shared.model.snapshot(no_field, true);
        p->stats = shared.stats;
        ended = shared.ended;
      }
      meter.sample(citypipe::wall_clock_ms(), p->snapshot.records, p->snapshot.anomalies);
      p->info = {!ended, meter.records_per_s(), meter.anomalies_per_s()};
      lock.lock();
      if (!final_sent) {  // after the end of input, the final state stays
        p->version = ++version;
        latest = std::move(p);
        published.notify_all();
        final_sent = ended;
      }
      published.wait_for(lock, std::chrono::milliseconds(options.refresh), [this] { return stopping; });
    }
  }

  void routes() {
    server.new_task_queue = [] { return new BoundedPool(pool_threads); };
    // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
    // second tui-top on the same port would silently share its connections.
    server.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_payload_max_length(max_body_bytes);
    server.set_read_timeout(5, 0);
    server.set_write_timeout(5, 0);  // a stalled browser frees its thread after this
    server.set_keep_alive_max_count(20);
    server.set_keep_alive_timeout(2);
    server.set_default_headers({
        {"Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
         "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"Cache-Control", "no-store"},
    });
    // Read-only: GET and HEAD of a short target, nothing else.
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.method != "GET" && req.method != "HEAD") {
        res.status = 405;
        res.set_header("Allow", "GET, HEAD");
        res.set_content("read-only: GET and HEAD only\n", "text/plain");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.target.size() > max_target_bytes) {
        res.status = 414;
        res.set_content("request target too long\n", "text/plain");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });

    server.Get("/", [this](const httplib::Request& req, httplib::Response& res) {
      const auto p = current();
      if (!p) return unavailable(res);
      const auto view = view_for(p->snapshot, params_of(req));
      res.set_content(citypipe::render_page(p->snapshot, view, p->info, page_options()),
                      "text/html; charset=utf-8");
    });
    server.Get("/api/state", [this](const httplib::Request& req, httplib::Response& res) {
      const auto p = current();
      if (!p) return unavailable(res);
      const auto view = view_for(p->snapshot, params_of(req));
      res.set_content(citypipe::render_state_json(p->snapshot, view, p->info, options.alerts),
                      "application/json");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const auto p = current();
      if (!p) return unavailable(res);
      const double now = static_cast<double>(citypipe::wall_clock_ms()) / 1000.0;
      res.set_content(citypipe::render_metrics(tool.name(), p->stats, now),
                      "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Get("/style.css", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(citypipe::page_stylesheet()), "text/css; charset=utf-8");
    });
    server.Get("/app.js", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(citypipe::page_script()), "text/javascript; charset=utf-8");
    });
    server.Get("/events", [this](const httplib::Request& req, httplib::Response& res) { events(req, res); });
  }

  static void unavailable(httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "1");
    res.set_content("starting\n", "text/plain");
  }

  // One Server-Sent Events stream: a fragment for the request's view each time
  // the publisher has a new snapshot, a comment when there is none for a while.
  void events(const httplib::Request& req, httplib::Response& res) {
    if (streams.fetch_add(1) >= max_streams) {
      streams.fetch_sub(1);
      res.status = 503;
      res.set_header("Retry-After", "10");
      res.set_content("too many live pages open\n", "text/plain");
      return;
    }
    // Counts the stream until the provider is destroyed, however it ends.
    auto slot = std::shared_ptr<void>(nullptr, [this](void*) { streams.fetch_sub(1); });
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, slot, params = params_of(req), sent = std::uint64_t{0}](std::size_t,
                                                                      httplib::DataSink& sink) mutable {
          std::shared_ptr<const Published> p;
          {
            std::unique_lock lock(mu);
            published.wait_for(lock, keepalive_every, [&] {
              return stopping || (latest && latest->version != sent);
            });
            if (stopping) return false;
            p = latest;
          }
          if (p && p->version != sent) {
            if (sent == 0 && !sink.write("retry: 2000\n", 12)) return false;
            sent = p->version;
            const auto event = event_for(*p, params);
            return sink.write(event->data(), event->size());
          }
          return sink.write(": keep-alive\n\n", 14);
        });
  }
};

WebServer::WebServer(citypipe::Tool& tool, const Options& options, Shared& shared)
    : impl_(std::make_unique<Impl>(tool, options, shared)) {}

WebServer::~WebServer() { stop(); }

citypipe::Status WebServer::start(const std::string& address) {
  ServeAddress a;
  if (!parse_serve_address(address, a))
    return citypipe::Status::error(citypipe::exit_usage,
                                   "--serve: expected ADDR:PORT, :PORT or [IPv6]:PORT: " + address);
  impl_->routes();
  int port = a.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(a.host);
    if (port < 0) port = 0;
  } else if (!impl_->server.bind_to_port(a.host, port)) {
    port = 0;
  }
  if (port == 0)
    return citypipe::Status::error(citypipe::exit_unavailable,
                                   "--serve: cannot listen on " + address + ": " + std::strerror(errno));
  const std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  impl_->tool.warn(fmt::format("serving the dashboard on http://{}:{}/ (also /api/state and /metrics)", host, port));
  if (!a.loopback)
    impl_->tool.warn("the page has no authentication: anyone who can reach " + host +
                     " can read the dashboard");
  impl_->publisher = citypipe::start_thread_without_signals([this] { impl_->publish_loop(); });
  impl_->listener = citypipe::start_thread_without_signals([this] { impl_->server.listen_after_bind(); });
  return {};
}

void WebServer::stop() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->published.notify_all();
  // stop() is a no-op until the listener runs: wait for it to start (briefly).
  for (int i = 0; i < 1000 && impl_->listener.joinable() && !impl_->server.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->server.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
  if (impl_->publisher.joinable()) impl_->publisher.join();
}

}  // namespace tui_top
