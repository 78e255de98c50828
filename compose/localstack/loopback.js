// Preloaded (NODE_OPTIONS=--require) into LocalStack's Kinesis engine, kinesis-mock, which has
// no setting for its listen address and would otherwise listen on every interface: a listen
// without a host, or on a wildcard host, binds PINPIPE_BIND_HOST (default 127.0.0.1) instead.
"use strict";
const net = require("net");

const bindHost = process.env.PINPIPE_BIND_HOST || "127.0.0.1";
const isWildcard = (host) => host === undefined || host === null || host === "" ||
  host === "0.0.0.0" || host === "::";
const isPort = (value) => typeof value === "number" ||
  (typeof value === "string" && /^\d+$/.test(value));
const original = net.Server.prototype.listen;

net.Server.prototype.listen = function listen(...args) {
  if (isPort(args[0])) {
    if (typeof args[1] === "string") {
      if (isWildcard(args[1])) args[1] = bindHost;
    } else {
      args.splice(1, 0, bindHost);
    }
  } else if (args[0] && typeof args[0] === "object" && args[0].path === undefined &&
             args[0].fd === undefined && args[0]._handle === undefined) {
    if (isWildcard(args[0].host)) args[0] = { ...args[0], host: bindHost };
  }
  return original.apply(this, args);
};
