// Preloaded (NODE_OPTIONS=--require) into LocalStack's Kinesis engine, kinesis-mock, which saves
// its streams by rewriting its data file in place (truncate, then write) every interval: a kill
// during a save leaves an empty or partial file, and the next start can load nothing. Here a
// write stream to a file in PERSIST_PATH goes to a temporary file that, once closed, complete
// (it parses) and synced, replaces the data file in one rename; a kill leaves the previous save
// intact. kinesis-mock ends and destroys the stream at once, which emits neither "finish" nor
// "close", so the stream is watched until it reports itself closed.
"use strict";
const fs = require("fs");
const path = require("path");

const persistDir = process.env.PERSIST_PATH ? path.resolve(process.env.PERSIST_PATH) : null;
const original = fs.createWriteStream;
const POLL_MS = 5;
const GIVE_UP_MS = 30000;

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

function whenClosed(stream, tmp, target, waited = 0) {
  if (!stream.closed && waited < GIVE_UP_MS) {
    setTimeout(() => whenClosed(stream, tmp, target, waited + POLL_MS), POLL_MS);
    return;
  }
  try {
    if (stream.closed && stream.writableFinished && !stream.errored) publish(tmp, target);
  } catch (error) {
    console.error(`saving ${target} failed, the previous save is kept: ${error}`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

fs.createWriteStream = function createWriteStream(target, options) {
  if (!persistDir || typeof target !== "string" ||
      path.dirname(path.resolve(target)) !== persistDir) {
    return original.apply(this, arguments);
  }
  const tmp = `${target}.${process.pid}.tmp`;
  const stream = original.call(this, tmp, options);
  const destroy = stream.destroy;
  let watched = false;
  stream.destroy = function (...args) {
    const result = destroy.apply(this, args);
    if (!watched) {
      watched = true;
      whenClosed(stream, tmp, target);
    }
    return result;
  };
  return stream;
};
