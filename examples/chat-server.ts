/**
 * A line-based chat server with chronots/net.
 *
 * A client sends its nickname as its first line; every later line goes to everyone else as
 * `<nick> line`, and `/quit` leaves. Joins and departures are announced with `* `. A member who
 * does not read what the others say is disconnected once 64 lines wait for them, so one slow
 * reader cannot make the server's memory grow.
 *
 * Run as is, it plays a short scene with three clients, prints what each one saw, and exits.
 * Given an address (`node dist/examples/chat-server.js 127.0.0.1:7001`) it serves until Ctrl-C:
 * chat with `nc 127.0.0.1 7001` from several terminals.
 */
import { addSignal, async, Future, removeSignal, waitFor } from "chronots";
import { connect, createStreamServer, type StreamTransport } from "chronots/net";

const MAX_BACKLOG = 64;

interface Member {
  nick: string;
  t: StreamTransport;
  /** Lines handed to `write` whose futures have not finished: what the member has not taken yet. */
  backlog: number;
}

const members = new Set<Member>();

function tell(m: Member, line: string): void {
  if (m.backlog >= MAX_BACKLOG) {
    members.delete(m);
    m.t.closeWait().addCallback(() => broadcast(`* ${m.nick} was too slow and got dropped`, null));
    return;
  }
  m.backlog++;
  m.t.write(`${line}\n`).addCallback(() => m.backlog--);
}

function broadcast(line: string, from: Member | null): void {
  for (const m of members) if (m !== from) tell(m, line);
}

const session = async(function* (t: StreamTransport) {
  const nick = (yield* t.readLine()).trim();
  if (nick === "" || /\s/.test(nick)) {
    yield* t.write("* a nickname is one word; bye\n");
    return;
  }
  const me: Member = { nick, t, backlog: 0 };
  const others = [...members].map((m) => m.nick);
  members.add(me);
  tell(me, `* welcome ${nick}; here: ${others.length > 0 ? others.join(", ") : "nobody yet"}`);
  broadcast(`* ${nick} joined`, me);
  try {
    for (;;) {
      const line = yield* t.readLine();
      if (t.atEof || line === "/quit") return;
      broadcast(`<${nick}> ${line}`, me);
    }
  } finally {
    // However the session ends (quit, end of stream, reset, server shutdown), the others hear of it.
    if (members.delete(me)) broadcast(`* ${nick} left`, me);
  }
});

/** A demo participant: joins, then reads lines into its transcript as the scene asks. */
class Participant {
  readonly seen: string[] = [];
  private constructor(
    readonly nick: string,
    private readonly t: StreamTransport,
  ) {}

  static join = async(function* (address: string, nick: string) {
    const p = new Participant(nick, yield* connect(address));
    yield* p.t.write(`${nick}\n`);
    yield* p.until(`* welcome ${nick};`);
    return p;
  });

  say = async(function* (this: Participant, line: string) {
    yield* this.t.write(`${line}\n`);
  });

  /** Read lines until one starts with `prefix`. */
  until = async(function* (this: Participant, prefix: string) {
    for (;;) {
      const line = yield* this.t.readLine();
      if (line === "" && this.t.atEof) throw new Error(`${this.nick}: the server closed before "${prefix}"`);
      this.seen.push(line);
      if (line.startsWith(prefix)) return;
    }
  });

  leave = async(function* (this: Participant) {
    yield* this.say("/quit");
    while ((yield* this.t.read()).length > 0);
    yield* this.t.closeWait();
  });
}

const scene = async(function* (address: string) {
  const alice = yield* Participant.join(address, "alice");
  const bob = yield* Participant.join(address, "bob");
  yield* alice.until("* bob joined");
  yield* bob.say("hi alice");
  yield* alice.until("<bob> hi alice");
  const carol = yield* Participant.join(address, "carol");
  yield* alice.until("* carol joined");
  yield* bob.until("* carol joined");
  yield* alice.say("welcome, carol!");
  yield* bob.until("<alice> welcome, carol!");
  yield* carol.until("<alice> welcome, carol!");
  yield* carol.leave();
  yield* alice.until("* carol left");
  yield* bob.until("* carol left");
  yield* alice.leave();
  yield* bob.until("* alice left");
  yield* bob.leave();
  return [alice, bob, carol];
});

const address = process.argv[2];
const server = createStreamServer(address ?? "127.0.0.1:0", session);
server.start();
console.log(`chat server listening on ${server.localAddress}`);

if (address === undefined) {
  for (const p of waitFor(scene(server.localAddress))) console.log(`${p.nick} saw:\n  ${p.seen.join("\n  ")}`);
} else {
  const stop = new Future<void>("Ctrl-C");
  const sigint = addSignal("SIGINT", () => stop.complete());
  waitFor(stop);
  removeSignal(sigint);
}

waitFor(server.closeWait());
console.log("chat server closed");
