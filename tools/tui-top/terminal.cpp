// The interactive mode: ncurses on standard output, keys from /dev/tty
// (standard input is the data), the input on its own thread.
#include <chrono>
#include <cstdio>
#include <cstring>

#include <curses.h>
#include <fcntl.h>
#include <unistd.h>

#include "app.h"
#include "citypipe/core/signals.h"

namespace tui_top {

namespace {

constexpr int key_escape = 27;
constexpr citypipe::time_ms min_refresh = 500, max_refresh = 30'000;
constexpr std::array<citypipe::time_ms, 9> refresh_steps = {500,  1000,  2000,  3000, 5000,
                                                            10000, 15000, 20000, 30000};

// Messages written to stderr while curses owns the terminal go to a file and
// are replayed after the screen is restored.
class StderrCapture {
 public:
  StderrCapture() {
    file_ = std::tmpfile();
    saved_ = ::dup(2);
    if (file_ != nullptr && saved_ >= 0) ::dup2(::fileno(file_), 2);
  }
  ~StderrCapture() { restore(); }
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    saved_ = -1;
    if (file_ == nullptr) return;
    std::rewind(file_);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) std::fwrite(buf, 1, n, stderr);
    std::fclose(file_);
    file_ = nullptr;
  }

 private:
  std::FILE* file_ = nullptr;
  int saved_ = -1;
};

// Owns the curses screen; the destructor always gives the terminal back.
class Curses {
 public:
  Curses(std::FILE* tty, bool color) {
    screen_ = newterm(nullptr, stdout, tty);
    if (screen_ == nullptr) return;
    set_term(screen_);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (color && has_colors()) {
      start_color();
      use_default_colors();
      init_pair(1, COLOR_RED, -1);
      init_pair(2, COLOR_YELLOW, -1);
      init_pair(3, COLOR_CYAN, -1);
      init_pair(4, COLOR_BLACK, COLOR_CYAN);
      color_ = true;
    }
  }
  ~Curses() {
    if (screen_ == nullptr) return;
    curs_set(1);
    endwin();
    delscreen(screen_);
  }
  bool ok() const { return screen_ != nullptr; }

  attr_t attr(citypipe::Style style) const {
    using citypipe::Style;
    switch (style) {
      case Style::title: return color_ ? COLOR_PAIR(4) | A_BOLD : A_REVERSE;
      case Style::column: return A_REVERSE;
      case Style::sort_column: return A_REVERSE | A_BOLD | A_UNDERLINE;
      case Style::high: return color_ ? COLOR_PAIR(1) | A_BOLD : A_BOLD;
      case Style::medium: return color_ ? COLOR_PAIR(2) : A_BOLD;
      case Style::low: return color_ ? COLOR_PAIR(3) : A_NORMAL;
      case Style::alert: return color_ ? COLOR_PAIR(1) : A_BOLD;
      case Style::help: return A_REVERSE;
      case Style::normal: break;
    }
    return A_NORMAL;
  }

  void draw(const std::vector<citypipe::ScreenLine>& lines) {
    erase();
    int y = 0;
    for (const auto& line : lines) {
      if (y >= LINES) break;
      move(y, 0);
      for (const auto& seg : line.segments) {
        attrset(attr(seg.style));
        addnstr(seg.text.data(), static_cast<int>(seg.text.size()));  // ERR at the last cell is fine
      }
      attrset(A_NORMAL);
      ++y;
    }
    refresh();
  }

 private:
  SCREEN* screen_ = nullptr;
  bool color_ = false;
};

citypipe::time_ms step_refresh(citypipe::time_ms now, int direction) {
  if (direction > 0) {
    for (auto s : refresh_steps)
      if (s > now) return s;
    return max_refresh;
  }
  for (auto it = refresh_steps.rbegin(); it != refresh_steps.rend(); ++it)
    if (*it < now) return *it;
  return min_refresh;
}

void pop_utf8(std::string& s) {
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty()) s.pop_back();
}

}  // namespace

