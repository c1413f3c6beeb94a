import type { Writer } from "./output.js";
import { CliError, ExitCode } from "./exit-codes.js";

/** Reads one line from a terminal without echoing it. Ctrl-C aborts (usage error). */
export function readHidden(tty: NodeJS.ReadStream, out: Writer, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    out.write(prompt);
    let buf = "";
    tty.setRawMode(true);
    tty.resume();
    tty.setEncoding("utf8");
    const finish = (err?: Error): void => {
      tty.removeListener("data", onData);
      tty.setRawMode(false);
      tty.pause();
      out.write("\n");
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return finish();
        if (ch === "\u0003") return finish(new CliError("aborted", ExitCode.Usage));
        if (ch === "\u007f" || ch === "\b") buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    tty.on("data", onData);
  });
}
