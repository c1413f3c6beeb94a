/** Parse `Authorization: Basic base64(id:secret)`; undefined when absent or malformed. */
export function parseBasic(header: string | undefined): { keyId: string; secret: string } | undefined {
  if (!header || header.length > 4096) return undefined;
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i <= 0) return undefined;
  return { keyId: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}
