// The live alert inbox: the API's SSE stream, opened with the session cookie. EventSource
// reconnects by itself and sends Last-Event-ID, so a dropped connection misses nothing.
import type { Alert } from "../api/client";

export function mergeAlert(list: Alert[], a: Alert, max = 200): Alert[] {
  if (list.some((x) => x.alert_id === a.alert_id)) return list;
  return [a, ...list].slice(0, max);
}

/** An operational product (a BOLO, an officer safety alert) as the terminal's copy. */
export interface ProductDelivery {
  delivery_id: string; product: string; title: string; urgency: string; status: string; banner: string;
  text: string; fields: Record<string, string>; product_type: string; removed: number;
}

export function mergeProduct(list: ProductDelivery[], p: ProductDelivery): ProductDelivery[] {
  const rest = list.filter((x) => x.product !== p.product);
  return p.status === "WITHDRAWN" ? rest : [p, ...rest].slice(0, 50);
}

export function openInbox(onAlert: (a: Alert) => void, onState: (s: "live" | "reconnecting") => void,
                          onProduct?: (p: ProductDelivery) => void): () => void {
  const es = new EventSource("/api/v1/field/alerts/stream?recent=20", { withCredentials: true });
  es.addEventListener("alert", (e) => onAlert(JSON.parse((e as MessageEvent).data) as Alert));
  es.addEventListener("product", (e) => onProduct?.(JSON.parse((e as MessageEvent).data) as ProductDelivery));
  es.onopen = () => onState("live");
  es.onerror = () => onState("reconnecting");
  return () => es.close();
}
