/**
 * One JSON document read as a stream (stream-json's tokenizer), handing over only the values at
 * the paths asked for (a Spotify account export's `tracks[*]`, `playlists[*].items[*]`, a
 * playlist's `name`…), each assembled on its own: only the value being assembled is in memory,
 * never the document. Containers at the first two levels are announced as they open (a playlist
 * starts).
 */
import type { Readable } from 'node:stream';
import parser from 'stream-json/parser.js';
import Assembler from 'stream-json/assembler.js';

/** A path inside the document: object keys and array indexes, from the top. */
export type JsonPath = ReadonlyArray<string | number>;

export type JsonEvent = { type: 'value'; path: JsonPath; value: unknown } | { type: 'open'; path: JsonPath };

interface Frame {
  array: boolean;
  path: JsonPath;
  /** Objects: the key of the value that comes next. */
  key: string;
  /** Arrays: the index of the last element started. */
  index: number;
}

interface Token {
  name: string;
  value?: string;
}

const VALUE_TOKENS = new Set(['stringValue', 'numberValue', 'nullValue', 'trueValue', 'falseValue']);

/**
 * The values of `input` at the paths `wanted` accepts (not looked into further), in document
 * order, and the opening of every object or array at depth 1 and 2. Throws what the tokenizer
 * throws for text that is not JSON.
 */
export async function* jsonEvents(input: Readable, wanted: (path: JsonPath) => boolean): AsyncGenerator<JsonEvent> {
  const tokens = parser.asStream({ packValues: true, streamValues: false });
  input.on('error', (error) => tokens.destroy(error));
  input.pipe(tokens);
  const stack: Frame[] = [];
  let assembling: { path: JsonPath; assembler: Assembler } | undefined;
  for await (const token of tokens as AsyncIterable<Token>) {
    if (assembling) {
      assembling.assembler.consume(token as never);
      if (assembling.assembler.done) {
        yield { type: 'value', path: assembling.path, value: assembling.assembler.current };
        assembling = undefined;
      }
      continue;
    }
    if (token.name === 'keyValue') {
      stack[stack.length - 1].key = token.value!;
      continue;
    }
    if (token.name === 'endObject' || token.name === 'endArray') {
      stack.pop();
      continue;
    }
    const starts = token.name === 'startObject' || token.name === 'startArray';
    if (!starts && !VALUE_TOKENS.has(token.name)) continue;
    // A value starts: its path.
    const parent = stack[stack.length - 1];
    let path: JsonPath = [];
    if (parent) {
      if (parent.array) parent.index += 1;
      path = [...parent.path, parent.array ? parent.index : parent.key];
    }
    if (parent && wanted(path)) {
      const assembler = new Assembler();
      assembler.consume(token as never);
      if (assembler.done) yield { type: 'value', path, value: assembler.current };
      else assembling = { path, assembler };
      continue;
    }
    if (starts) {
      stack.push({ array: token.name === 'startArray', path, key: '', index: -1 });
      if (path.length >= 1 && path.length <= 2) yield { type: 'open', path };
    }
  }
}
