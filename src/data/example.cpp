// Records → examples → tokenised rows with loss masks (see example.h).
#include "data/example.h"

#include <algorithm>

#include "core/error.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tuna {
namespace {

using ojson = nlohmann::ordered_json;

std::string columns_of(const ojson& r) {
  std::string s;
  for (const auto& [k, v] : r.items()) s += (s.empty() ? "" : ", ") + k;
  return s.empty() ? "(none)" : s;
}

std::string json_kind(const ojson& v) {
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  if (v.is_null()) return "null";
  return std::string("a ") + v.type_name();
}

constexpr const char* kSkipRows = " (or set skip_invalid: true to skip such rows)";

// A column as text: strings as they are, numbers and booleans as their JSON text.
std::string column_text(const Record& rec, const std::string& col, bool required = true) {
  const ojson& r = rec.value;
  if (!r.contains(col) || (!required && r[col].is_null())) {
    if (!required) return "";
    throw_user_error("data",
                     rec.where() + ": no '" + col + "' field (fields: " + columns_of(r) + ")",
                     "every row needs it; or choose another dataset_format / template");
  }
  const ojson& v = r[col];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number() || v.is_boolean()) return v.dump();
  throw_user_error("data", rec.where() + ": field '" + col + "' is " + json_kind(v) + ", not text",
                   std::string("write the field as a string \"...\"") + kSkipRows);
}

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

// `s`, the text of field `col`, must hold something to train on.
std::string nonblank(const Record& rec, const std::string& col, std::string s) {
  if (blank(s))
    throw_user_error(
        "data",
        rec.where() + ": field '" + col + "' is " + (s.empty() ? "empty" : "only whitespace"),
        std::string("every row needs text there to train on; fix or remove the row") + kSkipRows);
  return s;
}

std::string nonblank_text(const Record& rec, const std::string& col) {
  return nonblank(rec, col, column_text(rec, col));
}

// A template field's text: column_text, and a list of strings (seed 003's RAFT `context`, a list
// of documents) joined by `separator`; an optional field that is missing or null is "".
std::string template_field_text(const Record& rec, const std::string& col, bool optional,
                                const std::string& separator) {
  const ojson& r = rec.value;
  if (optional && (!r.contains(col) || r[col].is_null())) return "";
  if (!r.contains(col) || !r[col].is_array()) return column_text(rec, col);
  const ojson& items = r[col];
  std::string s;
  for (size_t k = 0; k < items.size(); ++k) {
    if (!items[k].is_string())
      throw_user_error("data",
                       rec.where() + ": field '" + col + "' item " + std::to_string(k + 1) +
                           " (of " + std::to_string(items.size()) + ") is " + json_kind(items[k]) +
                           ", not text",
                       std::string("a list field is a list of strings [\"...\", \"...\"], joined "
                                   "by template_list_separator") +
                           kSkipRows);
    if (k > 0) s += separator;
    s += items[k].get_ref<const std::string&>();
  }
  return s;
}

// "{name}" fields of a template, "{name?}" optional ones; "{{" and "}}" are literal braces
// (Python str.format).
struct TemplatePart {
  bool field;
  std::string text;  // literal text or field name
  bool optional = false;
};

std::vector<TemplatePart> parse_template(const std::string& t) {
  std::vector<TemplatePart> parts;
  std::string lit;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      lit += '{';
      ++i;
    } else if (t[i] == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      lit += '}';
      ++i;
    } else if (t[i] == '{') {
      size_t close = t.find('}', i);
      if (close == std::string::npos)
        throw_user_error("config",
                         "template: '{' at position " + std::to_string(i) + " is never closed",
                         "write fields as {column}; a literal brace is {{ or }}");
      if (!lit.empty()) parts.push_back({false, std::move(lit)});
      lit.clear();
      std::string name = t.substr(i + 1, close - i - 1);
      const bool optional = !name.empty() && name.back() == '?';
      if (optional) name.pop_back();
      if (name.empty())
        throw_user_error("config",
                         "template: the field at position " + std::to_string(i) + " has no name",
                         "write fields as {column} (optional: {column?}); a literal brace is {{");
      parts.push_back({true, std::move(name), optional});
      i = close;
    } else {
      lit += t[i];
    }
  }
  if (!lit.empty()) parts.push_back({false, lit});
  return parts;
}

