"""The optional profile: region and commune, age group, gender. Each step says why we ask."""

from __future__ import annotations

from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice
from handlers.turn import Turn

# U-Report's age bands, so that figures compare with other youth programmes.
AGE_GROUPS = ("u15", "15-19", "20-24", "25-30", "31-34", "35p")
GENDERS = ("f", "m", "x")
SKIP = "profile:skip"
_FIELDS_OF_STEP = {
    "region": ("region", "commune"),
    "commune": ("commune",),
    "age": ("age_group",),
    "gender": ("gender",),
}


class ProfileFlow(Flow):
    """View and edit the profile; every answer is optional."""

    name = "profile"

    async def start(self, turn: Turn, router: Router) -> None:
        """Open the profile summary."""
        turn.goto("profile", "view")
        await self.show(turn, router)

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw the current step."""
        step = turn.step
        if step == "region":
            turn.say(
                turn.t("profile.region.ask"),
                [
                    Choice(f"profile:region:{region.pcode}", region.name)
                    for region in turn.pack.communes.regions
                ]
                + [self._skip(turn)],
            )
        elif step == "commune":
            turn.say(turn.t("profile.commune.ask"), [self._skip(turn)])
        elif step == "age":
            turn.say(
                turn.t("profile.age.ask"),
                [
                    Choice(f"profile:age:{band}", turn.t(f"profile.age.{band}"))
                    for band in AGE_GROUPS
                ]
                + [self._skip(turn)],
            )
        elif step == "gender":
            turn.say(
                turn.t("profile.gender.ask"),
                [Choice(f"profile:gender:{g}", turn.t(f"profile.gender.{g}")) for g in GENDERS]
                + [self._skip(turn)],
            )
        else:
            turn.goto("profile", "view")
            turn.say(
                self._summary(turn),
                [
                    Choice("profile:edit:region", turn.t("profile.edit_place")),
                    Choice("profile:edit:age", turn.t("profile.edit_age")),
                    Choice("profile:edit:gender", turn.t("profile.edit_gender")),
                    await self._listen_choice(turn),
                    Choice("privacy:forget", turn.t("profile.forget")),
                    back_to_menu(turn),
                ],
            )

    async def _listen_choice(self, turn: Turn) -> Choice:
        # "Écouter plutôt que lire" (issue 18): voice notes first, the text under them.
        listening = await turn.tx.prefers_audio(turn.user.key)
        return Choice(
            f"profile:listen:{'off' if listening else 'on'}",
            turn.t("audio.pref_off" if listening else "audio.pref_on"),
        )

    def _skip(self, turn: Turn) -> Choice:
        return Choice(SKIP, turn.t("profile.skip"))

    def _summary(self, turn: Turn) -> str:
        user = turn.user
        unknown = turn.t("profile.not_given")
        commune = turn.pack.communes.by_pcode.get(user.commune or "")
        region = turn.pack.communes.region(user.region or "")
        place = commune.name if commune else unknown
        if region:
            place = f"{place} ({region.name})" if commune else region.name
        return turn.t(
            "profile.summary",
            place=place,
            age=turn.t(f"profile.age.{user.age_group}") if user.age_group else unknown,
            gender=turn.t(f"profile.gender.{user.gender}") if user.gender else unknown,
        )

    async def _to(self, turn: Turn, router: Router, step: str) -> None:
        turn.goto("profile", step, turn.data)
        await self.show(turn, router)

    async def _saved(self, turn: Turn, router: Router) -> None:
        turn.say(turn.t("profile.saved"))
        await self._to(turn, router, "view")

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Apply an edit or an answer."""
        parts = choice.split(":")
        if parts[1:2] == ["edit"] and parts[2:] and parts[2] in ("region", "age", "gender"):
            await self._to(turn, router, parts[2])
            return True
        if choice == SKIP:
            # Skipping is an answer too: "I'd rather not say" clears what was there.
            turn.update_user(**dict.fromkeys(_FIELDS_OF_STEP.get(turn.step, ())))
            await self._saved(turn, router)
            return True
        if len(parts) != 3:
            return False
        kind, value = parts[1], parts[2]
        if kind == "listen" and value in ("on", "off"):
            turn.tx.set_prefers_audio(turn.user.key, value == "on", turn.now)
            turn.say(turn.t(f"audio.pref_{value}_done"))
            await self._to(turn, router, "view")
        elif kind == "region" and turn.pack.communes.region(value):
            turn.update_user(region=value, commune=None)
            await self._to(turn, router, "commune")
        elif kind == "commune" and value in turn.pack.communes.by_pcode:
            commune = turn.pack.communes.by_pcode[value]
            turn.update_user(region=commune.region_pcode, commune=commune.pcode)
            await self._saved(turn, router)
        elif kind == "age" and value in AGE_GROUPS:
            turn.update_user(age_group=value)
            await self._saved(turn, router)
        elif kind == "gender" and value in GENDERS:
            turn.update_user(gender=value)
            await self._saved(turn, router)
        else:
            return False
        return True

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """A typed commune name, matched within the chosen region."""
        if turn.step != "commune":
            return False
        found = turn.pack.communes.match(text, turn.user.region)
        # Save at once only a near-exact, unambiguous name; a typo gets confirmed first.
        if found and found[0][1] >= 95 and (len(found) == 1 or found[1][1] < 95):
            commune = found[0][0]
            turn.update_user(region=commune.region_pcode, commune=commune.pcode)
            await self._saved(turn, router)
        elif found:
            turn.say(
                turn.t("profile.commune.pick"),
                [Choice(f"profile:commune:{c.pcode}", f"{c.name} ({c.cercle})") for c, _ in found]
                + [self._skip(turn)],
            )
        else:
            turn.say(turn.t("profile.commune.not_found", typed=text[:40]), [self._skip(turn)])
        return True
