"""What the people in the journey type or upload: the trainee's answer and live-line cell, the instructor's
revised source notebook (and a broken one the authoring check must refuse)."""
from __future__ import annotations

import json
from pathlib import Path

SOURCE = (Path(__file__).parent / "data" / "courses" / "line-reading" / "labs" / "machines-on-your-line"
          / "machines-on-your-line.ipynb")

# Typed into the answer cell of the release notebook (replaces `raise NotImplementedError()`).
SOLUTION = '''def machine_names(records):
    return sorted({r["topic"].split("/")[-2] for r in records if r["topic"].endswith("/meta")})


def peak_vibration(records, machine):
    return max(r["payload"]["vibration_mm_s"] for r in records if r["topic"].endswith(f"/{machine}/telemetry"))
'''

# Typed into a new cell: reads three seconds of the trainee's live line over MQTT with the lab's credentials.
LIVE_LINE_CELL = '''from virtual_lab.client import connect_from_env
line = connect_from_env()
rows = line.collect(3)
line.close()
print("LIVE", line.prefix, len(rows), "readings from", sorted({r["machine"] for r in rows}))
'''


def revised_source(break_solution: bool = False) -> bytes:
    """The course's source notebook with a revised introduction; optionally with a wrong reference solution."""
    notebook = json.loads(SOURCE.read_text())
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        source = "".join(cell["source"])
        if grade_id == "intro":
            cell["source"] = source + "\n\n*Revised by the instructor: list the machines before you look at vibration.*"
        elif grade_id == "answers" and break_solution:
            cell["source"] = source.replace("return max(", "return min(", 1)  # the hidden peak test fails
    return json.dumps(notebook, indent=1).encode()
