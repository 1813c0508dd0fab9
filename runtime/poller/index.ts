/**
 * Picks and builds the dispatcher's poller. The default is `CHRONOTS_POLLER` from the environment
 * (`epoll` or `poll`), else epoll on Linux and poll(2) everywhere else; a dispatcher can also ask
 * for one by name, so every I/O test runs against both backends on Linux.
 */
import { EpollPoller } from "./epoll.js";
import { PollPoller } from "./poll.js";
import type { Poller, PollerKind } from "./poller.js";

export { READ, WRITE, type Poller, type PollerKind } from "./poller.js";

export function defaultPollerKind(): PollerKind {
  const env = process.env.CHRONOTS_POLLER;
  if (env === undefined || env === "") return process.platform === "linux" ? "epoll" : "poll";
  if (env === "epoll" || env === "poll") return env;
  throw new TypeError(`CHRONOTS_POLLER must be 'epoll' or 'poll', got '${env}'`);
}

export function createPoller(kind: PollerKind): Poller {
  if (kind === "epoll") return new EpollPoller();
  if (kind === "poll") return new PollPoller();
  throw new TypeError(`createPoller: unknown poller '${String(kind)}', expected 'epoll' or 'poll'`);
}