// The parts of options.template_text, checked once for the whole dataset: a template with a
// field, the last of which (the completion) is not optional.
std::vector<TemplatePart> checked_template(const ExampleOptions& o) {
  if (o.template_text.empty())
    throw_user_error("config", "dataset_format: template needs a template",
                     "e.g. template: \"### context: {input}\\n### question: {target}\"");
  std::vector<TemplatePart> parts = parse_template(o.template_text);
  const TemplatePart* last = nullptr;
  for (const TemplatePart& p : parts)
    if (p.field) last = &p;
  if (!last)
    throw_user_error("config", "template has no {column} field",
                     "e.g. \"### q: {input}\\n### a: {output}\"");
  if (last->optional)
    throw_user_error("config",
                     "template: the last field {" + last->text +
                         "?} is the completion the model learns and cannot be optional",
                     "end the template with a field every row has (e.g. \"... {cot?}\\n### "
                     "answer: {answer}\"), or write {" +
                         last->text + "} to require it");
  return parts;
}

}  // namespace

void check_template_text(const std::string& template_text) {
  ExampleOptions o;
  o.template_text = template_text;
  checked_template(o);
}

namespace {

// The turns of a conversation checked before any template sees them: `field` is "messages"
// ({role, content}) or "conversations" (ShareGPT {from, value}). Returns them as messages.
ojson checked_turns(const Record& rec, const std::string& field) {
  const bool sharegpt = field == "conversations";
  const std::string role_key = sharegpt ? "from" : "role",
                    text_key = sharegpt ? "value" : "content";
  const std::string shape =
      sharegpt
          ? "ShareGPT rows are {\"conversations\": [{\"from\": \"human\", \"value\": \"...\"}, "
            "{\"from\": \"gpt\", \"value\": \"...\"}]}"
          : "chat rows are {\"messages\": [{\"role\": \"user\", \"content\": \"...\"}, "
            "{\"role\": \"assistant\", \"content\": \"...\"}]}";
  const ojson& turns = rec.value[field];
  auto fail = [&](const std::string& what, const std::string& hint) {
    throw_user_error("data", rec.where() + ": " + what, hint + kSkipRows);
  };
  if (!turns.is_array()) fail("'" + field + "' is " + json_kind(turns) + ", not a list", shape);
  if (turns.empty())
    fail("'" + field + "' is an empty list", "a conversation needs turns; " + shape);
  ojson out = ojson::array();
  bool any_assistant = false, only_system = true;
  for (size_t i = 0; i < turns.size(); ++i) {
    const std::string at = field + "[" + std::to_string(i) + "]";
    const ojson& m = turns[i];
    if (!m.is_object()) fail(at + " is " + json_kind(m) + ", not an object", shape);
    if (!m.contains(role_key)) fail(at + " has no '" + role_key + "'", shape);
    if (!m[role_key].is_string())
      fail(at + "." + role_key + " is " + json_kind(m[role_key]) + ", not a string", shape);
    const std::string name = m[role_key].get<std::string>();
    std::string role;
    if (sharegpt) {
      if (name == "human" || name == "user") role = "user";
      if (name == "gpt" || name == "assistant" || name == "bot" || name == "model")
        role = "assistant";
      if (name == "system" || name == "tool") role = name;
      if (role.empty())
        fail(at + ".from '" + name + "' is not a speaker tuna knows",
             "use human, gpt, system or tool (user / assistant are read too)");
    } else {
      if (name == "system" || name == "user" || name == "assistant" || name == "tool") role = name;
      if (role.empty())
        fail(at + ".role '" + name + "' is not a role",
             std::string("use system, user, assistant or tool") +
                 (name == "model" || name == "gpt" || name == "bot" ? " (the reply is 'assistant')"
                  : name == "human"                                 ? " (the asker is 'user')"
                                                                    : ""));
    }
    if (!m.contains(text_key)) fail(at + " has no '" + text_key + "'", shape);
    const ojson& c = m[text_key];
    if (c.is_array() && !sharegpt) {
      // Content parts ({"type": "text", "text": "..."}), as HF chat templates take them.
      for (size_t k = 0; k < c.size(); ++k) {
        const std::string part = at + ".content[" + std::to_string(k) + "]";
        if (!c[k].is_object() || !c[k].contains("type") || !c[k]["type"].is_string())
          fail(part + " is " + json_kind(c[k]) + ", not a {\"type\": \"text\", ...} part",
               "content is a string, or a list of {\"type\": \"text\", \"text\": \"...\"} parts");
        if (c[k]["type"] != "text")
          fail(part + " is a '" + c[k]["type"].get<std::string>() + "' part",
               "tuna trains on text only; keep the {\"type\": \"text\"} parts");
        if (!c[k].contains("text") || !c[k]["text"].is_string())
          fail(part + ".text is missing or not a string",
               "a text part is {\"type\": \"text\", \"text\": \"...\"}");
      }
    } else if (!c.is_string()) {
      fail(at + "." + text_key + " is " + json_kind(c) + ", not text",
           "write the " + text_key + " as a string \"...\"");
    }
    if (role != "system" && (c.is_string() ? blank(c.get<std::string>()) : c.empty()))
      fail(at + "." + text_key + " is empty",
           "every " + role + " turn needs text; fix or remove the turn");
    any_assistant = any_assistant || role == "assistant";
    only_system = only_system && role == "system";
    if (sharegpt) {
      out.push_back({{"role", role}, {"content", c}});
    } else {
      out.push_back(m);
    }
  }
  if (only_system)
    fail("'" + field + "' holds only a system message",
         "add the user turn and the assistant reply to learn");
  if (!any_assistant)
    fail("'" + field + "' has no " + (sharegpt ? "gpt" : "assistant") + " turn (nothing to learn)",
         "add the reply the model should learn as {\"" + role_key + "\": \"" +
             (sharegpt ? "gpt" : "assistant") + "\", \"" + text_key + "\": \"...\"}");
  return out;
}

int32_t eos_id(const Tokenizer& tok, const TokenizeOptions& o) {
  auto e = o.eos_id ? o.eos_id : tok.eos_id();
  if (!e)
    throw_user_error("data", "the tokenizer has no EOS token to end examples with",
                     "set eos_token in the config");
  return *e;
}

void append(std::vector<int32_t>& ids, std::vector<int32_t>& labels,
            const std::vector<int32_t>& add, bool trained) {
  ids.insert(ids.end(), add.begin(), add.end());
  labels.insert(labels.end(), add.size(), -100);
  if (trained)
    std::copy(add.begin(), add.end(), labels.end() - static_cast<std::ptrdiff_t>(add.size()));
}

}  // namespace

