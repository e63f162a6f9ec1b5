#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <cstring>
#include <queue>

#include "common/error.hpp"
#include "tokenizer/unicode.hpp"

namespace vks::tokenizer {

namespace {

const char* const k_spm_space = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SPM's space

// Parses "<0xAB>" into 0xAB; -1 when text is not a byte token.
int parse_byte_token(const std::string& text) {
    if (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>') return -1;
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    int hi = hex(text[3]), lo = hex(text[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

// Control tokens that end a turn in common chat formats.
const char* const k_end_of_turn_texts[] = {"<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|eom_id|>",
                                           "<|endoftext|>", "<|end|>", "<EOT>", "</s>", "<|end_of_text|>"};

}  // namespace

Tokenizer Tokenizer::create(Spec spec) {
    Tokenizer t;
    const size_t n = spec.tokens.size();
    if (n == 0) fail(Status::bad_format, "tokenizer: empty vocabulary (tokenizer.ggml.tokens)");
    if (n > size_t(INT32_MAX)) fail(Status::bad_format, "tokenizer: vocabulary too large (%zu)", n);
    if (!spec.scores.empty() && spec.scores.size() != n)
        fail(Status::bad_format, "tokenizer: %zu scores for %zu tokens (tokenizer.ggml.scores)",
             spec.scores.size(), n);
    if (!spec.token_types.empty() && spec.token_types.size() != n)
        fail(Status::bad_format, "tokenizer: %zu token types for %zu tokens (tokenizer.ggml.token_type)",
             spec.token_types.size(), n);
    const std::pair<const char*, int32_t> ids[] = {{"bos", spec.bos}, {"eos", spec.eos}, {"eot", spec.eot},
                                                   {"unk", spec.unk}, {"pad", spec.pad}};
    for (auto [name, id] : ids)
        if (id < -1 || id >= int32_t(n))
            fail(Status::bad_format, "tokenizer: %s token id %d out of range [0, %zu)", name, id, n);

    if (spec.model == "gpt2") {
        t.model_ = Model::bpe;
        bool known = true;
        t.pre_style_ = pre_style_from_name(spec.pre, &known);
        if (!known)
            t.warnings_.push_back(strfmt("tokenizer: unknown pre-tokenizer '%s', using gpt2 splitting; "
                                         "tokens may differ from the reference", spec.pre.c_str()));
    } else if (spec.model == "llama") {
        t.model_ = Model::spm;
        if (spec.scores.empty()) fail(Status::bad_format, "tokenizer: SentencePiece vocabulary without scores");
    } else {
        fail(Status::unsupported, "tokenizer: model '%s' is not supported (expected 'gpt2' or 'llama')",
             spec.model.c_str());
    }

    // Token types; when absent infer byte tokens (SPM) and treat BOS/EOS/UNK as control.
    t.types_.resize(n, TokenType::normal);
    for (size_t i = 0; i < n; ++i) {
        if (!spec.token_types.empty()) {
            int32_t v = spec.token_types[i];
            if (v < 0 || v > 6) fail(Status::bad_format, "tokenizer: token %zu has invalid type %d", i, v);
            t.types_[i] = TokenType(v);
        } else if (t.model_ == Model::spm && parse_byte_token(spec.tokens[i]) >= 0) {
            t.types_[i] = TokenType::byte;
        }
    }
    if (spec.token_types.empty())
        for (int32_t id : {spec.bos, spec.eos, spec.unk})
            if (id >= 0) t.types_[id] = TokenType::control;

    for (size_t i = 0; i < n; ++i) {
        const std::string& text = spec.tokens[i];
        t.token_to_id_.emplace(text, int32_t(i));  // first occurrence wins on duplicates
        TokenType ty = t.types_[i];
        if (ty == TokenType::normal || ty == TokenType::undefined || ty == TokenType::user_defined)
            t.mergeable_.emplace(text, int32_t(i));
        if ((ty == TokenType::control || ty == TokenType::user_defined) && !text.empty())
            t.special_by_first_byte_[uint8_t(text[0])].push_back(int32_t(i));
    }
    for (auto& list : t.special_by_first_byte_)
        std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
            return spec.tokens[a].size() > spec.tokens[b].size();
        });

    t.byte_token_.fill(-1);
    if (t.model_ == Model::bpe) {
        for (int b = 0; b < 256; ++b) {
            std::string s;
            utf8_append(s, byte_to_codepoint(uint8_t(b)));
            auto it = t.mergeable_.find(s);
            if (it != t.mergeable_.end()) t.byte_token_[b] = it->second;
        }
        t.merges_.reserve(spec.merges.size());
        for (size_t r = 0; r < spec.merges.size(); ++r) {
            const std::string& m = spec.merges[r];
            size_t sp = m.find(' ', 1);
            if (sp == std::string::npos || sp + 1 >= m.size())
                fail(Status::bad_format, "tokenizer: merge %zu '%s' is not 'left right'", r, m.c_str());
            std::string left = m.substr(0, sp), right = m.substr(sp + 1);
            auto l = t.mergeable_.find(left), rt = t.mergeable_.find(right), lr = t.mergeable_.find(left + right);
            // Merges whose parts or result are not ordinary tokens can never apply; skip them.
            if (l == t.mergeable_.end() || rt == t.mergeable_.end() || lr == t.mergeable_.end()) continue;
            uint64_t key = (uint64_t(uint32_t(l->second)) << 32) | uint32_t(rt->second);
            t.merges_.emplace(key, MergeInfo{int32_t(r), lr->second});  // first (lowest) rank wins
        }
    } else {
        for (size_t i = 0; i < n; ++i)
            if (t.types_[i] == TokenType::byte) {
                int b = parse_byte_token(spec.tokens[i]);
                if (b >= 0 && t.byte_token_[b] < 0) t.byte_token_[b] = int32_t(i);
            }
    }

    for (int32_t id : {spec.eos, spec.eot})
        if (id >= 0) t.eog_.push_back(id);
    for (const char* text : k_end_of_turn_texts) {
        auto it = t.token_to_id_.find(text);
        if (it != t.token_to_id_.end() && t.types_[it->second] == TokenType::control) t.eog_.push_back(it->second);
    }
    std::sort(t.eog_.begin(), t.eog_.end());
    t.eog_.erase(std::unique(t.eog_.begin(), t.eog_.end()), t.eog_.end());

    t.spec_ = std::move(spec);
    return t;
}

void Tokenizer::check_id(int32_t id) const {
    if (id < 0 || id >= n_vocab())
        fail(Status::invalid_argument, "tokenizer: token id %d out of range [0, %d)", id, n_vocab());
}

const std::string& Tokenizer::token_text(int32_t id) const {
    check_id(id);
    return spec_.tokens[id];
}

TokenType Tokenizer::token_type(int32_t id) const {
    check_id(id);
    return types_[id];
}

int32_t Tokenizer::find_token(std::string_view text) const {
    auto it = token_to_id_.find(std::string(text));
    return it == token_to_id_.end() ? -1 : it->second;
}

bool Tokenizer::is_eog(int32_t id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

int32_t Tokenizer::match_special(std::string_view text, size_t pos, bool parse_special) const {
    for (int32_t id : special_by_first_byte_[uint8_t(text[pos])]) {
        if (!parse_special && types_[id] == TokenType::control) continue;
        const std::string& s = spec_.tokens[id];
        if (text.size() - pos >= s.size() && text.compare(pos, s.size(), s) == 0) return id;
    }
    return -1;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
    std::vector<int32_t> out;
    if (add_special && spec_.add_bos && spec_.bos >= 0) out.push_back(spec_.bos);
    // Cut the text at special tokens; the stretches between them are tokenized normally.
    size_t frag_begin = 0;
    for (size_t pos = 0; pos < text.size();) {
        int32_t id = match_special(text, pos, parse_special);
        if (id < 0) {
            ++pos;
            continue;
        }
        if (pos > frag_begin) encode_fragment(text.substr(frag_begin, pos - frag_begin), frag_begin == 0, out);
        out.push_back(id);
        pos += spec_.tokens[id].size();
        frag_begin = pos;
    }
    if (frag_begin < text.size()) encode_fragment(text.substr(frag_begin), frag_begin == 0, out);
    if (add_special && spec_.add_eos && spec_.eos >= 0) out.push_back(spec_.eos);
    return out;
}

void Tokenizer::encode_fragment(std::string_view text, bool at_text_start, std::vector<int32_t>& out) const {
    if (model_ == Model::spm) {
        encode_spm(text, at_text_start, out);
        return;
    }
    for (std::string_view piece : pre_tokenize(pre_style_, text)) encode_bpe_piece(piece, out);
}

void Tokenizer::push_byte_fallback(std::string_view bytes, std::vector<int32_t>& out) const {
    for (char c : bytes) {
        int32_t id = byte_token_[uint8_t(c)];
        if (id < 0) id = spec_.unk;
        if (id < 0)
            fail(Status::invalid_argument, "tokenizer: byte 0x%02X has no token and the vocabulary has no <unk>",
                 unsigned(uint8_t(c)));
        out.push_back(id);
    }
}

// Byte-level BPE on one pre-token: start from one symbol per byte, then repeatedly apply the
// lowest-rank merge among adjacent pairs (leftmost on ties). Symbols form a linked list;
// the heap holds candidate pairs and stale entries are skipped when popped.
void Tokenizer::encode_bpe_piece(std::string_view piece, std::vector<int32_t>& out) const {
    const int n = int(piece.size());
    std::vector<int32_t> id(n);     // (n) token of the symbol starting at byte i (valid if alive)
    std::vector<int> next(n), prev(n);
    for (int i = 0; i < n; ++i) {
        id[i] = byte_token_[uint8_t(piece[i])];
        if (id[i] < 0) {
            if (spec_.unk < 0)
                fail(Status::bad_format, "tokenizer: vocabulary lacks the byte-level token for byte 0x%02X",
                     unsigned(uint8_t(piece[i])));
            id[i] = spec_.unk;
        }
        next[i] = i + 1 < n ? i + 1 : -1;
        prev[i] = i - 1;
    }
    struct Cand {
        int32_t rank;
        int left;
        int32_t left_id, right_id;
        bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
    auto push_pair = [&](int left) {
        if (left < 0 || next[left] < 0) return;
        uint64_t key = (uint64_t(uint32_t(id[left])) << 32) | uint32_t(id[next[left]]);
        auto it = merges_.find(key);
        if (it != merges_.end()) heap.push({it->second.rank, left, id[left], id[next[left]]});
    };
    for (int i = 0; i + 1 < n; ++i) push_pair(i);
    std::vector<bool> alive(n, true);
    while (!heap.empty()) {
        Cand c = heap.top();
        heap.pop();
        // Stale if either side changed since the pair was queued (ids at a position only grow).
        int right = next[c.left];
        if (!alive[c.left] || right < 0 || id[c.left] != c.left_id || id[right] != c.right_id) continue;
        uint64_t key = (uint64_t(uint32_t(c.left_id)) << 32) | uint32_t(c.right_id);
        id[c.left] = merges_.at(key).id;
        alive[right] = false;
        next[c.left] = next[right];
        if (next[right] >= 0) prev[next[right]] = c.left;
        push_pair(prev[c.left]);
        push_pair(c.left);
    }
    for (int i = 0; i >= 0 && i < n; i = next[i]) out.push_back(id[i]);
}

// SentencePiece (BPE-style with scores): spaces become "▁", start from UTF-8 characters and
// repeatedly merge the adjacent pair whose concatenation is the highest-scoring vocabulary
// piece (leftmost on ties). Symbols left that are not in the vocabulary fall back to bytes.
void Tokenizer::encode_spm(std::string_view text, bool at_text_start, std::vector<int32_t>& out) const {
    std::string s;
    s.reserve(text.size() + 8);
    if (at_text_start && spec_.add_space_prefix) s += k_spm_space;
    for (char c : text) {
        if (c == ' ')
            s += k_spm_space;
        else
            s += c;
    }
    struct Sym {
        size_t begin, len;
        int prev, next;
    };
    std::vector<Sym> sym;
    for (size_t pos = 0; pos < s.size();) {
        size_t len = utf8_decode(s, pos).len;
        sym.push_back({pos, len, int(sym.size()) - 1, int(sym.size()) + 1});
        pos += len;
    }
    if (sym.empty()) return;
    sym.back().next = -1;

    struct Cand {
        float score;
        int left, right;
        size_t len;
        bool operator<(const Cand& o) const { return score != o.score ? score < o.score : left > o.left; }
    };
    std::priority_queue<Cand> heap;
    auto push_pair = [&](int left) {
        if (left < 0 || sym[left].next < 0) return;
        const Sym& a = sym[left];
        const Sym& b = sym[a.next];
        auto it = mergeable_.find(s.substr(a.begin, a.len + b.len));
        if (it != mergeable_.end()) heap.push({spec_.scores[it->second], left, a.next, a.len + b.len});
    };
    for (int i = 0; i + 1 < int(sym.size()); ++i) push_pair(i);
    while (!heap.empty()) {
        Cand c = heap.top();
        heap.pop();
        Sym& a = sym[c.left];
        // Stale if the left symbol was absorbed (len 0) or either side grew since queued.
        if (a.len == 0 || a.next != c.right || a.len + sym[c.right].len != c.len) continue;
        Sym& b = sym[c.right];
        a.len += b.len;
        b.len = 0;
        a.next = b.next;
        if (b.next >= 0) sym[b.next].prev = c.left;
        push_pair(a.prev);
        push_pair(c.left);
    }
    for (int i = 0; i >= 0; i = sym[i].next) {
        std::string piece = s.substr(sym[i].begin, sym[i].len);
        auto it = mergeable_.find(piece);
        if (it != mergeable_.end())
            out.push_back(it->second);
        else
            push_byte_fallback(piece, out);
    }
}

std::string Tokenizer::token_piece(int32_t id) const {
    check_id(id);
    const std::string& text = spec_.tokens[id];
    TokenType ty = types_[id];
    if (ty == TokenType::control) return text;
    std::string out;
    if (model_ == Model::spm) {
        if (ty == TokenType::byte) {
            int b = parse_byte_token(text);
            if (b >= 0) return std::string(1, char(b));
        }
        for (size_t pos = 0; pos < text.size();) {
            if (text.compare(pos, 3, k_spm_space) == 0) {
                out += ' ';
                pos += 3;
            } else {
                out += text[pos++];
            }
        }
        return out;
    }
    // Byte-level BPE: every code point of an ordinary token is the image of one byte.
    // User-defined tokens may hold plain text; keep code points that are no byte image.
    for (size_t pos = 0; pos < text.size();) {
        Utf8Char ch = utf8_decode(text, pos);
        int b = codepoint_to_byte(ch.cp);
        if (b >= 0 && ty != TokenType::user_defined)
            out += char(b);
        else
            out.append(text, pos, ch.len);
        pos += ch.len;
    }
    return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
    Detokenizer d(*this, render_special);
    std::string out;
    for (int32_t id : ids) out += d.feed(id);
    out += d.flush();
    return out;
}

// ---- Detokenizer ----

Detokenizer::Detokenizer(const Tokenizer& tokenizer, bool render_special)
    : tok_(&tokenizer), render_special_(render_special) {}

void Detokenizer::reset() {
    pending_.clear();
    at_start_ = true;
}

std::string Detokenizer::feed(int32_t id) {
    bool control = tok_->is_control(id);
    if (control && !render_special_) return {};
    std::string piece = tok_->token_piece(id);
    if (at_start_ && !control) {
        // SPM prepends a space to the text when encoding; drop it from the first token back.
        if (tok_->add_space_prefix() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
        at_start_ = false;
    }
    pending_ += piece;
    return take_complete();
}

// Moves every complete code point from pending_ to the result; invalid bytes become U+FFFD;
// an unfinished but so-far-valid sequence at the end stays in pending_.
std::string Detokenizer::take_complete() {
    std::string out;
    size_t pos = 0;
    while (pos < pending_.size()) {
        uint8_t lead = uint8_t(pending_[pos]);
        int len = utf8_sequence_length(lead);
        if (len > 1 && pos + len > pending_.size()) {
            bool prefix_ok = true;
            for (size_t k = pos + 1; k < pending_.size(); ++k) prefix_ok &= (uint8_t(pending_[k]) & 0xC0) == 0x80;
            if (prefix_ok) break;  // wait for the rest of this code point
        }
        Utf8Char ch = utf8_decode(pending_, pos);
        if (ch.cp == 0xFFFD && ch.len == 1)  // invalid byte (a real U+FFFD decodes with len 3)
            out += "\xEF\xBF\xBD";
        else
            out.append(pending_, pos, ch.len);
        pos += ch.len;
    }
    pending_.erase(0, pos);
    return out;
}

std::string Detokenizer::flush() {
    std::string out = take_complete();
    if (!pending_.empty()) out += "\xEF\xBF\xBD";
    reset();
    return out;
}

}  // namespace vks::tokenizer
