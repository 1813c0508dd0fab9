/**
 * Host names to transport addresses, as chronos' `resolveTAddress` does it: one explicit call to
 * the system resolver (getaddrinfo: /etc/hosts, then DNS), which **blocks** the thread until it
 * answers. The transports themselves take numeric addresses only, so no connect or send ever waits
 * on a lookup hidden inside it; a program resolves its names at start-up, or before a batch of
 * connections, and hands the results on.
 */
import { parseAddress, parsePort } from "./address.js";
import { TransportAddressError } from "./errors.js";
import { lookupHost } from "./sys.js";

/**
 * A host name as resolvers take it: dot-separated labels of letters, digits, inner hyphens and
 * underscores (container and service names use them), each at most 63 characters, at most 253 in all.
 * ASCII only: an internationalized name goes in its punycode form (`url.domainToASCII("bücher.de")`).
 */
const HOST_NAME = /^(?=.{1,253}\.?$)[\w](?:[\w-]{0,61}[\w])?(?:\.[\w](?:[\w-]{0,61}[\w])?)*\.?$/;

/**
 * The addresses `"name:port"` stands for, as address strings for `connect`, the servers and
 * `sendTo`, in the resolver's order of preference: `resolveAddress("localhost:8080")` gives
 * `["127.0.0.1:8080"]`, or `["[::1]:8080", "127.0.0.1:8080"]` where the system names both. A numeric
 * or Unix address comes back as itself (canonical), with no lookup. Throws TransportAddressError for
 * a malformed address, TransportResolveError (`code` `EAI_NONAME`, `EAI_AGAIN`…) for a name the
 * resolver does not know.
 */
export function resolveAddress(address: string): string[] {
  const what = `resolveAddress ${JSON.stringify(address)}`;
  const colon = typeof address === "string" && !address.startsWith("unix:") ? address.lastIndexOf(":") : -1;
  const host = colon > 0 ? address.slice(0, colon) : "";
  const port = colon > 0 ? parsePort(address.slice(colon + 1)) : -1;
  // A name has a letter somewhere; anything else (IPv4, [IPv6], unix:), and a bad port, parseAddress
  // takes or names the fault of.
  if (!/[A-Za-z]/.test(host) || host.includes(":") || host.startsWith("[") || port < 0) return [parseAddress(address, "resolveAddress").text];
  if (!HOST_NAME.test(host)) throw new TransportAddressError(`${what}: ${JSON.stringify(host)} is not a host name`);
  return lookupHost(host, port, what);
}
