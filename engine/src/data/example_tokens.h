// The tokens the trainer feeds for one example and the positions its loss covers. One function
// serves training, the dataset statistics and the Data page's preview, so all three see the same
// sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "deeptune/data.h"
#include "deeptune/tokenizer.h"
#include "tokenize/chat_template.h"

namespace deeptune {

struct ExampleTokens {
  std::vector<int32_t> ids;      // before truncation
  std::vector<uint8_t> trained;  // same length: 1 where the token is a prediction target
};

// By what the example holds (map_examples fills only the mapped fields):
//  messages       the conversation rendered in `chat` (assistant turns trained, see render)
//  text + label   BOS + text, nothing trained (classification reads the label)
//  prompt+resp.   BOS + prompt + response + EOS, the response and EOS trained
//  text           BOS + text + EOS, all but BOS trained
// BOS only when the tokenizer starts sequences with one (adds_bos), and never twice; EOS only
// when it has one.
ExampleTokens example_tokens(const Example& example, const Tokenizer& tokenizer,
                             const chat::ChatFormat& chat);

}  // namespace deeptune
