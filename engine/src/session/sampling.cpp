// Next-token choice (see sampling.h).
#include "session/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_set>

#include "deeptune/error.h"

namespace deeptune::sampling {

void apply_repetition_penalty(std::vector<float>& logits, const std::vector<int32_t>& context,
                              double penalty) {
  if (penalty == 1.0) return;
  const std::unordered_set<int32_t> seen(context.begin(), context.end());
  for (int32_t id : seen) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(id)];
    l = l > 0 ? static_cast<float>(l / penalty) : static_cast<float>(l * penalty);
  }
}

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

std::vector<double> filtered_probabilities(const std::vector<float>& logits, double temperature,
                                           int top_k, double top_p) {
  const size_t v = logits.size();
  // Token order by logit, descending; ties by id so the order is the same everywhere.
  std::vector<int32_t> order(v);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return logits[size_t(a)] > logits[size_t(b)]; });
  size_t keep = (top_k > 0) ? std::min(v, static_cast<size_t>(top_k)) : v;
  // Softmax in double over the kept tokens (the max subtracted for range).
  const double top = logits[size_t(order[0])];
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) {
    p[i] = std::exp((logits[size_t(order[i])] - top) / temperature);
    sum += p[i];
  }
  for (double& x : p) x /= sum;
  if (top_p < 1.0) {
    // The smallest prefix whose mass reaches top_p (at least one token).
    double mass = 0;
    size_t n = 0;
    while (n < keep) {
      mass += p[n++];
      if (mass >= top_p) break;
    }
    keep = n;
    sum = mass;
    for (size_t i = 0; i < keep; ++i) p[i] /= sum;
  }
  std::vector<double> out(v, 0.0);
  for (size_t i = 0; i < keep; ++i) out[size_t(order[i])] = p[i];
  return out;
}

Sampler::Sampler(const SamplingOptions& o) : options_(o), rng_(o.seed) {
  if (!(o.temperature >= 0) || !std::isfinite(o.temperature))
    throw InputError("temperature", "must be 0 (greedy) or positive");
  if (o.top_k < 0) throw InputError("top_k", "must be 0 (no limit) or positive");
  if (!(o.top_p > 0 && o.top_p <= 1)) throw InputError("top_p", "must be in (0, 1]");
  if (!(o.repetition_penalty > 0) || !std::isfinite(o.repetition_penalty))
    throw InputError("repetition_penalty", "must be positive (1 = none)");
}

int32_t Sampler::next(std::vector<float> logits, const std::vector<int32_t>& context) {
  apply_repetition_penalty(logits, context, options_.repetition_penalty);
  if (options_.temperature == 0.0) return argmax(logits);
  const auto p =
      filtered_probabilities(logits, options_.temperature, options_.top_k, options_.top_p);
  // A uniform double in [0, 1) from the top 53 bits, then the inverse CDF over token ids.
  const double u = static_cast<double>(rng_.next() >> 11) * 0x1.0p-53;
  double cdf = 0;
  int32_t last = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] <= 0) continue;
    last = static_cast<int32_t>(i);
    cdf += p[i];
    if (u < cdf) return last;
  }
  return last;  // rounding left u above the total
}

}  // namespace deeptune::sampling
