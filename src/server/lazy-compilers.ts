import { AjvCompiler } from "@fastify/ajv-compiler";
import { SerializerSelector } from "@fastify/fast-json-stringify-compiler";
import type { WarmUpOptions } from "./route-config.js";

type Validate = ((data: unknown, ctx?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type Serialize = (doc: unknown) => string;
type ValidatorFactory = (externalSchemas: unknown, options: unknown) => (routeDef: unknown) => Validate;
type SerializerFactory = (externalSchemas: unknown, options: unknown) => (routeDef: unknown) => Serialize;

export interface LazyCompilers {
  /** For Fastify's `schemaController.compilersFactory`. */
  compilersFactory: { buildValidator: ValidatorFactory; buildSerializer: SerializerFactory };
  /**
   * Compile whatever no request has compiled yet (`only`: of these routes, `METHOD url`), a
   * few ms of compiling per event-loop turn so that requests are served in between. Resolves with every route schema that failed to compile
   * so far (a programming error: their requests answer 500 InternalError).
   */
  warmUp(only?: (route: string) => boolean, o?: WarmUpOptions): Promise<string[]>;
  /** Ends every warm-up under way (at its next slice); later ones compile nothing. Schemas still compile on first use. */
  stop(): void;
  /**
   * Each Ajv instance's own first use (its meta-schema, 20–40 ms: longer than any route
   * schema), run with a trivial schema: for before listening, so that no single compile
   * after it holds the loop that long. Returns how many instances it primed.
   */
  prime(): number;
  /** Schemas compiled by warm-ups so far, and the slowest one (ms). */
  readonly stats: { compiled: number; slowestMs: number; slowest: string };
}

/** Compiling per event-loop turn in a warm-up, at most (one schema may take longer). */
const SLICE_MS = 4;
/** The idle probe of `whenIdle`: the window (ms) and the loop utilization under which a slice runs. */
const IDLE_PROBE_MS = 20;
const IDLE_BELOW = 0.5;

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Fastify's own compilers (Ajv and fast-json-stringify, with the server's options),
 * deferred from start-up to each schema's first use. Compiling every route's schemas at
 * `ready()` was about a third of the server's start; now the read routes' schemas (and the
 * compilers' own first-use cost) are compiled first, the others while the start has time
 * left (`deadline`), and `warmUp()` compiles what remains once listening, in slices of a few
 * ms and only while the loop is idle (`whenIdle`): under load, compiling ~300 schemas took
 * ~0.3 s of the thread in the first second of serving. Validation itself is unchanged: the
 * function that runs is the one Fastify would have built.
 */
export function lazyCompilers(): LazyCompilers {
  const ajv = (AjvCompiler as unknown as () => ValidatorFactory)();
  const fjs = (SerializerSelector as unknown as () => SerializerFactory)();
  /** Each schema's compile not yet run: its label and its route (`METHOD url`). */
  const pending = new Map<() => unknown, { label: string; route: string; schema: unknown }>();
  /** Every schema that failed to compile in a warm-up, so far (all callers see them). */
  const failed: string[] = [];
  const stats = { compiled: 0, slowestMs: 0, slowest: "" };
  let stopped = false;
  /** The compilers' instances not primed yet (the pools hand the same one to every context with the same options). */
  const unprimed = new Set<(def: unknown) => unknown>();
  const primed = new Set<(def: unknown) => unknown>();
  const TRIVIAL = { schema: { type: "object", properties: { primer: { type: "string" } } }, method: "GET", url: "/", httpPart: "querystring" };

  /** Resolves once the event loop was mostly idle over a probe window (or the compilers stopped). */
  async function idle(): Promise<void> {
    while (!stopped) {
      const before = performance.eventLoopUtilization();
      await pause(IDLE_PROBE_MS);
      if (performance.eventLoopUtilization(before).utilization < IDLE_BELOW) return;
    }
  }

  function deferred<F>(build: () => F, label: string, route: string, schema: unknown): () => F {
    let built: F | undefined;
    const get = (): F => {
      if (built === undefined) {
        built = build();
        pending.delete(get);
      }
      return built;
    };
    pending.set(get, { label, route, schema });
    return get;
  }

  const routeOf = (def: unknown): string => {
    const d = def as { method?: string; url?: string };
    return `${d.method ?? "?"} ${d.url ?? "?"}`;
  };
  const labelOf = (def: unknown, part: string): string => `${routeOf(def)} (${part})`;

  return {
    stats,
    compilersFactory: {
      buildValidator(externalSchemas, options) {
        const compile = ajv(externalSchemas, options);
        // A JSON body states its types: `"value": 12345` or `"length": "32"` is refused, not
        // coerced. Only the query string, path parameters and headers, which are text by
        // nature, are coerced to the schema's types (Fastify's `coerceTypes: "array"`).
        const o = options as { customOptions?: Record<string, unknown> };
        const compileBody = ajv(externalSchemas, { ...o, customOptions: { ...o.customOptions, coerceTypes: false } });
        for (const c of [compile, compileBody]) if (!primed.has(c)) unprimed.add(c);
        return (def) => {
          const part = (def as { httpPart?: string }).httpPart;
          const c = part === "body" ? compileBody : compile;
          const get = deferred(() => c(def), labelOf(def, `${part ?? "?"} validation`), routeOf(def), (def as { schema?: unknown }).schema);
          const lazy: Validate = (data, ctx) => {
            const fn = get();
            const result = ctx === undefined ? fn(data) : fn(data, ctx);
            lazy.errors = fn.errors;
            return result;
          };
          // Fastify hands Ajv functions (they carry `schemaEnv`) the parent object, so that
          // coercion and defaults can replace a root value in place; the lazy one forwards it.
          lazy.schemaEnv = true;
          return lazy;
        };
      },
      buildSerializer(externalSchemas, options) {
        const compile = fjs(externalSchemas, options);
        return (def) => {
          const get = deferred(() => compile(def), labelOf(def, `${(def as { httpStatus?: string }).httpStatus ?? "?"} response`), routeOf(def), (def as { schema?: unknown }).schema);
          return (doc) => get()(doc);
        };
      },
    },

    stop() {
      stopped = true;
    },

    prime() {
      const n = unprimed.size;
      for (const c of unprimed) {
        c(TRIVIAL);
        primed.add(c);
      }
      unprimed.clear();
      return n;
    },

    async warmUp(only, o = {}) {
      // One schema at a time, a few ms of compiling per event-loop turn: requests are served in between.
      const deadline = o.deadline ?? Infinity;
      if (o.whenIdle) await idle();
      let turn = performance.now();
      for (const [get, { label, route, schema }] of pending) {
        if (stopped || (deadline !== Infinity && performance.now() >= deadline)) break;
        if (only && !only(route)) continue;
        if (o.largerThan !== undefined && JSON.stringify(schema ?? null).length <= o.largerThan) continue;
        const t0 = performance.now();
        try {
          get();
        } catch {
          pending.delete(get);
          failed.push(label);
        }
        const t1 = performance.now();
        stats.compiled++;
        if (t1 - t0 > stats.slowestMs) (stats.slowestMs = t1 - t0), (stats.slowest = label);
        if (t1 - turn >= SLICE_MS) {
          if (o.whenIdle) await idle();
          else await new Promise((r) => setImmediate(r));
          turn = performance.now();
        }
      }
      return [...failed];
    },
  };
}
