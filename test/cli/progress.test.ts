/** Progress on a terminal must leave it as it was, whatever ends the run (Ctrl-C included), and show the seed. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress } from '../../cli/progress.ts';

describe('progress', () => {
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  afterEach(() => {
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
    vi.restoreAllMocks();
  });

  it('never hides the cursor or turns off line wrapping on a terminal, and shows the seed', () => {
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    let written = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
    const progress = createProgress('conformance', false, 77);
    progress.update(1, 10);
    progress.update(5, 10);
    // Interrupted here, stop() never runs: nothing may need undoing.
    expect(written).not.toContain('\x1b[?25l');
    expect(written).not.toContain('\x1b[?7l');
    expect(written).toContain('seed 77');
    progress.stop();
  });

  it('writes a line with the seed every tenth of the run when standard error is not a terminal', () => {
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    let written = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written += String(chunk);
      return true;
    });
    const progress = createProgress('conformance', false, 5);
    for (let i = 1; i <= 20; i++) progress.update(i, 20);
    expect(written.split('\n').filter((l) => l.includes('| seed 5'))).toHaveLength(10);
  });
});
