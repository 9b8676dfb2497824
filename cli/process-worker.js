// Owns an emulator process for cli/process-engine.ts: starts it, writes the harness's lines to its
// standard input, splits its standard output into lines, keeps its standard error (the log), and
// enforces the time limits. The main thread blocks on a shared flag until the reply carrying its
// sequence number is posted; this thread's event loop keeps running meanwhile.
//
// Requests: { seq, op: 'start' } | { seq, op: 'exchange', send?, until, timeoutMs } | { seq, op: 'stop', graceMs }.
// An exchange writes `send` (one line, if given) and waits for messages: it replies with those that
// have arrived as soon as there is at least one (`finished` when the last one's type is in `until`),
// so the main thread checks each batch before asking for more; a wait longer than `timeoutMs` for
// the next line is a hang.
// Replies: { seq, ok: true, messages, finished, stderr } or { seq, ok: false, fault: { kind, detail }, messages, stderr }.
import { spawn } from 'node:child_process';
import { BroadcastChannel, workerData } from 'node:worker_threads';

// Tells the main thread which process runs, so an interrupted run can stop it (cli/children.ts).
const children = new BroadcastChannel('vmx-conformance-children');
children.unref();

const { argv, flag, port, maxLineBytes } = workerData;
const signal = new Int32Array(flag);
/** How long to wait, after standard output ends, for the exit status that tells a crash from a clean exit. */
const EXIT_GRACE_MS = 2000;
const STDERR_KEPT = 20;
const STDERR_LINE_CHARS = 500;

let child;
let chunks = [];
let pendingBytes = 0;
const lines = [];
let stdoutEnded = false;
let exited; // { code, signal } once the process has exited
let spawnError;
let stderrPartial = '';
const stderrTail = [];
let stderrNew = [];
let wake = () => {};

function reply(message) {
  port.postMessage({ ...message, stderr: stderrNew });
  stderrNew = [];
  Atomics.store(signal, 0, message.seq);
  Atomics.notify(signal, 0);
}

function onStdout(data) {
  let start = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
    chunks.push(data.subarray(start, i));
    lines.push(Buffer.concat(chunks));
    chunks = [];
    pendingBytes = 0;
    start = i + 1;
  }
  if (start < data.length) {
    chunks.push(data.subarray(start));
    pendingBytes += data.length - start;
  }
  wake();
}

function onStderr(data) {
  const parts = (stderrPartial + data.toString('utf8')).split('\n');
  stderrPartial = parts.pop() ?? '';
  for (const line of parts) {
    const cut = line.length > STDERR_LINE_CHARS ? `${line.slice(0, STDERR_LINE_CHARS)}...` : line;
    stderrTail.push(cut);
    if (stderrTail.length > STDERR_KEPT) stderrTail.shift();
    if (stderrNew.length < 1000) stderrNew.push(cut);
  }
}

function start() {
  const [program, ...args] = argv;
  child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid !== undefined) children.postMessage({ pid, alive: true });
  child.stdout.on('data', onStdout);
  child.stdout.on('end', () => {
    stdoutEnded = true;
    wake();
  });
  child.stderr.on('data', onStderr);
  child.stdin.on('error', () => {}); // a dead reader shows up as an exit or an end of output
  child.on('error', (error) => {
    spawnError = error;
    wake();
  });
  child.on('exit', (code, sig) => {
    exited = { code, signal: sig };
    if (child.pid !== undefined) children.postMessage({ pid: child.pid, alive: false });
    wake();
  });
}

function kill() {
  if (child && exited === undefined) child.kill('SIGKILL');
}

function quote(buffer) {
  const text = buffer.subarray(0, 200).toString('utf8');
  return JSON.stringify(text) + (buffer.length > 200 ? ` (first 200 of ${buffer.length} bytes)` : '');
}

