"""Access-matrix entries for the team lead's overview: team leads only, each sees their own team."""

from tests.access_matrix import protected, route

route("GET", "/team", "/team", protected(403, team_lead=200, team_lead_other_team=200))
