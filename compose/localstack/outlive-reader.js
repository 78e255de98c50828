// Preloaded (NODE_OPTIONS=--require) into LocalStack's Kinesis engine, kinesis-mock, whose output
// LocalStack reads through a pipe. When LocalStack is killed, the next line kinesis-mock logs
// fails with EPIPE: Node ends the process on that unhandled error, and the records acknowledged
// since its last save are gone before `up` can stop it. Here output with no reader left is
// dropped as if written, and kinesis-mock goes on (saving every interval) until it is stopped.
"use strict";

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  let readerGone = false;
  const isGone = (error) => Boolean(error) && error.code === "EPIPE";
  stream.on("error", (error) => {
    if (!isGone(error)) throw error;
    readerGone = true;
  });
  stream.write = (chunk, encoding, callback) => {
    const done = typeof encoding === "function" ? encoding : callback;
    const enc = typeof encoding === "function" ? undefined : encoding;
    if (readerGone) {
      if (typeof done === "function") process.nextTick(done);
      return true;
    }
    return write(chunk, enc, (error) => {
      if (isGone(error)) readerGone = true;
      if (typeof done === "function") done(isGone(error) ? null : error);
    });
  };
}
