import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SRC, sourceFiles } from "./source-files.js";

/**
 * The layering of src/ (docs/architecture.md), checked on every run: an adapter imports only
 * services, the contract module and `core` (and the server's adapter interface, as types);
 * no adapter imports another; a service never imports an adapter or the server; the
 * contract module imports nothing; the CLI reaches the server side only through its one
 * lazy entry; only repositories (and the storage engines) hold SQL.
 *
 * The rule is data: tighten it by editing LAYERS and MAY_IMPORT. An import the code cannot
 * avoid yet is listed in ALLOWED_FOR_NOW with the reason; an entry the code no longer needs
 * fails the test, so the list only shrinks. SQL has no such list: it stands only in SQL_HOMES.
 */


type Layer =
  | "composition" // app.ts, src/composition/, run-server.ts: builds everything
  | "cli" // the `coffer` client
  | "client" // `coffer/client`, the application-side cache
  | "adapter" // src/api/<protocol>/: one wire protocol each
  | "adapter-kit" // src/api/kit/: wire helpers two adapters share (no routes, no adapter)
  | "adapter-interface" // what the server publishes to adapters (route declarations, WireAdapter)
  | "server" // the Fastify instance, the pipeline, the dispatcher
  | "service" // the domain: secrets, keys, identities, access, audit, rotation, references, …
  | "crypto"
  | "storage"
  | "contract" // wire shapes shared with the CLI and the console: no imports at all
  | "core";

/** Path prefixes under src/ → layer; the first that matches wins. */
const LAYERS: readonly (readonly [prefix: string, layer: Layer])[] = [
  ["app.ts", "composition"],
  ["app-caches.ts", "composition"],
  ["composition/", "composition"],
  ["run-server.ts", "composition"],
  ["index.ts", "composition"],
  ["version.ts", "core"],
  ["cli/", "cli"],
  ["client/", "client"],
  ["api/kit/", "adapter-kit"],
  ["api/", "adapter"],
  ["server/route-config.ts", "adapter-interface"],
  ["server/wire-adapter.ts", "adapter-interface"],
  ["server/", "server"],
  ["contract/", "contract"],
  ["core/", "core"],
  ["crypto/", "crypto"],
  ["storage/", "storage"],
  ...["auth/", "identity/", "kms/", "secrets/", "tags/", "audit/", "rotation/", "references/", "workflows/", "egress/", "policy/", "operator/"].map((p) => [p, "service"] as const),
];

/** Which layers each layer may import (besides itself; an adapter only its own folder). `type:` = `import type` only. */
const MAY_IMPORT: Readonly<Record<Layer, readonly (Layer | `type:${Layer}`)[]>> = {
  composition: ["cli", "client", "adapter", "adapter-kit", "adapter-interface", "server", "service", "crypto", "storage", "contract", "core"],
  cli: ["contract"],
  client: ["contract"],
  adapter: ["adapter-kit", "service", "contract", "core", "type:adapter-interface"],
  "adapter-kit": ["service", "contract", "core", "type:adapter-interface"],
  "adapter-interface": ["type:service", "type:core"],
  server: ["adapter-interface", "service", "contract", "core"],
  service: ["crypto", "storage", "contract", "core"],
  crypto: ["core"],
  storage: ["core"],
  contract: [],
  core: [],
};

/** The CLI's one way into the server side (`coffer server`, `coffer operator …`): dynamic `import()` only, so client commands never load it. */
const CLI_SERVER_ENTRY = "cli/server-entry.ts";

/** Imports the rule forbids that the code still has, each with why and who removes it. */
const ALLOWED_FOR_NOW: readonly { from: string; to: string; why: string }[] = [];

