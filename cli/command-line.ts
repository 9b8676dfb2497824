/**
 * Splits the `--emulator-cmd` string into a program and its arguments, the way a POSIX shell
 * splits words (no variables, globs or redirections): spaces separate words, single quotes keep
 * text as it is, double quotes keep spaces, a backslash escapes the next character outside single
 * quotes. The program is then started directly, without a shell, so its process is the emulator.
 */
import { UsageError } from './usage-error.ts';

/** The words of `command`; throws {@link UsageError} for an empty command or an open quote. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new UsageError(`--emulator-cmd has an unclosed ${quote} quote: ${command}`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new UsageError('--emulator-cmd is empty: give the program and its arguments');
  return words;
}
