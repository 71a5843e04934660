// Tokenisation, sampling and collation (see batches.h).
#include "train/batches.h"

#include <algorithm>
#include <set>

#include "core/splitmix64.h"
#include "data/example_tokens.h"
#include "deeptune/error.h"
#include "tokenize/chat_template.h"

namespace deeptune::train {
EncodedData encode(const std::vector<Example>& examples, const Split& split, MappingKind mapping,
                   Task task, const Tokenizer& tok, int max_length, ChatTemplate chat) {
  const bool classify = task == Task::kClassification;
  if (classify && mapping != MappingKind::kTextLabel)
    throw InputError("model.task", "classification needs a dataset mapped as text + label");
  if (classify && mapping == MappingKind::kMessages)
    throw InputError("model.task", "a messages dataset trains a causal_lm, not a classifier");
  if (!classify && mapping == MappingKind::kTextLabel)
    throw InputError("model.task",
                     "the dataset is mapped as text + label: set model.task to classification, or "
                     "map only a text column for causal_lm");
  EncodedData out;
  if (classify) {
    std::set<std::string> names;
    for (const auto& e : examples) names.insert(e.label);
    out.labels.assign(names.begin(), names.end());
  }
  chat::ChatFormat format;
  if (mapping == MappingKind::kMessages) {
    format = chat::resolve_chat_format(chat, tok.chat_template());
    out.chat_note = format.note;
  }
  auto one = [&](const Example& e) -> std::optional<TokenizedExample> {
    ExampleTokens x = example_tokens(e, tok, format);
    TokenizedExample t{std::move(x.ids), std::move(x.trained)};
    if (!t.target.empty()) t.target[0] = 0;  // nothing predicts the first token
    if (static_cast<int>(t.ids.size()) > max_length) {
      t.ids.resize(max_length);
      t.target.resize(max_length);
      ++out.truncated;
    }
    if (classify) {
      t.label = static_cast<int32_t>(
          std::lower_bound(out.labels.begin(), out.labels.end(), e.label) - out.labels.begin());
    } else if (std::find(t.target.begin(), t.target.end(), 1) == t.target.end()) {
      ++out.dropped;  // the prompt alone fills max_length: nothing to learn from
      return std::nullopt;
    }
    return t;
  };
  for (size_t i : split.train)
    if (auto t = one(examples[i])) out.train.push_back(std::move(*t));
  for (size_t i : split.val)
    if (auto t = one(examples[i])) out.val.push_back(std::move(*t));
  if (out.train.empty())
    throw InputError("data.dataset",
                     "no training examples left (dataset too small, or every "
                     "prompt longer than data.max_length)");
  return out;
}

Sampler::Sampler(size_t n, uint64_t seed) : n_(n), seed_(seed) {
  shuffle();
}

void Sampler::shuffle() {
  order_.resize(n_);
  for (size_t i = 0; i < n_; ++i) order_[i] = i;
  // Each epoch's permutation from its own stream of the seed, so seek() can rebuild any epoch.
  SplitMix64(seed_ * 0x2545F4914F6CDD1DULL + epoch_ + 1).shuffle(order_);
}

std::vector<size_t> Sampler::next(size_t count) {
  std::vector<size_t> out;
  out.reserve(count);
  while (out.size() < count) {
    if (cursor_ == order_.size()) {
      ++epoch_;
      cursor_ = 0;
      shuffle();
    }
    out.push_back(order_[cursor_++]);
  }
  return out;
}

void Sampler::seek(uint64_t epoch, uint64_t cursor) {
  epoch_ = epoch;
  cursor_ = std::min<uint64_t>(cursor, order_.size());
  shuffle();
}

Batch collate(const std::vector<const TokenizedExample*>& examples, int32_t pad_id,
              const torch::Device& device) {
  const int64_t b = static_cast<int64_t>(examples.size());
  int64_t t = 1;
  for (const auto* e : examples) t = std::max<int64_t>(t, static_cast<int64_t>(e->ids.size()));
  auto ids = torch::full({b, t}, static_cast<int64_t>(pad_id), torch::kLong);
  auto targets = torch::full({b, t}, int64_t{-100}, torch::kLong);
  auto labels = torch::zeros({b}, torch::kLong);
  auto last = torch::zeros({b}, torch::kLong);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto tgt_a = targets.accessor<int64_t, 2>();
  Batch batch;
  for (int64_t i = 0; i < b; ++i) {
    const auto& e = *examples[i];
    const int64_t n = static_cast<int64_t>(e.ids.size());
    for (int64_t j = 0; j < n; ++j) ids_a[i][j] = e.ids[j];
    for (int64_t j = 1; j < n; ++j) {
      if (!e.target[j]) continue;
      tgt_a[i][j - 1] = e.ids[j];
      ++batch.target_count;
    }
    labels[i] = e.label;
    last[i] = n - 1;
    batch.tokens += n;
  }
  if (examples.front()->label >= 0) batch.target_count = b;
  batch.input_ids = ids.to(device);
  batch.targets = targets.to(device);
  batch.labels = labels.to(device);
  batch.last_index = last.to(device);
  return batch;
}

}  // namespace deeptune::train
