// Running a fine-tuning run: the torch-free API used by deeptune-cli and the workbench's worker.
// Progress reaches a RunObserver as value types; RunControl carries pause/resume/stop requests
// that the trainer checks between optimizer steps. Every event is also persisted to the project.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deeptune/attention_map.h"
#include "deeptune/config.h"
#include "deeptune/error.h"
#include "deeptune/store.h"
#include "deeptune/tokenizer.h"

namespace deeptune {

// Memory after an optimizer step, in bytes. The categories are counted from the tensors the
// trainer owns. allocated and peak_allocated are the CUDA caching allocator's counters; on the
// CPU, which has none, the tensors alive when the step began plus what the step allocated (counted
// through LibTorch's memory-profiling hook). reserved and the device figures are CUDA's (0 on the
// CPU).
struct MemorySample {
  int64_t base_weights = 0;       // parameters that do not train
  int64_t trainable_weights = 0;  // parameters that train (adapters, a head; all in full mode)
  int64_t gradients = 0;          // of the trainable weights, alive from backward to the update
  int64_t optimizer_state = 0;    // AdamW's two moments per trainable weight
  // Bytes in tensors now, bytes the CUDA allocator holds from the device now, and the most bytes
  // in tensors at any moment of this step (its peak since the step began).
  int64_t allocated = 0, reserved = 0, peak_allocated = 0;
  int64_t device_used = 0, device_total = 0;  // the whole device, every process (cudaMemGetInfo)
  int64_t resident = 0;                       // this process's resident set in host memory
  // At the step's peak, what the categories above do not explain: activations kept for backward
  // and temporaries.
  int64_t activations() const {
    const int64_t held = base_weights + trainable_weights + gradients + optimizer_state;
    return peak_allocated > held ? peak_allocated - held : 0;
  }
};

struct StepMetrics {
  int64_t step = 0;  // optimizer steps done (1-based)
  int64_t max_steps = 0;
  double loss = 0.0;  // mean over the batch's target tokens (or examples)
  double lr = 0.0;
  double grad_norm = 0.0;  // global L2 norm before clipping
  double tokens_per_second = 0.0;
  double elapsed_seconds = 0.0;  // since this process started training
  double eta_seconds = 0.0;
  double epoch = 0.0;  // fractional epochs over the training split
  MemorySample memory;
  // The micro-batch the step ran with: train.micro_batch_size, or less after out-of-memory errors
  // (out_of_memory_retries of them in this step, each halving it; accumulation keeps the batch).
  int64_t micro_batch = 0;
  int64_t out_of_memory_retries = 0;
  // The loss or a gradient was NaN/inf: no update was made (loss is then not a number). The count
  // is of such steps since the run (or this process) started.
  bool skipped = false;
  int64_t skipped_steps = 0;
  double lr_scale = 1.0;  // train.nonfinite_lr_factor per return to a checkpoint
};

// The attention of one probe at one step, every layer and head, as the trainer captured it through
// the reference attention path (training itself keeps the fused one): per layer, the heads' maps
// max-pooled to size x size and packed (pack_maps), and each head's statistics of the full map.
struct AttentionSnapshot {
  int probe = 0;
  int64_t step = 0;
  int layers = 0, heads = 0;
  int length = 0;                             // the probe's tokens
  int size = 0;                               // the stored maps' side: min(length, 512)
  std::vector<std::vector<uint8_t>> packed;   // per layer: heads x size x size
  std::vector<std::vector<HeadStats>> stats;  // per layer, per head
  // per layer: heads x preview_size x preview_size, the maps max-pooled (pack_preview)
  int preview_size = 0;
  std::vector<std::vector<uint8_t>> previews;
};

struct EvalMetrics {
  int64_t step = 0;
  double loss = 0.0;
  double perplexity = 0.0;         // causal LM
  std::optional<double> accuracy;  // classification
};

enum class LogLevel { kInfo, kWarning, kError };
struct LogLine {
  LogLevel level = LogLevel::kInfo;
  std::string text;
};

enum class RunState { kPreparing, kRunning, kPaused, kStopped, kCompleted, kFailed };
std::string to_string(RunState s);

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_step(const StepMetrics&) {}
  virtual void on_eval(const EvalMetrics&) {}
  virtual void on_log(const LogLine&) {}
  virtual void on_state(RunState, const std::string& /*detail*/) {}
  // Training went back to the checkpoint at `step` (after NaN/inf steps): what was reported for
  // later steps no longer holds and the steps will be reported again.
  virtual void on_rollback(int64_t /*step*/) {}
  virtual void on_attention(const AttentionSnapshot&) {}
};

