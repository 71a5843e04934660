// Hugging Face tokenizer.json folders: loading (with messages naming the file and key at fault)
// and the encode/decode pipeline of the `tokenizers` library — added tokens matched on the raw
// text, normalizer, added tokens matched on the normalized text, pre-tokenizer, BPE, then the
// post-processor's specials; decoding through the decoder chain.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "deeptune/error.h"
#include "deeptune/json_input.h"
#include "deeptune/text.h"
#include "deeptune/tokenizer.h"
#include "tokenize/bpe_model.h"
#include "tokenize/hf_components.h"
#include "tokenize/hf_json.h"
#include "tokenize/unicode.h"

namespace deeptune {

namespace fs = std::filesystem;
using tok::JsonAt;

namespace {

// Ids above this are refused: a hostile file must not make us allocate gigabytes of vocabulary
// (the largest released vocabularies are ~260k).
constexpr int64_t kMaxId = (1 << 24) - 1;

struct AddedToken {
  int32_t id = -1;
  std::string content;
  std::string match_text;  // what is looked for: content, normalized when `normalized`
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

// Added-token contents in a byte trie, for tokenizers' leftmost-longest matching.
class AddedTrie {
 public:
  void insert(const std::string& text, int32_t token) {
    int32_t node = 0;
    for (unsigned char c : text) {
      int32_t child = find_child(node, c);
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        nodes_.emplace_back();
        nodes_[node].children.push_back({c, child});
      }
      node = child;
    }
    first_byte_[static_cast<unsigned char>(text[0])] = true;
    nodes_[node].token = token;
    empty_ = false;
  }
  bool empty() const { return empty_; }
  // The longest token starting at text[pos]: its index and length, or {-1, 0}.
  std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const {
    std::pair<int32_t, size_t> best{-1, 0};
    if (!first_byte_[static_cast<unsigned char>(text[pos])]) return best;
    int32_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      node = find_child(node, static_cast<unsigned char>(text[i]));
      if (node < 0) break;
      if (nodes_[node].token >= 0) best = {nodes_[node].token, i + 1 - pos};
    }
    return best;
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, int32_t>> children;
    int32_t token = -1;
  };
  int32_t find_child(int32_t node, unsigned char c) const {
    for (const auto& [byte, child] : nodes_[node].children)
      if (byte == c) return child;
    return -1;
  }
  std::vector<Node> nodes_{1};
  bool first_byte_[256] = {};  // whether some token starts with this byte: most bytes are skipped
  bool empty_ = true;
};

bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return tok::is_word_char(tok::decode_at(s, start).value);
}

bool starts_with_word(std::string_view s) {
  return !s.empty() && tok::is_word_char(tok::decode_at(s, 0).value);
}

// Start of the whitespace run that ends `s` (regex \s*$).
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    if (!tok::is_white_space(tok::decode_at(s, start).value)) break;
    end = start;
  }
  return end;
}

// Length of the whitespace run that starts `s` (regex ^\s*).
size_t leading_space_length(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const tok::CodePoint cp = tok::decode_at(s, i);
    if (!tok::is_white_space(cp.value)) break;
    i += cp.length;
  }
  return i;
}

struct Segment {
  size_t begin = 0;
  size_t end = 0;
  int32_t added = -1;  // index into the added tokens, -1 for ordinary text
};

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

struct HfTokenizer::Impl {
  std::string dir;
  std::unique_ptr<tok::Normalizer> normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tok::BpeModel> model;
  std::unique_ptr<tok::Decoder> decoder;
  std::vector<AddedToken> added;
  std::vector<int32_t> added_of_id;  // id → index into `added`, -1
  std::unordered_map<std::string, int32_t> added_by_content;
  std::unordered_set<std::string> special_contents;
  AddedTrie raw_trie, normalized_trie;
  std::vector<std::string> id_to_token;  // the model's vocabulary
  std::vector<bool> has_token;
  int32_t vocab_size = 0;
  tok::SpecialsAround around;
  int32_t bos = -1, eos = -1, pad = -1;
  std::string chat_template;

