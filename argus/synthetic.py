"""Realistic synthetic POLE data with known ground truth, for the demo, tests and benchmarks.

The same real-world person, vehicle or place is written differently by different agencies:
'SMITH, JONATHAN A' vs 'Jon Smith', plates as '8ABC123', '8 ABC-123' or '8-ABC I23', DOBs
missing or transposed, surnames with typos. Every mention carries the id of the real thing it
stands for, so entity resolution can be scored for precision and recall.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from argus.normalize import vin_check_digit

FIRST_M = (
    "JAMES ROBERT JOHN MICHAEL DAVID WILLIAM RICHARD JOSEPH THOMAS CHRISTOPHER CHARLES DANIEL "
    "MATTHEW ANTHONY MARK DONALD STEVEN ANDREW PAUL JOSHUA KENNETH KEVIN BRIAN GEORGE TIMOTHY "
    "RONALD JASON EDWARD JEFFREY RYAN JACOB GARY NICHOLAS ERIC JONATHAN STEPHEN LARRY JUSTIN "
    "SCOTT BRANDON BENJAMIN SAMUEL GREGORY ALEXANDER PATRICK FRANK RAYMOND JACK DENNIS JERRY "
    "TYLER AARON JOSE ADAM NATHAN HENRY ZACHARY DOUGLAS PETER KYLE NOAH ETHAN JEREMY CHRISTIAN "
    "WALTER KEITH AUSTIN ROGER TERRY SEAN GERALD CARL DYLAN HAROLD JORDAN JESSE BRYAN LAWRENCE "
    "ARTHUR GABRIEL BRUCE LOGAN BILLY JOE ALAN JUAN ELIJAH WILLIE ALBERT WAYNE RANDY MASON VINCENT "
    "LIAM ROY BOBBY CALEB BRADLEY RUSSELL LUCAS MARCUS LUIS CARLOS MIGUEL JORGE DIEGO ANGEL OSCAR "
    "MANUEL FRANCISCO RAFAEL ANTONIO HECTOR EDUARDO RICARDO ARMANDO"
).split()
FIRST_F = (
    "MARY PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN LISA NANCY BETTY "
    "SANDRA MARGARET ASHLEY KIMBERLY EMILY DONNA MICHELLE CAROL AMANDA MELISSA DEBORAH STEPHANIE "
    "DOROTHY REBECCA SHARON LAURA CYNTHIA AMY KATHLEEN ANGELA SHIRLEY BRENDA EMMA ANNA PAMELA "
    "NICOLE SAMANTHA KATHERINE CHRISTINE HELEN DEBRA RACHEL CAROLYN JANET MARIA CATHERINE HEATHER "
    "DIANE OLIVIA JULIE JOYCE VICTORIA RUTH VIRGINIA LAUREN KELLY CHRISTINA JOAN EVELYN JUDITH "
    "ANDREA HANNAH MEGAN CHERYL JACQUELINE MARTHA MADISON TERESA GLORIA SARA JANICE ANN KATHRYN "
    "ABIGAIL SOPHIA FRANCES JEAN ALICE JUDY ISABELLA JULIA GRACE AMBER DENISE DANIELLE MARILYN "
    "BEVERLY CHARLOTTE NATALIE THERESA DIANA BRITTANY DORIS KAYLA ALEXIS LORI MARIE GUADALUPE "
    "ROSA ALEJANDRA VERONICA YOLANDA CARMEN"
).split()
LAST = (
    "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ "
    "GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS "
    "SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL "
    "FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS GOMEZ PHILLIPS "
    "EVANS TURNER DIAZ PARKER CRUZ EDWARDS COLLINS REYES STEWART MORRIS MORALES MURPHY COOK ROGERS "
    "GUTIERREZ ORTIZ MORGAN COOPER PETERSON BAILEY REED KELLY HOWARD RAMOS KIM COX WARD RICHARDSON "
    "WATSON BROOKS CHAVEZ WOOD JAMES BENNETT GRAY MENDOZA RUIZ HUGHES PRICE ALVAREZ CASTILLO SANDERS "
    "PATEL MYERS LONG ROSS FOSTER JIMENEZ POWELL JENKINS PERRY RUSSELL SULLIVAN BELL COLEMAN BUTLER "
    "HENDERSON BARNES GONZALES FISHER VASQUEZ SIMMONS ROMERO JORDAN PATTERSON ALEXANDER HAMILTON "
    "GRAHAM REYNOLDS GRIFFIN WALLACE MORENO WEST COLE HAYES BRYANT HERRERA GIBSON ELLIS TRAN MEDINA "
    "AGUILAR STEVENS MURRAY FORD CASTRO MARSHALL OWENS HARRISON FERNANDEZ MCDONALD WOODS WASHINGTON "
    "KENNEDY WELLS VARGAS HENRY CHEN FREEMAN WEBB TUCKER GUZMAN BURNS CRAWFORD OLSON SIMPSON PORTER "
    "HUNTER GORDON MENDEZ SILVA SHAW SNYDER MASON DIXON MUNOZ HUNT HICKS HOLMES PALMER WAGNER BLACK "
    "ROBERTSON BOYD ROSE STONE SALAZAR FOX WARREN MILLS MEYER RICE SCHMIDT GARZA DANIELS FERGUSON "
    "NICHOLS STEPHENS SOTO WEAVER RYAN GARDNER PAYNE GRANT DUNN KELLEY SPENCER HAWKINS ARNOLD PIERCE "
    "VAZQUEZ HANSEN PETERS SANTOS HART BRADLEY KNIGHT ELLIOTT CUNNINGHAM DUNCAN ARMSTRONG HUDSON "
    "CARROLL LANE RILEY ANDREWS ALVARADO RAY DELGADO BERRY PERKINS HOFFMAN JOHNSTON MATTHEWS PENA "
    "RICHARDS CONTRERAS WILLIS CARPENTER LAWRENCE SANDOVAL GUERRERO GEORGE CHAPMAN RIOS ESTRADA "
    "ORTEGA WATKINS GREENE NUNEZ WHEELER VALDEZ HARPER BURKE LARSON SANTIAGO MALDONADO MORRISON "
    "FRANKLIN CARLSON AUSTIN DOMINGUEZ CARR LAWSON JACOBS OBRIEN LYNCH SINGH VEGA BISHOP MONTGOMERY "
    "OLIVER JENSEN HARVEY WILLIAMSON GILBERT DEAN SIMS ESPINOZA HOWELL LI WONG REID HANSON LE MCCOY "
    "GARRETT BURTON FULLER WANG WEBER WELCH ROJAS LUCAS MARQUEZ FIELDS PARK YANG LITTLE BANKS PADILLA "
    "DAY WALSH BOWMAN SCHULTZ LUNA FOWLER MEJIA DAVIDSON ACOSTA BREWER MAY HOLLAND JUAREZ NEWMAN "
    "PEARSON CURTIS CORTEZ DOUGLAS SCHNEIDER JOSEPH BARRETT NAVARRO FIGUEROA KELLER AVILA WADE MOLINA "
    "STANLEY HOPKINS CAMPOS BARNETT BATES CHAMBERS CALDWELL BECK LAMBERT MIRANDA BYRD CRAIG AYALA"
).split()
NICK = {
    "JONATHAN": "JON",
    "WILLIAM": "BILL",
    "ROBERT": "BOB",
    "MICHAEL": "MIKE",
    "JAMES": "JIM",
    "RICHARD": "RICK",
    "THOMAS": "TOM",
    "CHRISTOPHER": "CHRIS",
    "DANIEL": "DAN",
    "JOSEPH": "JOE",
    "ANTHONY": "TONY",
    "STEVEN": "STEVE",
    "EDWARD": "ED",
    "MATTHEW": "MATT",
    "ANDREW": "ANDY",
    "NICHOLAS": "NICK",
    "BENJAMIN": "BEN",
    "CHARLES": "CHARLIE",
    "ELIZABETH": "LIZ",
    "KATHERINE": "KATE",
    "MARGARET": "PEGGY",
    "SUSAN": "SUE",
    "JENNIFER": "JENNY",
    "PATRICIA": "PAT",
    "REBECCA": "BECKY",
    "DEBORAH": "DEBBIE",
    "GREGORY": "GREG",
    "TIMOTHY": "TIM",
    "KENNETH": "KEN",
}
MAKES = {
    "HOND": ["CIVIC", "ACCORD", "CR-V"],
    "TOYT": ["CAMRY", "COROLLA", "RAV4", "TACOMA"],
    "FORD": ["F-150", "FOCUS", "EXPLORER"],
    "CHEV": ["MALIBU", "SILVERADO", "IMPALA"],
    "NISS": ["ALTIMA", "SENTRA", "ROGUE"],
    "DODG": ["CHARGER", "RAM"],
    "BMW": ["328I", "X5"],
}
COLOURS = ("BLK", "BLU", "GRY", "SIL", "WHI", "RED", "GRN", "TAN")
STREETS = (
    "Main St",
    "Shaw Ave",
    "Blackstone Ave",
    "Olive Ave",
    "Kings Canyon Rd",
    "Cedar Ave",
    "Herndon Ave",
    "Ashlan Ave",
    "Palm Ave",
    "First St",
    "Fresno St",
    "Clovis Ave",
    "Belmont Ave",
    "Tulare St",
    "Ventura Ave",
    "Chestnut Ave",
    "Maple Ave",
    "Dakota Ave",
    "Bullard Ave",
)
AGENCIES = ("CA0100000", "CA0190000", "CA0200000", "CA0430000", "CA0370000", "CA0150000", "NV0020000")
CAD_CALLS = (
    "traffic stop",
    "suspicious vehicle",
    "disturbance",
    "burglary alarm",
    "welfare check",
    "shots fired",
    "reckless driver",
    "theft report",
)
OFFENSE_MIX = ("120", "220", "240", "23F", "23H", "13A", "13B", "35A", "520", "26A", "290", "23C")
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def make_vin(rng: random.Random) -> str:
    body = [rng.choice(VIN_CHARS) for _ in range(17)]
    body[8] = "0"
    vin = "".join(body)
    return vin[:8] + vin_check_digit(vin) + vin[9:]


@dataclass
class Truth:
    """Which real entity each mention stands for: (record id, kind, index) -> true id."""

    mentions: dict[tuple[str, str, int], str] = field(default_factory=dict)


class Generator:
    def __init__(
        self,
        seed: int = 7,
        persons: int = 2000,
        vehicles: int = 1500,
        places: int = 800,
        anchor: datetime | None = None,
        messiness: float = 1.0,
    ) -> None:
        """`messiness` scales nicknames, typos, missing DOBs/states and transposed DOBs
        (0: only formatting variants, which normalise to the same keys)."""
        self.rng = random.Random(seed)
        self.mess = messiness
        self.anchor = anchor or datetime.now(UTC).replace(microsecond=0)
        self.truth = Truth()
        rng = self.rng
        names = set()
        self.persons: list[dict[str, Any]] = []
        while len(self.persons) < persons:
            sex = rng.choice("MF")
            first = rng.choice(FIRST_M if sex == "M" else FIRST_F)
            last = rng.choice(LAST)
            if (first, last) in names and rng.random() < 0.97:
                continue  # a few namesakes, as in life; DOB tells them apart
            names.add((first, last))
            dob = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
            middle = rng.choice(string.ascii_uppercase) if rng.random() < 0.5 else ""
            self.persons.append(
                {
                    "id": f"P{len(self.persons)}",
                    "first": first,
                    "last": last,
                    "middle": middle,
                    "dob": dob.isoformat(),
                    "sex": sex,
                    "race": rng.choice("WBHAI"),
                }
            )
        plates = set()
        self.vehicles: list[dict[str, Any]] = []
        while len(self.vehicles) < vehicles:
            plate = (
                f"{rng.randint(1, 9)}{''.join(rng.choices('ABCDEFGHJKLMNPRSTUVWXYZ', k=3))}{rng.randint(0, 999):03d}"
            )
            if plate in plates:
                continue
            plates.add(plate)
            make = rng.choice(list(MAKES))
            self.vehicles.append(
                {
                    "id": f"V{len(self.vehicles)}",
                    "plate": plate,
                    "state": "CA" if rng.random() < 0.9 else "NV",
                    "vin": make_vin(rng),
                    "make": make,
                    "model": rng.choice(MAKES[make]),
                    "colour": rng.choice(COLOURS),
                    "year": rng.randint(2002, 2025),
                }
            )

        def address() -> str:
            direction = rng.choice("NSEW") + " " if rng.random() < 0.3 else ""
            return f"{rng.randint(100, 9899)} {direction}{rng.choice(STREETS)}, Fresno, CA"

        self.places = [
            {
                "id": f"L{i}",
                "address": address(),
                "lat": round(36.70 + rng.random() * 0.15, 6),
                "lon": round(-119.85 + rng.random() * 0.2, 6),
            }
            for i in range(places)
        ]

    # --- how one agency writes a thing ---------------------------------------------------------
    def _typo(self, s: str) -> str:
        rng = self.rng
        if len(s) < 4:
            return s
        i = rng.randrange(1, len(s) - 1)
        if rng.random() < 0.5:
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]  # transposition
        return s[:i] + s[i + 1 :]  # dropped letter

    def person_mention(self, p: dict[str, Any], role: str) -> dict[str, Any]:
        rng = self.rng
        first = NICK.get(p["first"], p["first"]) if rng.random() < 0.15 * self.mess else p["first"]
        last = self._typo(p["last"]) if rng.random() < 0.05 * self.mess else p["last"]
        style = rng.random()
        if style < 0.5 or not self.mess:
            name = f"{last}, {first}" + (f" {p['middle']}" if p["middle"] and rng.random() < 0.5 else "")
        elif style < 0.85:
            name = f"{first.title()} {last.title()}"
        else:
            name = f"{first.title()} {p['middle'] + '. ' if p['middle'] else ''}{last.title()}"
        dob = p["dob"] if rng.random() >= 0.25 * self.mess else None
        if dob and rng.random() < 0.02 * self.mess:
            y, m, d = dob.split("-")
            if int(d) <= 12 and m != d:
                dob = f"{y}-{d}-{m}"
        return {
            "role": role,
            "name": name,
            "dob": dob,
            "sex": p["sex"] if rng.random() < 0.9 else None,
            "race": p["race"] if rng.random() < 0.8 else None,
        }

    def plate_as_typed(self, plate: str) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            out = plate
        elif r < 0.65:
            out = f"{plate[0]} {plate[1:4]}-{plate[4:]}"
        elif r < 0.8:
            out = f"{plate[0]}-{plate[1:4]} {plate[4:]}"
        elif r < 0.9:
            out = plate.lower()
        else:
            out = plate.replace("0", "O").replace("1", "I")
        return out

    def vehicle_mention(self, v: dict[str, Any], role: str) -> dict[str, Any]:
        rng = self.rng
        return {
            "role": role,
            "plate": self.plate_as_typed(v["plate"]),
            "state": v["state"] if rng.random() >= 0.1 * self.mess else None,
            "vin": v["vin"] if rng.random() < 0.25 else None,
            "make": v["make"],
            "model": v["model"] if rng.random() < 0.8 else None,
            "colour": v["colour"] if rng.random() < 0.9 else None,
            "year": v["year"] if rng.random() < 0.6 else None,
        }

    def place_mention(self, loc: dict[str, Any], role: str) -> dict[str, Any]:
        addr = loc["address"]
        if self.rng.random() < 0.3:
            addr = addr.replace(" St,", " Street,").replace(" Ave,", " Avenue,").replace(" Rd,", " Road,")
        return {"role": role, "address": addr, "lat": loc["lat"], "lon": loc["lon"]}

    # --- records ------------------------------------------------------------------------------
    def _pick(self, pool: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
        # Skewed reuse: 30% of mentions go to the 5% of people and vehicles who recur most.
        frequent = max(1, len(pool) // 20)
        return [
            pool[self.rng.randrange(frequent) if self.rng.random() < 0.3 else self.rng.randrange(len(pool))]
            for _ in range(k)
        ]

    def _mentions(self, rid_key: str) -> tuple[list, list, list]:
        rng = self.rng
        persons = list({p["id"]: p for p in self._pick(self.persons, rng.choice((1, 1, 2, 2, 3)))}.values())
        vehicles = list({v["id"]: v for v in self._pick(self.vehicles, rng.choice((0, 1, 1, 2)))}.values())
        place = self._pick(self.places, 1)[0]
        pm, vm = [], []
        for i, p in enumerate(persons):
            role = rng.choice(("suspect", "suspect", "victim", "witness", "subject"))
            pm.append(self.person_mention(p, role))
            self.truth.mentions[(rid_key, "person", i)] = p["id"]
        for i, v in enumerate(vehicles):
            vm.append(self.vehicle_mention(v, rng.choice(("suspect", "involved", "owner"))))
            self.truth.mentions[(rid_key, "vehicle", i)] = v["id"]
        self.truth.mentions[(rid_key, "location", 0)] = place["id"]
        return pm, vm, [self.place_mention(place, "offense")]

    def _when(self, max_days: int = 400) -> str:
        return (self.anchor - timedelta(minutes=self.rng.randrange(60, max_days * 1440))).isoformat()

    def _handling(self) -> dict[str, Any]:
        rng = self.rng
        ci = rng.random() < 0.1
        out: dict[str, Any] = {
            "agency": rng.choice(AGENCIES),
            "tlp": rng.choices(
                ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"), (5, 30, 50, 10, 5)
            )[0],
            "reliability": rng.choice("ABBCCD"),
            "validity": rng.choice((1, 2, 2, 3, 3, 4)),
        }
        if ci:
            out.update(category="criminal_intelligence", predicate="suspected organised retail theft ring")
        return out

    def rms(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            h = self._handling()
            report_id = f"RPT-{self.rng.randint(2024, 2026)}-{i:06d}"
            pm, vm, lm = self._mentions(f"rms:{h['agency']}:{report_id}")
            off = self.rng.choice(OFFENSE_MIX)
            yield {
                **h,
                "report_id": report_id,
                "offenses": [off],
                "occurred_at": self._when(),
                "case_owner": f"Det. {self.rng.choice(LAST).title()} #{self.rng.randint(1000, 9999)}",
                "narrative": f"Reporting party states {off} occurred. Suspect(s) fled; see persons and vehicles.",
                "persons": pm,
                "vehicles": vm,
                "locations": lm,
            }

    def cad(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(n):
            agency = self.rng.choice(AGENCIES)
            incident_id = f"CAD-{agency[:2]}{i:07d}"
            pm, vm, lm = self._mentions(f"cad:{agency}:{incident_id}")
            yield {
                "agency": agency,
                "incident_id": incident_id,
                "call_type": self.rng.choice(CAD_CALLS),
                "priority": self.rng.randint(1, 4),
                "received_at": self._when(),
                "units": [f"{self.rng.randint(1, 9)}A{self.rng.randint(10, 99)}"],
                "disposition": "cleared",
                "narrative": "Units responded; parties identified.",
                "persons": pm,
                "vehicles": vm,
                "locations": lm,
            }

    def sar(self, n: int) -> Iterator[dict[str, Any]]:
        behaviours = ("SURVL", "PHOTO", "THEFT", "ELICIT", "TESTSEC", "MATRLS", "THREAT")
        for i in range(n):
            h = self._handling()
            sar_id = f"SAR-{i:06d}"
            pm, vm, lm = self._mentions(f"sar:{h['agency']}:{sar_id}")
            yield {
                **h,
                "sar_id": sar_id,
                "behavior": self.rng.choice(behaviours),
                "occurred_at": self._when(),
                "submitted_by": "Fusion centre SAR portal",
                "narrative": "Observer reports subject photographing facility access points.",
                "persons": pm,
                "vehicles": vm,
                "locations": lm,
            }
