// One example as token ids and loss flags (see example_tokens.h).
#include "data/example_tokens.h"

namespace deeptune {

ExampleTokens example_tokens(const Example& e, const Tokenizer& tok, const chat::ChatFormat& chat) {
  if (!e.messages.empty()) {
    chat::EncodedChat c = chat::encode_segments(chat::render(chat, e.messages), tok);
    return {std::move(c.ids), std::move(c.trained)};
  }
  ExampleTokens t;
  const auto add = [&t](const std::vector<int32_t>& ids, bool trained) {
    t.ids.insert(t.ids.end(), ids.begin(), ids.end());
    t.trained.insert(t.trained.end(), ids.size(), trained ? 1 : 0);
  };
  if (tok.adds_bos() && tok.bos_id() >= 0) add({tok.bos_id()}, false);
  const bool eos = tok.eos_id() >= 0;
  if (!e.label.empty()) {
    add(tok.encode(e.text), false);
  } else if (!e.prompt.empty() || !e.response.empty()) {
    add(tok.encode(e.prompt), false);
    add(tok.encode(e.response), true);
    if (eos) add({tok.eos_id()}, true);
  } else {
    add(tok.encode(e.text), true);
    if (eos) add({tok.eos_id()}, true);
  }
  return t;
}

}  // namespace deeptune
