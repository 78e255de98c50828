// Preloaded (NODE_OPTIONS=--require) into LocalStack's Kinesis engine, kinesis-mock, whose output
// LocalStack reads through a pipe. When LocalStack is killed, the next line kinesis-mock logs
// fails with EPIPE: Node ends the process on that unhandled error, and the records acknowledged
// since its last save are gone before `up` can stop it. Here output with no reader left is
// dropped, and kinesis-mock goes on (saving every interval) until it is stopped.
"use strict";

for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE") throw error;
    stream.write = (_chunk, encoding, callback) => {
      const done = typeof encoding === "function" ? encoding : callback;
      if (typeof done === "function") process.nextTick(done);
      return true;
    };
  });
}