  // tokenizers' AddedVocabulary::find_matches.
  void find_added(std::string_view sentence, const AddedTrie& trie,
                  std::vector<Segment>& out) const {
    out.clear();
    if (trie.empty() || sentence.empty()) {
      out.push_back({0, sentence.size(), -1});
      return;
    }
    size_t start_offset = 0;
    size_t pos = 0;
    while (pos < sentence.size()) {
      const auto [index, length] = trie.longest_at(sentence, pos);
      if (index < 0) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + length;
      pos = stop;  // the search resumes after the match, kept or not
      const AddedToken& t = added[index];
      if (t.single_word) {
        const bool start_space = start == 0 || !ends_with_word(sentence.substr(0, start));
        const bool stop_space = stop == sentence.size() || !starts_with_word(sentence.substr(stop));
        if (!start_space || !stop_space) continue;
      }
      if (t.lstrip) start = std::max(trailing_space_start(sentence.substr(0, start)), start_offset);
      if (t.rstrip) stop += leading_space_length(sentence.substr(stop));
      if (start_offset < start) out.push_back({start_offset, start, -1});
      out.push_back({start, stop, index});
      start_offset = stop;
      pos = std::max(pos, stop);
    }
    if (start_offset != sentence.size()) out.push_back({start_offset, sentence.size(), -1});
  }

  void encode(std::string_view input, std::vector<int32_t>& ids,
              std::vector<TokenPiece>* pieces) const {
    std::string valid;
    const std::string_view text = tok::replace_invalid_utf8(input, valid) ? valid : input;
    // Reused per thread: encoding short texts must not allocate these every time.
    thread_local std::vector<Segment> raw, normed;
    thread_local std::vector<tok::Piece> words, scratch;
    const auto emit_added = [&](const AddedToken& t, std::string_view surface) {
      ids.push_back(t.id);
      if (pieces) pieces->push_back({t.id, std::string(surface)});
    };
    find_added(text, raw_trie, raw);
    for (const Segment& r : raw) {
      if (r.begin == r.end) continue;
      if (r.added >= 0) {
        emit_added(added[r.added], text.substr(r.begin, r.end - r.begin));
        continue;
      }
      std::string normalized(text.substr(r.begin, r.end - r.begin));
      if (normalizer) normalizer->apply(normalized);
      find_added(normalized, normalized_trie, normed);
      for (const Segment& n : normed) {
        if (n.begin == n.end) continue;
        if (n.added >= 0) {
          emit_added(added[n.added], std::string_view(normalized).substr(n.begin, n.end - n.begin));
          continue;
        }
        words.clear();
        words.push_back(
            {normalized.substr(n.begin, n.end - n.begin), r.begin == 0 && n.begin == 0});
        if (pre_tokenizer) pre_tokenizer->apply(words, scratch);
        for (const tok::Piece& w : words) {
          const size_t first = ids.size();
          model->tokenize(w.text, ids);
          if (pieces)
            for (size_t k = first; k < ids.size(); ++k)
              pieces->push_back({ids[k], id_to_token[ids[k]]});
        }
      }
    }
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size) continue;
      const int32_t a = added_of_id[id];
      std::string text;
      if (a >= 0)
        text = added[a].match_text;  // tokenizers decodes a normalized added token in that form
      else if (id < static_cast<int32_t>(has_token.size()) && has_token[id])
        text = id_to_token[id];
      else
        continue;
      if (skip_special && special_contents.count(text)) continue;
      tokens.push_back(std::move(text));
    }
    if (decoder) {
      decoder->apply(tokens);
      std::string out;
      for (const std::string& t : tokens) out += t;
      return out;
    }
    std::string out;  // no decoder: tokenizers joins the tokens with spaces
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
    return out;
  }

  int32_t token_id(std::string_view token) const {
    const auto it = added_by_content.find(std::string(token));
    if (it != added_by_content.end()) return it->second;
    return model->id_of(token);
  }
};

