// Chat template families (see chat_template.h). Each family's text is written from its documented
// prompt format; the markers used for detection are the special tokens those formats introduce.
#include "tokenize/chat_template.h"

#include <nlohmann/json.hpp>

#include "core/enum_names.h"
#include "deeptune/error.h"

namespace deeptune::chat {
namespace {

// The special-token spellings the formats use. DeepSeek's use full-width vertical bars (U+FF5C)
// and U+2581 in place of spaces.
constexpr std::string_view kImStart = "<|im_start|>";
constexpr std::string_view kImEnd = "<|im_end|>";
constexpr std::string_view kBeginOfText = "<|begin_of_text|>";
constexpr std::string_view kStartHeader = "<|start_header_id|>";
constexpr std::string_view kEndHeader = "<|end_header_id|>";
constexpr std::string_view kEotId = "<|eot_id|>";
constexpr std::string_view kDeepSeekBos =
    "<\xEF\xBD\x9C"
    "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
constexpr std::string_view kDeepSeekEos =
    "<\xEF\xBD\x9C"
    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
constexpr std::string_view kDeepSeekUser = "<\xEF\xBD\x9CUser\xEF\xBD\x9C>";
constexpr std::string_view kDeepSeekAssistant =
    "<\xEF\xBD\x9C"
    "Assistant\xEF\xBD\x9C>";
constexpr std::string_view kInst = "[INST]";
constexpr std::string_view kSys = "<<SYS>>";

struct FamilyName {
  ChatFamily family;
  const char* config;
  const char* display;
};
constexpr FamilyName kFamilies[] = {
    {ChatFamily::kNone, "none", "none"},
    {ChatFamily::kChatMl, "chatml", "ChatML (Qwen)"},
    {ChatFamily::kLlama3, "llama3", "Llama 3"},
    {ChatFamily::kDeepSeekR1, "deepseek_r1", "DeepSeek-R1"},
    {ChatFamily::kMistral, "mistral", "Mistral [INST]"},
    {ChatFamily::kLlama2, "llama2", "Llama 2 [INST] <<SYS>>"},
};

const FamilyName& entry(ChatFamily family) {
  for (const auto& f : kFamilies)
    if (f.family == family) return f;
  return kFamilies[0];
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Jinja's `trim` (Python's str.strip()): the Llama formats strip message text.
std::string strip(const std::string& s) {
  constexpr const char* kSpace = " \t\n\r\f\v";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Appends text, merging with the previous segment when the loss flag is the same, so untrained
// stretches are tokenised in one piece.
class Segments {
 public:
  void add(std::string_view text, bool trained) {
    if (text.empty()) return;
    if (!out_.empty() && out_.back().trained == trained)
      out_.back().text += text;
    else
      out_.push_back({std::string(text), trained});
  }
  std::vector<ChatSegment> take() { return std::move(out_); }

 private:
  std::vector<ChatSegment> out_;
};

// The system message (the first message when it is one, else the format's default) and the rest.
struct Conversation {
  std::string system;
  bool has_system = false;
  std::vector<const ChatMessage*> turns;
};

Conversation split_system(const ChatFormat& format, const std::vector<ChatMessage>& messages) {
  Conversation c;
  size_t first = 0;
  if (!messages.empty() && messages.front().role == "system") {
    c.system = messages.front().content;
    c.has_system = true;
    first = 1;
  } else if (!format.default_system.empty()) {
    c.system = format.default_system;
    c.has_system = true;
  }
  for (size_t i = first; i < messages.size(); ++i) c.turns.push_back(&messages[i]);
  return c;
}

// <|im_start|>{role}\n{content}<|im_end|>\n per message.
void render_chatml(const Conversation& c, Segments& out) {
  const auto header = [&](const std::string& role) {
    out.add(std::string(kImStart) + role + "\n", false);
  };
  if (c.has_system) {
    header("system");
    out.add(c.system + std::string(kImEnd) + "\n", false);
  }
  for (const ChatMessage* m : c.turns) {
    header(m->role);
    const bool assistant = m->role == "assistant";
    out.add(m->content + std::string(kImEnd), assistant);
    out.add("\n", false);
  }
}

// <|begin_of_text|> then <|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>.
void render_llama3(const Conversation& c, Segments& out) {
  out.add(kBeginOfText, false);
  const auto header = [&](const std::string& role) {
    out.add(std::string(kStartHeader) + role + std::string(kEndHeader) + "\n\n", false);
  };
  if (c.has_system) {
    header("system");
    out.add(strip(c.system) + std::string(kEotId), false);
  }
  for (const ChatMessage* m : c.turns) {
    header(m->role);
    out.add(strip(m->content) + std::string(kEotId), m->role == "assistant");
  }
}

// BOS, the system text bare, then <｜User｜>{user}<｜Assistant｜>{assistant}<｜end▁of▁sentence｜>.
void render_deepseek(const Conversation& c, Segments& out) {
  out.add(kDeepSeekBos, false);
  if (c.has_system) out.add(c.system, false);
  for (const ChatMessage* m : c.turns) {
    if (m->role == "user") {
      out.add(std::string(kDeepSeekUser) + m->content, false);
    } else {
      out.add(kDeepSeekAssistant, false);
      out.add(m->content + std::string(kDeepSeekEos), true);
    }
  }
}

// Mistral: <s>[INST] {user} [/INST]{assistant}</s>[INST] ...; a system message (the format has no
// slot for one) goes before the first user text, separated by a blank line.
void render_mistral(const Conversation& c, Segments& out) {
  out.add("<s>", false);
  bool system_pending = c.has_system;
  for (const ChatMessage* m : c.turns) {
    if (m->role == "user") {
      std::string text = m->content;
      if (system_pending) text = c.system + "\n\n" + text;
      system_pending = false;
      out.add("[INST] " + text + " [/INST]", false);
    } else {
      out.add(m->content + "</s>", true);
    }
  }
}

// Llama 2: <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s> per exchange,
// BOS before every user turn, message text stripped.
void render_llama2(const Conversation& c, Segments& out) {
  bool system_pending = c.has_system;
  for (const ChatMessage* m : c.turns) {
    if (m->role == "user") {
      std::string text = m->content;
      if (system_pending) text = std::string(kSys) + "\n" + c.system + "\n<</SYS>>\n\n" + text;
      system_pending = false;
      out.add("<s>[INST] " + strip(text) + " [/INST]", false);
    } else {
      out.add(" ", false);
      out.add(strip(m->content) + " </s>", true);
    }
  }
}

// A role as written in OpenAI-style (role) or ShareGPT-style (from) messages.
const char* normal_role(const std::string& role) {
  if (role == "system") return "system";
  if (role == "user" || role == "human") return "user";
  if (role == "assistant" || role == "gpt") return "assistant";
  return nullptr;
}

std::string type_phrase(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  return "a number";
}

}  // namespace

std::string config_name(ChatFamily family) {
  return entry(family).config;
}

std::string display_name(ChatFamily family) {
  return entry(family).display;
}

ChatFamily family_of(ChatTemplate setting) {
  switch (setting) {
    case ChatTemplate::kAuto:
      return ChatFamily::kNone;
    case ChatTemplate::kChatMl:
      return ChatFamily::kChatMl;
    case ChatTemplate::kLlama3:
      return ChatFamily::kLlama3;
    case ChatTemplate::kDeepSeekR1:
      return ChatFamily::kDeepSeekR1;
    case ChatTemplate::kMistral:
      return ChatFamily::kMistral;
    case ChatTemplate::kLlama2:
      return ChatFamily::kLlama2;
  }
  return ChatFamily::kNone;
}

ChatFamily detect_family(std::string_view t) {
  // DeepSeek first: its distilled Llama/Qwen models keep no other family's markers, but a
  // template mixing markers is decided by the most specific one.
  if (contains(t, kDeepSeekUser) || contains(t, kDeepSeekAssistant)) return ChatFamily::kDeepSeekR1;
  if (contains(t, kStartHeader)) return ChatFamily::kLlama3;
  if (contains(t, kImStart)) return ChatFamily::kChatMl;
  if (contains(t, kInst)) return contains(t, kSys) ? ChatFamily::kLlama2 : ChatFamily::kMistral;
  return ChatFamily::kNone;
}

std::string default_system_message(std::string_view t) {
  // The Jinja source writes the line break inside a string literal as the escape "\n" (or, more
  // rarely, as a real line break).
  for (const std::string_view newline : {std::string_view("\\n"), std::string_view("\n")}) {
    const std::string opening = std::string(kImStart) + "system" + std::string(newline);
    for (size_t at = t.find(opening); at != std::string_view::npos; at = t.find(opening, at + 1)) {
      const size_t begin = at + opening.size();
      const size_t end = t.find(kImEnd, begin);
      if (end == std::string_view::npos) break;
      const std::string_view literal = t.substr(begin, end - begin);
      // Only a plain literal: quotes, braces or '+' mean template code (the system message
      // taken from the conversation, a concatenation) rather than fixed text.
      if (literal.empty() || literal.find_first_of("'\"{}+") != std::string_view::npos) continue;
      std::string text;
      for (size_t i = 0; i < literal.size(); ++i) {
        if (literal[i] != '\\') {
          text += literal[i];
        } else if (i + 1 < literal.size() && literal[i + 1] == 'n') {
          text += '\n';
          ++i;
        } else {
          text.clear();  // another escape: not sure what the text is
          break;
        }
      }
      if (!text.empty()) return text;
    }
  }
  return "";
}

ChatFormat resolve_chat_format(ChatTemplate setting, const std::string& tokenizer_template) {
  const ChatFamily detected = detect_family(tokenizer_template);
  ChatFormat format;
  if (setting != ChatTemplate::kAuto) {
    format.family = family_of(setting);
    format.note = "messages formatted as " + display_name(format.family) +
                  " (data.chat_template = " + config_name(format.family) + ")";
  } else if (tokenizer_template.empty()) {
    format.family = ChatFamily::kChatMl;
    format.note =
        "the model's tokenizer has no chat template: messages formatted as ChatML (set "
        "data.chat_template to choose another family)";
  } else if (detected == ChatFamily::kNone) {
    std::string families;
    for (const auto& f : kFamilies)
      if (f.family != ChatFamily::kNone)
        families += std::string(families.empty() ? "" : ", ") + f.config + " (" + f.display + ")";
    throw InputError(
        "tokenizer_config.json",
        "its chat_template is not one of the families the workbench renders: " + families +
            ". Set data.chat_template to the family the model was trained with");
  } else {
    format.family = detected;
    format.note = "messages formatted as " + display_name(detected) +
                  ", detected from the tokenizer's chat template";
  }
  if (format.family == ChatFamily::kChatMl && detected == ChatFamily::kChatMl) {
    format.default_system = default_system_message(tokenizer_template);
    if (!format.default_system.empty())
      format.note += "; conversations without a system message get the template's default one";
  }
  return format;
}

std::vector<ChatMessage> parse_messages(const nlohmann::json& cell, const std::string& where) {
  if (!cell.is_array())
    throw InputError(where, "messages must be a list of {\"role\", \"content\"} objects, found " +
                                type_phrase(cell));
  std::vector<ChatMessage> messages;
  bool assistant = false;
  for (size_t i = 0; i < cell.size(); ++i) {
    const nlohmann::json& m = cell[i];
    const std::string which = "message " + std::to_string(i + 1);
    if (!m.is_object())
      throw InputError(where, which + " is " + type_phrase(m) + ", not a {role, content} object");
    // OpenAI style (role/content) or ShareGPT style (from/value).
    const bool sharegpt = !m.contains("role") && m.contains("from");
    const char* role_key = sharegpt ? "from" : "role";
    const char* text_key = sharegpt ? "value" : "content";
    const auto role = m.find(role_key);
    if (role == m.end() || !role->is_string())
      throw InputError(where, which + " has no \"role\" (or ShareGPT \"from\") text");
    const auto text = m.find(text_key);
    if (text == m.end() || !text->is_string())
      throw InputError(where, which + " has no \"" + text_key + "\" text");
    const char* normal = normal_role(role->get<std::string>());
    if (normal == nullptr)
      throw InputError(where, which + " has the unknown role \"" + role->get<std::string>() +
                                  "\"; expected system, user or assistant (ShareGPT: human, gpt)");
    if (std::string(normal) == "system" && i != 0)
      throw InputError(where, which + " is a system message: only the first message may be one");
    if (text->get_ref<const std::string&>().find('\0') != std::string::npos)
      throw InputError(where,
                       which + " contains a NUL character (\\u0000); text cannot contain one");
    assistant = assistant || std::string(normal) == "assistant";
    messages.push_back({normal, text->get<std::string>()});
  }
  if (!assistant)
    throw InputError(where, "the conversation has no assistant turn: nothing to train on");
  return messages;
}

std::vector<ChatSegment> render(const ChatFormat& format,
                                const std::vector<ChatMessage>& messages) {
  const Conversation c = split_system(format, messages);
  Segments out;
  switch (format.family) {
    case ChatFamily::kNone:
    case ChatFamily::kChatMl:
      render_chatml(c, out);
      break;
    case ChatFamily::kLlama3:
      render_llama3(c, out);
      break;
    case ChatFamily::kDeepSeekR1:
      render_deepseek(c, out);
      break;
    case ChatFamily::kMistral:
      render_mistral(c, out);
      break;
    case ChatFamily::kLlama2:
      render_llama2(c, out);
      break;
  }
  return out.take();
}

EncodedChat encode_segments(const std::vector<ChatSegment>& segments, const Tokenizer& tokenizer) {
  // The ids are those of the whole text, as the model will see it: encoding segment by segment
  // can differ where a segment starts (SentencePiece-style tokenizers put "▁" before every text
  // they are given; a merge may span the boundary). Segment by segment is tried first (linear);
  // when it disagrees, each boundary is found by encoding the text up to it and keeping what the
  // longer encoding adds (a token spanning a boundary counts for the later segment).
  std::string text;
  for (const ChatSegment& s : segments) text += s.text;
  EncodedChat out;
  out.ids = tokenizer.encode(text);
  std::vector<int32_t> pieces;
  for (const ChatSegment& s : segments) {
    const std::vector<int32_t> ids = tokenizer.encode(s.text);
    pieces.insert(pieces.end(), ids.begin(), ids.end());
    out.trained.insert(out.trained.end(), ids.size(), s.trained ? 1 : 0);
  }
  if (pieces != out.ids) {
    out.trained.clear();
    std::vector<int32_t> done;  // the ids attributed so far
    std::string prefix;
    for (const ChatSegment& s : segments) {
      prefix += s.text;
      const std::vector<int32_t> ids =
          prefix.size() == text.size() ? out.ids : tokenizer.encode(prefix);
      size_t common = 0;
      while (common < done.size() && common < ids.size() && done[common] == ids[common]) ++common;
      done.assign(ids.begin(), ids.end());
      out.trained.resize(common);
      out.trained.resize(ids.size(), s.trained ? 1 : 0);
    }
  }
  const int32_t bos = tokenizer.bos_id();
  if (tokenizer.adds_bos() && bos >= 0 && (out.ids.empty() || out.ids.front() != bos)) {
    out.ids.insert(out.ids.begin(), bos);
    out.trained.insert(out.trained.begin(), 0);
  }
  return out;
}

}  // namespace deeptune::chat
