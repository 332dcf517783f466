"""Flow validation and the menu's retry logic, without a database."""
import pytest
from pyramid.i18n import make_localizer

from ecti.i18n import locale_dirs
from ecti.ivr.nodes import BUNDLED, Menu
from ecti.ivr.validation import ReferenceChecker, problem_text, validate_flow
from ecti.voice.instructions import CallInput, Continuation, Gather, Say

NODE_TYPES = {t.name: t for t in BUNDLED}
LOCALIZER = make_localizer("ja", locale_dirs())


def problems(doc):
    found = validate_flow(doc, NODE_TYPES, ReferenceChecker({}, None))
    return {p.path: problem_text(LOCALIZER, p) for p in found}


def say(node_id, text="こんにちは", next_=None):
    return {"id": node_id, "type": "announcement", "settings": {"prompt": {"text": text}}, "next": {"next": next_} if next_ else {}}


def menu(node_id, next_, digits=("1", "2")):
    return {"id": node_id, "type": "menu", "settings": {"prompt": {"text": "1 か 2 を"}, "digits": list(digits)}, "next": next_}


def test_a_good_flow_has_no_problems():
    assert problems({"name": "f", "start": "a", "nodes": [say("a", next_="m"), menu("m", {"1": "a", "2": "b"}), say("b")]}) == {}


def test_a_loop_without_a_menu_is_refused_and_one_through_a_menu_is_not():
    looping = {"name": "f", "start": "a", "nodes": [say("a", next_="b"), say("b", next_="a")]}
    assert problems(looping) == {"nodes[0]": "ノード a：ノード a → b がメニューを含まないループになっています。発信者が抜け出せません。"}
    assert problems({"name": "f", "start": "a", "nodes": [say("a", next_="m"), menu("m", {"1": "a", "2": "a"})]}) == {}


def test_dangling_edges_unknown_exits_and_unreachable_nodes_name_the_node():
    doc = {"name": "f", "start": "a", "nodes": [{**say("a"), "next": {"next": "zz", "later": "b"}}, say("b")]}
    assert problems(doc) == {
        "nodes[0].next.next": "ノード a：出口 next の行き先 zz というノードはありません。",
        "nodes[0].next.later": "ノード a：出口 later はありません（出口：next）。",
        "nodes[1]": "ノード b：開始ノードからこのノードに到達できません。",
    }


def test_menu_digits_must_be_unique_and_each_must_lead_somewhere():
    doc = {"name": "f", "start": "m", "nodes": [menu("m", {"1": "b"}, digits=("1", "2", "2")), say("b")]}
    assert problems(doc) == {
        "nodes[0].settings": "ノード m：番号 2 が 2 回使われています。",
        "nodes[0].next.2": "ノード m：2 の行き先を選んでください。",
    }


def test_settings_are_checked_against_the_node_types_schema_and_prompts_must_exist():
    doc = {"name": "", "start": "x", "nodes": [
        {"id": "m", "type": "menu", "settings": {"prompt": {"prompt_id": 4}, "digits": ["1"], "timeout": 99}, "next": {"1": "m"}},
        {"id": "w", "type": "weather", "settings": {}},
        {"id": "m", "type": "hangup", "settings": {}},
    ]}
    assert problems(doc) == {
        "name": "フロー名を入力してください。",
        "start": "開始ノード x がありません。",
        "nodes[0].settings.timeout": "ノード m：30 以下の数を入力してください。",
        "nodes[1].type": "ノード w：ノードの種類 weather はありません（利用できるもの：announcement, forward, hangup, menu, queue, schedule, voicemail）。",
        "nodes[2].id": "ノード m：この ID は 2 つのノードで使われています。",
    }
    doc["nodes"][0]["settings"].pop("timeout")
    assert problems(doc)["nodes[0].settings.prompt"] == "ノード m：音声ガイダンス 4 はありません。"


class MenuCall:
    """What a menu node sees of a call: the continuation's args, prompts, system messages."""

    def __init__(self, attempt):
        self.args = {"attempt": str(attempt)}

    def here(self, **args):
        return Continuation("ivr.resume", {k: str(v) for k, v in args.items()})

    def prompt(self, ref):
        return [Say(ref["text"])] if ref else []

    def say(self, message):
        return Say(str(message))


SETTINGS = {"prompt": {"text": "メニュー"}, "digits": ["1", "2"], "no_input_prompt": {"text": "押されませんでした"}, "retries": 1}


@pytest.mark.parametrize("digits, attempt, expected", [
    ("2", 1, ("2", "2")),
    ("9", 1, (None, "invalid")),
    ("", 1, (None, "no_input")),
    ("9", 2, ("fallback", "fallback")),
    ("", 2, ("fallback", "fallback")),
])
def test_the_menu_retries_then_falls_back(digits, attempt, expected):
    outcome = Menu().resume(MenuCall(attempt), SETTINGS, CallInput(digits=digits))
    assert (outcome.exit, outcome.branch) == expected
    if outcome.exit is None:
        sorry, gather = outcome.instructions
        assert sorry.text == ("押されませんでした" if not digits else "Sorry, that is not a valid choice.")
        assert isinstance(gather, Gather) and gather.next.args == {"attempt": str(attempt + 1)}