namespace {

// "a b" or ["a", "b"].
std::pair<std::string, std::string> read_merge(const JsonAt& at) {
  const nlohmann::json& v = at.value();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
      at.fail("must be two tokens separated by one space, found \"" + s + "\"");
    return {s.substr(0, space), s.substr(space + 1)};
  }
  if (v.is_array() && v.size() == 2 && v[0].is_string() && v[1].is_string())
    return {v[0].get<std::string>(), v[1].get<std::string>()};
  at.fail("must be \"a b\" or [\"a\", \"b\"], found " + json_type_phrase(v));
}

// A token named in tokenizer_config.json / special_tokens_map.json: "text", {"content": "text"}
// or null (none). Nothing when the key is absent.
std::optional<std::optional<std::string>> read_named_token(const JsonAt& file, const char* key) {
  const auto& object = file.require_object();
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  const JsonAt at = file[key];
  if (at.is_null()) return std::optional<std::string>();
  if (at.value().is_string()) return std::optional<std::string>(at.string());
  if (at.value().is_object()) return std::optional<std::string>(at["content"].string());
  at.fail("must be a string, an object with \"content\" or null, found " +
          json_type_phrase(at.value()));
}

std::optional<nlohmann::json> read_optional_object(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  return read_json_object_file(path);
}

}  // namespace

