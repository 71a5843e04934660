// Trying a run's latest checkpoint: generation (causal LM, KV-cached, greedy or sampled) and
// classification — the quickest way to see what a run learned, and the reference numbers the
// interoperability checks compare transformers + PEFT against.
#include <torch/torch.h>

#include <cctype>
#include <chrono>
#include <unordered_set>

#include "deeptune/session.h"
#include "formats/hf_checkpoint.h"
#include "model/kv_cache.h"
#include "session/sampling.h"
#include "session/session_internal.h"
#include "tokenize/chat_template.h"

namespace deeptune {
namespace {

// The run's model as of its newest checkpoint, in eval mode, refused unless it does `task`.
detail::TrainedModel trained_for(const std::string& project_path, const std::string& run_name,
                                 Task task, const char* refusal) {
  auto store = ProjectStore::open(project_path);
  const auto run = store->find_run(run_name);
  if (!run) throw InputError(project_path, "no run named '" + run_name + "'");
  auto trained = detail::load_trained(*store, *run);
  if (trained.config.model.task != task) throw InputError(run->name, refusal);
  trained.model->eval();
  return trained;
}

// The prompt as token ids: BOS + text, or (chat) one user message in the run's chat family up to
// and including the assistant header. `end_of_turn` receives the id of the family's end-of-turn
// token when it is a single token (decode() drops special tokens, so a stop string cannot see it).
std::vector<int32_t> encode_prompt(const detail::TrainedModel& trained, const std::string& prompt,
                                   bool chat, int32_t* end_of_turn) {
  const Tokenizer& tok = *trained.tokenizer;
  std::vector<int32_t> ids;
  if (!chat) {
    if (tok.adds_bos() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    for (int32_t id : tok.encode(prompt)) ids.push_back(id);
    return ids;
  }
  const auto format =
      chat::resolve_chat_format(trained.config.data.chat_template, tok.chat_template());
  // An empty assistant turn: what precedes its (trained) content is the prompt, the trained
  // segment after the content is the end-of-turn marker.
  const auto segments = chat::render(format, {{"user", prompt}, {"assistant", ""}});
  std::vector<chat::ChatSegment> head;
  size_t i = 0;
  for (; i < segments.size() && !segments[i].trained; ++i) head.push_back(segments[i]);
  for (; i < segments.size(); ++i) {
    std::string marker = segments[i].text;
    while (!marker.empty() && std::isspace(static_cast<unsigned char>(marker.back())))
      marker.pop_back();
    if (marker.empty()) continue;
    const auto marker_ids = tok.encode(marker);
    if (marker_ids.size() == 1) *end_of_turn = marker_ids.front();
    break;
  }
  return chat::encode_segments(head, tok).ids;
}

// How many bytes at the end of `text` must wait: the start of a stop string that may complete
// with the next token, or an incomplete UTF-8 character (decoded as U+FFFD until it completes).
size_t held_back(const std::string& text, const std::vector<std::string>& stop) {
  size_t hold = 0;
  for (const auto& s : stop)
    for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n)
      if (text.compare(text.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  static const std::string kReplacement = "\xEF\xBF\xBD";
  if (text.size() >= kReplacement.size() &&
      text.compare(text.size() - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
    hold = std::max(hold, kReplacement.size());
  return hold;
}

std::vector<float> to_vector(const torch::Tensor& logits) {  // (V), any dtype -> fp32
  const auto c = logits.to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

Generation generate(const std::string& project_path, const std::string& run_name,
                    const std::string& prompt, const GenerateOptions& options) {
  if (options.max_new_tokens < 0) throw InputError("max_new_tokens", "must be 0 or more");
  for (const auto& s : options.stop)
    if (s.empty()) throw InputError("stop", "a stop string cannot be empty");
  sampling::SamplingOptions so;
  so.temperature = options.temperature;
  so.top_k = options.top_k;
  so.top_p = options.top_p;
  so.repetition_penalty = options.repetition_penalty;
  so.seed = options.seed;
  sampling::Sampler sampler(so);  // validates the options before the model loads

  auto trained = trained_for(project_path, run_name, Task::kCausalLm,
                             "generation needs a causal_lm run; this one is a classifier");
  auto& m = trained.model;
  const auto& tok = trained.tokenizer;
  torch::NoGradGuard no_grad;

  Generation g;
  int32_t end_of_turn = -1;
  g.prompt_ids = encode_prompt(trained, prompt, options.chat, &end_of_turn);
  std::unordered_set<int32_t> eos = {tok->eos_id(), static_cast<int32_t>(m->config().eos_token_id),
                                     end_of_turn};
  eos.erase(-1);
  std::vector<int32_t> context = g.prompt_ids;
  const int64_t max_len = m->config().max_position_embeddings;
  model::KvCache cache;
  size_t emitted = 0;  // bytes of g.text already given to on_text
  g.stop_reason = "length";
  torch::Tensor input = torch::tensor(std::vector<int64_t>(context.begin(), context.end()),
                                      torch::kLong)
                            .unsqueeze(0);  // (1, T): the prompt, then one token per step
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < options.max_new_tokens; ++i) {
    if (cache.length() + input.size(1) >= max_len) {  // as before the cache: T < max_len
      g.stop_reason = "context";
      break;
    }
    const auto t0 = Clock::now();
    const auto logits = model::lm_logits_cached(m, input, cache);  // (1, n, V)
    auto row = to_vector(logits.select(1, logits.size(1) - 1).squeeze(0));
    (i == 0 ? g.prompt_seconds : g.decode_seconds) +=
        std::chrono::duration<double>(Clock::now() - t0).count();
    if (i == 0) g.first_logits = row;
    const int32_t next = sampler.next(std::move(row), context);
    if (eos.count(next)) {
      g.stop_reason = "eos";
      break;
    }
    context.push_back(next);
    g.output_ids.push_back(next);
    input = torch::tensor({static_cast<int64_t>(next)}, torch::kLong).unsqueeze(0);  // (1, 1)
    g.text = tok->decode(g.output_ids);
    bool stopped = false;
    for (const auto& s : options.stop) {
      const size_t at = g.text.find(s);
      if (at != std::string::npos) {
        g.text.resize(at);
        stopped = true;
      }
    }
    const size_t ready = stopped ? g.text.size() : g.text.size() - held_back(g.text, options.stop);
    if (options.on_text && ready > emitted) {
      const bool go_on = options.on_text(g.text.substr(emitted, ready - emitted));
      emitted = ready;
      if (!go_on && !stopped) {
        g.stop_reason = "callback";
        break;
      }
    }
    if (stopped) {
      g.stop_reason = "stop";
      break;
    }
  }
  if (g.stop_reason != "stop") g.text = tok->decode(g.output_ids);
  if (options.on_text && g.stop_reason != "callback" && g.text.size() > emitted)
    options.on_text(g.text.substr(emitted));
  return g;
}

Generation generate(const std::string& project_path, const std::string& run_name,
                    const std::string& prompt, int max_new_tokens) {
  GenerateOptions options;
  options.max_new_tokens = max_new_tokens;
  return generate(project_path, run_name, prompt, options);
}

Classification classify(const std::string& project_path, const std::string& run_name,
                        const std::string& text) {
  auto trained = trained_for(project_path, run_name, Task::kClassification,
                             "classification needs a classification run; this one is causal_lm");
  auto& m = trained.model;
  torch::NoGradGuard no_grad;
  Classification c;
  c.labels = m->config().labels;
  if (trained.tokenizer->adds_bos() && trained.tokenizer->bos_id() >= 0)
    c.input_ids.push_back(trained.tokenizer->bos_id());
  for (int32_t id : trained.tokenizer->encode(text)) c.input_ids.push_back(id);
  const std::vector<int64_t> ids(c.input_ids.begin(), c.input_ids.end());
  const auto input = torch::tensor(ids, torch::kLong).unsqueeze(0);  // (1, T)
  const auto last = torch::tensor({static_cast<int64_t>(ids.size()) - 1}, torch::kLong);
  const auto logits = m->class_logits(input, last).squeeze(0).to(torch::kFloat).contiguous();
  c.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
  c.label = c.labels.at(static_cast<size_t>(logits.argmax().item<int64_t>()));
  return c;
}

}  // namespace deeptune
