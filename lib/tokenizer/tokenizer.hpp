#pragma once
// Tokenizers built from a GGUF vocabulary: byte-level BPE (tokenizer.ggml.model "gpt2") and
// SentencePiece (model "llama"). The Spec mirrors the GGUF tokenizer.* keys so the GGUF glue
// fills it field by field; the tokenizer itself never reads files.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenize.hpp"

namespace vks::tokenizer {

// tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
    undefined = 0,
    normal = 1,
    unknown = 2,
    control = 3,
    user_defined = 4,
    unused = 5,
    byte = 6,
};

struct Spec {
    std::string model;                // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SPM)
    std::string pre;                  // tokenizer.ggml.pre: picks the BPE pre-tokenizer
    std::vector<std::string> tokens;  // tokenizer.ggml.tokens (n_vocab)
    std::vector<float> scores;        // tokenizer.ggml.scores (n_vocab or empty)
    std::vector<int32_t> token_types; // tokenizer.ggml.token_type (n_vocab or empty)
    std::vector<std::string> merges;  // tokenizer.ggml.merges, "left right", BPE only, by rank
    int32_t bos = -1, eos = -1, eot = -1, unk = -1, pad = -1;  // -1: absent
    bool add_bos = false, add_eos = false;
    bool add_space_prefix = true;  // SPM: prepend "▁" to the text (tokenizer.ggml.add_space_prefix)
    std::string chat_template;     // tokenizer.chat_template (may be empty)
};

enum class Model { bpe, spm };

class Tokenizer {
public:
    // Validates the spec (sizes, ids in range, merges refer to known tokens) and builds the
    // lookup tables. Throws vks::Error(bad_format / unsupported) saying what is wrong.
    static Tokenizer create(Spec spec);

    // Text -> ids. add_special: BOS/EOS as the metadata asks. parse_special: control tokens
    // written in the text ("<|im_start|>") become their ids (longest match); otherwise they
    // are tokenized as plain text. User-defined tokens are always matched.
    std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

    // The bytes a token stands for (may be a partial UTF-8 sequence). Control tokens give
    // their text. Throws invalid_argument for an id out of range.
    std::string token_piece(int32_t id) const;
    // The raw vocabulary string of a token.
    const std::string& token_text(int32_t id) const;
    TokenType token_type(int32_t id) const;
    // Id of a vocabulary string, or -1.
    int32_t find_token(std::string_view text) const;

    // Convenience: whole-sequence decode through a Detokenizer.
    std::string decode(std::span<const int32_t> ids, bool render_special = false) const;

    int32_t n_vocab() const { return int32_t(spec_.tokens.size()); }
    Model model() const { return model_; }
    PreStyle pre_style() const { return pre_style_; }
    int32_t bos() const { return spec_.bos; }
    int32_t eos() const { return spec_.eos; }
    int32_t unk() const { return spec_.unk; }
    int32_t pad() const { return spec_.pad; }
    bool add_bos() const { return spec_.add_bos; }
    bool add_space_prefix() const { return model_ == Model::spm && spec_.add_space_prefix; }
    // End of generation: EOS, EOT and known end-of-turn control tokens (<|im_end|>,
    // <end_of_turn>, <|eot_id|>, <|endoftext|>, ...).
    bool is_eog(int32_t id) const;
    bool is_control(int32_t id) const { return token_type(id) == TokenType::control; }
    const std::vector<int32_t>& eog_ids() const { return eog_; }
    const std::string& chat_template() const { return spec_.chat_template; }
    // Non-fatal oddities found at create() (unknown pre-tokenizer name, ...), for stderr.
    const std::vector<std::string>& warnings() const { return warnings_; }

private:
    struct MergeInfo {
        int32_t rank;
        int32_t id;  // token the pair merges into
    };

    void check_id(int32_t id) const;
    void encode_fragment(std::string_view text, bool at_text_start, std::vector<int32_t>& out) const;
    void encode_bpe_piece(std::string_view piece, std::vector<int32_t>& out) const;
    void encode_spm(std::string_view text, bool at_text_start, std::vector<int32_t>& out) const;
    void push_byte_fallback(std::string_view bytes, std::vector<int32_t>& out) const;
    // Longest special token starting at text[pos] (-1 if none).
    int32_t match_special(std::string_view text, size_t pos, bool parse_special) const;

    Spec spec_;
    Model model_ = Model::bpe;
    PreStyle pre_style_ = PreStyle::gpt2;
    std::vector<TokenType> types_;                          // (n_vocab)
    std::unordered_map<std::string, int32_t> token_to_id_;  // every token text
    // Tokens that merges may produce: never control, unknown or byte tokens.
    std::unordered_map<std::string, int32_t> mergeable_;
    std::unordered_map<uint64_t, MergeInfo> merges_;  // BPE: (left id << 32 | right id) -> merge
    std::array<int32_t, 256> byte_token_{};           // BPE: mapped byte char; SPM: <0xXX>; -1 if none
    std::array<std::vector<int32_t>, 256> special_by_first_byte_;  // longest first
    std::vector<int32_t> eog_;
    std::vector<std::string> warnings_;
};

// Streaming ids -> text. A token may end in the middle of a UTF-8 code point; feed() returns
// only complete, valid UTF-8 and keeps the unfinished tail for the next call. Invalid bytes
// come out as U+FFFD.
class Detokenizer {
public:
    // render_special: emit control tokens' text (default: they produce nothing).
    // Keeps a pointer to tokenizer, which must outlive the Detokenizer.
    explicit Detokenizer(const Tokenizer& tokenizer, bool render_special = false);

    std::string feed(int32_t id);
    // Emits whatever is held (an unfinished sequence becomes U+FFFD) and resets.
    std::string flush();
    void reset();

private:
    std::string take_complete();

    const Tokenizer* tok_;
    bool render_special_;
    bool at_start_ = true;  // SPM: the first text token loses its add_space_prefix space
    std::string pending_;   // bytes not yet emitted: at most an unfinished code point
};

}  // namespace vks::tokenizer
