// make_test_models.cpp — writes the tiny random-weight GGUF models the tests and benchmarks
// load (no model weights exist on these machines; DESIGN.md): a llama-architecture chat model
// with a chat template and a BERT-architecture embedding model, each with the real tokenizer
// of one of llama.cpp's vocab-only GGUF files (models/ggml-vocab-*.gguf in its source tree).
//
//   hn_make_test_models VOCAB_DIR OUT_DIR   → OUT_DIR/tiny-llama.gguf, OUT_DIR/tiny-bert.gguf
//   hn_make_test_models --llama EMBD LAYERS FF VOCAB_DIR OUT_FILE
//                                           → one llama of that shape (benchmarks want a
//                                             model big enough that tokens/s means something:
//                                             512 8 1536 is ~230 MB; never committed)
//
// The weights come from a fixed-seed generator, so the files are the same on every run.
// Usage errors and unreadable vocab files exit 1 with a message; nothing partial is left
// (each file is written to a temporary name and renamed).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ggml.h"
#include "gguf.h"

namespace {

namespace fs = std::filesystem;

// The chat template (ChatML), which llama_chat_apply_template recognises by its markers.
constexpr const char* CHATML_TEMPLATE =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

struct Writer {
  gguf_context* gguf = nullptr;
  ggml_context* ggml = nullptr;
  std::mt19937 rng{20260526};

  Writer(const fs::path& vocab, std::size_t tensor_bytes) {
    gguf_init_params p{/*no_alloc=*/true, /*ctx=*/nullptr};
    gguf_context* src = gguf_init_from_file(vocab.c_str(), p);
    if (src == nullptr) return;
    gguf = gguf_init_empty();
    gguf_set_kv(gguf, src);  // the tokenizer.* keys (and whatever else the vocab file has)
    gguf_free(src);
    ggml_init_params gp{tensor_bytes, nullptr, false};
    ggml = ggml_init(gp);
  }
  ~Writer() {
    if (gguf != nullptr) gguf_free(gguf);
    if (ggml != nullptr) ggml_free(ggml);
  }
  bool ok() const { return gguf != nullptr && ggml != nullptr; }

  // A tensor of ne0 × ne1 f32 values: `fill` (norm weights 1, biases 0), or uniform random
  // of scale 1/sqrt(ne0) when fill is NaN.
  void add(const std::string& name, std::int64_t ne0, std::int64_t ne1 = 1, float fill = NAN) {
    ggml_tensor* t = ne1 == 1 ? ggml_new_tensor_1d(ggml, GGML_TYPE_F32, ne0)
                              : ggml_new_tensor_2d(ggml, GGML_TYPE_F32, ne0, ne1);
    ggml_set_name(t, name.c_str());
    auto* data = static_cast<float*>(t->data);
    const float scale = 1.0F / std::sqrt(static_cast<float>(ne0));
    std::uniform_real_distribution<float> dist(-scale, scale);
    for (std::int64_t i = 0; i < ne0 * ne1; ++i) data[i] = std::isnan(fill) ? dist(rng) : fill;
    gguf_add_tensor(gguf, t);
  }

  std::int64_t vocab_size() const {
    const std::int64_t id = gguf_find_key(gguf, "tokenizer.ggml.tokens");
    return id < 0 ? 0 : static_cast<std::int64_t>(gguf_get_arr_n(gguf, id));
  }

