/** chronots/net: stream transports (TCP over IPv4/IPv6, Unix sockets) and datagram transports (UDP). */
export { connect, createStreamServer, StreamServer, StreamTransport, type StreamServerOptions } from "./stream.js";
export { resolveAddress } from "./resolve.js";
export { newDatagramTransport, DatagramTransport, type DatagramOptions, type MessageHandler } from "./datagram.js";
export {
  TransportError,
  TransportOsError,
  TransportRefusedError,
  TransportResetError,
  TransportPipeError,
  TransportAddressError,
  TransportResolveError,
  TransportClosedError,
  TransportBusyError,
  TransportIncompleteError,
  TransportLimitError,
} from "./errors.js";
