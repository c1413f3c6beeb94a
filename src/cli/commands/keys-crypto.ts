import type { Command } from "commander";
import type { Cli } from "../context.js";
import { collect, parseContext, parseIntOption, readInput, readStream } from "../input.js";
import { usageError } from "../exit-codes.js";

interface EncryptOpts {
  plaintextFile?: string;
  context?: string[];
}

interface ReEncryptOpts {
  destinationKeyId: string;
  sourceContext?: string[];
  destinationContext?: string[];
}

interface DataKeyOpts {
  keySpec?: string;
  numberOfBytes?: string;
  withoutPlaintext?: boolean;
  context?: string[];
}

interface CryptoAnswer {
  keyId: string;
  keyVersionId: string;
  ciphertextBlob?: string;
  plaintext?: string;
}

/** A blob argument; `-` reads it from stdin (surrounding whitespace trimmed). */
async function blobArg(cli: Cli, blob: string): Promise<string> {
  if (blob !== "-") return blob;
  const text = (await readStream(cli.io.stdin)).toString("utf8").trim();
  if (text === "") throw usageError("no ciphertext blob on stdin");
  return text;
}

function withContext(key: string, ctx: Record<string, string> | undefined): Record<string, Record<string, string>> {
  return ctx === undefined ? {} : { [key]: ctx };
}

export function registerKeyCryptoCommands(keys: Command, cli: Cli): void {
  keys
    .command("encrypt <keyId>")
    .description("encrypt up to 6 KiB with a KMS key (prints the ciphertext blob)")
    .option("--plaintext-file <file>", "file holding the plaintext (`-` for stdin)")
    .option("--context <k=v>", "encryption context entry (repeatable)", collect)
    .action(async (keyId: string, opts: EncryptOpts, cmd: Command) => {
      const ctx = parseContext(opts.context);
      const bytes = await readInput(opts.plaintextFile, "--plaintext-file", cli.io);
      const res = await cli.client(cmd).call<CryptoAnswer>({
        method: "POST",
        path: "/v1/crypto/encrypt",
        body: { keyId, plaintext: bytes.toString("base64"), ...withContext("encryptionContext", ctx) },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.line(res.ciphertextBlob ?? "");
    });

  keys
    .command("decrypt <blob>")
    .description("decrypt a ciphertext blob (`-` reads it from stdin); prints the raw plaintext")
    .option("--context <k=v>", "encryption context entry (repeatable)", collect)
    .action(async (blob: string, opts: { context?: string[] }, cmd: Command) => {
      const ctx = parseContext(opts.context);
      const ciphertextBlob = await blobArg(cli, blob);
      const res = await cli.client(cmd).call<CryptoAnswer>({
        method: "POST",
        path: "/v1/crypto/decrypt",
        body: { ciphertextBlob, ...withContext("encryptionContext", ctx) },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.out(Buffer.from(res.plaintext ?? "", "base64"));
    });

  keys
    .command("re-encrypt <blob>")
    .description("decrypt and encrypt again under another key, server-side (prints the new blob)")
    .requiredOption("--destination-key-id <keyId>", "key for the new ciphertext")
    .option("--source-context <k=v>", "encryption context of the blob (repeatable)", collect)
    .option("--destination-context <k=v>", "encryption context of the new blob (repeatable)", collect)
    .action(async (blob: string, opts: ReEncryptOpts, cmd: Command) => {
      const src = parseContext(opts.sourceContext, "--source-context");
      const dst = parseContext(opts.destinationContext, "--destination-context");
      const ciphertextBlob = await blobArg(cli, blob);
      const res = await cli.client(cmd).call<CryptoAnswer>({
        method: "POST",
        path: "/v1/crypto/re-encrypt",
        body: {
          ciphertextBlob,
          destinationKeyId: opts.destinationKeyId,
          ...withContext("sourceEncryptionContext", src),
          ...withContext("destinationEncryptionContext", dst),
        },
      });
      if (cli.isJson(cmd)) cli.json(res);
      else cli.line(res.ciphertextBlob ?? "");
    });

  keys
    .command("generate-data-key <keyId>")
    .description("generate a data key (prints the API's JSON: plaintext and ciphertext blob)")
    .option("--key-spec <spec>", "AES_256 or AES_128")
    .option("--number-of-bytes <n>", "key length in bytes (1..1024), instead of --key-spec")
    .option("--without-plaintext", "return only the encrypted data key")
    .option("--context <k=v>", "encryption context entry (repeatable)", collect)
    .action(async (keyId: string, opts: DataKeyOpts, cmd: Command) => {
      const ctx = parseContext(opts.context);
      const n = parseIntOption(opts.numberOfBytes, "--number-of-bytes");
      const res = await cli.client(cmd).call<CryptoAnswer>({
        method: "POST",
        path: "/v1/crypto/generate-data-key",
        body: {
          keyId,
          ...(opts.keySpec !== undefined ? { keySpec: opts.keySpec } : {}),
          ...(n !== undefined ? { numberOfBytes: n } : {}),
          ...(opts.withoutPlaintext === true ? { withoutPlaintext: true } : {}),
          ...withContext("encryptionContext", ctx),
        },
      });
      cli.json(res);
    });
}
