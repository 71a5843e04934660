// Terminal output of deeptune-cli train: a one-line progress bar on a terminal, plain lines
// otherwise, or JSON lines with --json.
#pragma once

#include <cstdio>
#include <string>

#include "deeptune/session.h"

namespace deeptune::cli {

enum class OutputMode { kBar, kLines, kJson };

class ProgressPrinter : public RunObserver {
 public:
  explicit ProgressPrinter(OutputMode mode) : mode_(mode) {}
  void on_step(const StepMetrics& m) override;
  void on_eval(const EvalMetrics& m) override;
  void on_log(const LogLine& l) override;
  void on_state(RunState s, const std::string& detail) override;
  void finish();  // ends the bar line

 private:
  void clear_bar();
  OutputMode mode_;
  bool bar_shown_ = false;
  int64_t last_line_step_ = -1;
};

std::string format_duration(double seconds);  // "1:02:03" or "2:03"

}  // namespace deeptune::cli
