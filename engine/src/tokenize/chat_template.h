// Chat conversations as the model sees them: the template families in use (ChatML as in Qwen,
// Llama 3, DeepSeek-R1-Distill, Mistral [INST], Llama 2 [INST] with <<SYS>>), recognised by the
// markers of a tokenizer_config.json `chat_template`, and rendered into text segments that say
// which part the loss covers (assistant turns and their end-of-turn token). No Jinja: the formats
// are written out from the families' documented prompt formats, so an unknown template is
// refused rather than guessed at.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "deeptune/config.h"
#include "deeptune/data.h"
#include "deeptune/tokenizer.h"

namespace deeptune::chat {

enum class ChatFamily { kNone, kChatMl, kLlama3, kDeepSeekR1, kMistral, kLlama2 };

// The config name ("chatml", "llama3", ...; "none") and a name for people ("ChatML (Qwen)", ...).
std::string config_name(ChatFamily family);
std::string display_name(ChatFamily family);
// The family a data.chat_template setting names; kNone for "auto".
ChatFamily family_of(ChatTemplate setting);

// The family a Jinja chat template belongs to, from its markers; kNone when none is recognised
// (or the template is empty).
ChatFamily detect_family(std::string_view chat_template);

// The system message a ChatML template puts first when the conversation has none (Qwen2 and
// Qwen2.5 do), when the template holds it as one plain literal; "" otherwise.
std::string default_system_message(std::string_view chat_template);

// How messages become text for one run: the family and the default system message, with a
// sentence for the run's log saying how the family was chosen.
struct ChatFormat {
  ChatFamily family = ChatFamily::kChatMl;
  std::string default_system;
  std::string note;
};

// Resolves data.chat_template against the tokenizer's template (`tokenizer_template`, its
// chat_template(), "" when it has none): a named family is used as named; "auto" detects the
// family, takes ChatML for a tokenizer without a template (noted), and throws
// InputError("tokenizer_config.json", ...) naming the families and data.chat_template for a
// template it does not recognise.
ChatFormat resolve_chat_format(ChatTemplate setting, const std::string& tokenizer_template);

// A messages cell (a JSON list of {role, content}, or ShareGPT's {from, value} with human/gpt)
// as messages with roles system/user/assistant. Throws InputError(where, ...) when it is not a
// list, a message lacks its role or text, a role is unknown, a system message is not first, or no
// assistant turn exists.
std::vector<ChatMessage> parse_messages(const nlohmann::json& cell, const std::string& where);

struct ChatSegment {
  std::string text;
  bool trained = false;  // the loss covers these tokens
};

// The conversation in `format`'s family, as consecutive segments whose concatenation is the
// full text (BOS text included where the family's template writes it). Assistant content and
// its end-of-turn token are trained; everything else is not.
std::vector<ChatSegment> render(const ChatFormat& format, const std::vector<ChatMessage>& messages);

// The segments as token ids with a per-token loss flag. Special tokens spelled in the text become
// their ids (Tokenizer::encode matches them). BOS is put first when the tokenizer starts
// sequences with one (adds_bos) and the text does not already begin with it.
struct EncodedChat {
  std::vector<int32_t> ids;
  std::vector<uint8_t> trained;  // same length as ids
};
EncodedChat encode_segments(const std::vector<ChatSegment>& segments, const Tokenizer& tokenizer);

}  // namespace deeptune::chat
