// Trying a run's latest checkpoint: generation (causal LM, KV-cached, greedy or sampled) and
// classification — the quickest way to see what a run learned, and the reference numbers the
// interoperability checks compare transformers + PEFT against.
#include <torch/torch.h>

#include <cctype>
#include <chrono>
#include <optional>
#include <unordered_set>

#include "deeptune/hf_models.h"
#include "deeptune/session.h"
#include "formats/hf_checkpoint.h"
#include "model/kv_cache.h"
#include "session/sampling.h"
#include "session/session_internal.h"
#include "tokenize/chat_template.h"
#include "torch/compat.h"

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

// The prompt as token ids: BOS + text, or (chat) one user message in the chat family
// (`chat_template`: the run's data.chat_template, else the tokenizer's) up to and including the
// assistant header. `end_of_turn` receives the id of the family's end-of-turn token when it is a
// single token (decode() drops special tokens, so a stop string cannot see it).
std::vector<int32_t> encode_prompt(const Tokenizer& tok, ChatTemplate chat_template,
                                   const std::string& prompt, bool chat, int32_t* end_of_turn) {
  std::vector<int32_t> ids;
  if (!chat) {
    if (tok.adds_bos() && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
    for (int32_t id : tok.encode(prompt)) ids.push_back(id);
    return ids;
  }
  const auto format = chat::resolve_chat_format(chat_template, tok.chat_template());
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

std::vector<float> to_vector(const torch::Tensor& logits) {  // (V), any dtype or device -> fp32
  const auto c = logits.to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

sampling::Sampler checked_sampler(const GenerateOptions& options) {
  if (options.max_new_tokens < 0) throw InputError("max_new_tokens", "must be 0 or more");
  for (const auto& s : options.stop)
    if (s.empty()) throw InputError("stop", "a stop string cannot be empty");
  sampling::SamplingOptions so;
  so.temperature = options.temperature;
  so.top_k = options.top_k;
  so.top_p = options.top_p;
  so.repetition_penalty = options.repetition_penalty;
  so.seed = options.seed;
  return sampling::Sampler(so);  // validates the options
}

// The generation loop: the prompt in one forward, then one cached position per new token.
Generation run_generation(model::Transformer& m, const Tokenizer& tok, ChatTemplate chat_template,
                          const std::string& prompt, const GenerateOptions& options) {
  auto sampler = checked_sampler(options);
  torch::NoGradGuard no_grad;
  const torch::Device device = m->parameters().front().device();
  Generation g;
  int32_t end_of_turn = -1;
  g.prompt_ids = encode_prompt(tok, chat_template, prompt, options.chat, &end_of_turn);
  std::unordered_set<int32_t> eos = {tok.eos_id(), static_cast<int32_t>(m->config().eos_token_id),
                                     end_of_turn};
  eos.erase(-1);
  std::vector<int32_t> context = g.prompt_ids;
  const int64_t max_len = m->config().max_position_embeddings;
  model::KvCache cache;
  size_t emitted = 0;  // bytes of g.text already given to on_text
  g.stop_reason = "length";
  torch::Tensor input = torch::tensor(std::vector<int64_t>(context.begin(), context.end()),
                                      torch::kLong)
                            .unsqueeze(0)
                            .to(device);  // (1, T): the prompt, then one token per step
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < options.max_new_tokens; ++i) {
    if (cache.length() + input.size(1) >= max_len) {  // as before the cache: T < max_len
      g.stop_reason = "context";
      break;
    }
    const auto t0 = Clock::now();
    const auto logits = model::lm_logits_cached(m, input, cache);           // (1, n, V)
    auto row = to_vector(logits.select(1, logits.size(1) - 1).squeeze(0));  // waits for the GPU
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
    input = torch::tensor({static_cast<int64_t>(next)}, torch::kLong).unsqueeze(0).to(device);
    g.text = tok.decode(g.output_ids);
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
  if (g.stop_reason != "stop") g.text = tok.decode(g.output_ids);
  if (options.on_text && g.stop_reason != "callback" && g.text.size() > emitted)
    options.on_text(g.text.substr(emitted));
  return g;
}

// Whether the model has LoRA adapters attached.
bool has_adapters(model::Transformer& m) {
  for (auto& [name, layer] : model::linear_modules(m))
    if (layer->has_lora()) return true;
  return false;
}

void set_adapters_enabled(model::Transformer& m, bool enabled) {
  for (auto& [name, layer] : model::linear_modules(m)) layer->set_lora_enabled(enabled);
}

}  // namespace

Generation generate(const std::string& project_path, const std::string& run_name,
                    const std::string& prompt, const GenerateOptions& options) {
  checked_sampler(options);  // before the model loads
  auto trained = trained_for(project_path, run_name, Task::kCausalLm,
                             "generation needs a causal_lm run; this one is a classifier");
  return run_generation(trained.model, *trained.tokenizer, trained.config.data.chat_template,
                        prompt, options);
}

namespace {

// On a GPU the model computes in the dtype its checkpoint ships in (bf16 / fp16), as transformers
// does with dtype="auto"; on the CPU, and for fp32 checkpoints, in fp32.
void place(model::Transformer& m, const torch::Device& device) {
  const std::string& dtype = m->config().torch_dtype;
  if (device.is_cuda() && (dtype == "bfloat16" || dtype == "float16"))
    m->to(device, dtype == "bfloat16" ? torch::kBFloat16 : torch::kHalf);
  else
    m->to(device);
  m->eval();
}

}  // namespace

struct Generator::Impl {
  model::Transformer model{nullptr};
  model::Transformer base{nullptr};  // a full fine-tune's base, loaded on first use
  std::unique_ptr<Tokenizer> tokenizer;
  ChatTemplate chat_template = ChatTemplate::kAuto;  // the run's data.chat_template
  std::string project_path;
  std::optional<RunRecord> run;
  RunConfig config;
  bool lora = false;
  torch::Device device{torch::kCPU};
  std::string description;
};

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::~Generator() = default;

std::unique_ptr<Generator> Generator::for_run(const std::string& project_path,
                                              const std::string& run_name) {
  auto impl = std::make_unique<Impl>();
  auto store = ProjectStore::open(project_path);
  const auto run = store->find_run(run_name);
  if (!run) throw InputError(project_path, "no run named '" + run_name + "'");
  auto trained = detail::load_trained(*store, *run);
  if (trained.config.model.task != Task::kCausalLm)
    throw InputError(run->name, "generation needs a causal_lm run; this one is a classifier");
  impl->device = trained.config.device != DeviceChoice::kCpu && compat::cuda_available()
                     ? torch::Device(torch::kCUDA, 0)
                     : torch::Device(torch::kCPU);
  impl->model = trained.model;
  place(impl->model, impl->device);
  impl->tokenizer = std::move(trained.tokenizer);
  impl->chat_template = trained.config.data.chat_template;
  impl->project_path = project_path;
  impl->run = *run;
  impl->config = trained.config;
  impl->lora = has_adapters(impl->model);
  impl->description = "run '" + run->name + "' at step " + std::to_string(trained.checkpoint.step) +
                      " (" +
                      (impl->lora ? "LoRA r=" + std::to_string(trained.config.lora.r) + " on "
                                  : std::string("full fine-tune of ")) +
                      trained.config.model.source + ")";
  return std::unique_ptr<Generator>(new Generator(std::move(impl)));
}

std::unique_ptr<Generator> Generator::for_folder(const std::string& hf_dir) {
  if (!is_hf_model_folder(hf_dir))
    throw InputError(hf_dir, "is not a Hugging Face model folder (no config.json)");
  auto impl = std::make_unique<Impl>();
  impl->tokenizer = load_hf_tokenizer(hf_dir);
  impl->model = model::Transformer(hf::read_config(hf_dir));
  const auto missing = hf::load_pretrained(impl->model, hf_dir);
  if (!missing.empty())
    throw InputError(hf_dir, "has no tensor '" + missing.front() + "'; a causal LM is needed");
  if (impl->model->config().num_labels() > 0)
    throw InputError(hf_dir, "is a classifier; generation needs a causal LM");
  impl->device =
      compat::cuda_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  place(impl->model, impl->device);
  impl->description = hf_dir;
  return std::unique_ptr<Generator>(new Generator(std::move(impl)));
}

Generation Generator::generate(const std::string& prompt, const GenerateOptions& options,
                               bool tuned) {
  checked_sampler(options);
  auto& d = *impl_;
  if (tuned || !d.run) {
    set_adapters_enabled(d.model, true);
    return run_generation(d.model, *d.tokenizer, d.chat_template, prompt, options);
  }
  if (d.lora) {
    set_adapters_enabled(d.model, false);
    try {
      auto g = run_generation(d.model, *d.tokenizer, d.chat_template, prompt, options);
      set_adapters_enabled(d.model, true);
      return g;
    } catch (...) {
      set_adapters_enabled(d.model, true);
      throw;
    }
  }
  if (!d.base) {
    auto store = ProjectStore::open(d.project_path);
    d.base = detail::load_base(*store, *d.run, d.config);
    place(d.base, d.device);
  }
  return run_generation(d.base, *d.tokenizer, d.chat_template, prompt, options);
}

bool Generator::has_base() const {
  return impl_->run.has_value();
}

bool Generator::has_chat_template() const {
  // A family the run names, or one the tokenizer's template is recognised as (ChatML for a
  // tokenizer without a template is a guess, not the model's format).
  return impl_->chat_template != ChatTemplate::kAuto ||
         chat::detect_family(impl_->tokenizer->chat_template()) != chat::ChatFamily::kNone;
}

int64_t Generator::context_length() const {
  return impl_->model->config().max_position_embeddings;
}

std::string Generator::description() const {
  return impl_->description;
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