// Thread-safe requests from the UI / signal handler to the training thread.
class RunControl {
 public:
  void request_pause() { pause_ = true; }
  void request_resume() { pause_ = false; }
  void request_stop() { stop_ = true; }
  void reset() {  // before the next run reuses this control
    pause_ = false;
    stop_ = false;
  }
  bool pause_requested() const { return pause_; }
  bool stop_requested() const { return stop_; }

 private:
  std::atomic<bool> pause_{false};
  std::atomic<bool> stop_{false};
};

struct RunOutcome {
  RunStatus status = RunStatus::kFailed;
  int64_t last_step = 0;
  std::string error;                           // set when failed
  ErrorKind error_kind = ErrorKind::kRuntime;  // bad input vs. failure while running
};

// Validates `config` against the project (dataset registered, mapping fits the task, model
// source known) and records a new run. Returns its id. Throws InputError naming the key.
int64_t create_run(const std::string& project_path, const RunConfig& config,
                   const std::string& name);

// Trains a new or resumable run until done, stopped or failed, in these steps:
//  1. Claims the run atomically for this process. When it cannot (another process runs it, it
//     has completed, it is not resumable) it throws InputError ("run X is already running (pid P
//     on host H)") and changes nothing.
//  2. Prepares data and model. A failure here throws, after putting the project back: a new run
//     is removed again (InputError: bad input known before training leaves no run behind) or,
//     for a failure while preparing that is not the input's fault, recorded as failed
//     (interrupted when the disk filled); a resumed run returns to the status it had, with the
//     reason as its error text.
//  3. Trains. Failures from here on end the run as 'failed' ('interrupted' when the disk filled)
//     with the message stored, and come back in the outcome, not as exceptions.
// A resumable run (stopped, interrupted, or failed with a checkpoint) continues from its newest
// checkpoint, verified against its recorded hashes.
RunOutcome execute_run(const std::string& project_path, int64_t run_id, RunObserver& observer,
                       RunControl& control);

// A run started from another run's weights (model.source = run:NAME), as deleting the parent
// affects it: a child that has not yet started has no copy of the parent's weights and cannot
// start once the parent is gone; a child that has started keeps its own copy.
struct RunDependent {
  int64_t id = 0;
  std::string name;
  bool needs_parent = false;  // true: deleting the parent leaves this run unable to start
};
std::vector<RunDependent> run_dependents(const std::string& project_path, int64_t run_id);

// Deletes a run: its row (metrics, logs and artifact rows go with it) and its folder of base
// model and checkpoints. Exports written elsewhere stay. Throws InputError when the run is
// running in a live process, or when runs that still need its weights depend on it (their names
// in the message) unless `force`.
void delete_run(const std::string& project_path, int64_t run_id, bool force = false);

// ---- memory forecast ------------------------------------------------------------------------

// Whether a configuration's forecast peak fits the memory the device has free now: kFits leaves
// at least a tenth of it spare, kTight fits with less, kWontFit needs more than there is.
enum class MemoryFit { kFits, kTight, kWontFit };
std::string to_string(MemoryFit f);  // "fits", "tight", "will not fit"

// A probe's attention recomputed now from one of a run's checkpoints rather than read from the
// project: the full map on demand (max_side 0 keeps every token; otherwise longer probes are
// max-pooled to max_side as stored snapshots are), and the adapter on / off comparison — the same
// probe through base + adapter (tuned) and through the base alone (for a full fine-tune, the
// weights it started from). Uses the newest checkpoint at or before `step` (the newest of all when
// none is given or none is that early); snapshot.step is the checkpoint's step. The probe's token
// ids are those the run recorded. InputError for an unknown run or probe, a run without a
// checkpoint, or a probe recorded without its token ids.
struct ComputedAttention {
  AttentionSnapshot snapshot;
  std::vector<std::string> tokens;  // the probe's tokens as the tokenizer spells them
  std::string description;          // "run 'x' at step 40, adapters off"
};
// A snapshot as the project stores it: one record per layer (codec kMapsCodec, statistics as
// [[entropy, sink, previous, max], ...]).
std::vector<AttentionMapRecord> to_map_records(const AttentionSnapshot& s, int64_t run_id);
ComputedAttention compute_attention(const std::string& project_path, const std::string& run,
                                    int probe, bool tuned, int max_side = 512,
                                    std::optional<int64_t> step = std::nullopt);

