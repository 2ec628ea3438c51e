// runtime.h — llama.cpp's process-wide setup. Both in-process backends (the llm service's
// LlamaEngine, the embed service's LlamaEmbedder) call init_once() before loading a model;
// llama.cpp keeps one log callback and one backend per process, so one place sets them.
//
// Thread-safety: init_once() may be called from any thread, any number of times.
#pragma once

namespace hn::llamacpp {

// Once per process: llama.cpp's warnings and errors go to our log (logger "llama_cpp"),
// lines joined until their newline; its load chatter is dropped. Then llama_backend_init().
void init_once();

}  // namespace hn::llamacpp
