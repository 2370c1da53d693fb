// The shell: who is logged in decides which views exist (the API decides what they show).
import { useEffect, useState } from "preact/hooks";
import { type Me, logout, whoami } from "./api/client";
import { href, useRoute } from "./lib/route";
import { AdminView } from "./views/admin";
import { AuditView } from "./views/audit";
import { DirectView } from "./views/direct";
import { CaseView, CasesView, RfisView } from "./views/cases";
import { EntityView } from "./views/entity";
import { FieldView } from "./views/field";
import { GraphView } from "./views/graph";
import { HandoffView } from "./views/handoff";
import { LoginView } from "./views/login";
import { MapView } from "./views/map";
import { OperationsView } from "./views/operations";
import { PartnersView } from "./views/partners";
import { ExecutionView, PlaybookView, PlaybooksView } from "./views/playbooks";
import { ProductEditor } from "./views/product-editor";
import { ProductInboxView, ProductView, ProductsView, ProgrammeView } from "./views/products";
import { RequirementsView, TaskingsView } from "./views/requirements";
import { ReviewView } from "./views/review";
import { RiskView } from "./views/risk";
import { SarFormView } from "./views/sar-form";
import { SarsView } from "./views/sars";
import { SearchView } from "./views/search";
import { TimelineView } from "./views/timeline";
import { WatchView } from "./views/watch";

interface Nav {
  view: string;
  label: string;
  may: (me: Me) => boolean;
}

const has = (p: string) => (me: Me) => me.permissions.includes(p);
export const NAV: Nav[] = [
  { view: "field", label: "Field", may: has("field") },
  { view: "watch", label: "Watch board", may: (me) => me.role === "supervisor" },
  { view: "search", label: "Search", may: has("read") },
  { view: "graph", label: "Link analysis", may: has("read") },
  { view: "map", label: "Map", may: has("read") },
  { view: "review", label: "Match review", may: has("decide") },
  { view: "sars", label: "SAR review", may: has("decide") },
  { view: "report", label: "Submit a SAR", may: has("submit") },
  { view: "cases", label: "Cases", may: has("read") },
  { view: "rfis", label: "RFIs", may: has("read") },
  { view: "messages", label: "Messages", may: has("read") },
  { view: "operations", label: "Deconfliction", may: has("read") },
  { view: "handoff", label: "Shift handoff", may: has("review") },
  { view: "partners", label: "Partners", may: has("decide") },
  { view: "playbooks", label: "Playbooks", may: has("read") },
  { view: "products", label: "Products", may: has("read") },
  { view: "inbox", label: "Inbox", may: has("read") },
  { view: "threats", label: "Threats", may: has("decide") },
  { view: "programme", label: "Programme", may: has("decide") },
  { view: "requirements", label: "Requirements", may: has("decide") },
  { view: "taskings", label: "Taskings", may: has("submit") },
  { view: "audit", label: "Audit", may: has("audit") },
  { view: "admin", label: "Administration", may: has("manage") },
];

export function home(me: Me): string {
  if (me.role === "patrol_officer") return "field";
  if (me.role === "supervisor") return "watch";
  return NAV.find((n) => n.may(me))?.view ?? "field";
}

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    whoami().then(setMe, () => setMe(null));
    const out = () => setMe(null);
    window.addEventListener("argus:logged-out", out);
    return () => window.removeEventListener("argus:logged-out", out);
  }, []);
  if (route.view === "tip") return <main id="main" class="public"><SarFormView tip /></main>;  // no login
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null) return <LoginView onLogin={setMe} />;
  const allowed = NAV.filter((n) => n.may(me));
  const view = route.view || home(me);
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href={href(home(me))}>
          Argus
        </a>
        <nav aria-label="Views">
          {allowed.map((n) => (
            <a href={href(n.view)} aria-current={view === n.view ? "page" : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {me.name} · {me.agency_name ?? me.agency} · {me.role.replace(/_/g, " ")}
        </span>
        <button type="button" class="link" onClick={() => logout().finally(() => setMe(null))}>
          Log out
        </button>
      </header>
      <main id="main">{screen(view, route.args, route.query, me)}</main>
    </div>
  );
}

function screen(view: string, args: string[], query: URLSearchParams, me: Me) {
  switch (view) {
    case "field":
      return <FieldView me={me} />;
    case "watch":
      return <WatchView me={me} />;
    case "search":
      return <SearchView query={query} />;
    case "entity":
      return <EntityView id={args[0]} me={me} />;
    case "graph":
      return <GraphView start={args[0]} />;
    case "timeline":
      return <TimelineView kind={args[0]} id={args[1]} />;
    case "map":
      return <MapView query={query} />;
    case "review":
      return <ReviewView me={me} />;
    case "sars":
      return <SarsView me={me} />;
    case "report":
      return <SarFormView />;
    case "products":
      return <ProductsView me={me} query={query} />;
    case "product":
      return <ProductView id={args[0]} me={me} />;
    case "product-new":
      return <ProductEditor me={me} query={query} />;
    case "product-edit":
      return <ProductEditor me={me} query={query} id={args[0]} />;
    case "cases":
      return <CasesView me={me} />;
    case "case":
      return <CaseView id={args[0]} me={me} />;
    case "rfis":
      return <RfisView me={me} />;
    case "messages":
      return <DirectView me={me} />;
    case "operations":
      return <OperationsView me={me} />;
    case "handoff":
      return <HandoffView me={me} />;
    case "partners":
      return <PartnersView />;
    case "playbooks":
      return <PlaybooksView me={me} />;
    case "playbook":
      return <PlaybookView id={args[0]} me={me} />;
    case "execution":
      return <ExecutionView id={args[0]} />;
    case "inbox":
      return <ProductInboxView />;
    case "programme":
      return <ProgrammeView />;
    case "threats":
      return <RiskView me={me} />;
    case "requirements":
      return <RequirementsView me={me} />;
    case "taskings":
      return <TaskingsView />;
    case "audit":
      return <AuditView />;
    case "admin":
      return <AdminView me={me} />;
    default:
      return <p>No such view.</p>;
  }
}
