// Greedy decoding speed with and without the KV cache: bench_generate SOURCE [PROMPT NEW]
// (SOURCE: preset:NAME or a Hugging Face model folder; defaults 64 prompt tokens, 128 new).
// Prints tokens/s of the new tokens for both paths and checks that they chose the same tokens.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "formats/hf_checkpoint.h"
#include "model/kv_cache.h"
#include "model/presets.h"

namespace model = deeptune::model;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_generate SOURCE [PROMPT_TOKENS NEW_TOKENS]\n");
    return 2;
  }
  const std::string source = argv[1];
  const int64_t prompt = argc > 2 ? std::stoll(argv[2]) : 64;
  const int64_t fresh = argc > 3 ? std::stoll(argv[3]) : 128;
  model::Transformer m{nullptr};
  if (source.rfind("preset:", 0) == 0) {
    m = model::Transformer(model::find_preset(source.substr(7)).config);
    model::init_weights(m, 1);
  } else {
    m = model::Transformer(deeptune::hf::read_config(source));
    deeptune::hf::load_pretrained(m, source);
  }
  m->eval();
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(5);
  const auto ids = torch::randint(m->config().vocab_size, {1, prompt}, gen, torch::kLong);
  std::printf("%s: %s weights, %d threads, %lld prompt + %lld new tokens\n", source.c_str(),
              std::string(c10::toString(m->model->embed_tokens->weight.scalar_type())).c_str(),
              torch::get_num_threads(), (long long)prompt, (long long)fresh);

  // Without the cache: the whole sequence again for every token (generate() before the cache).
  auto t0 = Clock::now();
  auto seq = ids;
  for (int64_t i = 0; i < fresh; ++i) {
    const auto next = m->lm_logits(seq).select(1, seq.size(1) - 1).argmax(-1, true);  // (1, 1)
    seq = torch::cat({seq, next}, 1);
  }
  const double full_s = std::chrono::duration<double>(Clock::now() - t0).count();

  t0 = Clock::now();
  model::KvCache cache;
  auto cached = ids;
  auto input = ids;
  std::vector<torch::Tensor> rows;  // each step's next-token logits (1, V)
  for (int64_t i = 0; i < fresh; ++i) {
    const auto logits = model::lm_logits_cached(m, input, cache);
    rows.push_back(logits.select(1, logits.size(1) - 1));
    input = rows.back().argmax(-1, true);  // (1, 1)
    cached = torch::cat({cached, input}, 1);
  }
  const double cached_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("no cache: %.2f s, %.2f tokens/s\n", full_s, fresh / full_s);
  std::printf("KV cache: %.2f s, %.2f tokens/s (prompt included), %.1fx\n", cached_s,
              fresh / cached_s, full_s / cached_s);
  std::printf("same tokens: %s\n", torch::equal(seq, cached) ? "yes" : "no");
  // Where the choices differ, whether it is a near tie: the full forward over the cached path's
  // own sequence, against the logits the cache gave at each step.
  const auto full = m->lm_logits(cached.narrow(1, 0, prompt + fresh - 1))
                        .narrow(1, prompt - 1, fresh)
                        .squeeze(0);       // (NEW, V)
  const auto steps = torch::cat(rows, 0);  // (NEW, V)
  const auto top2 = std::get<0>(full.topk(2, -1));
  std::printf("max |cached - full| logits: %.3g; smallest top-2 gap of the full forward: %.3g\n",
              (steps - full).abs().max().item<double>(),
              (top2.select(1, 0) - top2.select(1, 1)).min().item<double>());
  return 0;
}
