#!/usr/bin/python3
"""Independent check of an .ics file written by duet.

Usage: /usr/bin/python3 ical_check.py FILE.ics

Parses the file with the icalendar package (Debian's python3-icalendar) and
prints the events as JSON, so tests compare what a real importer reads rather
than what our own writer meant. Exits 1 with a message on stderr when the file
breaks the line rules of RFC 5545 3.1 (CRLF endings, at most 75 octets), is not
UTF-8, or does not parse.

Known quirks of icalendar 4.0.3 that tests must steer around (they are the
parser's, not the file's): a literal backslash followed by "n", ",", ";" or
"\\" in a TEXT value, and literal "%2C", "%3A", "%3B" or "%5C", are unescaped
wrongly.
"""

import datetime
import json
import sys

import icalendar

MAX_LINE_OCTETS = 75


def fail(message):
    print(f"ical_check: {message}", file=sys.stderr)
    sys.exit(1)


def check_lines(raw):
    if not raw.endswith(b"\r\n"):
        fail("file does not end in CRLF")
    for number, line in enumerate(raw[:-2].split(b"\r\n"), start=1):
        if b"\r" in line or b"\n" in line:
            fail(f"line {number} has a bare CR or LF: {line!r}")
        if len(line) > MAX_LINE_OCTETS:
            fail(f"line {number} is {len(line)} octets, more than {MAX_LINE_OCTETS}: {line!r}")


def utc_iso(prop, name):
    if prop is None:
        fail(f"event has no {name}")
    value = prop.dt
    if not isinstance(value, datetime.datetime) or value.utcoffset() != datetime.timedelta(0):
        fail(f"{name} is not a UTC date-time: {value!r}")
    return value.astimezone(datetime.timezone.utc).isoformat()


def optional_text(event, name):
    value = event.get(name)
    return None if value is None else str(value)


def alarm_minutes(alarm):
    trigger = alarm.get("TRIGGER")
    if trigger is None:
        fail("VALARM has no TRIGGER")
    if trigger.params.get("RELATED", "START") != "START":
        fail(f"TRIGGER is not relative to the start: {trigger.to_ical()!r}")
    offset = trigger.dt
    if not isinstance(offset, datetime.timedelta):
        fail(f"TRIGGER is not a duration: {offset!r}")
    seconds = -offset.total_seconds()
    if seconds <= 0 or seconds % 60 != 0:
        fail(f"TRIGGER is not a whole number of minutes before the start: {offset!r}")
    return int(seconds // 60)


def all_components(component):
    yield component
    for sub in component.subcomponents:
        yield from all_components(sub)


def main():
    if len(sys.argv) != 2:
        fail("usage: ical_check.py FILE.ics")
    with open(sys.argv[1], "rb") as f:
        raw = f.read()
    check_lines(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(f"not UTF-8: {e}")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except ValueError as e:
        fail(f"does not parse: {e}")
    if len(calendars) != 1 or calendars[0].name != "VCALENDAR":
        fail("expected exactly one VCALENDAR")
    calendar = calendars[0]
    # Components such as VEVENT swallow bad values into .errors instead of
    # raising; a strict check treats those as failures too.
    for component in all_components(calendar):
        if component.errors:
            fail(f"{component.name} has errors: {component.errors}")

    events = []
    for event in calendar.walk("VEVENT"):
        events.append({
            "uid": optional_text(event, "UID"),
            "summary": optional_text(event, "SUMMARY"),
            "location": optional_text(event, "LOCATION"),
            "description": optional_text(event, "DESCRIPTION"),
            "status": optional_text(event, "STATUS"),
            "sequence": int(event["SEQUENCE"]) if "SEQUENCE" in event else None,
            "start": utc_iso(event.get("DTSTART"), "DTSTART"),
            "end": utc_iso(event.get("DTEND"), "DTEND"),
            "alarms": [alarm_minutes(alarm) for alarm in event.walk("VALARM")],
        })
    json.dump(events, sys.stdout, indent=2)  # ASCII: whatever the locale
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