// What a training step of a configuration will hold at its peak, predicted from the model's shape
// and the settings (no model is built; see engine/src/train/forecast.cpp for the accounting).
struct MemoryForecast {
  std::string device;  // "cpu" or "cuda:0 (NVIDIA H200)": where the config would train
  bool cuda = false;
  int64_t micro_batch = 0;  // the micro-batch forecast (train.micro_batch_size, resolved if auto)
  int64_t sequence = 0;     // tokens per row: every row is assumed as long as data.max_length
  // name -> bytes at the step's peak, in this order: base_weights, trainable_weights, gradients,
  // optimizer_state, activations (kept for backward and temporaries at the peak), then on CUDA
  // allocator_cache (reserved beyond allocated) and outside_torch (CUDA context, kernels,
  // cuBLAS workspaces: device memory the caching allocator does not count).
  std::vector<std::pair<std::string, int64_t>> categories;
  int64_t peak_bytes = 0;       // the allocator's peak: the first five categories
  int64_t device_bytes = 0;     // everything the process will hold on the device at its peak
  int64_t available_bytes = 0;  // free now (CUDA: cudaMemGetInfo; CPU: MemAvailable)
  int64_t total_bytes = 0;      // the device's (or host's) total
  int64_t max_micro_batch = 0;  // largest divisor of train.batch_size that fits; 0 if none
  MemoryFit fit = MemoryFit::kFits;
  int64_t category(const std::string& name) const;
};

// The forecast for `config` on the device it would train on (its `device` key), at its
// micro-batch (the largest that fits for micro_batch_size = auto). `project_path` is needed for a
// run:NAME source; `num_labels` for classification. Throws InputError like summarize_model.
MemoryForecast forecast_memory(const RunConfig& config, const std::string& project_path = "",
                               int num_labels = 0);

// Trains `steps` optimizer steps of `config` in a model built as a run would build it, on rows of
// exactly data.max_length random tokens (the forecast's worst case), and returns the memory of
// the last step: what `deeptune-cli estimate --measure` sets beside the forecast. Writes nothing.
MemorySample measure_step_memory(const RunConfig& config, const std::string& project_path,
                                 int steps = 3, int num_labels = 0);

// What a config builds, without training: parameter counts and LoRA target choices.
struct ModelSummary {
  std::string description;
  int64_t total_parameters = 0;
  int64_t trainable_parameters = 0;
  double trainable_share = 0.0;
  std::vector<std::string> target_choices;   // e.g. q_proj, k_proj, ..., lm_head
  std::vector<std::string> adapted_modules;  // full names the LoRA targets match
  MemoryForecast memory;                     // the training step's peak on the chosen device
};
// `project_path` is needed for a run:NAME source.
ModelSummary summarize_model(const RunConfig& config, int num_labels = 0,
                             const std::string& project_path = "");

