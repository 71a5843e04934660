// Memory forecast of one training step (see forecast.h).
//
// The forward pass of model/llama.cpp is replayed on sizes alone. Every tensor an op creates is an
// Act (its bytes and whether it requires grad); every tensor autograd keeps for backward is
// "saved" once, by the rules the op's derivative needs (mm keeps the weight when its input needs
// a gradient and the input when the weight does; mul keeps each factor for the other's gradient;
// rsqrt, softmax and log_softmax keep their result). Temporaries are not tracked one by one: at
// the places where they peak (attention scores, logits and their gradients, the MLP's gradients
// in backward) the replay records a candidate "saved so far + what is alive there"; the step's
// activation peak is the largest candidate.
//
// Precision: weights and the residual stream stay fp32 (embeddings are fp32); under autocast a
// linear layer casts its input and its weight to the 16-bit type and returns 16 bits. A frozen
// weight is cast again at every call (autocast caches only leaves that require grad), and that
// copy is what mm keeps for the input's gradient — so bf16 over fp32 weights keeps a 16-bit copy
// of every linear weight whose input needs a gradient. With the base in 16 bits
// (base_in_16_bits: LoRA under autocast on CUDA) the frozen weights, the embeddings and so the
// residual stream, the norms' outputs and RoPE are 16-bit and nothing is cast.
//
// The causal LM's loss is model::linear_cross_entropy_sum unless LoRA adapts the head: the logits
// exist a chunk of rows at a time, and the hidden states' gradient is what it keeps.
#include "train/forecast.h"

#include <algorithm>

#include "deeptune/text.h"
#include "model/loss_chunks.h"

namespace deeptune::train {
namespace {

struct Act {
  int64_t elems = 0;
  int64_t size = 4;  // bytes per element
  bool grad = false;
  int id = -1;
};

class Replay {
 public:
  explicit Replay(const ForecastInput& in) : in_(in) {
    autocast_ = in.train.precision != Precision::kFp32;
    cs_ = autocast_ ? 2 : 4;
    full_ = in.train.mode == TrainMode::kFull;
    ckpt_ = in.train.gradient_checkpointing;
    rows_ = in.micro_batch * in.sequence;
    base16_ = base_in_16_bits(in.train, in.cuda);
    rs_ = base16_ ? 2 : 4;
  }

  int64_t run();  // the activation peak of one micro-batch's forward and backward
  int64_t saved() const { return saved_; }
  int64_t transient() const { return peak_ - saved_end_; }
  int64_t saved_end() const { return saved_end_; }

 private:
  int64_t bytes(int64_t elems, int64_t size) const {
    const int64_t b = elems * size;
    return in_.cuda ? (b + 511) / 512 * 512 : b;
  }
  Act make(int64_t elems, int64_t size, bool grad) {
    flags_.push_back(false);
    return Act{elems, size, grad, int(flags_.size()) - 1};
  }
  void save(const Act& a) {
    if (a.id < 0 || flags_[size_t(a.id)]) return;
    flags_[size_t(a.id)] = true;
    saved_ += bytes(a.elems, a.size);
  }
  void candidate(int64_t alive) { peak_ = std::max(peak_, saved_ + alive); }
  bool adapted(const std::string& name) const {
    return std::find(in_.adapted.begin(), in_.adapted.end(), name) != in_.adapted.end();
  }
  // The 16-bit copy autocast makes of a fp32 activation (the same tensor otherwise).
  Act cast(const Act& x) { return autocast_ && x.size == 4 ? make(x.elems, 2, x.grad) : x; }

  Act linear(const Act& x, const std::string& name, int64_t in_f, int64_t out_f);
  // `wrapped`: a norm that selective recomputation wraps (the layers' and the final one).
  Act rms_norm(const Act& x, int64_t dim, bool wrapped = false);
  // x * cos + rotate(x) * sin, the tables in the residual stream's type
  Act rope(const Act& x) { return make(x.elems, rs_, x.grad); }
  Act attention(const Act& q, const Act& k, const Act& v);
  // softmax(q kr^T) vf as compat::attention_reference computes it (kr, vf already repeated).
  Act composition(const Act& q, const Act& kr, const Act& vf, bool grad);
  Act layer(const Act& x, int64_t index);
  void loss(const Act& hn);  // the causal LM's head and cross-entropy

  const ForecastInput& in_;
  bool selective() const { return ckpt_ == GradientCheckpointing::kSelective; }