DataFormat parse_data_format(const std::string& n) {
  if (n == "auto") return DataFormat::AUTO;
  if (n == "alpaca") return DataFormat::ALPACA;
  if (n == "prompt_completion") return DataFormat::PROMPT_COMPLETION;
  if (n == "messages") return DataFormat::MESSAGES;
  if (n == "text") return DataFormat::TEXT;
  if (n == "template") return DataFormat::TEMPLATE;
  throw_user_error("config", "dataset_format '" + n + "' is unknown",
                   "one of auto, alpaca, prompt_completion, messages, text, template");
}

const char* data_format_name(DataFormat f) {
  switch (f) {
    case DataFormat::AUTO:
      return "auto";
    case DataFormat::ALPACA:
      return "alpaca";
    case DataFormat::PROMPT_COMPLETION:
      return "prompt_completion";
    case DataFormat::MESSAGES:
      return "messages";
    case DataFormat::TEXT:
      return "text";
    case DataFormat::TEMPLATE:
      return "template";
  }
  return "?";
}

DataFormat detect_format(const ojson& r, const ExampleOptions& o, const std::string& where) {
  if (o.format != DataFormat::AUTO) return o.format;
  if (!o.template_text.empty()) return DataFormat::TEMPLATE;
  if (r.contains("messages") || r.contains("conversations")) return DataFormat::MESSAGES;
  if (r.contains("prompt") && r.contains("completion")) return DataFormat::PROMPT_COMPLETION;
  if (r.contains("instruction") && r.contains("output")) return DataFormat::ALPACA;
  if (r.contains(o.dataset_text_field)) return DataFormat::TEXT;
  throw_user_error("data",
                   (where.empty() ? "" : where + ": ") +
                       "cannot tell the dataset format from its fields (" + columns_of(r) + ")",
                   "rows need instruction/input/output, prompt/completion, messages, conversations "
                   "or text — or set template: \"... {column} ...\" (dataset_format: template)");
}

std::string alpaca_prompt(const std::string& instruction, const std::string& input) {
  return "### Instruction:\n" + instruction + "\n\n### Input:\n" + input + "\n\n### Response:\n";
}

