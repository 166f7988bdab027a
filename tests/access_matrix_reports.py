"""Access-matrix entries for the reports: the team overview (team leads, each their own team) and
the § 18 network report (team leads: their team; the Steuerung: all teams; aggregated only)."""

from tests.access_matrix import protected, route

route("GET", "/team", "/team", protected(403, team_lead=200, team_lead_other_team=200))

NETWORK = protected(403, team_lead=200, team_lead_other_team=200, controlling=200)
route("GET", "/netzwerkbericht", "/netzwerkbericht", NETWORK)
route(
    "GET",
    "/netzwerkbericht",
    "/netzwerkbericht?jahr=1999&quartal=9",
    protected(403, team_lead=400, team_lead_other_team=400, controlling=400),
    name="period not offered",
)
for output in ("csv", "pdf"):
    route(
        "GET",
        "/netzwerkbericht/<any(csv, pdf):output>",
        f"/netzwerkbericht/{output}",
        NETWORK,
        name=output,
    )