  bool write(const fs::path& out) const {
    const fs::path tmp = out.string() + ".tmp";
    if (!gguf_write_to_file(gguf, tmp.c_str(), false)) return false;
    std::error_code ec;
    fs::rename(tmp, out, ec);
    return !ec;
  }
};

constexpr std::int64_t EMBD = 64;
constexpr std::int64_t LAYERS = 2;
constexpr std::int64_t HEADS = 4;
constexpr std::int64_t FF = 128;

// A llama model's shape: the tiny test model's by default.
struct LlamaShape {
  std::int64_t embd = EMBD;
  std::int64_t layers = LAYERS;
  std::int64_t heads = HEADS;  // head width 16 for the tiny one, 64 for larger ones
  std::int64_t ff = FF;
  const char* name = "hearthnet-tiny-llama";
};

bool make_llama(const fs::path& vocab, const fs::path& out, const LlamaShape& shape = {}) {
  const std::int64_t n_embd = shape.embd;
  const std::int64_t heads = shape.heads;
  const std::int64_t heads_kv = heads / 2;  // grouped-query attention, as most chat models have
  const std::int64_t embd_kv = n_embd / heads * heads_kv;
  // Room for every f32 tensor (the vocabulary's two matrices dominate) plus ggml's overhead.
  const std::size_t bytes = static_cast<std::size_t>(
      4 * (2 * n_embd * 40000 + shape.layers * (2 * n_embd * n_embd + 2 * n_embd * embd_kv +
                                               3 * n_embd * shape.ff + 2 * n_embd) + n_embd) +
      (64u << 20));
  Writer w(vocab, bytes);
  if (!w.ok()) return false;
  const std::int64_t n_vocab = w.vocab_size();
  gguf_set_val_str(w.gguf, "general.architecture", "llama");
  gguf_set_val_str(w.gguf, "general.name", shape.name);
  gguf_set_val_u32(w.gguf, "general.file_type", 0);  // all f32
  gguf_set_val_u32(w.gguf, "llama.context_length", 4096);
  gguf_set_val_u32(w.gguf, "llama.embedding_length", static_cast<std::uint32_t>(n_embd));
  gguf_set_val_u32(w.gguf, "llama.block_count", static_cast<std::uint32_t>(shape.layers));
  gguf_set_val_u32(w.gguf, "llama.feed_forward_length", static_cast<std::uint32_t>(shape.ff));
  gguf_set_val_u32(w.gguf, "llama.attention.head_count", static_cast<std::uint32_t>(heads));
  gguf_set_val_u32(w.gguf, "llama.attention.head_count_kv", static_cast<std::uint32_t>(heads_kv));
  gguf_set_val_u32(w.gguf, "llama.rope.dimension_count", static_cast<std::uint32_t>(n_embd / heads));
  gguf_set_val_f32(w.gguf, "llama.attention.layer_norm_rms_epsilon", 1e-5F);
  gguf_set_val_u32(w.gguf, "llama.vocab_size", static_cast<std::uint32_t>(n_vocab));
  gguf_set_val_str(w.gguf, "tokenizer.chat_template", CHATML_TEMPLATE);

  w.add("token_embd.weight", n_embd, n_vocab);
  w.add("output_norm.weight", n_embd, 1, 1.0F);
  w.add("output.weight", n_embd, n_vocab);
  for (std::int64_t i = 0; i < shape.layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    w.add(b + "attn_norm.weight", n_embd, 1, 1.0F);
    w.add(b + "attn_q.weight", n_embd, n_embd);
    w.add(b + "attn_k.weight", n_embd, embd_kv);
    w.add(b + "attn_v.weight", n_embd, embd_kv);
    w.add(b + "attn_output.weight", n_embd, n_embd);
    w.add(b + "ffn_norm.weight", n_embd, 1, 1.0F);
    w.add(b + "ffn_gate.weight", n_embd, shape.ff);
    w.add(b + "ffn_down.weight", shape.ff, n_embd);
    w.add(b + "ffn_up.weight", n_embd, shape.ff);
  }
  return w.write(out);
}

bool make_bert(const fs::path& vocab, const fs::path& out) {
  Writer w(vocab, 32u << 20);
  if (!w.ok()) return false;
  const std::int64_t n_vocab = w.vocab_size();
  const std::int64_t ctx = 512;
  gguf_set_val_str(w.gguf, "general.architecture", "bert");
  gguf_set_val_str(w.gguf, "general.name", "hearthnet-tiny-bert");
  gguf_set_val_u32(w.gguf, "general.file_type", 0);
  gguf_set_val_u32(w.gguf, "bert.context_length", ctx);
  gguf_set_val_u32(w.gguf, "bert.embedding_length", EMBD);
  gguf_set_val_u32(w.gguf, "bert.block_count", LAYERS);
  gguf_set_val_u32(w.gguf, "bert.feed_forward_length", FF);
  gguf_set_val_u32(w.gguf, "bert.attention.head_count", HEADS);
  gguf_set_val_f32(w.gguf, "bert.attention.layer_norm_epsilon", 1e-12F);
  gguf_set_val_bool(w.gguf, "bert.attention.causal", false);
  gguf_set_val_u32(w.gguf, "bert.pooling_type", 1);  // mean, as bge/MiniLM sentence models
  gguf_set_val_u32(w.gguf, "tokenizer.ggml.token_type_count", 2);

  w.add("token_embd.weight", EMBD, n_vocab);
  w.add("token_types.weight", EMBD, 2);
  w.add("position_embd.weight", EMBD, ctx);
  w.add("token_embd_norm.weight", EMBD, 1, 1.0F);
  w.add("token_embd_norm.bias", EMBD, 1, 0.0F);
  for (std::int64_t i = 0; i < LAYERS; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      w.add(b + m + ".weight", EMBD, EMBD);
      w.add(b + m + ".bias", EMBD, 1, 0.0F);
    }
    w.add(b + "attn_output_norm.weight", EMBD, 1, 1.0F);
    w.add(b + "attn_output_norm.bias", EMBD, 1, 0.0F);
    w.add(b + "ffn_up.weight", EMBD, FF);
    w.add(b + "ffn_up.bias", FF, 1, 0.0F);
    w.add(b + "ffn_down.weight", FF, EMBD);
    w.add(b + "ffn_down.bias", EMBD, 1, 0.0F);
    w.add(b + "layer_output_norm.weight", EMBD, 1, 1.0F);
    w.add(b + "layer_output_norm.bias", EMBD, 1, 0.0F);
  }
  return w.write(out);
}

}  // namespace

