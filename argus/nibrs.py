"""NIBRS offense codes Argus names in alerts, and how they weigh on officer safety."""

from __future__ import annotations

OFFENSES: dict[str, tuple[str, str]] = {
    # code: (name, class) - class drives scoring: violent > weapons > property > other
    "09A": ("murder", "violent"),
    "09B": ("negligent manslaughter", "violent"),
    "100": ("kidnapping/abduction", "violent"),
    "11A": ("rape", "violent"),
    "120": ("robbery", "violent"),
    "13A": ("aggravated assault", "violent"),
    "13B": ("simple assault", "violent"),
    "13C": ("intimidation", "violent"),
    "200": ("arson", "property"),
    "210": ("extortion/blackmail", "property"),
    "220": ("burglary", "property"),
    "23A": ("pocket-picking", "property"),
    "23B": ("purse-snatching", "property"),
    "23C": ("shoplifting", "property"),
    "23D": ("theft from building", "property"),
    "23E": ("theft from coin machine", "property"),
    "23F": ("theft from motor vehicle", "property"),
    "23G": ("theft of motor vehicle parts", "property"),
    "23H": ("all other larceny", "property"),
    "240": ("motor vehicle theft", "property"),
    "250": ("counterfeiting/forgery", "property"),
    "26A": ("fraud", "property"),
    "270": ("embezzlement", "property"),
    "280": ("stolen property offenses", "property"),
    "290": ("vandalism", "property"),
    "35A": ("drug/narcotic violations", "drugs"),
    "35B": ("drug equipment violations", "drugs"),
    "370": ("pornography/obscene material", "other"),
    "520": ("weapon law violations", "weapons"),
    "64A": ("human trafficking, commercial sex acts", "violent"),
}


def offense_name(code: str) -> str:
    return OFFENSES.get(code, (f"offense {code}", "other"))[0]


def offense_class(code: str) -> str:
    return OFFENSES.get(code, ("", "other"))[1]
