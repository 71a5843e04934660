// LoRA plumbing over model::LoraLinear (the adapter math itself lives in the layer).
#include "lora/lora.h"

#include <algorithm>
#include <cmath>

#include "deeptune/error.h"

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

std::vector<std::string> apply(model::Transformer& m, const LoraSpec& spec) {
  std::vector<std::pair<std::string, model::LoraLinear>> chosen;
  for (auto& [name, layer] : model::linear_modules(m)) {
    if (name == "score") continue;  // the head trains whole (PEFT's modules_to_save)
    if (target_matches(name, spec.targets)) chosen.emplace_back(name, layer);
  }
  // Check every target before touching the model, so a typo leaves it unchanged.
  for (const auto& t : spec.targets) {
    const bool used = std::any_of(chosen.begin(), chosen.end(),
                                  [&](const auto& c) { return target_matches(c.first, {t}); });
    if (!used) {
      std::string known;
      for (const auto& c : target_choices(m)) known += (known.empty() ? "" : ", ") + c;
      throw InputError("lora.targets",
                       "'" + t + "' matches no layer of this model; choose from: " + known);
    }
  }
  const double scale = scale_for(spec);
  std::vector<std::string> adapted;
  for (auto& [name, layer] : chosen) {
    layer->attach_lora(spec.r, scale, spec.dropout);
    adapted.push_back(name);
  }
  return adapted;
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
  std::vector<std::string> out;
  for (auto& [name, layer] : model::linear_modules(m)) {
    if (name == "score") continue;
    const auto dot = name.rfind('.');
    std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
    if (std::find(out.begin(), out.end(), last) == out.end()) out.push_back(last);
  }
  return out;
}

}  // namespace deeptune::lora
