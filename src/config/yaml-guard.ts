// What the YAML library leaves to its caller, checked in one pass over the document
// before it is turned into values:
// - aliases: a "billion laughs" (9 anchors of 9 aliases each) expands a 1-KiB file into
//   hundreds of millions of nodes. The library stops it with an error that has no
//   position; here the alias that goes past the limit is named with its line and column.
//   Each alias also costs the library a pass over the whole document, so their number
//   is capped too. A config needs a few aliases at most.
// - duplicate keys: the library's own check (uniqueKeys) compares every key of a map with
//   every other one, quadratic in the size of the map (100,000 services took minutes);
//   here it is one Set per map.
// - nesting: the library composes the document recursively; '[[[[...' a few thousand
//   deep overflows the stack (and can abort node outright). The token tree is read
//   first, without recursion, and a document nested deeper than MAX_DEPTH is refused.
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, Parser, type CST, type Document, type LineCounter, type Node } from 'yaml';

/** Aliases in one config. */
export const MAX_ALIASES = 1000;
/** Nodes that all aliases together may add once expanded. */
export const MAX_ALIAS_EXPANSION = 100_000;

/** Collections inside collections; a config needs 6 or so. */
export const MAX_DEPTH = 64;

export interface YamlProblem {
  offset: number;
  message: string;
  /** The key path, when the problem is about one. */
  key?: string;
}

class Stop extends Error {
  constructor(readonly problem: YamlProblem) {
    super(problem.message);
  }
}

const offsetOf = (node: unknown): number => {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : 0;
};

/** Problems an operator must fix before the document can be read; [] if none. */
export function checkYaml(doc: Document): YamlProblem[] {
  const problems: YamlProblem[] = [];
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>(); // expanded size of each anchored node, once walked
  let aliases = 0;
  let expansion = 0;

  const walk = (node: unknown): number => {
    if (node === null || node === undefined) return 0;
    if (isAlias(node)) {
      aliases += 1;
      if (aliases > MAX_ALIASES) {
        throw new Stop({ offset: offsetOf(node), message: `YAML: more than ${MAX_ALIASES} aliases; a config needs a few (this looks like a resource exhaustion attack)` });
      }
      const target = anchors.get(node.source);
      if (!target) return 1; // the library reports the unresolved alias
      const size = sizes.get(target);
      if (size === undefined) {
        throw new Stop({ offset: offsetOf(node), message: `YAML: the alias *${node.source} is inside its own anchor &${node.source}, a recursive structure` });
      }
      expansion += size;
      if (expansion > MAX_ALIAS_EXPANSION) {
        throw new Stop({
          offset: offsetOf(node),
          message: `YAML: aliases expand to more than ${MAX_ALIAS_EXPANSION} nodes (*${node.source} alone is ${size}): a "billion laughs" resource exhaustion attack? a config never needs this`,
        });
      }
      return size;
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node as Node);
    let size = 1;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key)) {
          const id = `${typeof key.value}:${String(key.value)}`;
          if (seen.has(id)) problems.push({ offset: offsetOf(key), message: 'YAML: Map keys must be unique' });
          seen.add(id);
        }
        size += walk(pair.key) + walk(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) size += isPair(item) ? walk(item.key) + walk(item.value) : walk(item);
    }
    if (anchor) sizes.set(node as Node, size);
    return size;
  };

  try {
    walk(doc.contents);
  } catch (e) {
    if (e instanceof Stop) return [e.problem];
    throw e;
  }
  return problems;
}

/** Offset of the first token nested deeper than MAX_DEPTH, or null; iterative, any depth. */
function tooDeep(tokens: CST.Token[]): number | null {
  const stack: Array<[CST.Token | undefined, number]> = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (!token) continue;
    if (depth > MAX_DEPTH) return token.offset;
    if (token.type === 'document') stack.push([token.value, depth]);
    else if ('items' in token && Array.isArray(token.items)) {
      for (const item of token.items as Array<{ key?: CST.Token | null; value?: CST.Token }>) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return null;
}

/**
 * parseDocument, with the nesting bounded before the (recursive) composer runs: the
 * first document, or the problem with the offset it is at. Duplicate keys are left to
 * checkYaml (uniqueKeys: false).
 */
export function parseYaml(text: string, lines: LineCounter, precheck?: (tokens: CST.Token[]) => YamlProblem | null): Document | YamlProblem {
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const deep = tooDeep(tokens);
  if (deep !== null) return { offset: deep, message: `YAML: nested more than ${MAX_DEPTH} levels deep; a config needs a few` };
  const early = precheck?.(tokens);
  if (early) return early;
  let doc: Document | undefined;
  for (const d of new Composer({ prettyErrors: false, uniqueKeys: false }).compose(tokens, true, text.length)) {
    if (!doc) doc = d as Document;
    else {
      return { offset: d.range[0], message: 'YAML: Source contains multiple documents; a config is one document' };
    }
  }
  return doc!;
}

/**
 * The entries of the mapping under a top-level key, counted on the token tree (before
 * the document is built): { offset of the key, count }, or null if there is no such mapping.
 */
export function countTopLevelEntries(tokens: CST.Token[], key: string): { offset: number; count: number } | null {
  const doc = tokens.find((t): t is CST.Document => t.type === 'document');
  const top = doc?.value;
  if (!top || !('items' in top) || !Array.isArray(top.items)) return null;
  for (const item of top.items as Array<{ key?: CST.Token | null; value?: CST.Token }>) {
    if (item.key && 'source' in item.key && item.key.source === key) {
      const value = item.value;
      if (!value || !('items' in value) || !Array.isArray(value.items)) return null;
      const count = (value.items as Array<{ key?: unknown }>).filter((i) => i.key).length;
      return { offset: item.key.offset, count };
    }
  }
  return null;
}

