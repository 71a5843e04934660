// Trying a run's latest checkpoint: greedy generation (causal LM) and classification — the
// quickest way to see what a run learned, and the reference numbers the interoperability checks
// compare transformers + PEFT against.
#include <torch/torch.h>

#include "deeptune/session.h"
#include "formats/hf_checkpoint.h"
#include "session/session_internal.h"

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

}  // namespace

Generation generate(const std::string& project_path, const std::string& run_name,
                    const std::string& prompt, int max_new_tokens) {
  auto trained = trained_for(project_path, run_name, Task::kCausalLm,
                             "generation needs a causal_lm run; this one is a classifier");
  auto& m = trained.model;
  const auto& tok = trained.tokenizer;
  torch::NoGradGuard no_grad;

  Generation g;
  if (tok->adds_bos() && tok->bos_id() >= 0) g.prompt_ids.push_back(tok->bos_id());
  for (int32_t id : tok->encode(prompt)) g.prompt_ids.push_back(id);
  std::vector<int64_t> ids(g.prompt_ids.begin(), g.prompt_ids.end());
  // No KV cache: prompts and answers here are short, and recomputing keeps one code path.
  for (int i = 0;
       i < max_new_tokens && static_cast<int64_t>(ids.size()) < m->config().max_position_embeddings;
       ++i) {
    auto input = torch::tensor(ids, torch::kLong).unsqueeze(0);  // (1, T)
    auto logits =
        m->lm_logits(input).select(1, input.size(1) - 1).squeeze(0).to(torch::kFloat);  // (V)
    if (i == 0) {
      auto c = logits.contiguous();
      g.first_logits.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    }
    const int64_t next = logits.argmax().item<int64_t>();
    if (next == tok->eos_id()) break;
    ids.push_back(next);
    g.output_ids.push_back(static_cast<int32_t>(next));
  }
  g.text = tok->decode(g.output_ids);
  return g;
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
