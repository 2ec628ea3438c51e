// openai_client.mjs — the official `openai` npm client, unchanged, against a HearthNet
// node's OpenAI-compatible API. Usage: node openai_client.mjs BASE_URL CHAT_MODEL EMBED_MODEL
// (HN_NPM_DIR: where scripts/setup-test-npm installed it; EMBED_MODEL "-": skip embeddings.)
// Prints one JSON line of results; exits non-zero on the first failure.
import { createRequire } from "module";

// The package lives in build/npm (scripts/setup-test-npm), outside this file's tree.
const require = createRequire(process.env.HN_NPM_DIR + "/package.json");
const mod = require("openai");
const OpenAI = mod.OpenAI || mod.default || mod;

const [baseURL, chatModel, embedModel] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.HN_OPENAI_TOKEN || "unused", maxRetries: 0 });
const out = {};

const models = await client.models.list();
out.models = models.data.map((m) => m.id).sort();

const chat = await client.chat.completions.create({
  model: chatModel, messages: [{ role: "user", content: "Hi?" }], max_tokens: 32 });
out.chat = { content: chat.choices[0].message.content, finish: chat.choices[0].finish_reason,
             usage: chat.usage };

const stream = await client.chat.completions.create({
  model: chatModel, messages: [{ role: "user", content: "Hi?" }], stream: true,
  stream_options: { include_usage: true } });
out.stream = [];
for await (const chunk of stream) {
  const c = chunk.choices[0];
  if (c && c.delta && c.delta.content) out.stream.push(c.delta.content);
  if (c && c.finish_reason) out.stream_finish = c.finish_reason;
}

const completion = await client.completions.create({ model: chatModel, prompt: "Once", max_tokens: 2 });
out.completion = { text: completion.choices[0].text, finish: completion.choices[0].finish_reason };

if (embedModel && embedModel !== "-") {  // "-": no embed.text provider to ask
  const emb = await client.embeddings.create({ model: embedModel, input: ["a", "b"] });
  out.embeddings = emb.data.map((d) => Array.from(d.embedding));
}

try {
  await client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] });
  out.missing = "no error";
} catch (e) {
  out.missing = { status: e.status, code: e.code };
}
console.log(JSON.stringify(out));
