// Checkpoint save/restore (see checkpoint.h).
#include "train/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "deeptune/data.h"
#include "deeptune/error.h"
#include "deeptune/files.h"
#include "deeptune/json_input.h"
#include "torch/compat.h"
#include "torch/tensor_io.h"

namespace fs = std::filesystem;

namespace deeptune::train {
namespace {

constexpr int kFormat = 2;
constexpr const char* kTrainable = "trainable.safetensors";
constexpr const char* kOptimizer = "optimizer.safetensors";
constexpr const char* kRng = "rng.safetensors";
constexpr const char* kState = "state.json";

// Parameters the optimizer updates, by model name, in optimizer order.
std::vector<std::pair<std::string, torch::Tensor>> optimized_parameters(
    model::Transformer& m, torch::optim::Optimizer& opt) {
  std::map<const void*, std::string> names;
  for (const auto& p : m->named_parameters())
    names.emplace(p.value().unsafeGetTensorImpl(), p.key());
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (auto& group : opt.param_groups())
    for (auto& p : group.params()) {
      const auto it = names.find(p.unsafeGetTensorImpl());
      TORCH_CHECK(it != names.end(), "an optimized tensor is not a parameter of the model");
      out.emplace_back(it->second, p);
    }
  return out;
}

// Serialises, hashes and writes one safetensors file; returns its SHA-256.
std::string write_tensors(const fs::path& path, const tensor_io::NamedTensors& tensors) {
  const auto bytes = tensor_io::serialize(tensors);
  write_file_atomic(path.string(), bytes.data(), bytes.size());
  return sha256_bytes(bytes.data(), bytes.size());
}

// Reads a file of the checkpoint and checks it against the hash state.json lists for it.
std::vector<uint8_t> read_verified(const fs::path& path, const std::string& expected) {
  auto bytes = read_file_bytes(path.string());
  const std::string actual = sha256_bytes(bytes.data(), bytes.size());
  if (actual != expected)
    throw InputError(path.string(),
                     "does not match the checkpoint it belongs to (SHA-256 " +
                         actual.substr(0, 12) + "…, recorded " + expected.substr(0, 12) +
                         "…): the file was changed or copied in from elsewhere; the run cannot "
                         "continue from this checkpoint");
  return bytes;
}

// Swaps `partial` into place as `final_dir`. An existing `final_dir` (the same step written
// again) is exchanged atomically where the file system allows it, and removed only after the
// new folder is durable under the final name.
void install(const fs::path& partial, const fs::path& final_dir) {
  const fs::path parent = final_dir.parent_path();
  std::error_code ec;
  if (!fs::exists(final_dir, ec)) {
    if (::rename(partial.c_str(), final_dir.c_str()) != 0)
      throw RunError(
          final_dir.string(),
          std::string("cannot rename the new checkpoint into place: ") + std::strerror(errno));
    fsync_directory(parent.string());
    return;
  }
#ifdef RENAME_EXCHANGE
  if (::renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
    fsync_directory(parent.string());
    remove_tree(partial.string());  // now holds the old checkpoint
    return;
  }
#endif
  // No atomic exchange here: move the old one aside first; a crash between the renames leaves
  // both folders on disk, under names the next claim of the run cleans up or reports.
  const fs::path old = final_dir.string() + ".replaced.partial";
  remove_tree(old.string());
  if (::rename(final_dir.c_str(), old.c_str()) != 0 ||
      ::rename(partial.c_str(), final_dir.c_str()) != 0)
    throw RunError(final_dir.string(),
                   std::string("cannot replace the checkpoint: ") + std::strerror(errno));
  fsync_directory(parent.string());
  remove_tree(old.string());
}

int64_t require_int(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer())
    throw InputError(where, std::string("'") + key + "' is missing or not an integer");
  return it->get<int64_t>();
}

TrainPosition read_position(const nlohmann::json& j, const std::string& where,
                            int64_t expected_step, const RunShape& run) {
  TrainPosition pos;
  pos.step = require_int(j, "step", where);
  const int64_t epoch = require_int(j, "epoch", where);
  const int64_t cursor = require_int(j, "cursor", where);
  if (pos.step < 0 || pos.step > run.max_steps)
    throw InputError(where, "step " + std::to_string(pos.step) + " is outside the run's 0.." +
                                std::to_string(run.max_steps));
  if (pos.step != expected_step)
    throw InputError(where, "says step " + std::to_string(pos.step) +
                                ", but the project recorded this checkpoint at step " +
                                std::to_string(expected_step));
  const uint64_t n = run.train_examples;
  if (epoch < 0 || cursor < 0 || static_cast<uint64_t>(cursor) > n)
    throw InputError(where, "data position (epoch " + std::to_string(epoch) + ", cursor " +
                                std::to_string(cursor) + ") is impossible for " +
                                std::to_string(n) + " training examples");
  // The sampler draws batch_size examples per step across epochs, so the position is a function
  // of the step; anything else was not written by this run.
  const unsigned __int128 consumed =
      static_cast<unsigned __int128>(epoch) * n + static_cast<uint64_t>(cursor);
  if (consumed != static_cast<unsigned __int128>(pos.step) * static_cast<uint64_t>(run.batch_size))
    throw InputError(where, "data position (epoch " + std::to_string(epoch) + ", cursor " +
                                std::to_string(cursor) + ") does not follow from step " +
                                std::to_string(pos.step));
  pos.epoch = static_cast<uint64_t>(epoch);
  pos.cursor = static_cast<uint64_t>(cursor);
  const auto scale = j.find("loss_scale");
  const auto clean = j.find("loss_scale_clean_steps");
  if ((scale != j.end() && !scale->is_number()) ||
      (clean != j.end() && !clean->is_number_integer()))
    throw InputError(where, "loss scale is not a number");
  pos.loss_scale.scale = scale == j.end() ? LossScale::kInitial : scale->get<double>();
  pos.loss_scale.clean_steps = clean == j.end() ? 0 : clean->get<int64_t>();
  const auto lr_scale = j.find("lr_scale");  // absent in checkpoints written before rollbacks
  if (lr_scale != j.end() && !lr_scale->is_number())
    throw InputError(where, "lr_scale is not a number");
  pos.lr_scale = lr_scale == j.end() ? 1.0 : lr_scale->get<double>();
  if (!(pos.lr_scale > 0 && pos.lr_scale <= 1))
    throw InputError(where, "lr_scale " + std::to_string(pos.lr_scale) + " is outside (0, 1]");
  if (!(pos.loss_scale.scale >= LossScale::kMin && pos.loss_scale.scale <= LossScale::kMax) ||
      pos.loss_scale.clean_steps < 0)
    throw InputError(
        where, "loss scale " + std::to_string(pos.loss_scale.scale) + " is outside [1, 2^24]");
  return pos;
}

// state.json, verified against the project's hash (format 2) — or the format 1 layout, whose
// project hash covers trainable.safetensors only.
struct VerifiedState {
  nlohmann::json json;
  int format = 0;
};

VerifiedState read_state(const fs::path& dir, const std::string& sha256) {
  const fs::path path = dir / kState;
  if (!fs::exists(dir)) throw InputError(dir.string(), "checkpoint folder is missing");
  const auto bytes = read_file_bytes(path.string());
  VerifiedState s;
  s.json = parse_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                      path.string());
  if (!s.json.is_object()) throw InputError(path.string(), "must hold a JSON object");
  const auto format = s.json.find("format");
  s.format = format == s.json.end() ? 1 : format->is_number_integer() ? format->get<int>() : -1;
  if (s.format == kFormat) {
    const std::string actual = sha256_bytes(bytes.data(), bytes.size());
    if (actual != sha256)
      throw InputError(path.string(),
                       "does not match what the project recorded for this "
                       "checkpoint (the file was changed or copied in)");
  } else if (s.format == 1) {
    // First release: the project hashed trainable.safetensors (checked when it is read).
  } else {
    throw InputError(path.string(), "unknown checkpoint format " + std::to_string(s.format));
  }
  return s;
}

