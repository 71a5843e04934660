// Progress output for deeptune-cli (see progress.h).
#include "progress.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace deeptune::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void ProgressPrinter::clear_bar() {
  if (bar_shown_) {
    std::fprintf(stderr, "\r\033[2K");
    bar_shown_ = false;
  }
}

void ProgressPrinter::on_step(const StepMetrics& m) {
  if (mode_ == OutputMode::kJson) {
    nlohmann::json j = {{"event", "step"},
                        {"step", m.step},
                        {"max_steps", m.max_steps},
                        {"loss", m.loss},
                        {"lr", m.lr},
                        {"grad_norm", m.grad_norm},
                        {"tokens_per_s", m.tokens_per_second},
                        {"eta_s", m.eta_seconds}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    return;
  }
  if (mode_ == OutputMode::kBar) {
    constexpr int kWidth = 24;
    const double frac = m.max_steps ? double(m.step) / double(m.max_steps) : 0.0;
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '-');
    std::fprintf(stderr,
                 "\r\033[2K[%s] %3d%% step %lld/%lld  loss %.4f  lr %.2e  %.0f tok/s  ETA %s",
                 bar.c_str(), static_cast<int>(frac * 100), static_cast<long long>(m.step),
                 static_cast<long long>(m.max_steps), m.loss, m.lr, m.tokens_per_second,
                 format_duration(m.eta_seconds).c_str());
    std::fflush(stderr);
    bar_shown_ = true;
    return;
  }
  // Plain lines: about 50 per run, plus the first and the last step.
  const int64_t every = std::max<int64_t>(1, m.max_steps / 50);
  if (m.step == 1 || m.step % every == 0 || m.step == m.max_steps) {
    std::printf("step %lld/%lld loss %.4f lr %.2e grad_norm %.3f %.0f tok/s elapsed %s ETA %s\n",
                static_cast<long long>(m.step), static_cast<long long>(m.max_steps), m.loss, m.lr,
                m.grad_norm, m.tokens_per_second, format_duration(m.elapsed_seconds).c_str(),
                format_duration(m.eta_seconds).c_str());
    std::fflush(stdout);
    last_line_step_ = m.step;
  }
}

void ProgressPrinter::on_eval(const EvalMetrics& m) {
  if (mode_ == OutputMode::kJson) {
    nlohmann::json j = {{"event", "eval"}, {"step", m.step}, {"val_loss", m.loss}};
    if (m.accuracy)
      j["val_accuracy"] = *m.accuracy;
    else
      j["val_perplexity"] = m.perplexity;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    return;
  }
  clear_bar();
  FILE* out = mode_ == OutputMode::kBar ? stderr : stdout;
  if (m.accuracy)
    std::fprintf(out, "eval step %lld: val_loss %.4f accuracy %.2f%%\n",
                 static_cast<long long>(m.step), m.loss, 100.0 * *m.accuracy);
  else
    std::fprintf(out, "eval step %lld: val_loss %.4f perplexity %.2f\n",
                 static_cast<long long>(m.step), m.loss, m.perplexity);
  std::fflush(out);
}

void ProgressPrinter::on_log(const LogLine& l) {
  if (mode_ == OutputMode::kJson) {
    const char* level = l.level == LogLevel::kError     ? "error"
                        : l.level == LogLevel::kWarning ? "warning"
                                                        : "info";
    std::printf(
        "%s\n",
        nlohmann::json{{"event", "log"}, {"level", level}, {"text", l.text}}.dump().c_str());
    std::fflush(stdout);
    return;
  }
  clear_bar();
  const char* prefix = l.level == LogLevel::kError     ? "error: "
                       : l.level == LogLevel::kWarning ? "warning: "
                                                       : "";
  std::fprintf(stderr, "%s%s\n", prefix, l.text.c_str());
}

void ProgressPrinter::on_state(RunState s, const std::string& detail) {
  if (mode_ == OutputMode::kJson) {
    std::printf("%s\n",
                nlohmann::json{{"event", "state"}, {"state", to_string(s)}, {"detail", detail}}
                    .dump()
                    .c_str());
    std::fflush(stdout);
    return;
  }
  if (s == RunState::kPaused) {  // a stop already logs where it stopped
    clear_bar();
    std::fprintf(stderr, "%s: %s\n", to_string(s).c_str(), detail.c_str());
  }
}

void ProgressPrinter::finish() {
  if (bar_shown_) {
    std::fprintf(stderr, "\n");
    bar_shown_ = false;
  }
}

}  // namespace deeptune::cli