// --llama EMBD LAYERS FF VOCAB_DIR OUT_FILE: one llama of that shape (8 heads of EMBD/8).
int make_sized_llama(char** argv) {
  LlamaShape shape;
  shape.embd = std::atoll(argv[2]);
  shape.layers = std::atoll(argv[3]);
  shape.ff = std::atoll(argv[4]);
  shape.heads = 8;
  shape.name = "hearthnet-bench-llama";
  if (shape.embd < 64 || shape.embd % 64 != 0 || shape.layers < 1 || shape.layers > 64 ||
      shape.ff < 64 || shape.ff > 65536 || shape.embd > 8192) {
    std::fprintf(stderr, "--llama: EMBD a multiple of 64 up to 8192, LAYERS 1-64, FF 64-65536\n");
    return 1;
  }
  const fs::path out = argv[6];
  if (!make_llama(fs::path(argv[5]) / "ggml-vocab-llama-spm.gguf", out, shape)) {
    std::fprintf(stderr, "cannot write %s from %s\n", out.c_str(), argv[5]);
    return 1;
  }
  std::printf("%s\n", out.c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 7 && std::string(argv[1]) == "--llama") return make_sized_llama(argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s VOCAB_DIR OUT_DIR | --llama EMBD LAYERS FF VOCAB_DIR OUT_FILE\n",
                 argv[0]);
    return 1;
  }
  const fs::path vocab_dir = argv[1];
  const fs::path out_dir = argv[2];
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "cannot create %s: %s\n", out_dir.c_str(), ec.message().c_str());
    return 1;
  }
  if (!make_llama(vocab_dir / "ggml-vocab-llama-spm.gguf", out_dir / "tiny-llama.gguf")) {
    std::fprintf(stderr, "cannot write tiny-llama.gguf from %s\n", vocab_dir.c_str());
    return 1;
  }
  if (!make_bert(vocab_dir / "ggml-vocab-bert-bge.gguf", out_dir / "tiny-bert.gguf")) {
    std::fprintf(stderr, "cannot write tiny-bert.gguf from %s\n", vocab_dir.c_str());
    return 1;
  }
  std::printf("%s\n%s\n", (out_dir / "tiny-llama.gguf").c_str(),
              (out_dir / "tiny-bert.gguf").c_str());
  return 0;
}