std::string listed_hash(const VerifiedState& s, const char* file, const fs::path& dir) {
  const auto files = s.json.find("files");
  if (files == s.json.end() || !files->is_object() || !files->contains(file) ||
      !(*files)[file].is_string())
    throw InputError((dir / kState).string(), std::string("lists no hash for ") + file);
  return (*files)[file].get<std::string>();
}

void copy_trainable(const SafetensorsFile& file, model::Transformer& m) {
  // Validate every tensor first: a refused file leaves the model as it was.
  std::vector<std::pair<torch::Tensor, const TensorInfo*>> plan;
  for (auto& p : m->named_parameters()) {
    if (!p.value().requires_grad()) continue;
    const std::string where = file.origin() + ": tensor '" + p.key() + "'";
    if (!file.contains(p.key())) throw InputError(where, "missing from the checkpoint");
    const auto& info = file.info(p.key());
    if (std::vector<int64_t>(p.value().sizes().begin(), p.value().sizes().end()) != info.shape)
      throw InputError(where, "shape does not match the run's model");
    plan.emplace_back(p.value(), &info);
  }
  torch::NoGradGuard no_grad;
  for (auto& [param, info] : plan) param.copy_(tensor_io::to_tensor(file, *info));
}

SafetensorsFile read_trainable(const fs::path& dir, const VerifiedState& s,
                               const std::string& sha256) {
  const fs::path path = dir / kTrainable;
  const std::string expected = s.format == 1 ? sha256 : listed_hash(s, kTrainable, dir);
  return SafetensorsFile::parse(read_verified(path, expected), path.string());
}

