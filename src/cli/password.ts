import { createInterface } from "node:readline";
import type { Cli } from "./context.js";
import { readInput } from "./input.js";
import { usageError } from "./exit-codes.js";
import { readHidden } from "./prompt.js";

/** Drops one trailing newline (`echo pw | coffer login` sends `pw`); other whitespace is kept. */
export function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

function terminal(cli: Cli): NodeJS.ReadStream | undefined {
  const stdin = cli.io.stdin as NodeJS.ReadStream;
  return !cli.io.stdinIsPiped() && stdin.isTTY === true ? stdin : undefined;
}

export interface PasswordSource {
  /** --password-file (`-` for stdin). */
  file?: string | undefined;
  /** Ask twice on a terminal (new passwords). */
  confirm?: boolean;
  prompt?: string;
}

/**
 * Reads a password, never from argv: from `file`, from piped stdin, or asked for on the
 * terminal without echo. One trailing newline is dropped. Empty is a usage error.
 */
export async function readPassword(cli: Cli, src: PasswordSource = {}): Promise<string> {
  let password: string;
  const tty = src.file === undefined ? terminal(cli) : undefined;
  if (tty !== undefined) {
    password = await readHidden(tty, cli.io.stderr, src.prompt ?? "Password: ");
    if (src.confirm === true && (await readHidden(tty, cli.io.stderr, "Repeat password: ")) !== password) {
      throw usageError("the passwords do not match");
    }
  } else if (src.file !== undefined || cli.io.stdinIsPiped()) {
    password = stripNewline((await readInput(src.file, "--password-file", cli.io)).toString("utf8"));
  } else {
    throw usageError("no password: give --password-file <file> (`-` for stdin), pipe it on stdin, or run on a terminal");
  }
  if (password === "") throw usageError("the password is empty");
  return password;
}

/** Asks for one line with echo on the terminal (user names); undefined when stdin is not a terminal. */
export async function askLine(cli: Cli, prompt: string): Promise<string | undefined> {
  const tty = terminal(cli);
  if (tty === undefined) return undefined;
  const rl = createInterface({ input: tty, output: cli.io.stderr as NodeJS.WritableStream, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question(prompt, resolve));
  } finally {
    rl.close();
  }
}
