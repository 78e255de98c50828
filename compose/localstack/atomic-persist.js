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
"use strict";
const fs = require("fs");
const path = require("path");

const persistDir = process.env.PERSIST_PATH ? path.resolve(process.env.PERSIST_PATH) : null;
const original = fs.createWriteStream;
const POLL_MS = 5;
const GIVE_UP_MS = 30000;
const STOP_SIGNALS = new Set(["SIGTERM", "SIGINT"]);
let savesBegun = 0;
let waitingForSave = []; // [saves begun when the signal came, what to run after]

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

if (persistDir) {
  for (const method of ["on", "addListener", "once", "prependListener", "prependOnceListener"]) {
    const register = process[method];
    process[method] = function (event, listener, ...rest) {
      if (!STOP_SIGNALS.has(event) || typeof listener !== "function") {
        return register.call(this, event, listener, ...rest);
      }
      const deferred = function (...args) {
        afterNextSave(() => listener.apply(this, args));
      };
      return register.call(this, event, deferred, ...rest);
    };
  }
}