void restore_optimizer(const SafetensorsFile& file, model::Transformer& m,
                       torch::optim::Optimizer& opt, const torch::Device& device) {
  auto& state = opt.state();
  for (const auto& [name, p] : optimized_parameters(m, opt)) {
    const std::string key = name + "/exp_avg";
    if (!file.contains(key)) continue;  // never stepped (a checkpoint at step 0)
    auto read = [&](const std::string& k) {
      if (!file.contains(k))
        throw InputError(file.origin() + ": tensor '" + k + "'",
                         "missing from the optimizer state");
      return tensor_io::to_tensor(file, file.info(k));
    };
    auto exp_avg = read(key), exp_avg_sq = read(name + "/exp_avg_sq"), step = read(name + "/step");
    if (exp_avg.sizes() != p.sizes() || exp_avg_sq.sizes() != p.sizes() || step.numel() != 1)
      throw InputError(file.origin() + ": tensor '" + key + "'",
                       "shape does not match the run's model");
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step.to(torch::kLong).item<int64_t>());
    // Moments live where the parameter lives, in its dtype (fp32 for everything we train).
    s->exp_avg(exp_avg.to(device, p.scalar_type()));
    s->exp_avg_sq(exp_avg_sq.to(device, p.scalar_type()));
    state[compat::optimizer_state_key(state, p)] = std::move(s);
  }
}

void restore_optimizer_format1(const fs::path& dir, torch::optim::Optimizer& opt,
                               const torch::Device& device) {
  const fs::path path = dir / "optimizer.pt";
  require_regular_file(path.string());
  try {
    torch::load(opt, path.string());
  } catch (const c10::Error& e) {
    throw InputError(path.string(),
                     std::string("cannot read optimizer state: ") + e.what_without_backtrace());
  }
  for (auto& entry : opt.state()) {
    auto& s = static_cast<torch::optim::AdamWParamState&>(*entry.second);
    s.exp_avg(s.exp_avg().to(device));
    s.exp_avg_sq(s.exp_avg_sq().to(device));
  }
}

}  // namespace

bool LossScale::update(bool overflow) {
  if (overflow) {
    clean_steps = 0;
    const double next = std::max(kMin, scale / 2.0);
    const bool changed = next != scale;
    scale = next;
    return changed;
  }
  if (++clean_steps < kGrowthInterval) return false;
  clean_steps = 0;
  const double next = std::min(kMax, scale * 2.0);
  const bool changed = next != scale;
  scale = next;
  return changed;
}