  bool autocast_ = false, full_ = false, base16_ = false;
  int64_t rs_ = 4;  // bytes per element of the residual stream (and embeddings)
  GradientCheckpointing ckpt_ = GradientCheckpointing::kOff;
  int64_t cs_ = 4, rows_ = 0;
  std::vector<bool> flags_;
  int64_t saved_ = 0, peak_ = 0, saved_end_ = 0;
  int64_t layer_internal_ = 0;  // full recomputation: the largest layer's kept activations
};

Act Replay::linear(const Act& x, const std::string& name, int64_t in_f, int64_t out_f) {
  const int64_t rows = x.elems / in_f;
  if (autocast_) {
    const Act xc = cast(x);
    // A trainable weight's cast is cached for the step (and kept); a frozen one is cast anew,
    // unless it is 16-bit already.
    if (!base16_) {
      const Act wc = make(in_f * out_f, 2, false);
      if (x.grad || full_) save(wc);
    }
    if (full_) save(xc);
  } else if (full_) {
    save(x);  // the weight itself is a parameter: nothing new when it is kept
  }
  const bool lora = !full_ && adapted(name);
  if (lora) {
    Act d = x;
    if (in_.lora.dropout > 0) {
      const Act mask = make(x.elems, x.size, false);
      if (x.grad) save(mask);
      d = make(x.elems, x.size, x.grad);
    }
    save(cast(d));                             // lora_A's input, for A's gradient
    save(make(rows * in_.lora.r, cs_, true));  // lora_A's output, for B's gradient
    candidate(bytes(rows * out_f, cs_) * 2);   // base output + scaled branch before the sum
  }
  return make(rows * out_f, cs_, x.grad || full_ || lora);
}

Act Replay::rms_norm(const Act& x, int64_t dim, bool wrapped) {
  if (wrapped && selective()) {
    save(x);  // the recomputation's input; its output requires grad (the anchor)
    return make(x.elems, rs_, true);
  }
  const Act xf = x.size == 4 ? x : make(x.elems, 4, x.grad);
  const int64_t rows = x.elems / dim;
  if (xf.grad) {
    save(xf);                                                // pow keeps its input
    if (in_.mean_keeps_input) save(make(x.elems, 4, true));  // the squares
    save(make(rows, 4, true));                               // rsqrt of the mean square
  }
  const Act y = make(x.elems, 4, xf.grad);
  const Act y2 = x.size == 4 ? y : make(x.elems, x.size, y.grad);
  if (full_) save(y2);  // for the norm weight's gradient
  // weight * y: fp32 by type promotion over an fp32 weight, 16-bit over a 16-bit one
  return make(x.elems, rs_, xf.grad || full_);
}

Act Replay::attention(const Act& q, const Act& k, const Act& v) {
  const auto& c = in_.model;
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads, hd = c.head_dim;
  const int64_t b = in_.micro_batch, t = in_.sequence;
  const bool grad = q.grad || k.grad || v.grad;
  Act vf = v.size == q.size ? v : make(v.elems, q.size, v.grad);  // v.to(q's dtype)
  Act kr = k;
  // Repeated to nh heads, unless the fused kernel reads them grouped (in 16 bits only).
  if (nkv != nh && !(in_.fused_attention && in_.grouped_attention && autocast_)) {
    kr = make(rows_ * nh * hd, k.size, k.grad);
    vf = make(rows_ * nh * hd, vf.size, vf.grad);
  }
  const int64_t heads = rows_ * nh * hd;
  if (in_.fused_attention) {
    if (grad) {
      save(cast(q));
      save(cast(kr));
      save(cast(vf));
      save(make(b * nh * ((t + 31) / 32 * 32), 4, false));  // log-sum-exp per row
    }
    const Act out = make(heads, cs_, grad);
    if (grad) save(out);
    return out;  // laid out (B, T, nh, hd): the transpose + contiguous after it copies nothing
  }
  if (selective()) {
    // Recomputed: only q, k and v are kept and the forward's scores are temporaries. In backward
    // the recomputation keeps, for this one layer, what the composition keeps.
    save(q);
    save(kr);
    save(vf);
    const int64_t kept = saved_;
    candidate(bytes(b * nh * t * t, cs_) * 2 + (autocast_ ? bytes(b * nh * t * t, 4) : 0));
    composition(q, kr, vf, true);
    saved_ = kept;
    return make(heads, cs_, true);
  }
  return composition(q, kr, vf, grad);
}

Act Replay::composition(const Act& q, const Act& kr, const Act& vf, bool grad) {
  const auto& c = in_.model;
  const int64_t nh = c.num_attention_heads, nkv = c.num_key_value_heads, hd = c.head_dim;
  const int64_t b = in_.micro_batch, t = in_.sequence;
  const int64_t heads = rows_ * nh * hd;
  // The composition. matmul folds (B, nh) into one batch dimension: q (laid out (B, T, nh, hd)
  // by the projection) is copied when B > 1, k and v too when they were not repeated for GQA.
  // bmm keeps each operand for the other's gradient; the local variables keep q, k and v alive
  // until the attention returns.
  const int64_t scores = b * nh * t * t;
  const bool q_copied = b > 1, kv_copied = b > 1 && nkv == nh;
  int64_t locals = 0;
  auto operand = [&](const Act& a, bool copied, bool kept) {
    const Act used = cast(copied ? make(heads, a.size, a.grad) : a);
    if (kept) save(used);
    if (!kept || used.id != a.id) locals += bytes(heads, a.size);  // the variable's own
  };
  operand(q, q_copied, kr.grad);
  operand(kr, kv_copied, q.grad);
  if (grad) save(make(t * t, 1, false));  // the causal mask, kept by masked_fill
  const Act w = make(scores, 4, grad);    // softmax in fp32 keeps its result
  if (grad) save(w);
  // scores and scaled scores, then the masked scores (kept by the variable to the end) beside
  // their fp32 copy and the weights
  candidate(locals + bytes(scores, cs_) * 2);
  candidate(locals + bytes(scores, cs_) + (autocast_ ? bytes(scores, 4) : 0));
  if (vf.grad && autocast_) save(make(scores, 2, true));  // the weights cast for the product
  // Its backward: the weights' gradient and the scores' gradient beside what is kept so far, with
  // the gradients of the output and of v.
  if (grad) candidate(bytes(scores, cs_) + bytes(scores, 4) + 2 * bytes(heads, cs_));
  operand(vf, kv_copied, grad);
  candidate(locals + bytes(scores, cs_) + bytes(heads, cs_));
  return make(heads, cs_, grad);  // the product, then transpose(1, 2).contiguous(): a copy
}

Act Replay::layer(const Act& x, int64_t i) {
  const auto& c = in_.model;
  const int64_t h = c.hidden_size, nh = c.num_attention_heads, nkv = c.num_key_value_heads,
                hd = c.head_dim, inter = c.intermediate_size;
  const std::string prefix = "model.layers." + std::to_string(i) + ".";
  const Act xn = rms_norm(x, h, true);
  Act q = linear(xn, prefix + "self_attn.q_proj", h, nh * hd);
  Act k = linear(xn, prefix + "self_attn.k_proj", h, nkv * hd);
  const Act v = linear(xn, prefix + "self_attn.v_proj", h, nkv * hd);
  if (c.qk_norm) {
    q = rms_norm(q, hd);
    k = rms_norm(k, hd);
  }
  const Act attn = attention(rope(q), rope(k), v);
  const Act o = linear(attn, prefix + "self_attn.o_proj", nh * hd, h);
  const Act h1 = make(x.elems, rs_, x.grad || o.grad);  // x + o (fp32 + 16-bit -> fp32)
  const Act xn2 = rms_norm(h1, h, true);
  const Act gate = linear(xn2, prefix + "mlp.gate_proj", h, inter);
  const Act up = linear(xn2, prefix + "mlp.up_proj", h, inter);
  Act m;
  if (selective()) {  // silu(gate) * up recomputed from its inputs
    save(gate);
    save(up);
    m = make(gate.elems, cs_, true);
  } else {
    if (gate.grad) save(gate);  // silu keeps its input
    const Act g = make(gate.elems, gate.size, gate.grad);
    if (up.grad) save(g);  // g * up keeps each factor for the other's gradient
    if (g.grad) save(up);
    m = make(gate.elems, cs_, g.grad || up.grad);
  }
  const Act down = linear(m, prefix + "mlp.down_proj", inter, h);
  return make(x.elems, rs_, h1.grad || down.grad);
}

int64_t Replay::run() {
  const auto& c = in_.model;
  const int64_t h = c.hidden_size, v = c.vocab_size;
  // RoPE tables (cos, sin) in the residual stream's type, kept by the multiplications.
  saved_ += 2 * bytes(in_.sequence * c.head_dim, rs_);
  Act x = make(rows_ * h, rs_, full_);  // embeddings
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    if (ckpt_ != GradientCheckpointing::kFull) {
      x = layer(x, i);
      continue;
    }
    // Full recomputation keeps each layer's input only. The replay of the layer stands for its
    // recomputation in backward, when the inputs of the layers before it are still kept.
    save(x);
    const int64_t before = saved_;
    layer(x, i);
    layer_internal_ = std::max(layer_internal_, saved_ - before);
    saved_ = before;
    x = make(x.elems, rs_, true);
  }
  const int64_t layers_only = saved_;  // before the final norm, whose tensors go first in backward
  const Act hn = rms_norm(x, h, true);
  const bool classify = c.num_labels() > 0;
  if (classify) {
    const Act picked = make(in_.micro_batch * h, 4, hn.grad);  // the last real token of each row
    linear(picked, "score", h, c.num_labels());
    save(picked);  // the head trains whole
    saved_end_ = saved_;
    candidate(0);
  } else if (!full_ && adapted(c.tie_word_embeddings ? "model.embed_tokens" : "lm_head")) {
    const Act logits = linear(hn, "lm_head", h, v);
    const int64_t nv = rows_ * v;
    const Act logp = make(nv, 4, true);  // log_softmax in fp32 keeps its result
    save(logp);
    saved_end_ = saved_;
    // Forward end: the logits (and their fp32 copy under autocast) beside the kept log-probs.
    candidate(bytes(logits.elems, logits.size) + (autocast_ ? bytes(nv, 4) : 0));
    // Backward of the loss: the gradient of the log-probs and of the logits beside them (label
    // smoothing adds the mean's gradient before they are summed).
    candidate(bytes(nv, 4) * (in_.train.label_smoothing > 0 ? 3 : 2));
  } else {
    loss(hn);
  }
  // Backward through the last layer: the MLP's three input gradients and the residual stream's
  // gradient beside what the layers keep (with full recomputation, the layer's activations made
  // again).
  peak_ = std::max(peak_, layers_only + layer_internal_ +
                              bytes(rows_ * c.intermediate_size, cs_) * 3 + bytes(rows_ * h, rs_));
  return peak_;
}

void Replay::loss(const Act& hn) {
  // model::linear_cross_entropy_sum. Forward: the hidden states and the head's weight in the
  // compute type (copies when they are not in it), the gradient buffers, then per chunk of n rows
  // the logits in the compute type and in fp32 (the softmax and its gradient, in place), the
  // gradient cast back, and per row the loss, the shift, the sum, the kept mask and the indices.
  const auto& c = in_.model;
  const int64_t h = c.hidden_size, v = c.vocab_size;
  const int64_t hcast = hn.size != cs_ ? bytes(rows_ * h, cs_) : 0;
  const int64_t wcast = autocast_ && !base16_ ? bytes(v * h, cs_) : 0;
  if (hn.grad) save(make(rows_ * h, cs_, false));  // the hidden states' gradient
  if (full_) save(make(v * h, 4, false));          // the head's (the embedding's when tied)
  saved_end_ = saved_;
  const int64_t n = model::cross_entropy_chunk_rows(v, rows_);
  const int64_t logits = bytes(n * v, 4) + (cs_ != 4 ? bytes(n * v, cs_) : 0);
  const int64_t per_row = 3 * bytes(n, 4) + bytes(n, 1) + bytes(n, 8);  // row, shift, sum
  candidate(bytes(hn.elems, hn.size) + hcast + wcast + logits + per_row +
            (full_ ? bytes(v * h, cs_) : 0));
  // Backward: the kept gradients scaled (the hidden states' in fp32, then cast to their type).
  const int64_t dh =
      hn.grad ? 2 * bytes(rows_ * h, 4) + (hn.size != 4 ? bytes(rows_ * h, hn.size) : 0) : 0;
  candidate(dh + (full_ ? bytes(v * h, 4) : 0));
}

}  // namespace