Example make_example(const Record& rec, DataFormat format, const ExampleOptions& o) {
  Example ex;
  switch (format) {
    case DataFormat::ALPACA:
      // The same text as seed 001's formatting_prompts_func, split where the response starts.
      ex.kind = Example::Kind::PROMPT_COMPLETION;
      {
        const std::string instruction = nonblank_text(rec, "instruction");
        ex.prompt = alpaca_prompt(instruction, column_text(rec, "input", false));
      }
      ex.completion = nonblank_text(rec, "output") + "\n";
      return ex;
    case DataFormat::PROMPT_COMPLETION:
      ex.kind = Example::Kind::PROMPT_COMPLETION;
      ex.prompt = nonblank_text(rec, "prompt");
      ex.completion = nonblank_text(rec, "completion");
      return ex;
    case DataFormat::TEXT:
      ex.text = nonblank_text(rec, o.dataset_text_field);
      return ex;
    case DataFormat::TEMPLATE: {
      const std::vector<TemplatePart> parts = checked_template(o);
      size_t last = 0;
      for (size_t i = 0; i < parts.size(); ++i)
        if (parts[i].field) last = i;
      ex.kind = Example::Kind::PROMPT_COMPLETION;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (!parts[i].field) {
          (i < last ? ex.prompt : ex.completion) += parts[i].text;
          continue;
        }
        std::string piece =
            template_field_text(rec, parts[i].text, parts[i].optional, o.template_list_separator);
        (i < last ? ex.prompt : ex.completion) +=
            i == last ? nonblank(rec, parts[i].text, std::move(piece)) : piece;
      }
      return ex;
    }
    case DataFormat::MESSAGES: {
      ex.kind = Example::Kind::MESSAGES;
      if (!rec.value.contains("messages") && !rec.value.contains("conversations"))
        throw_user_error("data",
                         rec.where() + ": no 'messages' or 'conversations' field (fields: " +
                             columns_of(rec.value) + ")",
                         "chat rows are {\"messages\": [{\"role\": \"user\", \"content\": ...}]}; "
                         "every file of a run must use the same format");
      ex.messages =
          checked_turns(rec, rec.value.contains("messages") ? "messages" : "conversations");
      return ex;
    }
    case DataFormat::AUTO:
      break;
  }
  return make_example(rec, detect_format(rec.value, o, rec.where()), o);
}

std::vector<std::string> text_columns(DataFormat format, const ExampleOptions& o) {
  switch (format) {
    case DataFormat::ALPACA:
      return {"instruction", "input", "output"};
    case DataFormat::PROMPT_COMPLETION:
      return {"prompt", "completion"};
    case DataFormat::TEXT:
      return {o.dataset_text_field};
    case DataFormat::MESSAGES:
      return {"messages", "conversations"};
    case DataFormat::TEMPLATE: {
      std::vector<std::string> cols;
      for (const TemplatePart& p : checked_template(o))
        if (p.field && std::find(cols.begin(), cols.end(), p.text) == cols.end())
          cols.push_back(p.text);
      return cols;
    }
    case DataFormat::AUTO:
      break;
  }
  return {};
}