std::string save_checkpoint(const std::string& dir, model::Transformer& m,
                            torch::optim::Optimizer& opt, const TrainPosition& pos,
                            const torch::Generator& dropout_gen) {
  const fs::path final_dir(dir);
  const fs::path partial = final_dir.string() + ".partial";
  try {
    remove_tree(partial.string());
    fs::create_directories(partial);

    tensor_io::NamedTensors trainable, moments;
    for (const auto& p : m->named_parameters())
      if (p.value().requires_grad()) trainable.emplace_back(p.key(), p.value());
    auto& state = opt.state();
    for (const auto& [name, p] : optimized_parameters(m, opt)) {
      const auto it = state.find(compat::optimizer_state_key(state, p));
      if (it == state.end()) continue;
      const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
      moments.emplace_back(name + "/exp_avg", s.exp_avg());
      moments.emplace_back(name + "/exp_avg_sq", s.exp_avg_sq());
      moments.emplace_back(name + "/step", torch::tensor({s.step()}, torch::kLong));
    }
    nlohmann::json files = nlohmann::json::object();
    files[kTrainable] = write_tensors(partial / kTrainable, trainable);
    files[kOptimizer] = write_tensors(partial / kOptimizer, moments);
    files[kRng] =
        write_tensors(partial / kRng, {{"dropout", compat::generator_state(dropout_gen)}});
    const nlohmann::json state_json = {{"format", kFormat},
                                       {"step", pos.step},
                                       {"epoch", pos.epoch},
                                       {"cursor", pos.cursor},
                                       {"loss_scale", pos.loss_scale.scale},
                                       {"loss_scale_clean_steps", pos.loss_scale.clean_steps},
                                       {"lr_scale", pos.lr_scale},
                                       {"files", files}};
    const std::string text = state_json.dump(2) + "\n";
    write_file_atomic((partial / kState).string(), text);
    install(partial, final_dir);
    return sha256_bytes(text.data(), text.size());
  } catch (const DiskFullError&) {
    try {
      remove_tree(partial.string());
    } catch (const Error&) {
    }
    throw DiskFullError(final_dir.string(),
                        "disk full while writing checkpoint " + std::to_string(pos.step) + " (" +
                            std::to_string(free_bytes(final_dir.string())) + " bytes free)");
  } catch (const fs::filesystem_error& e) {
    throw RunError(final_dir.string(), std::string("cannot write the checkpoint: ") + e.what());
  }
}

void load_trainable(const std::string& dir, const std::string& sha256, model::Transformer& m) {
  const auto state = read_state(dir, sha256);
  const auto trainable = read_trainable(dir, state, sha256);
  // The other files are not needed here, but a checkpoint with a damaged file is damaged: say so
  // now rather than when the run is resumed.
  if (state.format == kFormat)
    for (const char* file : {kOptimizer, kRng})
      read_verified(fs::path(dir) / file, listed_hash(state, file, dir));
  copy_trainable(trainable, m);
}

TrainPosition load_checkpoint(const std::string& dir_name, const std::string& sha256,
                              int64_t expected_step, const RunShape& run, model::Transformer& m,
                              torch::optim::Optimizer& opt, torch::Generator& dropout_gen,
                              const torch::Device& device) {
  const fs::path dir(dir_name);
  const auto state = read_state(dir, sha256);
  const TrainPosition pos = read_position(state.json, (dir / kState).string(), expected_step, run);
  const auto trainable = read_trainable(dir, state, sha256);
  if (state.format == 1) {
    copy_trainable(trainable, m);
    restore_optimizer_format1(dir, opt, device);
    return pos;  // its RNG file held the process-wide generators, which training no longer uses
  }
  const auto optimizer =
      SafetensorsFile::parse(read_verified(dir / kOptimizer, listed_hash(state, kOptimizer, dir)),
                             (dir / kOptimizer).string());
  const auto rng = SafetensorsFile::parse(read_verified(dir / kRng, listed_hash(state, kRng, dir)),
                                          (dir / kRng).string());
  if (!rng.contains("dropout"))
    throw InputError((dir / kRng).string(), "holds no 'dropout' generator state");
  // Everything is read and checked; only now is anything changed.
  copy_trainable(trainable, m);
  restore_optimizer(optimizer, m, opt, device);
  compat::set_generator_state(dropout_gen, tensor_io::to_tensor(rng, rng.info("dropout")));
  return pos;
}

}  // namespace deeptune::train
