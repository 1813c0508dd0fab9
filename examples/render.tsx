/** @jsx h */
/**
 * Server-side rendering with JSX: a page whose data is fetched concurrently and awaited right where it
 * is shown. The lowering evaluates an element's values in order around each await, as the factory call
 * would, so the page reads top to bottom like the HTML it makes. `h` is a ten-line factory making
 * escaped HTML strings; any JSX factory works the same way.
 */
import { async, sleepAsync, waitFor } from "chronots";

interface Html {
  html: string;
}
declare global {
  namespace JSX {
    type Element = Html;
    interface IntrinsicElements {
      [tag: string]: Record<string, string | number>;
    }
  }
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const text = (c: unknown): string => (Array.isArray(c) ? c.map(text).join("") : c && typeof c === "object" && "html" in c ? (c as Html).html : c == null ? "" : escape(String(c)));

function h(tag: string | ((props: object) => Html), props: Record<string, unknown> | null, ...children: unknown[]): Html {
  if (typeof tag === "function") return tag({ ...props, children });
  const attributes = Object.entries(props ?? {}).map(([k, v]) => ` ${k}="${escape(String(v))}"`).join("");
  return { html: `<${tag}${attributes}>${text(children)}</${tag}>` };
}

const Card = (props: { title: string; children?: unknown }) => (
  <section>
    <h2>{props.title}</h2>
    {props.children}
  </section>
);

const fetchUser = async(function* (id: number) {
  yield* sleepAsync(10);
  return { id, name: id === 1 ? "Ada <admin>" : "Grace" };
});

const fetchPosts = async(function* (id: number) {
  yield* sleepAsync(20);
  return [`Notes of user ${id}`, "On the analytical engine"];
});

const page = async(function* (id: number) {
  const posts = fetchPosts(id); // running while the user is fetched; awaited where it is shown
  return (
    <main>
      <Card title={(yield* fetchUser(id)).name}>
        <ul>{(yield* posts).map((p) => <li>{p}</li>)}</ul>
      </Card>
    </main>
  );
});

console.log(waitFor(page(1)).html);