/** Why the output stopped: a crash when the process died badly, else truncated output. */
function endedFault(partial) {
  const tail = stderrPartial === '' ? stderrTail : [...stderrTail, stderrPartial];
  const last = tail.length > 0 ? `; last lines of its standard error:\n    ${tail.slice(-10).join('\n    ')}` : '';
  if (exited !== undefined && (exited.signal !== null || exited.code !== 0)) {
    const how = exited.signal !== null ? `was killed by signal ${exited.signal}` : `exited with status ${exited.code}`;
    return { kind: 'crash', detail: `the emulator ${how}${last}`, exit: exited };
  }
  const rest = partial.length > 0 ? `; its last line has no newline: ${quote(partial)}` : '';
  const how = exited !== undefined ? 'exited with status 0' : 'closed its standard output';
  return { kind: 'truncated', detail: `the emulator ${how} before finishing its answer${rest}${last}` };
}

/** Reads messages until one whose type is in `until`; resolves to the messages or a fault. */
function readUntil(until, timeoutMs) {
  const messages = [];
  return new Promise((resolve) => {
    let timer;
    let graceTimer;
    const done = (fault) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      wake = () => {};
      if (fault) kill();
      const finished = messages.length > 0 && until.includes(messages[messages.length - 1].type);
      resolve(fault ? { ok: false, fault, messages } : { ok: true, messages, finished });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done({ kind: 'hang', detail: `no line from the emulator within ${timeoutMs} ms` }), timeoutMs);
    };
    const check = () => {
      if (spawnError) return done({ kind: 'spawn', detail: spawnError.message });
      while (lines.length > 0) {
        const raw = lines.shift();
        if (raw.length > maxLineBytes) return done({ kind: 'oversized', detail: `a line of ${raw.length} bytes (the limit is ${maxLineBytes})` });
        let message;
        try {
          message = JSON.parse(raw.toString('utf8'));
        } catch {
          return done({ kind: 'garbage', detail: `a line that is not JSON: ${quote(raw)}` });
        }
        if (typeof message !== 'object' || message === null || Array.isArray(message) || typeof message.type !== 'string') {
          return done({ kind: 'garbage', detail: `a line that is not a protocol message (no "type"): ${quote(raw)}` });
        }
        messages.push(message);
        if (until.includes(message.type)) return done();
      }
      // Hand over what has arrived so far, so the main thread can check it before waiting for more.
      if (messages.length > 0) return done();
      if (pendingBytes > maxLineBytes) return done({ kind: 'oversized', detail: `more than ${maxLineBytes} bytes without a newline` });
      if (exited !== undefined && stdoutEnded) return done(endedFault(Buffer.concat(chunks)));
      if ((exited !== undefined || stdoutEnded) && graceTimer === undefined) {
        // One of the two has happened; give the other a moment so a crash is told from a clean exit.
        graceTimer = setTimeout(() => done(endedFault(Buffer.concat(chunks))), EXIT_GRACE_MS);
      }
    };
    wake = check;
    arm();
    check();
  });
}

async function handle(request) {
  switch (request.op) {
    case 'start':
      start();
      return { ok: true, messages: [], pid: child.pid };
    case 'exchange':
      if (request.send !== undefined && exited === undefined && !spawnError) child.stdin.write(`${request.send}\n`);
      return readUntil(request.until, request.timeoutMs);
    case 'kill':
      kill();
      return { ok: true, messages: [] };
    case 'stop': {
      if (exited === undefined && !spawnError) {
        if (request.send !== undefined) child.stdin.write(`${request.send}\n`);
        child.stdin.end();
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, request.graceMs);
          wake = () => {
            if (exited !== undefined) {
              clearTimeout(timer);
              resolve();
            }
          };
          wake();
        });
        wake = () => {};
      }
      const stopped = exited ?? { code: null, signal: 'SIGKILL (did not exit after "bye")' };
      kill();
      return { ok: true, messages: [], exit: stopped };
    }
    default:
      return { ok: false, fault: { kind: 'harness', detail: `unknown request ${request.op}` }, messages: [] };
  }
}

port.on('message', (request) => {
  handle(request).then(
    (result) => reply({ seq: request.seq, ...result }),
    (error) => reply({ seq: request.seq, ok: false, fault: { kind: 'harness', detail: String(error?.stack ?? error) }, messages: [] }),
  );
});
