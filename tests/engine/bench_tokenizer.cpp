// Encoding throughput of HfTokenizer per fixture family, single thread:
//   bench_tokenizer [FIXTURE_DIR] [TEXT_FILE]
// FIXTURE_DIR defaults to tests/interop/fixtures/tokenizers; the text is TEXT_FILE, else every
// fixture string of the family repeated to 8 MB (mixed English, CJK, code, emoji, whitespace).
// Reports the first (cold cache) pass and the best of three, per second of this thread's CPU time
// (the per-core figure, unaffected by other processes sharing the machine), and wall-clock.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "deeptune/tokenizer.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const fs::path dir = argc > 1
                           ? fs::path(argv[1])
                           : fs::path(DEEPTUNE_SOURCE_DIR) / "tests/interop/fixtures/tokenizers";
  std::string file_text;
  if (argc > 2) {
    std::ifstream in(argv[2], std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    file_text = s.str();
  }
  std::vector<fs::path> families;
  for (const auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "tokenizer.json")) families.push_back(e.path());
  std::sort(families.begin(), families.end());
  try {
    for (const fs::path& family : families) {
      const auto tok = deeptune::load_hf_tokenizer(family.string());
      std::vector<std::string> docs;
      size_t bytes = 0;
      if (!file_text.empty()) {
        // one document per line, as a dataset would feed it
        std::istringstream lines(file_text);
        for (std::string line; std::getline(lines, line);) {
          bytes += line.size();
          docs.push_back(std::move(line));
        }
      } else {
        const auto expected = deeptune::read_json_object_file((family / "expected.json").string());
        while (bytes < (8u << 20))
          for (const auto& c : expected["cases"]) {
            docs.push_back(c["text"].get<std::string>());
            bytes += docs.back().size();
          }
      }
      const auto cpu_now = [] {
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return t.tv_sec + t.tv_nsec * 1e-9;
      };
      double first = 0, best = 1e30, best_wall = 1e30;
      size_t tokens = 0;
      for (int pass = 0; pass < 3; ++pass) {
        tokens = 0;
        const double cpu_start = cpu_now();
        const auto start = std::chrono::steady_clock::now();
        for (const std::string& d : docs) tokens += tok->encode(d).size();
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double cpu = cpu_now() - cpu_start;
        if (pass == 0) first = cpu;
        best = std::min(best, cpu);
        best_wall = std::min(best_wall, wall);
      }
      std::printf(
          "%-12s %6.1f MB/s cold, %6.1f MB/s warm per CPU second; %6.1f MB/s wall"
          "  (%zu bytes, %zu tokens)\n",
          family.filename().c_str(), bytes / 1e6 / first, bytes / 1e6 / best,
          bytes / 1e6 / best_wall, bytes, tokens);
    }
  } catch (const deeptune::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  return 0;
}