// The training step's speed, measured without a project (deeptune-cli bench): a preset or a
// Hugging Face folder (one holding only config.json is initialised from the seed, on the device)
// trains `warmup` then `steps` optimizer steps on rows of `seq` random tokens, batch `batch`.
// Every other setting comes from `config` (LoRA, precision, checkpointing, micro-batch; by default
// the micro-batch is the batch). Each step is timed between device synchronisations.
struct BenchOptions {
  int64_t batch = 8, seq = 1024;
  int steps = 20, warmup = 5;
  // A Chrome trace of `profile_steps` steps after the timed ones (LibTorch's profiler; the
  // timed steps are not profiled).
  std::string profile_path;
  int profile_steps = 3;
};
struct BenchResult {
  std::string device;  // "cuda:0 (NVIDIA H200)", "cpu"
  std::string model;   // the source and whether its weights were read or drawn
  int64_t parameters = 0, trainable = 0;
  double setup_seconds = 0;       // from the call to the model on the device, ready to train
  double first_step_seconds = 0;  // from the call to the end of the first optimizer step
  std::vector<double> step_ms;    // the timed steps
  double median_step_ms = 0, tokens_per_second = 0;
  // The CUDA allocator's peak over every step (warm-up included) and the most it reserved; the
  // device's used bytes after the last step (every process). 0 on the CPU.
  int64_t peak_bytes = 0, reserved_bytes = 0, device_used_bytes = 0;
  // The arithmetic a step needs (matrix products and attention; a frozen weight's backward is
  // its input gradient alone), and its share of the device's dense bf16 peak (0: unknown peak).
  double flops_per_step = 0, mfu = 0;
  std::vector<double> losses;  // every step's, warm-up included
};
BenchResult bench_training(const RunConfig& config, const BenchOptions& options);
// Floating-point operations of one training step of `tokens` rows of `seq` tokens (see
// BenchResult).
double training_step_flops(const RunConfig& config, int64_t batch, int64_t seq);

// Names of the model presets with one-line descriptions.
std::vector<std::pair<std::string, std::string>> model_presets();

// Text generation with a run's latest checkpoint (causal LM runs). The prompt is encoded as the
// trainer encodes it (BOS + text) so a run answers in the format it was trained on; the model
// runs with a KV cache (the prompt in one forward, then one token per step).
struct GenerateOptions {
  int max_new_tokens = 64;
  double temperature = 0.0;         // 0: greedy (the default, reproducible without a seed)
  int top_k = 0;                    // 0: no limit
  double top_p = 1.0;               // 1: no limit
  double repetition_penalty = 1.0;  // as transformers: 1 = none
  uint64_t seed = 0;                // the same seed gives the same text on every platform
  // Render the prompt as one user message in the run's chat family (data.chat_template, or the
  // tokenizer's template) followed by the assistant header.
  bool chat = false;
  // Generation ends before any of these strings (checked on the decoded text; not returned).
  std::vector<std::string> stop;
  // Receives each piece of new text as it is produced; returning false stops generation.
  std::function<bool(const std::string&)> on_text;
};

struct Generation {
  std::string text;                 // the continuation, EOS and stop string excluded
  std::vector<int32_t> prompt_ids;  // what the model saw first
  std::vector<int32_t> output_ids;
  std::vector<float> first_logits;  // (V) logits of the first generated token, for comparisons
  std::string stop_reason;          // "eos", "stop", "length", "context", "callback"
  double prompt_seconds = 0.0;      // the prompt's forward
  double decode_seconds = 0.0;      // every later step
};
// Ends at EOS (the tokenizer's or the model config's), a stop string, max_new_tokens, the
// model's context length, or when on_text returns false. InputError for out-of-range options.
Generation generate(const std::string& project_path, const std::string& run,
                    const std::string& prompt, const GenerateOptions& options);
// Greedy, as above with only max_new_tokens set.
Generation generate(const std::string& project_path, const std::string& run,
                    const std::string& prompt, int max_new_tokens = 64);

// A classification run's answer for one text, encoded as the trainer encodes it (BOS + text):
// the class logits in the order of `labels`. What the export checks compare transformers with.
struct Classification {
  std::vector<std::string> labels;
  std::vector<float> logits;       // (num_labels)
  std::vector<int32_t> input_ids;  // what the model saw
  std::string label;               // the most likely class
};
Classification classify(const std::string& project_path, const std::string& run,
                        const std::string& text);

// A model named on the command line for one-off computations: the path of a Hugging Face model
// folder, or "PROJECT:RUN" (that run's newest checkpoint, verified).
// Its tokenizer (InputError naming the file when it cannot be read).
std::unique_ptr<Tokenizer> model_tokenizer(const std::string& model);
// Next-token logits at every position of `tokens`, computed in fp32 on the CPU, written to
// `out_path` as safetensors with one F32 tensor "logits" of shape (T, V): what anyone can compare
// with another implementation. `adapter_dir` (optional) is a PEFT LoRA adapter folder applied on
// top of a Hugging Face folder. InputError for token ids outside the vocabulary.
void write_logits(const std::string& model, const std::vector<int32_t>& tokens,
                  const std::string& adapter_dir, const std::string& out_path);