std::unique_ptr<HfTokenizer> load_hf_tokenizer(const std::string& dir) {
  auto impl = std::make_unique<HfTokenizer::Impl>();
  impl->dir = dir;
  const std::string path = (fs::path(dir) / "tokenizer.json").string();
  {
    std::error_code ec;
    if (!fs::exists(path, ec))
      throw InputError(path, "is missing: a Hugging Face tokenizer folder holds tokenizer.json");
  }
  const nlohmann::json document = read_json_object_file(path);
  const JsonAt root(document, path, "");

  // --- model --------------------------------------------------------------------------------
  const JsonAt model = root["model"];
  model.require_object();
  const std::string type = model.find("type") ? model["type"].string() : "BPE";
  if (type != "BPE")
    model["type"].fail("unsupported model '" + type +
                       "' (supported: BPE; WordPiece, Unigram and WordLevel are not)");
  if (const auto dropout = model.find("dropout")) {
    if (!dropout->value().is_number() || dropout->value().get<double>() != 0.0)
      dropout->fail("BPE dropout is not supported (only null or 0)");
  }
  std::unordered_map<std::string, int32_t> vocab;
  int64_t max_id = -1;
  {
    const JsonAt v = model["vocab"];
    v.require_object();
    vocab.reserve(v.value().size());
    std::vector<const std::string*> owner;
    for (auto it = v.value().begin(); it != v.value().end(); ++it) {
      const JsonAt id_at(it.value(), path, "model.vocab[\"" + it.key() + "\"]");
      const auto id = static_cast<int32_t>(id_at.integer(0, kMaxId));
      if (static_cast<int64_t>(owner.size()) <= id) owner.resize(id + 1, nullptr);
      if (owner[id])
        id_at.fail("duplicate id " + std::to_string(id) + " (also \"" + *owner[id] + "\")");
      owner[id] = &it.key();
      vocab.emplace(it.key(), id);
      max_id = std::max<int64_t>(max_id, id);
    }
  }
  tok::BpeOptions options;
  options.ignore_merges = model.boolean_or("ignore_merges", false);
  options.byte_fallback = model.boolean_or("byte_fallback", false);
  options.fuse_unk = model.boolean_or("fuse_unk", false);
  options.continuing_subword_prefix = model.string_or("continuing_subword_prefix", "");
  options.end_of_word_suffix = model.string_or("end_of_word_suffix", "");
  if (const auto unk = model.find("unk_token")) {
    const std::string name = unk->string();
    const auto it = vocab.find(name);
    if (it == vocab.end()) unk->fail("'" + name + "' is not in model.vocab");
    options.unk_id = it->second;
  }
  std::vector<std::pair<int32_t, int32_t>> merge_ids;
  std::vector<int32_t> merge_results;
  {
    const JsonAt merges = model["merges"];
    const size_t n = merges.require_array().size();
    merge_ids.reserve(n);
    merge_results.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const JsonAt m = merges.at(i);
      const auto [a, b] = read_merge(m);
      const auto ia = vocab.find(a), ib = vocab.find(b);
      if (ia == vocab.end()) m.fail("names '" + a + "', which is not in model.vocab");
      if (ib == vocab.end()) m.fail("names '" + b + "', which is not in model.vocab");
      const std::string& prefix = options.continuing_subword_prefix;
      const std::string joined =
          a + (!prefix.empty() && b.compare(0, prefix.size(), prefix) == 0 ? b.substr(prefix.size())
                                                                           : b);
      const auto ij = vocab.find(joined);
      if (ij == vocab.end()) m.fail("merges into '" + joined + "', which is not in model.vocab");
      merge_ids.push_back({ia->second, ib->second});
      merge_results.push_back(ij->second);
    }
  }

  // --- added tokens ---------------------------------------------------------------------------
  if (const auto list = root.find("added_tokens")) {
    for (size_t i = 0; i < list->require_array().size(); ++i) {
      const JsonAt t = list->at(i);
      AddedToken a;
      a.id = static_cast<int32_t>(t["id"].integer(0, kMaxId));
      a.content = t["content"].string();
      if (a.content.empty()) t["content"].fail("is empty");
      if (!is_valid_utf8(a.content)) t["content"].fail("is not valid UTF-8");
      a.special = t.boolean_or("special", false);
      a.single_word = t.boolean_or("single_word", false);
      a.lstrip = t.boolean_or("lstrip", false);
      a.rstrip = t.boolean_or("rstrip", false);
      a.normalized = t.boolean_or("normalized", !a.special);
      for (const AddedToken& other : impl->added) {
        if (other.id == a.id) t["id"].fail("duplicate id " + std::to_string(a.id));
        if (other.content == a.content)
          t["content"].fail("duplicate added token '" + a.content + "'");
      }
      max_id = std::max<int64_t>(max_id, a.id);
      impl->added.push_back(std::move(a));
    }
  }
  // Holes in the id range are allowed (tokenizers allows them) but not a range that is mostly
  // holes: that is a corrupt or hostile file, and would cost memory per id.
  const int64_t named = static_cast<int64_t>(vocab.size() + impl->added.size());
  if (max_id >= 2 * named + 65536)
    throw InputError(path + ": model.vocab", "ids out of range: the largest id is " +
                                                 std::to_string(max_id) + " but only " +
                                                 std::to_string(named) + " tokens are defined");
  impl->vocab_size = static_cast<int32_t>(max_id + 1);

  // --- pipeline -------------------------------------------------------------------------------
  const auto member_or_null = [&](const char* key) {
    static const nlohmann::json null_value;
    const auto m = root.find(key);
    return m ? *m : JsonAt(null_value, path, key);
  };
  impl->normalizer = tok::make_normalizer(member_or_null("normalizer"));
  impl->pre_tokenizer = tok::make_pre_tokenizer(member_or_null("pre_tokenizer"));
  impl->decoder = tok::make_decoder(member_or_null("decoder"));
  impl->around = tok::read_post_processor(member_or_null("post_processor"), impl->vocab_size);

  impl->id_to_token.assign(impl->vocab_size, std::string());
  impl->has_token.assign(impl->vocab_size, false);
  for (const auto& [token, id] : vocab) {
    impl->id_to_token[id] = token;
    impl->has_token[id] = true;
  }
  impl->model = std::make_unique<tok::BpeModel>(std::move(vocab), merge_ids, merge_results,
                                                std::move(options));
  impl->added_of_id.assign(impl->vocab_size, -1);
  for (size_t i = 0; i < impl->added.size(); ++i) {
    AddedToken& a = impl->added[i];
    a.match_text = a.content;
    if (a.normalized && impl->normalizer) impl->normalizer->apply(a.match_text);
    impl->added_of_id[a.id] = static_cast<int32_t>(i);
    impl->added_by_content[a.content] = a.id;
    if (a.special) impl->special_contents.insert(a.content);
    if (a.match_text.empty()) continue;  // tokenizers cannot match it either
    (a.normalized ? impl->normalized_trie : impl->raw_trie)
        .insert(a.match_text, static_cast<int32_t>(i));
  }

  // --- tokenizer_config.json, special_tokens_map.json, config.json, generation_config.json ----
  const std::string config_path = (fs::path(dir) / "tokenizer_config.json").string();
  const std::string map_path = (fs::path(dir) / "special_tokens_map.json").string();
  const auto config = read_optional_object(config_path);
  const auto special_map = read_optional_object(map_path);
  const auto model_config = read_optional_object((fs::path(dir) / "config.json").string());
  const auto generation = read_optional_object((fs::path(dir) / "generation_config.json").string());

  // The id of a token named by key `key`, looked up in the config files in order.
  // found = whether a file named it (a null counts: "this tokenizer has none").
  const auto named_id = [&](const char* key, bool required_in_vocab, bool& found) -> int32_t {
    found = false;
    const std::pair<const std::optional<nlohmann::json>*, const std::string*> files[] = {
        {&config, &config_path}, {&special_map, &map_path}};
    for (const auto& [file, file_path] : files) {
      if (!*file) continue;
      const JsonAt at(**file, *file_path, "");
      const auto name = read_named_token(at, key);
      if (!name) continue;
      found = true;
      if (!*name) return -1;
      const int32_t id = impl->token_id(**name);
      if (id < 0 && required_in_vocab)
        at[key].fail("'" + **name + "' is not in the vocabulary of " + path);
      return id;
    }
    return -1;
  };
  const auto config_id = [&](const char* key) -> int32_t {
    for (const auto* file : {&model_config, &generation}) {
      if (!*file || !(*file)->contains(key)) continue;
      const nlohmann::json& v = (**file)[key];
      const nlohmann::json& first = v.is_array() && !v.empty() ? v[0] : v;
      if (first.is_number_integer() && first.get<int64_t>() >= 0 &&
          first.get<int64_t>() < impl->vocab_size)
        return static_cast<int32_t>(first.get<int64_t>());
    }
    return -1;
  };
  bool bos_named = false, eos_named = false, pad_named = false;
  impl->bos = named_id("bos_token", true, bos_named);
  if (!bos_named) {
    impl->bos = config_id("bos_token_id");
    bos_named = impl->bos >= 0;
  }
  const bool bos_from_files = bos_named;
  if (!bos_named && !impl->around.before.empty()) impl->bos = impl->around.before.front();
  impl->eos = named_id("eos_token", true, eos_named);
  if (!eos_named) {
    impl->eos = config_id("eos_token_id");
    eos_named = impl->eos >= 0;
  }
  const bool eos_from_files = eos_named;
  if (!eos_named && !impl->around.after.empty()) impl->eos = impl->around.after.back();
  impl->pad = named_id("pad_token", false, pad_named);
  if (impl->pad < 0) impl->pad = config_id("pad_token_id");
  if (impl->pad < 0) impl->pad = impl->eos >= 0 ? impl->eos : 0;

  if (config) {
    const JsonAt c(*config, config_path, "");
    // add_bos_token / add_eos_token override the post-processor, as transformers rebuilds its
    // template from them (only for tokens the config files name).
    if (const auto add_bos = c.find("add_bos_token"); add_bos && bos_from_files) {
      auto& before = impl->around.before;
      const bool has = !before.empty() && before.front() == impl->bos;
      if (add_bos->boolean() && !has) {
        if (impl->bos < 0) add_bos->fail("is true but the tokenizer has no bos_token");
        before.insert(before.begin(), impl->bos);
      } else if (!add_bos->boolean() && has) {
        before.erase(before.begin());
      }
    }
    if (const auto add_eos = c.find("add_eos_token"); add_eos && eos_from_files) {
      auto& after = impl->around.after;
      const bool has = !after.empty() && after.back() == impl->eos;
      if (add_eos->boolean() && !has) {
        if (impl->eos < 0) add_eos->fail("is true but the tokenizer has no eos_token");
        after.push_back(impl->eos);
      } else if (!add_eos->boolean() && has) {
        after.pop_back();
      }
    }
    if (const auto t = c.find("chat_template")) {
      if (t->value().is_string()) {
        impl->chat_template = t->string();
      } else {
        const JsonAt list = *t;
        if (!list.value().is_array())
          list.fail("must be a string or a list of {\"name\", \"template\"}, found " +
                    json_type_phrase(list.value()));
        std::string first;
        for (size_t i = 0; i < list.value().size(); ++i) {
          const JsonAt entry = list.at(i);
          const std::string name = entry["name"].string();
          const std::string text = entry["template"].string();
          if (i == 0) first = text;
          if (name == "default") {
            impl->chat_template = text;
            break;
          }
        }
        if (impl->chat_template.empty()) impl->chat_template = first;
      }
    }
  }
  if (impl->chat_template.empty()) {
    const std::string jinja = (fs::path(dir) / "chat_template.jinja").string();
    std::error_code ec;
    if (fs::is_regular_file(jinja, ec)) impl->chat_template = read_text_file(jinja);
  }
  return std::make_unique<HfTokenizer>(std::move(impl));
}

