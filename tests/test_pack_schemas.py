"""The pack's JSON Schemas refuse what `content check` refuses, for every file kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from content.jsonschema import (
    MARK,
    SCHEMAS,
    mark_files,
    pack_files,
    render,
    schema,
    schema_comment,
)
from content.pack import BUNDLED_PACK, PackError, load_pack


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name))


def errors(name: str, data: Any) -> list[str]:
    return [e.message for e in validator(name).iter_errors(data)]


def parse(text: str) -> Any:
    """YAML as an editor's schema check sees it: dates are strings."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def load(relative: str) -> Any:
    return parse((BUNDLED_PACK / relative).read_text(encoding="utf-8"))


def test_every_schema_is_committed_and_valid() -> None:
    for name in SCHEMAS:
        Draft202012Validator.check_schema(schema(name))
        committed = BUNDLED_PACK / "schema" / f"{name}.schema.json"
        assert committed.read_text(encoding="utf-8") == render(name), (
            f"run `civicbot content schema` ({name})"
        )


def test_every_bundled_file_passes_its_schema() -> None:
    checked = 0
    for file, name in pack_files(BUNDLED_PACK):
        data = parse(file.read_text(encoding="utf-8"))
        assert errors(name, data) == [], file
        checked += 1
    assert checked >= 40


def first_quiz() -> str:
    first = sorted((BUNDLED_PACK / "quizzes").glob("*.yaml"))[0]
    return first.relative_to(BUNDLED_PACK).as_posix()


def first_article() -> str:
    return "articles/inclusion/quota-genre.yaml"


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is _DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


_DROP = object()

# (file, where in it, new value): each edit is refused by the loader AND by the schema.
BROKEN = [
    (first_article(), ("title",), {"bm": "Bamanankan dɔrɔn"}),  # no French
    (first_article(), ("summary", "fr"), "   "),  # blank
    (first_article(), ("title", "fr"), "T" * 61),  # longer than a title may be
    (first_article(), ("short_title",), _DROP),  # a long title needs its short form
    ("themes.yaml", ("themes", 0, "title", "fr"), " "),
    ("complaints.yaml", ("categories", 0, "label"), {"bm": "Dɔgɔtɔrɔso"}),
    ("complaints.yaml", ("categories", 0, "short_label"), {"fr": "x" * 21}),
    ("partners.yaml", ("partners", 0, "desk"), False),  # nobody is the programme desk
    ("partners.yaml", ("partners", 0, "name"), ""),
    ("barometer.yaml", ("criteria", 0, "title", "fr"), "y" * 21),
    ("QUIZ", ("questions", 0, "options", 0, "text", "fr"), "o" * 61),
    ("QUIZ", ("questions", 0, "explanation", "fr"), "e" * 201),
    ("QUIZ", ("questions", 0, "options", 1, "correct"), True),  # two right answers
]


@pytest.mark.parametrize(("relative", "path", "value"), BROKEN)
def test_schema_refuses_what_the_loader_refuses(
    tmp_path: Path, relative: str, path: tuple[Any, ...], value: Any
) -> None:
    relative = first_quiz() if relative == "QUIZ" else relative
    name = next(n for f, n in pack_files(BUNDLED_PACK) if f == BUNDLED_PACK / relative)
    data = load(relative)
    if relative.startswith("articles/") and path == ("short_title",):
        data["title"]["fr"] = "Un titre bien trop long pour tenir sur un bouton"
    if relative == "partners.yaml":
        for partner in data["partners"]:
            partner["desk"] = False if path[-1] == "desk" else partner.get("desk", False)
    if relative.startswith("quizzes/") and path[-1] == "correct":
        for option in data["questions"][0]["options"]:
            option["correct"] = False
        data["questions"][0]["options"][0]["correct"] = True
    _set(data, path, value)
    assert errors(name, data), "the schema accepted it"
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, pack)
    (pack / relative).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PackError):
        load_pack(pack)


def test_duplicate_service_codes_are_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, pack)
    data = load("complaints.yaml")
    data["categories"][1]["service_code"] = data["categories"][0]["service_code"]
    (pack / "complaints.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    code = data["categories"][0]["service_code"]
    assert f"complaints.yaml: categories: service_code '{code}' appears 2 times" in (
        caught.value.problems
    )


def test_every_yaml_file_points_at_its_schema() -> None:
    for file, name in pack_files(BUNDLED_PACK):
        first = file.read_text(encoding="utf-8").partition("\n")[0]
        assert first.startswith(MARK), f"{file}: run `civicbot content schema`"
        assert first == schema_comment(BUNDLED_PACK, file, name)
        target = (file.parent / first.removeprefix(MARK)).resolve()
        assert target == (BUNDLED_PACK / "schema" / f"{name}.schema.json").resolve()


def test_content_schema_marks_new_files_once(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, pack)
    new = pack / "articles" / "droits" / "nouvel-article.yaml"
    body = (pack / first_article()).read_text(encoding="utf-8").partition("\n")[2]
    new.write_text(body, encoding="utf-8")
    assert mark_files(pack) == [new]
    assert new.read_text(encoding="utf-8") == f"{MARK}../../schema/article.schema.json\n{body}"
    assert mark_files(pack) == []