ForecastBytes forecast_step(const ForecastInput& in) {
  ForecastBytes out;
  const bool full = in.train.mode == TrainMode::kFull;
  for (const auto& p : model::parameter_shapes(in.model)) {
    int64_t n = 1;
    for (int64_t d : p.shape) n *= d;
    const bool trains = full || starts_with(p.name, "score.");
    (trains ? out.trainable_weights : out.base_weights) +=
        n * (!trains && base_in_16_bits(in.train, in.cuda) ? 2 : 4);
  }
  if (!full) {
    for (const auto& l : model::linear_shapes(in.model))
      if (std::find(in.adapted.begin(), in.adapted.end(), l.name) != in.adapted.end())
        out.trainable_weights += in.lora.r * (l.in_features + l.out_features) * 4;
  }
  out.gradients = out.trainable_weights;
  out.optimizer_state = 2 * out.trainable_weights;
  Replay replay(in);
  const int64_t peak = replay.run();
  // The step's batch, collated for every micro-batch before the first forward: ids and targets.
  const int64_t batch = int64_t(in.train.batch_size) * in.sequence * 8 * 2;
  out.saved = replay.saved_end() + batch;
  out.gradients_freed = in.gradients_freed;
  out.transient = peak - replay.saved_end();
  return out;
}

}  // namespace deeptune::train