/** Where SQL may stand: repositories (`*-repo.ts`), the storage engines and migrations, and rotators' SQL on the databases they rotate (not Coffer's store). */
const SQL_HOMES = [/-repo\.ts$/, /^storage\//, /^rotation\/rotators\/(mysql|postgres)\//];

// ---------------------------------------------------------------------------------------

interface Import {
  target: string; // path under src/, or a package name
  typeOnly: boolean;
  dynamic: boolean;
  line: number;
}


const parsed = new Map<string, ts.SourceFile>();
function parse(file: string): ts.SourceFile {
  let sf = parsed.get(file);
  if (!sf) parsed.set(file, (sf = ts.createSourceFile(file, readFileSync(join(SRC, file), "utf8"), ts.ScriptTarget.Latest, true)));
  return sf;
}

function importsOf(file: string): Import[] {
  const sf = parse(file);
  const out: Import[] = [];
  const add = (spec: string, node: ts.Node, typeOnly: boolean, dynamic: boolean) => {
    const target = spec.startsWith(".") ? relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, ".ts") : spec;
    out.push({ target, typeOnly, dynamic, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const typeOnly = c !== undefined && (c.isTypeOnly || (!c.name && c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, node, typeOnly, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node, node.isTypeOnly, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, node, true, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, node, false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function layerOf(file: string): Layer {
  const hit = LAYERS.find(([prefix]) => file === prefix || (prefix.endsWith("/") && file.startsWith(prefix)));
  if (!hit) throw new Error(`${file} is in no layer: add its folder to LAYERS`);
  return hit[1];
}

/** `api/aws/…` → `aws`. */
const adapterOf = (file: string): string => file.split("/")[1]!;

/** Why `file` may not import `imp`, or undefined when it may. */
function violation(file: string, imp: Import): string | undefined {
  if (!imp.target.endsWith(".ts")) {
    if (layerOf(file) === "contract") return `the contract module imports nothing (not even "${imp.target}")`;
    return undefined; // packages and node: builtins
  }
  const from = layerOf(file);
  const to = layerOf(imp.target);
  if (from === "cli" && file === CLI_SERVER_ENTRY && (imp.dynamic || imp.typeOnly)) return undefined;
  if (from === to) {
    if (from === "adapter" && adapterOf(file) !== adapterOf(imp.target)) return `adapter ${adapterOf(file)} imports adapter ${adapterOf(imp.target)}`;
    return undefined;
  }
  const may = MAY_IMPORT[from];
  if (may.includes(to) || (imp.typeOnly && may.includes(`type:${to}`))) return undefined;
  if (may.includes(`type:${to}`)) return `${from} imports ${to} only as types (\`import type\`)`;
  return `${from} may not import ${to}`;
}

const SQL = /^\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|WITH|CREATE|ALTER|DROP|TRUNCATE)\s/;

function holdsSql(file: string): boolean {
  let found = false;
  const visit = (node: ts.Node): void => {
    const text = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : ts.isTemplateExpression(node) ? node.head.text : undefined;
    if (text !== undefined && SQL.test(text)) found = true;
    if (!found) ts.forEachChild(node, visit);
  };
  visit(parse(file));
  return found;
}

const files = sourceFiles({ withContracts: false });

describe("the import rule (docs/architecture.md)", () => {
  it("every file of src/ is in a layer", () => {
    for (const f of files) expect(() => layerOf(f)).not.toThrow();
  });

  it("no import crosses the layers the wrong way", () => {
    const found: string[] = [];
    for (const f of files)
      for (const imp of importsOf(f)) {
        const why = violation(f, imp);
        if (why && !ALLOWED_FOR_NOW.some((a) => a.from === f && a.to === imp.target)) found.push(`src/${f}:${imp.line} → src/${imp.target}: ${why}`);
      }
    expect(found).toEqual([]);
  });

  it("the allow-list holds only imports that are still there and still forbidden", () => {
    const stale = ALLOWED_FOR_NOW.filter((a) => !importsOf(a.from).some((imp) => imp.target === a.to && violation(a.from, imp) !== undefined));
    expect(stale, "remove these entries from ALLOWED_FOR_NOW").toEqual([]);
  });

  it("only repositories and the storage engines hold SQL", () => {
    const outside = files.filter((f) => !SQL_HOMES.some((h) => h.test(f)) && holdsSql(f));
    expect(outside, "move this SQL into a repository (*-repo.ts)").toEqual([]);
  });

  it("the checker sees what it must", () => {
    // The rule itself, on made-up imports: an adapter reaching into another or into storage, a service into an adapter.
    const imp = (target: string, o: Partial<Import> = {}): Import => ({ target, typeOnly: false, dynamic: false, line: 1, ...o });
    expect(violation("api/flink/index.ts", imp("api/confluent/index.ts"))).toMatch(/adapter flink imports adapter confluent/);
    expect(violation("api/aws/index.ts", imp("storage/index.ts"))).toMatch(/adapter may not import storage/);
    expect(violation("api/aws/index.ts", imp("server/wire-adapter.ts"))).toMatch(/only as types/);
    expect(violation("api/aws/index.ts", imp("server/wire-adapter.ts", { typeOnly: true }))).toBeUndefined();
    expect(violation("secrets/secret-service.ts", imp("api/aws/index.ts"))).toMatch(/service may not import adapter/);
    expect(violation("contract/rotation.ts", imp("typebox"))).toMatch(/imports nothing/);
    expect(violation("cli/commands/keys.ts", imp("storage/index.ts", { dynamic: true }))).toMatch(/cli may not import storage/);
    expect(violation(CLI_SERVER_ENTRY, imp("run-server.ts", { dynamic: true }))).toBeUndefined();
    expect(violation(CLI_SERVER_ENTRY, imp("run-server.ts"))).toMatch(/cli may not import composition/);
    expect(holdsSql("storage/migrations.ts")).toBe(true);
    expect(holdsSql("core/errors.ts")).toBe(false);
    expect(holdsSql("operator/store-repo.ts")).toBe(true);
    expect(SQL_HOMES.some((h) => h.test("operator/backup.ts"))).toBe(false);
  });
});