HfTokenizer::HfTokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HfTokenizer::~HfTokenizer() = default;

std::vector<int32_t> HfTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  impl_->encode(text, ids, nullptr);
  return ids;
}

std::vector<int32_t> HfTokenizer::encode_with_specials(std::string_view text) const {
  std::vector<int32_t> ids(impl_->around.before);
  impl_->encode(text, ids, nullptr);
  ids.insert(ids.end(), impl_->around.after.begin(), impl_->around.after.end());
  return ids;
}

std::vector<TokenPiece> HfTokenizer::encode_pieces(std::string_view text) const {
  std::vector<int32_t> ids;
  std::vector<TokenPiece> pieces;
  impl_->encode(text, ids, &pieces);
  return pieces;
}

std::string HfTokenizer::decode(const std::vector<int32_t>& ids) const {
  return impl_->decode(ids, true);
}

std::string HfTokenizer::decode_keeping_specials(const std::vector<int32_t>& ids) const {
  return impl_->decode(ids, false);
}

std::string HfTokenizer::token_text(int32_t id) const {
  if (id < 0 || id >= impl_->vocab_size) return {};
  if (impl_->added_of_id[id] >= 0) return impl_->added[impl_->added_of_id[id]].content;
  return impl_->id_to_token[id];
}

int32_t HfTokenizer::token_id(std::string_view token) const {
  return impl_->token_id(token);
}

bool HfTokenizer::adds_bos() const {
  return impl_->bos >= 0 && !impl_->around.before.empty() &&
         impl_->around.before.front() == impl_->bos;
}

bool HfTokenizer::is_special(int32_t id) const {
  return id >= 0 && id < impl_->vocab_size && impl_->added_of_id[id] >= 0 &&
         impl_->added[impl_->added_of_id[id]].special;
}

std::string HfTokenizer::chat_template() const {
  return impl_->chat_template;
}
int32_t HfTokenizer::vocab_size() const {
  return impl_->vocab_size;
}
int32_t HfTokenizer::bos_id() const {
  return impl_->bos;
}
int32_t HfTokenizer::eos_id() const {
  return impl_->eos;
}
int32_t HfTokenizer::pad_id() const {
  return impl_->pad;
}

nlohmann::json HfTokenizer::describe() const {
  return {{"kind", "hf"}, {"dir", impl_->dir}};
}

}  // namespace deeptune
