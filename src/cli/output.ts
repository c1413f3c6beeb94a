export type OutputMode = "json" | "table";

export interface Writer {
  write(chunk: string | Uint8Array): unknown;
}

export function parseOutputMode(raw: string | undefined): OutputMode | undefined {
  if (raw === undefined) return undefined;
  if (raw === "json" || raw === "table") return raw;
  return undefined;
}

/** Pretty JSON, as the API sent it, with a trailing newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function cell(v: unknown): string {
  if (v === undefined || v === null || v === "") return "-";
  if (Array.isArray(v)) return v.length === 0 ? "-" : v.map((x) => cell(x)).join(",");
  if (typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("key" in o && "value" in o) return `${String(o.key)}=${String(o.value)}`;
    return JSON.stringify(v);
  }
  // Keep every cell on one line.
  return String(v).replace(/[\r\n\t]+/g, " ");
}

export interface Column<T> {
  header: string;
  get: (row: T) => unknown;
}

/** Simple aligned columns separated by two spaces; the last column is not padded. */
export function formatTable<T>(columns: Column<T>[], rows: T[]): string {
  const data = rows.map((r) => columns.map((c) => cell(c.get(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...data.map((d) => (d[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...data.map(line)].map((l) => `${l}\n`).join("");
}

/** `Label:  value` lines for one resource. */
export function formatDetails(pairs: [string, unknown][]): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${cell(v)}\n`).join("");
}