bool tokenize_example(const Tokenizer& tok, const ChatTemplate* chat, const Example& ex,
                      const TokenizeOptions& o, TokenizeStats& stats, TrainRow& out) {
  out.input_ids.clear();
  out.labels.clear();
  ++stats.rows;
  switch (ex.kind) {
    case Example::Kind::TEXT: {
      Tokenizer::Encoding e = tok.encode_full(ex.text, true);
      stats.invalid_utf8 += e.invalid_utf8_replaced;
      append(out.input_ids, out.labels, e.ids, true);
      if (o.append_eos && (out.input_ids.empty() || out.input_ids.back() != eos_id(tok, o)))
        append(out.input_ids, out.labels, {eos_id(tok, o)}, true);
      break;
    }
    case Example::Kind::PROMPT_COMPLETION: {
      if (o.completion_only_loss == 0) {
        // The whole text trains: no mask to draw, so it is tokenised as one text, exactly as TRL
        // tokenises a text / formatting_func row (separate parts would split tokens the joined
        // text merges: "question: " + "(" is "▁", "(" where TRL has "▁(").
        Tokenizer::Encoding e = tok.encode_full(ex.prompt + ex.completion, true);
        stats.invalid_utf8 += e.invalid_utf8_replaced;
        append(out.input_ids, out.labels, e.ids, true);
        if (o.append_eos) append(out.input_ids, out.labels, {eos_id(tok, o)}, true);
        break;
      }
      // completion_only_loss true or auto: the prompt is masked.
      Tokenizer::Encoding p = tok.encode_full(ex.prompt, true);
      Tokenizer::Encoding c = tok.encode_full(ex.completion, false);
      stats.invalid_utf8 += p.invalid_utf8_replaced + c.invalid_utf8_replaced;
      append(out.input_ids, out.labels, p.ids, false);
      append(out.input_ids, out.labels, c.ids, true);
      if (tok.encode(ex.prompt + ex.completion, true) != out.input_ids) ++stats.boundary_mismatches;
      if (o.append_eos) append(out.input_ids, out.labels, {eos_id(tok, o)}, true);
      break;
    }
    case Example::Kind::MESSAGES: {
      if (!chat)
        throw_user_error("data", "messages data needs a chat template, and the model has none",
                         "set template / use a model with a chat template, or convert the data");
      ChatTemplateInputs in;
      in.messages = ex.messages;
      in.variables = tok.special_tokens_map();
      if (o.eos_id) in.variables["eos_token"] = tok.id_to_piece(*o.eos_id);
      const std::string full = chat->render(in).text;
      if (!o.assistant_only_loss) {
        Tokenizer::Encoding e = tok.encode_full(full, false);
        append(out.input_ids, out.labels, e.ids, true);
        break;
      }
      // Assistant spans: from {% generation %} blocks when the template has them, else from the
      // renders of each prefix (conversation so far + generation prompt) — what inference sees.
      std::vector<std::pair<size_t, size_t>> spans;
      if (chat->has_generation_blocks()) {
        spans = chat->render(in).generation_spans;
      } else {
        for (size_t i = 0; i < ex.messages.size(); ++i) {
          if (ex.messages[i]["role"] != "assistant") continue;
          if (i == 0)
            throw_user_error("data", "a conversation starts with an assistant message",
                             "start with a user (or system) message");
          ChatTemplateInputs before = in, upto = in;
          before.messages = ojson::array();
          for (size_t k = 0; k < i; ++k) before.messages.push_back(ex.messages[k]);
          before.add_generation_prompt = true;
          upto.messages = before.messages;
          upto.messages.push_back(ex.messages[i]);
          std::string b = chat->render(before).text, a = chat->render(upto).text;
          if (a.compare(0, b.size(), b) != 0 || full.compare(0, a.size(), a) != 0)
            throw_user_error("data",
                             "the chat template does not render conversations as growing prefixes",
                             "assistant_only_loss needs a prefix-stable template or one with "
                             "{% generation %} blocks");
          spans.emplace_back(b.size(), a.size());
        }
      }
      size_t pos = 0;
      for (const auto& [b, e] : spans) {
        append(out.input_ids, out.labels, tok.encode(full.substr(pos, b - pos), false), false);
        append(out.input_ids, out.labels, tok.encode(full.substr(b, e - b), false), true);
        pos = e;
      }
      append(out.input_ids, out.labels, tok.encode(full.substr(pos), false), false);
      if (tok.encode(full, false) != out.input_ids) ++stats.boundary_mismatches;
      break;
    }
  }
  return truncate_train_row(out, o, stats);
}

bool truncate_train_row(TrainRow& out, const TokenizeOptions& o, TokenizeStats& stats) {
  if (o.max_length > 0 && static_cast<int64_t>(out.input_ids.size()) > o.max_length) {
    ++stats.truncated;
    const auto n = static_cast<std::ptrdiff_t>(o.max_length);
    if (o.keep_end) {
      out.input_ids.erase(out.input_ids.begin(), out.input_ids.end() - n);
      out.labels.erase(out.labels.begin(), out.labels.end() - n);
    } else {
      out.input_ids.resize(static_cast<size_t>(n));
      out.labels.resize(static_cast<size_t>(n));
    }
  }
  bool any = false;
  for (size_t t = 1; t < out.labels.size(); ++t) any = any || out.labels[t] != -100;
  if (!any) {
    ++stats.dropped_fully_masked;
    return false;
  }
  return true;
}

}  // namespace tuna