// A model kept loaded for many generations: the Playground's engine. One generation at a time
// (a worker thread owns it); every call may stream through GenerateOptions::on_text.
class Generator {
 public:
  // A causal LM run's newest checkpoint, verified as generate() verifies it.
  static std::unique_ptr<Generator> for_run(const std::string& project_path,
                                            const std::string& run);
  // A Hugging Face model folder (an imported base) as it is, no adapter.
  static std::unique_ptr<Generator> for_folder(const std::string& hf_dir);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  // tuned = false: the run's base model — its LoRA adapters switched off, or for a full
  // fine-tune the base weights it started from (loaded on first use). The same prompt through
  // both shows what the fine-tune changed. For a folder, tuned is ignored.
  Generation generate(const std::string& prompt, const GenerateOptions& options, bool tuned = true);
  bool has_base() const;           // a run: generate(..., false) differs from the tuned model
  bool has_chat_template() const;  // chat = true renders the prompt in a known chat family
  int64_t context_length() const;
  std::string description() const;  // e.g. "run 'alpha' at step 120 (LoRA r=8 on preset:tiny)"

 private:
  struct Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class ExportFormat { kPeft, kHfMerged, kGguf };
ExportFormat export_format_from_string(const std::string& s);  // "peft", "hf", "gguf"
// GGUF tensor types for 2-D weights (norms and biases stay F32, as llama.cpp's converter does).
enum class GgufQuant { kF32, kF16, kBF16, kQ8_0 };
GgufQuant gguf_quant_from_string(const std::string& s);  // "F32", "F16", "BF16", "Q8_0"
std::string to_string(GgufQuant q);

// Writing reports each file on its own (a bar per file: bytes of that file, its size known from
// its header on); small side files (configs, tokenizer copies) are not reported. Checking reports
// the share of the probes run, scaled to the bytes written: 0, after each probe, then the total.
struct ExportProgress {
  std::string stage;  // "writing" or "checking"
  std::string file;   // the file being written or checked
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

struct ExportOptions {
  ExportFormat format = ExportFormat::kPeft;
  GgufQuant quant = GgufQuant::kF16;  // gguf only
  bool check = true;                  // reload what was written and compare (ExportCheck)
  // Called from the exporting thread, often (every few MB); returning false cancels the export:
  // the files being written are removed and InputError("export", "cancelled") is thrown.
  std::function<bool(const ExportProgress&)> on_progress;
};

// What the export check found: the written files reloaded with our own readers and run on a few
// probe prompts against the in-memory model the export came from.
struct ExportCheck {
  bool ran = false;
  bool passed = false;
  struct Probe {
    std::string prompt;
    int64_t positions = 0;      // next-token predictions compared
    double max_abs_diff = 0.0;  // largest |logit difference| over positions and vocabulary
    double top1_agreement = 0.0;
  };
  std::vector<Probe> probes;
  double max_abs_diff = 0.0;    // over all probes
  double top1_agreement = 0.0;  // share of all positions whose argmax agrees
  double tolerance = 0.0;       // the largest max_abs_diff that passes
  double min_top1 = 1.0;        // the smallest top1_agreement that passes
  // GGUF: each tensor dequantised against the weight it was written from.
  struct Tensor {
    std::string name;  // as written in the file
    double max_error = 0.0;
    double bound = 0.0;  // what the tensor type guarantees
  };
  std::vector<Tensor> tensors;
  std::string tokenizer;              // GGUF: what the tokenizer metadata check compared
  std::vector<std::string> failures;  // one line each; empty when passed
};

struct ExportResult {
  std::vector<std::string> files;
  uint64_t bytes_written = 0;
  ExportCheck check;
};

// Exports the latest checkpoint of a run to `out` (a folder; for gguf also a path ending in
// ".gguf", else the file is named RUN-QUANT.gguf inside the folder). Throws InputError when the
// run has no checkpoint or the format does not fit the run (e.g. PEFT of a full fine-tune, GGUF
// of a classifier). A check that fails does not throw: result.check.passed is false (the files
// stay, for inspection) and no export artifact is recorded.
ExportResult export_run(const std::string& project_path, const std::string& run,
                        const ExportOptions& options, const std::string& out);

}  // namespace deeptune
