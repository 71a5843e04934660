// Checkpoint save/restore (see checkpoint.h).
#include "train/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "deeptune/error.h"
#include "deeptune/files.h"
#include "torch/compat.h"
#include "torch/tensor_io.h"

namespace fs = std::filesystem;

namespace deeptune::train {

void save_checkpoint(const std::string& dir, model::Transformer& m, torch::optim::Optimizer& opt,
                     const TrainPosition& pos, const torch::Device& device) {
  const fs::path final_dir(dir);
  const fs::path tmp = final_dir.string() + ".partial";
  remove_tree(tmp.string());
  fs::create_directories(tmp);
  tensor_io::NamedTensors trainable;
  for (const auto& p : m->named_parameters())
    if (p.value().requires_grad()) trainable.emplace_back(p.key(), p.value());
  tensor_io::save((tmp / "trainable.safetensors").string(), trainable);
  torch::save(opt, (tmp / "optimizer.pt").string());
  tensor_io::NamedTensors rng{{"cpu", compat::generator_state(torch::kCPU)}};
  if (device.is_cuda()) rng.emplace_back("cuda", compat::generator_state(device));
  tensor_io::save((tmp / "rng.safetensors").string(), rng);
  nlohmann::json state = {{"step", pos.step},
                          {"epoch", pos.epoch},
                          {"cursor", pos.cursor},
                          {"loss_scale", pos.loss_scale},
                          {"format", 1}};
  {
    std::ofstream out(tmp / "state.json");
    out << state.dump(2) << "\n";
    if (!out) throw RunError(tmp.string(), "cannot write checkpoint state");
  }
  remove_tree(final_dir.string());
  fs::rename(tmp, final_dir);
}

void load_trainable(const std::string& dir, model::Transformer& m) {
  const std::string path = (fs::path(dir) / "trainable.safetensors").string();
  const auto file = SafetensorsFile::read(path);
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    const std::string where = path + ": tensor '" + p.key() + "'";
    if (!file.contains(p.key())) throw InputError(where, "missing from the checkpoint");
    const auto& info = file.info(p.key());
    if (std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end()) != info.shape)
      throw InputError(where, "shape does not match the run's model");
    p.value().copy_(tensor_io::to_tensor(file, info));
  }
}

TrainPosition load_checkpoint(const std::string& dir, model::Transformer& m,
                              torch::optim::Optimizer& opt, const torch::Device& device) {
  load_trainable(dir, m);
  const fs::path d(dir);
  try {
    torch::load(opt, (d / "optimizer.pt").string());
  } catch (const c10::Error& e) {
    throw InputError((d / "optimizer.pt").string(),
                     std::string("cannot read optimizer state: ") + e.what_without_backtrace());
  }
  // Moments come back on the device they were saved from; the run may have moved (CPU <-> GPU).
  // Every trainable parameter lives on `device`.
  for (auto& entry : opt.state()) {
    auto& s = static_cast<torch::optim::AdamWParamState&>(*entry.second);
    s.exp_avg(s.exp_avg().to(device));
    s.exp_avg_sq(s.exp_avg_sq().to(device));
    if (s.max_exp_avg_sq().defined()) s.max_exp_avg_sq(s.max_exp_avg_sq().to(device));
  }
  const auto rng = tensor_io::load((d / "rng.safetensors").string());
  compat::set_generator_state(torch::kCPU, rng.at("cpu"));
  if (device.is_cuda() && rng.count("cuda")) compat::set_generator_state(device, rng.at("cuda"));
  const std::string state_path = (d / "state.json").string();
  std::ifstream in(state_path);
  if (!in) throw InputError(state_path, "cannot open checkpoint state");
  try {
    const auto j = nlohmann::json::parse(in);
    TrainPosition pos;
    pos.step = j.at("step").get<int64_t>();
    pos.epoch = j.at("epoch").get<uint64_t>();
    pos.cursor = j.at("cursor").get<uint64_t>();
    pos.loss_scale = j.value("loss_scale", 65536.0);
    return pos;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(state_path, std::string("malformed checkpoint state: ") + e.what());
  }
}

}  // namespace deeptune::train