citypipe::Status run_terminal(citypipe::Tool& tool, const Options& options, Shared& shared,
                              bool& quit_by_key) {
  // A batch fallback reports a closed pipe downstream the same way as q.
  std::FILE* tty = std::fopen("/dev/tty", "r");
  if (tty == nullptr) {
    tool.warn(std::string("cannot open /dev/tty for keys (") + std::strerror(errno) +
              "): batch mode");
    return run_batch(tool, options, shared, quit_by_key);
  }
  citypipe::Status status;
  {
    StderrCapture capture;
    Curses curses(tty, options.color);
    if (!curses.ok()) {
      capture.restore();
      std::fclose(tty);
      tool.warn("cannot start the terminal screen (TERM?): batch mode");
      return run_batch(tool, options, shared, quit_by_key);
    }
    Feed feed(tool, shared);
    citypipe::ViewState view;
    view.refresh = options.refresh;
    view.reverse = options.reverse;
    bool sort_chosen = false, spark_chosen = false, help = false;
    std::size_t spark = 0;
    citypipe::RateMeter meter;
    meter.sample(citypipe::wall_clock_ms(), 0, 0);
    citypipe::DashboardSnapshot snapshot;
    bool live = true;
    auto next_draw = std::chrono::steady_clock::now();
    bool dirty = true;
    ViewNameCheck names;
    citypipe::Status names_status;

    while (!citypipe::stop_requested()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_draw) {
        if (!view.paused) {
          std::lock_guard lock(shared.mu);
          if (!spark_chosen) spark = field_index_for(shared.model.fields(), options.spark_field);
          snapshot = shared.model.snapshot(spark);
          live = !shared.ended;
          meter.sample(citypipe::wall_clock_ms(), snapshot.records, snapshot.anomalies);
        }
        names_status = names.check(options, snapshot.fields, snapshot.records, !live);
        if (!names_status.is_ok()) break;
        next_draw = now + std::chrono::milliseconds(view.refresh);
        dirty = true;
      }
      if (!sort_chosen) {
        if (auto c = sort_column_for(snapshot, options.sort)) view.sort_column = *c;
      }
      if (dirty) {
        citypipe::ScreenOptions screen;
        screen.width = static_cast<std::size_t>(std::max(COLS, 1));
        screen.height = static_cast<std::size_t>(std::max(LINES, 1));
        screen.utf8 = options.utf8;
        const citypipe::ScreenInfo info{live, meter.records_per_s(), meter.anomalies_per_s()};
        curses.draw(help ? citypipe::render_help(screen)
                         : citypipe::render_screen(snapshot, view, info, screen));
        dirty = false;
      }
      // Wake at least every 100 ms to see signals and the end of input.
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                            next_draw - std::chrono::steady_clock::now())
                            .count();
      timeout(static_cast<int>(std::clamp<long long>(wait, 0, 100)));
      const int ch = getch();
      if (ch == ERR) {
        std::lock_guard lock(shared.mu);
        if (live == shared.ended && !view.paused) next_draw = std::chrono::steady_clock::now();
        continue;
      }
      dirty = true;
      if (help) {
        help = false;
        if (ch != 'q') continue;
      }
      if (view.editing_filter) {
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
          view.editing_filter = false;
        } else if (ch == key_escape) {
          view.filter.clear();
          view.editing_filter = false;
        } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
          pop_utf8(view.filter);
        } else if (ch >= 32 && ch < 256 && view.filter.size() < 64) {
          view.filter += static_cast<char>(ch);
        }
        continue;
      }
      const std::size_t columns = citypipe::sort_column_count(snapshot);
      switch (ch) {
        case 'q': case 'Q': quit_by_key = true; break;
        case 'p': case ' ': view.paused = !view.paused; next_draw = std::chrono::steady_clock::now(); break;
        case '/': view.editing_filter = true; view.filter.clear(); break;
        case key_escape: view.filter.clear(); break;
        case 'a': view.anomalies_only = !view.anomalies_only; break;
        case '<': case ',': case KEY_LEFT:
          view.sort_column = (view.sort_column + columns - 1) % columns;
          sort_chosen = true;
          break;
        case '>': case '.': case KEY_RIGHT:
          view.sort_column = (view.sort_column + 1) % columns;
          sort_chosen = true;
          break;
        case 'r': view.reverse = !view.reverse; break;
        case 'm':
          if (!snapshot.fields.empty()) spark = (spark + 1) % snapshot.fields.size();
          spark_chosen = true;
          next_draw = std::chrono::steady_clock::now();
          break;
        case '+': case '=': view.refresh = step_refresh(view.refresh, +1); break;
        case '-': case '_': view.refresh = step_refresh(view.refresh, -1); break;
        case '?': case 'h': case KEY_F(1): help = true; break;
        case 12: clearok(curscr, TRUE); break;  // Ctrl-L
        case KEY_RESIZE: break;
        default: break;
      }
      if (quit_by_key) break;
      if (view.refresh != std::chrono::milliseconds(0).count() &&
          next_draw > std::chrono::steady_clock::now() + std::chrono::milliseconds(view.refresh))
        next_draw = std::chrono::steady_clock::now() + std::chrono::milliseconds(view.refresh);
    }
    feed.stop();
    status = names_status.is_ok() ? feed.status() : names_status;
  }  // the screen is restored and captured messages replayed here
  std::fclose(tty);
  return status;
}

}  // namespace tui_top
