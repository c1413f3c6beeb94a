import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SRC, sourceFiles } from "./source-files.js";

/**
 * Route handlers take their input types from the route schemas (the TypeBox type provider:
 * `fastify.withTypeProvider<TypeBoxTypeProvider>()`), so the type says what validation let
 * through. A cast of a request's body, params, query or headers (`req.body as …`,
 * `<…>req.query`, `const b: any = req.body`) claims a shape nothing checked: none in src/.
 * Input that no schema has typed yet (a route's `resource` may see a refused body) is read
 * with checks: `fieldOf` (src/core/fields.ts), `param` / `bodyName` (src/api/kit/request.ts).
 */

const PARTS = new Set(["body", "params", "query", "headers"]);
/** Request variables by convention; besides them, any name the file declares with a request type (`r: FastifyRequest`). */
const CONVENTIONAL = ["req", "request"];
const REQUEST_TYPE = /\bFastifyRequest\b/;

/** The names a file gives requests: the conventional ones, and parameters or variables typed as a FastifyRequest. */
function requestNames(sf: ts.SourceFile): Set<string> {
  const names = new Set(CONVENTIONAL);
  const visit = (node: ts.Node): void => {
    if ((ts.isParameter(node) || ts.isVariableDeclaration(node)) && ts.isIdentifier(node.name) && node.type && REQUEST_TYPE.test(node.type.getText(sf))) names.add(node.name.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return names;
}

/** `req.body`, `req["query"]`, `(req.params)!`, … → the part's name; else undefined. */
function requestPart(node: ts.Expression, requests: ReadonlySet<string>): string | undefined {
  let e = node;
  while (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e)) e = e.expression;
  const [object, name] = ts.isPropertyAccessExpression(e) ? [e.expression, e.name.text] : ts.isElementAccessExpression(e) && ts.isStringLiteralLike(e.argumentExpression) ? [e.expression, e.argumentExpression.text] : [undefined, undefined];
  return object && ts.isIdentifier(object) && requests.has(object.text) && name !== undefined && PARTS.has(name) ? name : undefined;
}

/** Each cast of a request part in `text`, as `<file>:<line>: <code>`. */
function castsIn(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const requests = requestNames(sf);
  const out: string[] = [];
  const report = (node: ts.Node) => out.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}: ${node.getText(sf).slice(0, 120)}`);
  const visit = (node: ts.Node): void => {
    if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && requestPart(node.expression, requests)) report(node);
    else if ((ts.isVariableDeclaration(node) || ts.isParameter(node)) && node.type?.kind === ts.SyntaxKind.AnyKeyword && node.initializer && requestPart(node.initializer, requests)) report(node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe("request input is typed by route schemas", () => {
  it("no cast of req.body / params / query / headers in src/", () => {
    const casts = sourceFiles().flatMap((f) => castsIn(f, readFileSync(join(SRC, f), "utf8")));
    expect(casts, "type the route with its schema (withTypeProvider<TypeBoxTypeProvider>()) or read untyped input with fieldOf/param").toEqual([]);
  });

  it("the checker sees what it must", () => {
    expect(castsIn("a.ts", "const b = req.body as { name: string };")).toHaveLength(1);
    expect(castsIn("a.ts", "const n = (req.params as Record<string, string>)[k];")).toHaveLength(1);
    expect(castsIn("a.ts", "f(\n  request.query as\n    unknown as Q);")).toHaveLength(1);
    expect(castsIn("a.ts", "const h = <Record<string, string>>req.headers;")).toHaveLength(1);
    expect(castsIn("a.ts", "const q = req[\"query\"]! as Q;")).toHaveLength(1);
    expect(castsIn("a.ts", "const b: any = req.body;")).toHaveLength(1);
    expect(castsIn("a.ts", "const b = req.body; const n = fieldOf(req.body, \"name\"); const r = res.body as T;")).toEqual([]);
    // a request under another name, known by its type
    expect(castsIn("a.ts", "const f = (r: FastifyRequest<{ Body: B }>) => r.body as B;")).toHaveLength(1);
    expect(castsIn("a.ts", "function g(r: FastifyRequest, x: Reply) { return (x.body as T) ?? (r.params as P); }")).toHaveLength(1);
    expect(castsIn("a.ts", "function h(r: Response) { return r.body as T; }")).toEqual([]);
  });
});
