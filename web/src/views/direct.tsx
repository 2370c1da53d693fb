// Direct messages: the reader's threads with users of any agency (TLP:RED to the two of them),
// one thread live, and a message to anyone in the directory by their user id.
import { useEffect, useState } from "preact/hooks";
import { type Me, Problem, get, post } from "../api/client";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Row = Record<string, any>;

export function DirectView({ me }: { me: Me }) {
  const [threads, setThreads] = useState<string[]>([]);
  const [other, setOther] = useState("");
  const [msgs, setMsgs] = useState<Row[]>([]);
  const [text, setText] = useState("");
  const [error, setError] = useState("");
  useEffect(() => { get("/api/v1/messages/direct").then((r: Row) => setThreads(r.threads), () => undefined); }, []);
  useEffect(() => {
    if (!other) return undefined;
    setMsgs([]);
    const es = new EventSource(`/api/v1/messages/direct/${encodeURIComponent(other)}/stream`);
    es.addEventListener("message", (ev) => {
      const m = JSON.parse((ev as MessageEvent).data);
      setMsgs((l) => (l.some((x) => x.id === m.id) ? l : [...l, m]));
    });
    return () => es.close();
  }, [other]);
  const send = (e: Event) => {
    e.preventDefault();
    post("/api/v1/messages/direct", { to: other, text }).then(() => { setText(""); setError(""); },
      (x) => setError(x instanceof Problem ? `${x.title}: ${x.detail}` : String(x)));
  };
  const peer = (t: string) => t.slice(3).split("|").find((s) => s !== me.subject) ?? me.subject;
  return (
    <div class="direct">
      <h1>Messages</h1>
      <ul data-testid="threads">{threads.map((t) => (
        <li><button type="button" class="link" onClick={() => setOther(peer(t))}>{peer(t)}</button></li>))}</ul>
      <label>With (user id)<input value={other} onChange={(e) => setOther((e.target as HTMLInputElement).value.trim())} /></label>
      {other && (
        <section aria-label={`Messages with ${other}`}>
          <ol data-testid="direct-messages">{msgs.map((m) => <li><b>{m.author}</b> <small>{m.agency}</small> {m.text}</li>)}</ol>
          <form onSubmit={send} aria-label="Send a direct message">
            {error && <p role="alert" class="error">{error}</p>}
            <label>Message<textarea required value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} /></label>
            <button type="submit">Send</button>
          </form>
        </section>)}
    </div>
  );
}
