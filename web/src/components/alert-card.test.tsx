import { render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import type { Alert } from "../api/client";
import { AlertCard } from "./alert-card";
import { Snippet } from "./marks";

const alert = {
  alert_id: "a1", alert_type: "QUERY_HIT", recipient_agency: "CA0430000", summary: "HIGH: vehicle CA 8ABC123 on file",
  level: "HIGH", score: 96, instructions: "Confirm with CA0190000 before acting. Officer safety: treat as HIGH.",
  created_at: "2026-12-06T06:44:26+00:00",
  hits: [{
    matched: "vehicle CA 8ABC123", report_id: "RPT-1", report_agency: "CA0190000", report_tlp: "AMBER", access: "amber",
    score: 96, reasons: ["+35 robbery"], contact: "CA0190000 (Det. M. Alvarez)",
    fields: { offenses: "120 robbery", persons: "suspect: M/W" }, withheld: ["narrative", "person_names"],
  }],
} as unknown as Alert;

describe("AlertCard", () => {
  it("shows the officer-safety line, whom to confirm with, the fields delivered and names what was withheld", () => {
    render(<AlertCard alert={alert} />);
    expect(screen.getByTestId("safety").textContent).toContain("Officer safety");
    expect(screen.getByText("CA0190000 (Det. M. Alvarez)")).toBeTruthy();
    expect(screen.getByText("120 robbery")).toBeTruthy();
    expect(screen.getByText(/Withheld by the record's marking: Narrative, Names/)).toBeTruthy();
    expect(screen.getByText("TLP:AMBER", { exact: false })).toBeTruthy();
  });

  it("offers acknowledgement until acknowledged, and folds an acknowledged alert's records", () => {
    const { rerender, container } = render(<AlertCard alert={alert} onAck={() => undefined} />);
    expect(screen.getByRole("button", { name: "Acknowledge" })).toBeTruthy();
    expect((container.querySelector("details") as HTMLDetailsElement).open).toBe(true);
    rerender(<AlertCard alert={alert} acked onAck={() => undefined} />);
    expect((screen.getByRole("button", { name: "Acknowledged" }) as HTMLButtonElement).disabled).toBe(true);
    expect((container.querySelector("details") as HTMLDetailsElement).open).toBe(false);
  });
});

describe("Snippet", () => {
  it("marks matched words as text, never as markup", () => {
    const { container } = render(<Snippet text={"<img src=x onerror=alert(1)> [CIVIC]"} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("mark")?.textContent).toBe("CIVIC");
  });
});
