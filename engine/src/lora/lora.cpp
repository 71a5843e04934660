// LoRA plumbing over model::LoraLinear (the adapter math itself lives in the layer).
#include "lora/lora.h"

#include <algorithm>
#include <cmath>

#include "deeptune/error.h"
#include "deeptune/text.h"

namespace deeptune::lora {

bool target_matches(const std::string& name, const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (name == t) return true;
    if (name.size() > t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0 &&
        name[name.size() - t.size() - 1] == '.')
      return true;
  }
  return false;
}

double scale_for(const LoraSpec& spec) {
  return spec.rslora ? spec.alpha / std::sqrt(static_cast<double>(spec.r))
                     : spec.alpha / static_cast<double>(spec.r);
}

namespace {

// The last component of a module name ("model.layers.0.self_attn.q_proj" -> "q_proj").
std::string last_component(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// Distinct last components in order, the classification head left out (it trains whole).
std::vector<std::string> choices_of(const std::vector<std::string>& linear_names) {
  std::vector<std::string> out;
  for (const auto& name : linear_names) {
    if (name == "score") continue;
    std::string last = last_component(name);
    if (std::find(out.begin(), out.end(), last) == out.end()) out.push_back(std::move(last));
  }
  return out;
}

// The adapted subset of `linear_names`; refuses a target that matches nothing before anything is
// changed, so a typo leaves the model as it was.
std::vector<std::string> choose(const std::vector<std::string>& linear_names,
                                const LoraSpec& spec) {
  std::vector<std::string> chosen;
  for (const auto& name : linear_names)
    if (name != "score" && target_matches(name, spec.targets)) chosen.push_back(name);
  for (const auto& t : spec.targets) {
    const bool used = std::any_of(chosen.begin(), chosen.end(),
                                  [&](const std::string& c) { return target_matches(c, {t}); });
    if (!used) {
      std::string known;
      for (const auto& c : choices_of(linear_names)) known += (known.empty() ? "" : ", ") + c;
      throw InputError("lora.targets",
                       "'" + t + "' matches no layer of this model; choose from: " + known);
    }
  }
  return chosen;
}

std::vector<std::string> names_of(model::Transformer& m) {
  std::vector<std::string> names;
  for (auto& [name, layer] : model::linear_modules(m)) names.push_back(name);
  return names;
}

}  // namespace

std::vector<std::string> apply(model::Transformer& m, const LoraSpec& spec, uint64_t init_seed) {
  const auto chosen = choose(names_of(m), spec);
  auto gen = at::detail::createCPUGenerator(init_seed);
  const double scale = scale_for(spec);
  for (auto& [name, layer] : model::linear_modules(m))
    if (std::find(chosen.begin(), chosen.end(), name) != chosen.end())
      layer->attach_lora(spec.r, scale, spec.dropout, gen);
  return chosen;
}

void set_dropout_generator(model::Transformer& m, const torch::Generator& gen) {
  for (auto& [name, layer] : model::linear_modules(m)) layer->set_dropout_generator(gen);
}

Plan plan(const model::LlamaConfig& config, const LoraSpec& spec, TrainMode mode) {
  const auto linears = model::linear_shapes(config);
  std::vector<std::string> names;
  for (const auto& l : linears) names.push_back(l.name);
  Plan p;
  p.target_choices = choices_of(names);
  for (const auto& s : model::parameter_shapes(config)) {
    int64_t n = 1;
    for (int64_t d : s.shape) n *= d;
    p.count.total += n;
    if (mode == TrainMode::kFull || starts_with(s.name, "score.")) p.count.trainable += n;
  }
  if (mode != TrainMode::kLora) return p;
  p.adapted_modules = choose(names, spec);
  for (const auto& l : linears) {
    if (std::find(p.adapted_modules.begin(), p.adapted_modules.end(), l.name) ==
        p.adapted_modules.end())
      continue;
    const int64_t n = spec.r * (l.in_features + l.out_features);  // A (r, in) + B (out, r)
    p.count.total += n;
    p.count.trainable += n;
  }
  return p;
}

void set_trainable(model::Transformer& m, TrainMode mode) {
  for (auto& p : m->named_parameters()) {
    const std::string& name = p.key();
    bool train = true;
    if (mode == TrainMode::kLora)
      train = name.find("lora_") != std::string::npos || name.rfind("score.", 0) == 0;
    p.value().set_requires_grad(train);
  }
}

void merge(model::Transformer& m) {
  for (auto& [name, layer] : model::linear_modules(m)) layer->merge();
}

void unmerge(model::Transformer& m) {
  for (auto& [name, layer] : model::linear_modules(m)) layer->unmerge();
}

ParameterCount count_parameters(model::Transformer& m) {
  ParameterCount c;
  for (const auto& p : m->parameters()) {
    c.total += p.numel();
    if (p.requires_grad()) c.trainable += p.numel();
  }
  return c;
}

std::vector<std::string> target_choices(model::Transformer& m) {
  return choices_of(names_of(m));
}

}  // namespace deeptune::lora
