// Preloaded (NODE_OPTIONS=--require) into LocalStack's Kinesis engine, kinesis-mock, which saves
// its streams by rewriting its data file in place (truncate, then write) every interval: a kill
// during a save leaves an empty or partial file, and the next start can load nothing. Here a
// write stream to a file in PERSIST_PATH goes to a temporary file that, once closed, complete
// (it parses) and synced, replaces the data file in one rename; a kill leaves the previous save
// intact. kinesis-mock ends and destroys the stream at once, which emits neither "finish" nor
// "close", so the stream is watched until it reports itself closed.
//
// kinesis-mock also ends at once on SIGTERM or SIGINT, losing what it acknowledged since its
// last save (and abandoning a save under way). Here its handlers for those signals run once a
// save begun after the signal is published, which the save loop does within an interval.
//
// kinesis-mock's save loop writes every stream and record it holds, changed or not, pausing an
// interval after each save: with 15,000 records (17 MB) that kept a core 80% busy while nothing
// happened. Here the loop's pause (the first timer of that interval after a save begins) is
// extended, an interval at a time, until a request that may change the streams arrives (any
// but the read-only actions below, or one whose action cannot be told), or a stop signal; saving
// goes on for SETTLE_MS after such a request, as streams change state by themselves shortly
// after some requests (CREATING -> ACTIVE).
"use strict";
const fs = require("fs");
const net = require("net");
const path = require("path");

const persistDir = process.env.PERSIST_PATH ? path.resolve(process.env.PERSIST_PATH) : null;
const original = fs.createWriteStream;
const POLL_MS = 5;
const GIVE_UP_MS = 30000;
const STOP_SIGNALS = new Set(["SIGTERM", "SIGINT"]);
let savesBegun = 0;
let waitingForSave = []; // [saves begun when the signal came, what to run after]

const READ_ONLY = new Set([
  "DescribeLimits", "DescribeStream", "DescribeStreamConsumer", "DescribeStreamSummary",
  "GetRecords", "GetShardIterator", "ListShards", "ListStreamConsumers", "ListStreams",
  "ListTagsForStream",
]);
const ACTION = /Kinesis_20131202\.([A-Za-z]+)/;
const REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/;
const HEAD_BYTES = 4096; // a request's headers, where its action is
const SETTLE_MS = 5000;
let changedUntil = Date.now() + SETTLE_MS; // what it loaded is saved once, at least
let pausedAfterSave = 0; // the save after which the loop's pause was last found

function mayChange() {
  changedUntil = Date.now() + SETTLE_MS;
}

function intervalMs(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|millis|milliseconds|s|seconds?)$/.exec(text || "");
  if (!match) return null;
  return Math.round(Number(match[1]) * (match[2].startsWith("m") ? 1 : 1000));
}

function publish(tmp, target) {
  JSON.parse(fs.readFileSync(tmp, "utf8")); // throws on a cut-short save: keep the old one
  const fd = fs.openSync(tmp, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

function saveEnded(save) {
  const ready = waitingForSave.filter(([begunBefore]) => save > begunBefore);
  waitingForSave = waitingForSave.filter(([begunBefore]) => save <= begunBefore);
  for (const [, run] of ready) run();
}

function afterNextSave(run) {
  let done = false;
  const once = () => {
    if (!done) {
      done = true;
      run();
    }
  };
  waitingForSave.push([savesBegun, once]);
  setTimeout(once, GIVE_UP_MS).unref();
}

function whenClosed(stream, tmp, target, save, waited = 0) {
  if (!stream.closed && waited < GIVE_UP_MS) {
    setTimeout(() => whenClosed(stream, tmp, target, save, waited + POLL_MS), POLL_MS);
    return;
  }
  try {
    if (stream.closed && stream.writableFinished && !stream.errored) publish(tmp, target);
  } catch (error) {
    console.error(`saving ${target} failed, the previous save is kept: ${error}`);
  } finally {
    fs.rmSync(tmp, { force: true });
    saveEnded(save);
  }
}

fs.createWriteStream = function createWriteStream(target, options) {
  if (!persistDir || typeof target !== "string" ||
      path.dirname(path.resolve(target)) !== persistDir) {
    return original.apply(this, arguments);
  }
  const tmp = `${target}.${process.pid}.tmp`;
  const save = ++savesBegun;
  const stream = original.call(this, tmp, options);
  const destroy = stream.destroy;
  let watched = false;
  stream.destroy = function (...args) {
    const result = destroy.apply(this, args);
    if (!watched) {
      watched = true;
      whenClosed(stream, tmp, target, save);
    }
    return result;
  };
  return stream;
};

// A request's body may come in later chunks than its head: each chunk of a connection belongs to
// the last request head seen on it.
function watchRequests() {
  const push = net.Socket.prototype.push;
  const reading = Symbol("reading");
  net.Socket.prototype.push = function (chunk, encoding) {
    if (chunk) {
      const head = Buffer.isBuffer(chunk) ? chunk.subarray(0, HEAD_BYTES) : String(chunk);
      const text = head.toString("latin1");
      if (REQUEST_LINE.test(text)) {
        const action = ACTION.exec(text);
        this[reading] = action !== null && READ_ONLY.has(action[1]);
      }
      if (!this[reading]) mayChange();
    }
    return push.call(this, chunk, encoding);
  };
}

function pauseWhileUnchanged(pauseMs) {
  const setTimeoutOriginal = globalThis.setTimeout;
  globalThis.setTimeout = function setTimeout(callback, delay, ...args) {
    if (delay !== pauseMs || typeof callback !== "function" || pausedAfterSave === savesBegun) {
      return setTimeoutOriginal.apply(this, arguments);
    }
    pausedAfterSave = savesBegun;
    const timer = setTimeoutOriginal(() => {
      if (Date.now() < changedUntil) callback(...args);
      else timer.refresh(); // the same timer again, so clearing it still cancels the pause
    }, delay);
    return timer;
  };
}

if (persistDir) {
  const pauseMs = intervalMs(process.env.PERSIST_INTERVAL);
  if (pauseMs) {
    watchRequests();
    pauseWhileUnchanged(pauseMs);
  }
  for (const method of ["on", "addListener", "once", "prependListener", "prependOnceListener"]) {
    const register = process[method];
    process[method] = function (event, listener, ...rest) {
      if (!STOP_SIGNALS.has(event) || typeof listener !== "function") {
        return register.call(this, event, listener, ...rest);
      }
      const deferred = function (...args) {
        mayChange(); // the next pause ends with a save
        afterNextSave(() => listener.apply(this, args));
      };
      return register.call(this, event, deferred, ...rest);
    };
  }
}
