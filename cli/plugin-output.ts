/**
 * A plug-in's console output, shown on standard error one line at a time under the plug-in's
 * name (`[name] text`). Standard output belongs to the report (`--json`), so nothing a plug-in
 * prints may reach it.
 */
export class PluginOutput {
  private pending = '';

  constructor(private readonly name: string) {}

  /** Adds text; whole lines are written at once, a partial line waits for its end or flush(). */
  write(text: string): void {
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) process.stderr.write(`[${this.name}] ${line}\n`);
  }

  /** Writes a pending partial line. */
  flush(): void {
    if (this.pending !== '') process.stderr.write(`[${this.name}] ${this.pending}\n`);
    this.pending = '';
  }
}
